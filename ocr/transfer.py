"""What a record says about how it came to be: its title and its transfer note.

The transfer note ("Transfervermerk", BSI TR-03138 RESISCAN) records who scanned and archived
which file, when, with which scanner, profile and OCR settings, the protection need and the
anomalies of its pages; it is the first entry of a record's ``audit`` list in the manifest.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path

import pikepdf

from ..archive.audit import Actor
from ..archive.xmp import embed_transfer_note
from ..config import Settings
from ..models import ImportMeta, OcrResult, SourceFile, now_iso

_GENERIC_NAME = re.compile(r"^(scan|img|image|dok|doc|document|seite|page|file)?[\W_]*\d*$", re.I)


def transfer_note(source: SourceFile, meta: ImportMeta | None, settings: Settings, ocr: OcrResult) -> dict:
    """Who scanned and archived what, when, how, with which protection need and page anomalies.

    The core of a RESISCAN transfer note; sealed in the manifest and embedded in the
    archival PDF/A (see :func:`stamp_archival`). ``approved_by`` stays empty until a person
    approves the scan.
    """
    user = Actor.current()
    transfer = settings.transfer
    note = {
        "event": "imported" if meta else "ingested",
        "at": now_iso(),
        "source_path": source.path,
        "user": user.name,
        "host": user.host,
        "operator": transfer.operator or user.name,
        "scanner": transfer.scanner or None,
        "profile": transfer.profile or None,
        "schutzbedarf": transfer.schutzbedarf,
        "pages": source.page_count,
        "anomalies": _anomalies(ocr),
        "checks": check_plan(source.sha256, source.page_count, transfer.schutzbedarf, settings),
        "approved_by": None,
        "ocr": {
            "languages": settings.ocr.languages,
            "rotate_pages": settings.ocr.rotate_pages,
            "deskew": settings.ocr.deskew,
            "engine": ocr.engine,
            "archival_format": ocr.archival_format,
        },
    }
    if meta is not None:
        note["origin"] = meta.origin
        if meta.checksum:
            note["source_checksum_verified"] = meta.checksum
    if source.mislabelled:
        note["note"] = f"file name does not match its content ({source.media_type})"
    return note


def _anomalies(ocr: OcrResult) -> dict[str, list[str]]:
    """Page number → what the page checks found (blank, low dpi, …), for pages with findings."""
    found = {}
    for page in ocr.pages:
        issues = list(getattr(page, "issues", ()))  # set by the scan station's page checks when present
        if getattr(page, "blank", False):
            issues.append("blank")
        if issues:
            found[str(page.number)] = issues
    return found


def check_plan(record_id: str, pages: int, schutzbedarf: str, settings: Settings) -> dict:
    """What a person must check for this protection need, with the sample chosen here.

    *normal*: a random sample of pages (``sample_normal``); *hoch*: a larger sample
    (``sample_hoch``) and a second person's approval; *sehr-hoch*: every page, four eyes.
    Page ``n`` is in the sample when ``sha256(seed:n)`` falls below the share: anyone can
    recompute the choice from the recorded seed, nobody picked the pages.
    """
    share = {"normal": settings.transfer.sample_normal, "hoch": settings.transfer.sample_hoch}.get(schutzbedarf, 1.0)
    seed = hashlib.sha256(f"{record_id}:{secrets.token_hex(16)}".encode()).hexdigest()[:32]
    sample = [n for n in range(1, pages + 1) if sample_draw(seed, n) < share]
    return {"sample_share": share, "seed": seed, "sample_pages": sample,
            "second_person": schutzbedarf != "normal", "four_eyes": schutzbedarf == "sehr-hoch"}


def sample_draw(seed: str, page: int) -> float:
    """The page's draw in [0, 1) for the recorded ``seed``."""
    return int(hashlib.sha256(f"{seed}:{page}".encode()).hexdigest()[:13], 16) / 16**13


def stamp_archival(ocr: OcrResult, meta: ImportMeta | None, note: dict) -> dict:
    """Embed the note as XMP in an archival PDF this run made; returns the note for the manifest.

    A PDF made elsewhere (a migration's) is not ours to change. If embedding fails the PDF
    stays as it is and the note says why: the manifest still carries everything.
    """
    if not ocr.archival_pdf or (meta is not None and meta.archival_path):
        return note
    try:
        embed_transfer_note(Path(ocr.archival_pdf), note)
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        return {**note, "xmp_error": f"{type(exc).__name__}: {exc}"[:300]}
    return note


def make_title(source: SourceFile, ocr: OcrResult) -> str:
    """A readable title: the file name, unless a scanner made it up; then the first text line."""
    stem = Path(source.name).stem
    if not _GENERIC_NAME.match(stem):
        return re.sub(r"[_]+", " ", stem).strip()
    for line in ocr.text.splitlines():
        line = " ".join(line.split())
        if sum(c.isalpha() for c in line) >= 4:
            return line[:80]
    return stem
