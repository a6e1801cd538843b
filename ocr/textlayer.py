"""Read the text layer of born-digital PDF pages (no OCR needed)."""

from __future__ import annotations

from pathlib import Path

import pdfplumber

from ..errors import ToolFailedError


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
