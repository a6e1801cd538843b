"""Text of PDF pages with pdfium: about a millisecond a page (pdfplumber's layout analysis
needs ~60 ms). Shared by the input check (which pages carry text) and the OCR stage (the
text of born-digital PDFs)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pypdfium2

PdfiumError = pypdfium2.PdfiumError


def page_texts(path: Path | str) -> Iterator[str]:
    """Each page's text in order, invisible text (an earlier OCR layer) included.

    Raises:
        PdfiumError: the file or a page cannot be read.
    """
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            try:
                yield textpage.get_text_range()
            finally:
                textpage.close()
                page.close()
    finally:
        pdf.close()
