"""Read the text layer of born-digital PDF pages (no OCR needed)."""

from __future__ import annotations

from pathlib import Path

import pdfplumber

from ..errors import ToolFailedError
from ..pdftext import PdfiumError, page_texts


def read_text_layer(path: Path, pages: tuple[int, ...] | None = None) -> dict[int, str]:
    """Text of the given 1-based pages (all pages when None), keyed by page number."""
    wanted = set(pages) if pages is not None else None
    texts: dict[int, str] = {}
    try:
        with pdfplumber.open(path) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                if wanted is None or number in wanted:
                    texts[number] = page.extract_text() or ""
                page.close()
    except Exception as exc:  # pdfminer raises assorted types on damaged files
        raise ToolFailedError(f"cannot read the text layer: {type(exc).__name__}: {exc}") from None
    return texts



def read_text_fast(path: Path) -> dict[int, str]:
    """Text of every page with pdfium, keyed by page number: for born-digital PDFs, where the
    words matter and pdfplumber's layout analysis does not."""
    try:
        return {number: text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
                for number, text in enumerate(page_texts(path), start=1)}
    except PdfiumError as exc:
        raise ToolFailedError(f"cannot read the text layer: {exc}") from None
