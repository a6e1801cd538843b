"""An ocrmypdf plugin that records each page's text and word confidences for us.

ocrmypdf keeps Tesseract's per-word confidences to itself; this plugin wraps its Tesseract
engine, and after each page's hOCR is made writes ``page-NNNNNN.json`` (text and mean word
confidence) into the folder named by ``AKTE_OCR_SIDECAR_DIR``. It runs inside ocrmypdf's
worker processes, so it must stay importable by module name and free of our other modules
(``fsio`` imports nothing of ours).
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

from ocrmypdf import hookimpl
from ocrmypdf.builtin_plugins.tesseract_ocr import TesseractOcrEngine

from ...fsio import atomic_write_bytes

SIDECAR_ENV = "AKTE_OCR_SIDECAR_DIR"
_WCONF = re.compile(r"x_wconf\s+(\d+)")


class _WordConfidences(HTMLParser):
    """Collects x_wconf of every ocrx_word span that holds text."""

    def __init__(self) -> None:
        super().__init__()
        self.confidences: list[int] = []
        self._pending: int | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attr = dict(attrs)
        if tag == "span" and "ocrx_word" in (attr.get("class") or ""):
            match = _WCONF.search(attr.get("title") or "")
            self._pending = int(match.group(1)) if match else None
            self._depth = 1
        elif self._depth:
            self._depth += 1

    def handle_endtag(self, tag):
        if self._depth:
            self._depth -= 1
            if self._depth == 0:
                self._pending = None

    def handle_data(self, data):
        if self._pending is not None and data.strip():
            self.confidences.append(self._pending)
            self._pending = None


def page_number(path: str | Path) -> int:
    """1-based page number from ocrmypdf's work-file name (``000003_ocr.png`` → 3)."""
    return int(Path(path).name.split("_", 1)[0])


def write_sidecar(input_file, output_hocr, output_text) -> None:
    """Write ``page-NNNNNN.json`` for one OCRed page (no-op without the env variable)."""
    target = os.environ.get(SIDECAR_ENV)
    if not target:
        return
    parser = _WordConfidences()
    hocr = Path(output_hocr)
    if hocr.exists():
        parser.feed(hocr.read_text(encoding="utf-8", errors="replace"))
    text_path = Path(output_text)
    text = text_path.read_text(encoding="utf-8", errors="replace") if text_path.exists() else ""
    confs = parser.confidences
    number = page_number(input_file)
    data = {
        "page": number,
        "text": text,
        "confidence": round(sum(confs) / len(confs), 2) if confs else None,
        "words": len(confs),
    }
    atomic_write_bytes(Path(target) / f"page-{number:06d}.json", json.dumps(data, ensure_ascii=False).encode())


class ConfidenceTesseractEngine(TesseractOcrEngine):
    """ocrmypdf's Tesseract engine, plus a sidecar with text and confidences per page."""

    @staticmethod
    def generate_hocr(input_file, output_hocr, output_text, options):
        TesseractOcrEngine.generate_hocr(input_file, output_hocr, output_text, options)
        write_sidecar(input_file, output_hocr, output_text)


@hookimpl(tryfirst=True)
def get_ocr_engine(options):
    """Replace the built-in engine (first result wins)."""
    return ConfidenceTesseractEngine()
