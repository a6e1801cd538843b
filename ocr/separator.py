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


def read_barcodes(image: Image.Image) -> tuple[str, ...]:
    """Texts of the barcodes on a page, in reading order as zxing-cpp reports them."""
    grey = image if image.mode == "L" else image.convert("L")
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
