"""Cut a recognised batch file into its documents at the separator sheets.

The OCR stage marks separator pages (``PageText.separator``); here the batch's
:class:`OcrResult` becomes one per document: its pages renumbered from 1, its archival PDF
the matching pages of the batch's archival PDF (blank pages dropped from that PDF stay
dropped), and the reference an ``AZ:`` sheet gave it. Separator sheets belong to no
document; the original batch file is kept once and each document names its pages in it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pikepdf

from ..config import ScanSettings
from ..models import OcrResult, PageText
from .separator import DocumentRange, Separator, match_separator, split_pages


@dataclass(frozen=True, slots=True)
class SplitDocument:
    """One document of a batch file."""

    pages: tuple[int, ...]  # its pages in the batch file (1-based)
    reference: str | None  # from an ``AZ:`` separator sheet
    ocr: OcrResult  # its pages, renumbered from 1, and its own archival PDF
    separators: tuple[int, ...]  # the separator sheets of the whole batch file (1-based)


def separator_marks(pages: tuple[PageText, ...], scan: ScanSettings) -> list[Separator | None]:
    """Per page, the separator it is (reference included), or None."""
    return [match_separator([p.separator], scan) if p.separator else None for p in pages]


def _archival_subset(archival: str, indices: list[int], target: Path) -> str:
    """A copy of ``archival`` with only the 0-based pages ``indices``."""
    with pikepdf.open(archival) as pdf:
        keep = set(indices)
        for index in reversed(range(len(pdf.pages))):
            if index not in keep:
                del pdf.pages[index]
        pdf.save(target)
    return str(target)


def _document(ocr: OcrResult, doc: DocumentRange, number: int, separators: tuple[int, ...],
              workdir: Path) -> SplitDocument:
    by_number = {p.number: p for p in ocr.pages}
    # Position of each original page in the batch's archival PDF (dropped blanks have none).
    in_archival = [p.number for p in ocr.pages if p.in_archival]
    position = {n: i for i, n in enumerate(in_archival)}
    pages = tuple(replace(by_number[n], number=i) for i, n in enumerate(doc.pages, start=1))
    archival = None
    indices = [position[n] for n in doc.pages if n in position]
    if ocr.archival_pdf and indices:
        archival = _archival_subset(ocr.archival_pdf, indices, workdir / f"document-{number:04d}.pdf")
    return SplitDocument(doc.pages, doc.reference, replace(ocr, pages=pages, archival_pdf=archival), separators)


def split_documents(ocr: OcrResult, scan: ScanSettings, workdir: Path) -> tuple[SplitDocument, ...] | None:
    """The documents of a batch file, or None when it has no separator sheet (one document)."""
    marks = separator_marks(ocr.pages, scan)
    if not any(marks):
        return None
    workdir.mkdir(parents=True, exist_ok=True)
    separators = tuple(page.number for page, mark in zip(ocr.pages, marks) if mark)
    return tuple(_document(ocr, doc, i, separators, workdir) for i, doc in enumerate(split_pages(marks), start=1))
