"""The scan station inside the OCR stage: analyse each scanned page, then prepare the OCR input.

Each scanned page is analysed (:func:`pagecheck.analyse_page`): its effective resolution,
blank or not, the rotation that makes it upright, its quality issues. The input for
the OCR engine is then prepared so that the archival PDF shows every page upright at its true
resolution: image frames are turned and tagged with their effective dpi in a work TIFF;
PDF pages get a ``/Rotate`` in a work copy. Blank pages are dropped from that input when
``scan.keep_blank_pages`` is off. The original file is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pdfplumber
import pikepdf
import pypdfium2
from pdfminer.pdfparser import PDFSyntaxError
from PIL import Image, TiffImagePlugin

from ..config import OcrSettings, ScanSettings
from ..errors import ToolFailedError
from ..models import PDF, SourceFile
from .orientation import rotate_upright
from .pagecheck import PageAnalysis, analyse_page
from .prepare import needs_conversion, to_accepted_mode

MAX_RENDER_DPI = 400  # PDF pages are analysed at their image's resolution, at most this


@dataclass(frozen=True, slots=True)
class PreparedInput:
    """What ocrmypdf gets: a file, and which original page each of its pages is."""

    path: Path
    pages: tuple[int, ...]  # original 1-based page number of each page of ``path``
    changed: bool  # False: ``path`` is the original file


def _pdf_page_dpi(page) -> int | None:
    """Resolution of the largest image on a PDF page, from its pixels and its drawn size."""
    images = [i for i in page.images if i.get("srcsize") and i.get("width")]
    if not images:
        return None
    image = max(images, key=lambda i: i["width"] * i["height"])
    return round(image["srcsize"][0] / (image["width"] / 72))


def _pdf_pages(source: SourceFile) -> Iterator[tuple[int, Image.Image]]:
    """Scanned pages of a PDF, one at a time, rendered at their own resolution (tagged with it)."""
    wanted = [n for n in range(1, source.page_count + 1) if n not in source.text_pages]
    with pdfplumber.open(source.path) as plumber:
        dpis = {n: _pdf_page_dpi(plumber.pages[n - 1]) for n in wanted}
    document = pypdfium2.PdfDocument(source.path)
    try:
        for number in wanted:
            dpi = min(dpis[number] or 300, MAX_RENDER_DPI)
            image = document[number - 1].render(scale=dpi / 72, grayscale=True).to_pil()
            image.info["dpi"] = (dpi, dpi)
            yield number, image
    finally:
        document.close()


def _image_frames(path: str) -> Iterator[tuple[int, Image.Image]]:
    """Frames of an image file, one at a time, with the file's resolution tag if any."""
    with Image.open(path) as img:
        for index in range(getattr(img, "n_frames", 1)):
            img.seek(index)
            frame = img.copy()
            dpi = img.info.get("dpi") or frame.info.get("dpi")
            frame.info.pop("dpi", None)
            if dpi:
                frame.info["dpi"] = dpi
            yield index + 1, frame


def analyse_source(source: SourceFile, ocr: OcrSettings, scan: ScanSettings,
                   analyser: Callable[..., PageAnalysis] = analyse_page) -> dict[int, PageAnalysis]:
    """Analysis of every scanned page of ``source``, keyed by 1-based page number.

    Pages are decoded one at a time, so a 1,000-page batch file needs the memory of one page.
    ``analyser`` analyses one page (:func:`.pagecheck.analyse_page`, or an engine's own).
    """
    pages = _pdf_pages(source) if source.media_type == PDF else _image_frames(source.path)
    try:
        return {number: analyser(image, settings=scan, languages=ocr.languages, default_dpi=ocr.image_dpi)
                for number, image in pages}
    except (OSError, PDFSyntaxError, pypdfium2.PdfiumError) as exc:
        raise ToolFailedError(f"cannot read the pages for the scan checks: {exc}") from None


def _kept(analyses: dict[int, PageAnalysis], count: int, scan: ScanSettings) -> tuple[int, ...]:
    """Original page numbers that go into the archival PDF."""
    return tuple(n for n in range(1, count + 1)
                 if scan.keep_blank_pages or n not in analyses or not analyses[n].blank)


def prepare_input(source: SourceFile, analyses: dict[int, PageAnalysis], scan: ScanSettings,
                  workdir: Path) -> PreparedInput:
    """The file to give ocrmypdf: the original when it needs no change, else a work copy."""
    src = Path(source.path)
    kept = _kept(analyses, source.page_count, scan)
    if not kept:  # an all-blank document still gets an archival copy of its pages
        kept = tuple(range(1, source.page_count + 1))
    if source.media_type == PDF:
        turned = any(analyses[n].rotation for n in analyses)
        if not turned and len(kept) == source.page_count:
            return PreparedInput(src, kept, False)
        target = workdir / "upright.pdf"
        with pikepdf.open(src) as pdf:
            for number, analysis in analyses.items():
                if analysis.rotation:
                    pdf.pages[number - 1].rotate(analysis.rotation, relative=True)
            for number in sorted(set(range(1, source.page_count + 1)) - set(kept), reverse=True):
                del pdf.pages[number - 1]
            pdf.save(target)
        return PreparedInput(target, kept, True)
    unchanged = all(a.rotation == 0 and a.dpi_source == "tag" for a in analyses.values())
    if unchanged and len(kept) == source.page_count:
        return PreparedInput(src, kept, False)  # the engine converts modes it cannot take itself
    target = workdir / "upright.tiff"
    # Frame by frame, so that a long batch file is never held in memory as a whole.
    with Image.open(src) as img, TiffImagePlugin.AppendingTiffWriter(str(target), new=True) as tiff:
        for number in kept:
            img.seek(number - 1)
            analysis = analyses[number]
            frame = img.copy()
            if needs_conversion(frame):
                frame = to_accepted_mode(frame)
            frame = rotate_upright(frame, analysis.rotation)
            frame.save(tiff, format="TIFF", compression="tiff_lzw", dpi=(analysis.dpi, analysis.dpi))
            tiff.newFrame()
    return PreparedInput(target, kept, True)
