"""What a record says about how it came to be: its title and its transfer note.

The transfer note ("Transfervermerk", BSI TR-03138 RESISCAN) records who archived which
file, when, and with which OCR settings; it is the first entry of a record's audit trail.
"""

from __future__ import annotations

import getpass
import re
import socket
from pathlib import Path

from ..config import OcrSettings
from ..models import ImportMeta, OcrResult, SourceFile, now_iso

_GENERIC_NAME = re.compile(r"^(scan|img|image|dok|doc|document|seite|page|file)?[\W_]*\d*$", re.I)


def transfer_note(source: SourceFile, meta: ImportMeta | None, settings: OcrSettings) -> dict:
    """Who archived what, when and how (the core of a RESISCAN transfer note)."""
    note = {
        "event": "imported" if meta else "ingested",
        "at": now_iso(),
        "source_path": source.path,
        "user": getpass.getuser(),
        "host": socket.gethostname(),
        "ocr": {
            "languages": settings.languages,
            "rotate_pages": settings.rotate_pages,
            "deskew": settings.deskew,
        },
    }
    if meta is not None:
        note["origin"] = meta.origin
        if meta.checksum:
            note["source_checksum_verified"] = meta.checksum
    if source.mislabelled:
        note["note"] = f"file name does not match its content ({source.media_type})"
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
