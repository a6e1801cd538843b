"""Separator sheets: where one document of a scanner's batch file ends and the next begins.

A separator sheet is a page carrying a barcode (QR, Code 128, Code 39, DataMatrix) whose
value matches ``scan.separator_pattern`` (default ``PATCHT``, as other capture tools use).
A barcode matching ``scan.reference_pattern`` (default ``AZ:`` and an Aktenzeichen) is a
separator too, and sets the reference of the document that follows it. Barcodes are read
with zxing-cpp, in any of the four directions, so a sheet fed sideways still counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import zxingcpp
from PIL import Image

from ..config import ScanSettings

_FORMATS = [
    zxingcpp.BarcodeFormat.QRCode,
    zxingcpp.BarcodeFormat.Code128,
    zxingcpp.BarcodeFormat.Code39,
    zxingcpp.BarcodeFormat.DataMatrix,
]
BARCODE_DPI = 150  # pages are searched for barcodes at about this resolution first


@dataclass(frozen=True, slots=True)
class Separator:
    """A page recognised as a separator sheet."""

    value: str  # the barcode's text
    reference: str | None  # Aktenzeichen for the next document, from the reference pattern


@dataclass(frozen=True, slots=True)
class DocumentRange:
    """One document of a batch file: its pages (1-based, in the file) and its reference."""

    pages: tuple[int, ...]
    reference: str | None = None

    @property
    def first(self) -> int:
        """First page in the batch file."""
        return self.pages[0]

    @property
    def last(self) -> int:
        """Last page in the batch file."""
        return self.pages[-1]


def read_barcodes(image: Image.Image, dpi: int | None = None) -> tuple[str, ...]:
    """Texts of the barcodes on a page, in reading order as zxing-cpp reports them.

    With the page's ``dpi``, a page finer than :data:`BARCODE_DPI` is read from a reduced
    copy first (a separator's modules are a millimetre or so, still several pixels there;
    a 300-dpi page costs a quarter of the time); only when zxing-cpp sees a symbol there
    that it cannot decode is the page read again at its own resolution.
    """
    grey = image if image.mode == "L" else image.convert("L")
    scale = BARCODE_DPI / dpi if dpi else 1.0
    if scale < 1.0:
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        found = zxingcpp.read_barcodes(grey.resize(size, Image.Resampling.BOX, reducing_gap=2.0), formats=_FORMATS, return_errors=True)
        if all(code.valid for code in found):
            return tuple(code.text for code in found)
    return tuple(code.text for code in zxingcpp.read_barcodes(grey, formats=_FORMATS) if code.valid)


def match_separator(values: Sequence[str], settings: ScanSettings) -> Separator | None:
    """The separator a page's barcode values make it, None for an ordinary page."""
    separator = None
    for value in values:
        ref = re.search(settings.reference_pattern, value)
        if ref:
            reference = (ref.groupdict().get("ref") or value).strip()
            return Separator(value, reference or None)
        if separator is None and re.search(settings.separator_pattern, value):
            separator = Separator(value, None)
    return separator


def split_pages(separators: Sequence[Separator | None]) -> tuple[DocumentRange, ...]:
    """Cut a batch into documents at its separator sheets (which belong to none of them).

    Args:
        separators: per page of the batch, in order, its :class:`Separator` or None.

    Returns:
        The documents with at least one page; a reference applies to the document after
        its sheet (two sheets in a row: the later one's reference counts).
    """
    documents: list[DocumentRange] = []
    pages: list[int] = []
    reference: str | None = None
    for number, separator in enumerate(separators, start=1):
        if separator is None:
            pages.append(number)
            continue
        if pages:
            documents.append(DocumentRange(tuple(pages), reference))
            pages, reference = [], None
        reference = separator.reference or reference
    if pages:
        documents.append(DocumentRange(tuple(pages), reference))
    return tuple(documents)
