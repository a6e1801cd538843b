"""Tesseract on one page image in memory: orientation detection (OSD) and recognition.

The scan station decides per page whether it is upright and how well it reads, before
the archival PDF is made. Each call writes the page as a PNG into a private temporary
folder, runs ``tesseract`` through :mod:`.process` (never a shell) with a timeout and
``OMP_THREAD_LIMIT=1`` (its own threads slow 2-core machines down, DESIGN.md), and reads
the renderers' files back. "Too few characters" from OSD and an empty page are soft
results, not errors.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ...errors import ToolFailedError
from .process import run_in_own_group

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Osd:
    """Tesseract's orientation guess for a page."""

    rotate: int  # clockwise degrees that make the page upright: 0, 90, 180, 270
    confidence: float  # Tesseract's orientation confidence (ocrmypdf trusts ≥ 14)


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its confidence (0–100) and box in pixels."""

    text: str
    confidence: float
    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class PageWords:
    """What one recognition run found on a page."""

    text: str
    words: tuple[Word, ...]

    @property
    def mean_confidence(self) -> float | None:
        """Mean word confidence, None on an empty page."""
        if not self.words:
            return None
        return sum(w.confidence for w in self.words) / len(self.words)


_ROTATE = re.compile(r"Rotate:\s*(\d+)")
_CONFIDENCE = re.compile(r"Orientation confidence:\s*([\d.]+)")


def _run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    # In its own process group like every OCR program (tools/process.py): a stopped worker
    # or a timeout ends it, and it never outlives akte.
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    return run_in_own_group(args, what="tesseract", env=env, cwd=cwd, timeout=timeout, input_file=Path(args[1]))


def _save(image: Image.Image, folder: Path, dpi: int) -> Path:
    # Uncompressed PNM: writing it is a copy, where even a fast PNG costs ~0.1 s an A4 page;
    # the resolution goes to Tesseract as --dpi.
    path = folder / "page.pnm"
    page = image if image.mode in ("1", "L", "RGB") else image.convert("RGB")
    page.save(path, format="PPM")
    return path


def detect_osd(image: Image.Image, *, dpi: int, timeout: float = 120, workdir: Path | None = None) -> Osd | None:
    """Tesseract's ``--psm 0`` orientation guess; None when it sees too little text.

    ``workdir``: where its scratch folder goes (None: the system's temporary folder).
    """
    with tempfile.TemporaryDirectory(prefix="akte-osd-", dir=workdir) as tmp:
        folder = Path(tmp)
        path = _save(image, folder, dpi)
        proc = _run(["tesseract", str(path), "-", "--psm", "0", "--dpi", str(dpi)], folder, timeout)
    rotate, confidence = _ROTATE.search(proc.stdout), _CONFIDENCE.search(proc.stdout)
    if proc.returncode != 0 or not rotate or not confidence:
        # "Too few characters. Skipping this page" and similar: no opinion, not a failure.
        log.debug("tesseract OSD without a result (exit %s): %s", proc.returncode, proc.stderr.strip()[:200])
        return None
    return Osd(int(rotate.group(1)) % 360, float(confidence.group(1)))


def recognize_page(image: Image.Image, *, languages: str, dpi: int, psm: int = 3, timeout: float = 300,
                   layer: Path | None = None, workdir: Path | None = None) -> PageWords:
    """Text and word confidences of one page, read as it lies (no rotation by Tesseract).

    With ``layer``, the same run also writes the page's invisible text layer there: a
    one-page PDF from Tesseract's own renderer without the image (``textonly_pdf``), the
    size of the image at ``dpi``. ``workdir``: where its scratch folder goes (None: the
    system's temporary folder).
    """
    with tempfile.TemporaryDirectory(prefix="akte-ocr-", dir=workdir) as tmp:
        folder = Path(tmp)
        path = _save(image, folder, dpi)
        args = ["tesseract", str(path), str(folder / "out"), "-l", languages, "--psm", str(psm),
                "--dpi", str(dpi)]
        args += ["-c", "textonly_pdf=1", "txt", "tsv", "pdf"] if layer is not None else ["txt", "tsv"]
        proc = _run(args, folder, timeout)
        if proc.returncode != 0:
            raise ToolFailedError(f"tesseract failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
        text_file, tsv_file = folder / "out.txt", folder / "out.tsv"
        text = text_file.read_text(encoding="utf-8", errors="replace") if text_file.exists() else ""
        tsv = tsv_file.read_text(encoding="utf-8", errors="replace") if tsv_file.exists() else ""
        if layer is not None:
            shutil.move(folder / "out.pdf", layer)  # ``layer`` may be on another file system
    return PageWords(text.strip(), parse_tsv(tsv))


def parse_tsv(tsv: str) -> tuple[Word, ...]:
    """The words (level 5 rows with text) of Tesseract's TSV renderer output."""
    words = []
    rows = csv.DictReader(tsv.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in rows:
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        try:
            words.append(Word(text, float(row["conf"]), int(row["left"]), int(row["top"]),
                              int(row["width"]), int(row["height"])))
        except (KeyError, TypeError, ValueError):
            continue
    return tuple(words)
