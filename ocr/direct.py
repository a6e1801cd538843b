"""The direct OCR path: the scan station and Tesseract in one page loop, PDF/A by pikepdf.

The path through ocrmypdf recognises every page twice (once to decide its orientation,
once inside ocrmypdf) and pays per document for a Python start, tool probes, rasterising
the page again, OSD, a deskew pass and Ghostscript. Here each page is done once, in a
thread of the worker process, as the page needs it (:func:`_page`):

- the image is decoded once (a PDF page rendered once at its own resolution);
- the scan station's analysis (:func:`.pagecheck.analyse_page`) reads the page as it lies
  and asks Tesseract's OSD only when that reading looks wrong; the same Tesseract run
  writes text, word boxes and the invisible text layer;
- skew is measured on the ~100-dpi work copy; a page skewed past ``scan.max_skew`` is
  straightened in memory and read once more;
- the page is drawn into a one-page PDF with the scan's own image data (:mod:`.pdfa`).

Pages, not documents, are the unit of parallel work: every document runs one thread per
core, and a page takes one of the run's CPU slots (:class:`CpuSlots`, shared by all worker
processes of a run) before it starts, so one 300-page file keeps every core busy as well as
300 one-page files do, and at most one decoded page per core is in memory. The pages are
then joined into the PDF/A-2b (:func:`.pdfa.assemble`).

Mixed PDFs (text pages and scans) and PDFs drawn with more than images go to ocrmypdf,
which keeps text pages as they are (``--skip-text``) and converts to PDF/A with Ghostscript.
"""

from __future__ import annotations

import fcntl
import io
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import pikepdf
import pypdfium2
from PIL import Image

from ..config import OcrSettings, ScanSettings
from ..errors import ToolFailedError
from ..models import PDF, PageText, SourceFile
from .engine import EngineOutput
from .ocrmypdf_engine import OcrmypdfEngine
from .orientation import layer_path, rotate_upright
from .pagecheck import PageAnalysis, analyse_page
from .pdfa import PagePlan, assemble, image_page, pdf_page
from .prepare import needs_conversion, to_accepted_mode
from .tools import tesseract
from .tools.tesseract_page import recognize_page

MAX_RENDER_DPI = 400  # a PDF page is rendered at its image's resolution, at most this
SLOT_POLL = 0.02  # seconds between looks for a free CPU slot
_PLAIN_FILTERS = {"/DCTDecode", "/FlateDecode", "/CCITTFaxDecode", "/JBIG2Decode", "/JPXDecode", "/RunLengthDecode"}
_PDFIUM = threading.Lock()  # pdfium is not thread-safe


@dataclass(frozen=True, slots=True)
class PageResult:
    """One page as the loop left it."""

    number: int  # 1-based page of the source
    analysis: PageAnalysis
    page_pdf: Path  # the one-page PDF for the archival copy


@dataclass(frozen=True, slots=True)
class DirectRun:
    """A document recognised by the direct path."""

    analyses: dict[int, PageAnalysis]
    output: EngineOutput  # pages numbered as in the source
    kept: tuple[int, ...]  # source pages in the archival PDF, in order


class CpuSlots:
    """One slot per core for the whole run, shared by its worker processes (lock files).

    Args:
        folder: the run's work folder, the same for every worker of the run.
        count: slots (cores).
    """

    def __init__(self, folder: Path, count: int) -> None:
        self.paths = [folder / f".cpu-slot-{i}" for i in range(max(1, count))]

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one free slot for the duration of the block."""
        fds = [os.open(p, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600) for p in self.paths]
        try:
            while True:
                for fd in fds:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue
                    yield  # the lock goes with its descriptor, closed below
                    return
                time.sleep(SLOT_POLL)
        finally:
            for fd in fds:
                os.close(fd)


class DirectEngine(OcrmypdfEngine):
    """Tesseract page by page with the scan station (see the module docstring); ocrmypdf for the rest.

    Used through :func:`run` when the scan station is on and the document is a scan
    (:func:`takes`); :meth:`recognize` (the plain engine interface) is ocrmypdf's.
    """

    def version(self) -> str:
        """``tesseract <version> (direct)``."""
        return f"tesseract {tesseract.version()} (direct)"


def takes(source: SourceFile) -> bool:
    """True when the direct path can make this document's archival copy: an image file,
    or a PDF whose pages are all scans drawn with images only."""
    if source.media_type != PDF:
        return True
    if source.text_pages:
        return False  # mixed: ocrmypdf keeps the text pages as they are
    try:
        with pikepdf.open(source.path) as pdf:
            return all(_plain_scan_page(page) for page in pdf.pages)
    except pikepdf.PdfError:
        return False


def _plain_scan_page(page: pikepdf.Page) -> bool:
    """A page with nothing but images in lossless or untouched encodings (PDF/A allows them all)."""
    obj = page.obj
    if "/Annots" in obj or "/Group" in obj:
        return False
    resources = obj.get("/Resources")
    if resources is None or "/Font" in resources:
        return False
    for xobject in (resources.get("/XObject") or {}).values():
        if xobject.get("/Subtype") != pikepdf.Name.Image or "/SMask" in xobject:
            return False
        filters = xobject.get("/Filter")
        names = [str(f) for f in filters] if isinstance(filters, pikepdf.Array) else [str(filters)] if filters else []
        if any(name not in _PLAIN_FILTERS for name in names):
            return False
    return True


def run(source: SourceFile, ocr: OcrSettings, scan: ScanSettings, workdir: Path) -> DirectRun:
    """Recognise every page of ``source`` and make its PDF/A-2b ``<workdir>/archival.pdf``.

    Raises:
        ToolFailedError: a page cannot be read, or Tesseract failed on it.
    """
    slots = CpuSlots(workdir.parent, os.cpu_count() or 1)
    numbers = range(1, source.page_count + 1)
    with ThreadPoolExecutor(max_workers=len(slots.paths), thread_name_prefix="page") as pool:
        results = list(pool.map(lambda n: _slotted_page(slots, source, n, ocr, scan, workdir), numbers))
    analyses = {r.number: r.analysis for r in results}
    kept = tuple(r.number for r in results if scan.keep_blank_pages or not r.analysis.blank)
    if not kept:  # an all-blank document still gets an archival copy of its pages
        kept = tuple(numbers)
    archival = workdir / "archival.pdf"
    fmt = assemble([results[n - 1].page_pdf for n in kept], archival)
    pages = tuple(PageText(r.number, r.analysis.text, "ocr", r.analysis.confidence)
                  for r in results if r.analysis.text)
    return DirectRun(analyses, EngineOutput(pages, archival, fmt), kept)


def _slotted_page(slots: CpuSlots, source: SourceFile, number: int, ocr: OcrSettings, scan: ScanSettings,
                  workdir: Path) -> PageResult:
    with slots.slot():
        return _page(source, number, ocr, scan, workdir)


def _page(source: SourceFile, number: int, ocr: OcrSettings, scan: ScanSettings, workdir: Path) -> PageResult:
    """Analyse, recognise and draw one page (see the module docstring)."""
    folder = workdir / f"page-{number:06d}"
    folder.mkdir(parents=True, exist_ok=True)
    image, encoded = _pdf_page_image(source, number) if source.media_type == PDF else _image_frame(source, number)
    analysis = analyse_page(image, settings=scan, languages=ocr.languages, default_dpi=ocr.image_dpi,
                            osd_first=False, layer_dir=folder)
    recognised = not analysis.blank and analysis.separator is None
    layer = layer_path(folder, analysis.rotation) if recognised else None
    skew = 0.0
    if recognised and ocr.deskew and analysis.skew is not None and abs(analysis.skew) >= scan.max_skew:
        skew = analysis.skew
        straight = rotate_upright(image, analysis.rotation).rotate(
            -skew, resample=Image.Resampling.BILINEAR, fillcolor="white" if image.mode != "1" else 1)
        layer = folder / "straight.pdf"
        words = recognize_page(straight, languages=ocr.languages, dpi=analysis.dpi, layer=layer,
                               timeout=ocr.tesseract_timeout, workdir=folder)
        analysis = replace(analysis, text=words.text, confidence=words.mean_confidence)
    del image
    plan = PagePlan(analysis.rotation, skew, layer if layer is not None and layer.exists() else None)
    out = folder / "page.pdf"
    try:
        if encoded is None:
            pdf_page(Path(source.path), number, plan, out)
        else:
            image_page(encoded, analysis.dpi, plan, out)
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise ToolFailedError(f"page {number}: cannot make the archival page: {exc}"[:300]) from None
    return PageResult(number, analysis, out)


def _image_frame(source: SourceFile, number: int) -> tuple[Image.Image, bytes]:
    """Frame ``number`` of an image file, and image data img2pdf embeds without loss.

    A one-frame JPEG, PNG or TIFF goes in as its own bytes (a JPEG is never re-encoded);
    a frame of a multi-page file as PNG, or CCITT group 4 when it is bilevel.
    """
    try:
        with Image.open(source.path) as img:
            img.seek(number - 1)
            dpi = img.info.get("dpi")
            frame = img.copy()
            single = getattr(img, "n_frames", 1) == 1 and img.format in ("JPEG", "PNG", "TIFF")
    except (OSError, ValueError, EOFError) as exc:
        raise ToolFailedError(f"cannot read page {number}: {exc}") from None
    frame.info.pop("dpi", None)
    if dpi:
        frame.info["dpi"] = dpi
    if single and not needs_conversion(frame):
        return frame, Path(source.path).read_bytes()
    kept = to_accepted_mode(frame) if needs_conversion(frame) else frame
    buffer = io.BytesIO()
    if kept.mode == "1":
        kept.save(buffer, format="TIFF", compression="group4")
    else:
        kept.save(buffer, format="PNG", compress_level=6)
    return frame, buffer.getvalue()


def _pdf_page_dpi(page: pikepdf.Page) -> int | None:
    """Resolution of the largest image on a page, from its pixels and the page's width."""
    sizes = [(int(x.get("/Width", 0)), int(x.get("/Height", 0)))
             for x in (page.resources.get("/XObject") or {}).values() if x.get("/Subtype") == pikepdf.Name.Image]
    if not sizes:
        return None
    width_px, height_px = max(sizes, key=lambda s: s[0] * s[1])
    box = page.cropbox
    width_pt, height_pt = abs(float(box[2]) - float(box[0])), abs(float(box[3]) - float(box[1]))
    if int(page.obj.get("/Rotate", 0)) % 180:
        width_pt, height_pt = height_pt, width_pt
    # The image may be stored turned: take the reading that gives the page's aspect.
    if (width_px > height_px) != (width_pt > height_pt):
        width_px = height_px
    return round(width_px / (width_pt / 72)) if width_pt else None


def _pdf_page_image(source: SourceFile, number: int) -> tuple[Image.Image, None]:
    """A scanned PDF page rendered once, grey, at its image's resolution (tagged with it)."""
    try:
        with pikepdf.open(source.path) as pdf:
            dpi = min(_pdf_page_dpi(pdf.pages[number - 1]) or 300, MAX_RENDER_DPI)
        with _PDFIUM:
            document = pypdfium2.PdfDocument(source.path)
            try:
                image = document[number - 1].render(scale=dpi / 72, grayscale=True).to_pil()
            finally:
                document.close()
    except (pikepdf.PdfError, pypdfium2.PdfiumError, OSError) as exc:
        raise ToolFailedError(f"cannot render page {number}: {exc}") from None
    image.info["dpi"] = (dpi, dpi)
    return image, None

