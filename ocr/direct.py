"""The direct OCR path: the scan station and Tesseract in one page loop, PDF/A by pikepdf.

The path through ocrmypdf recognises every page twice (once to decide its orientation,
once inside ocrmypdf) and pays per document for a Python start, tool probes, rasterising
the page again, OSD, a deskew pass and Ghostscript. Here each page is done once, in a
thread of the worker process, as the page needs it (:func:`_page`):

- the image is decoded once (a PDF page rendered once at its own resolution), and reduced
  once to the ~100-dpi work copy that the ink, blank, border and skew checks share;
  barcodes are looked for at ~150 dpi;
- skew is measured on the work copy before the page is read; a page skewed past
  ``scan.max_skew`` is straightened in memory first, so it is read once, straight;
- the scan station's analysis (:func:`.pagecheck.analyse_page`) reads the page as it lies
  and asks Tesseract's OSD only when that reading is not confident or looks wrong; the same
  Tesseract run writes text, word boxes and the invisible text layer;
- the page is drawn into a one-page PDF with the scan's own image data (:mod:`.pdfa`).

Pages, not documents, are the unit of parallel work: every document runs one thread per
core, and a page takes one of the run's CPU slots (:class:`CpuSlots`, shared by all worker
processes of a run) before it starts, so one 300-page file keeps every core busy as well as
300 one-page files do, and at most one decoded page per core is in memory. The pages are
then joined into the PDF/A-2b (:func:`.pdfa.assemble`).

Text pages of a mixed PDF are copied as they are when they are valid PDF/A content already
(fonts embedded, no transparency, no CMYK …); a PDF with any other page (vector drawings,
annotations, such a text page) goes to ocrmypdf, which keeps text pages (``--skip-text``)
and converts them to PDF/A with Ghostscript.
"""

from __future__ import annotations

import fcntl
import io
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
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
from .orientation import layer_path, rotate_upright, straighten
from .pagecheck import PageAnalysis, analyse_page, with_reading
from .pdfa import PagePlan, assemble, image_page, pdf_page
from .prepare import needs_conversion, to_accepted_mode
from .tools import tesseract
from .tools.process import kill_running
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
    """True when the direct path can make this document's archival copy: an image file, or a
    PDF whose scanned pages are drawn with images only and whose text pages can go into a
    PDF/A-2b as they are (:func:`_keepable_text_page`)."""
    if source.media_type != PDF:
        return True
    try:
        with pikepdf.open(source.path) as pdf:
            return all(_keepable_text_page(page) if number in source.text_pages else _plain_scan_page(page)
                       for number, page in enumerate(pdf.pages, start=1))
    except (pikepdf.PdfError, AttributeError, IndexError, KeyError, TypeError, ValueError):
        # A damaged or odd structure (a font array where a dictionary belongs, …): ocrmypdf
        # repairs what it can, and quarantines with its own reason what it cannot.
        return False


def _plain_images(obj: pikepdf.Dictionary) -> bool:
    """Every XObject of a page is an image in a lossless or untouched encoding (PDF/A allows them
    all, and a soft mask: PDF/A-2 permits transparency), not in CMYK (the output intent is sRGB)."""
    resources = obj.get("/Resources")
    for xobject in ((resources.get("/XObject") if resources is not None else None) or {}).values():
        if xobject.get("/Subtype") != pikepdf.Name.Image or not _plain_image(xobject):
            return False
        mask = xobject.get("/SMask")
        if mask is not None and not _plain_image(mask):
            return False
    return True


def _plain_image(image: pikepdf.Object) -> bool:
    if image.get("/ColorSpace") == pikepdf.Name.DeviceCMYK:
        return False
    filters = image.get("/Filter")
    names = [str(f) for f in filters] if isinstance(filters, pikepdf.Array) else [str(filters)] if filters else []
    return all(name in _PLAIN_FILTERS for name in names)


def _plain_scan_page(page: pikepdf.Page) -> bool:
    """A page with nothing but images (:func:`_plain_images`)."""
    obj = page.obj
    if "/Annots" in obj or "/Group" in obj:
        return False
    resources = obj.get("/Resources")
    return resources is not None and "/Font" not in resources and _plain_images(obj)


def _embedded(font: pikepdf.Dictionary) -> bool:
    descendants = font.get("/DescendantFonts")
    if descendants is not None:
        return all(_embedded(d) for d in descendants)
    descriptor = font.get("/FontDescriptor")
    return descriptor is not None and any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def _keepable_text_page(page: pikepdf.Page) -> bool:
    """A text page that is already valid PDF/A-2b content as it is: fonts embedded, plain images
    only, no annotations, transparency groups, shadings, patterns, soft masks or CMYK colour.
    Anything else goes to ocrmypdf, whose Ghostscript pass makes such pages PDF/A."""
    obj = page.obj
    resources = obj.get("/Resources")
    if "/Annots" in obj or "/Group" in obj or resources is None or not _plain_images(obj):
        return False
    if any(key in resources for key in ("/Shading", "/Pattern", "/ColorSpace")):
        return False
    if any("/SMask" in state or "/TR" in state for state in (resources.get("/ExtGState") or {}).values()):
        return False
    if not all(_embedded(font) for font in (resources.get("/Font") or {}).values()):
        return False
    return _grey_or_rgb_content(page)


def _grey_or_rgb_content(page: pikepdf.Page) -> bool:
    """The page's content paints in device grey or RGB only (the PDF/A output intent is sRGB):
    no CMYK colour (``k``/``K``, or ``cs``/``CS`` to DeviceCMYK) and no inline image, whose
    colour space the checks of the page's image resources never see."""
    for instruction in pikepdf.parse_content_stream(page):
        if isinstance(instruction, pikepdf.ContentStreamInlineImage):
            return False
        operator = str(instruction.operator)
        if operator in ("k", "K"):
            return False
        if operator in ("cs", "CS") and (not instruction.operands
                                         or instruction.operands[0] not in (pikepdf.Name.DeviceGray, pikepdf.Name.DeviceRGB)):
            return False
    return True


def run(source: SourceFile, ocr: OcrSettings, scan: ScanSettings, workdir: Path) -> DirectRun:
    """Recognise every scanned page of ``source`` and make its PDF/A-2b ``<workdir>/archival.pdf``.

    Text pages of a PDF are copied into it as they are (their text is read by the OCR stage).

    Raises:
        ToolFailedError: a page cannot be read, or Tesseract failed on it.
    """
    slots = CpuSlots(workdir.parent, os.cpu_count() or 1)
    numbers = range(1, source.page_count + 1)
    text_pages = set(source.text_pages) if source.media_type == PDF else set()
    scanned = [n for n in numbers if n not in text_pages]
    with ThreadPoolExecutor(max_workers=len(slots.paths), thread_name_prefix="page") as pool:
        try:
            results = list(pool.map(lambda n: _slotted_page(slots, source, n, ocr, scan, workdir), scanned))
        except BaseException:
            # Ctrl-C in a run without workers (ocr.in_process) lands here, not in the page
            # threads: stop their Tesseract runs and the pages not begun, or leaving the pool
            # would wait for every reading to finish.
            pool.shutdown(wait=False, cancel_futures=True)
            kill_running()
            raise
    page_pdfs = {r.number: r.page_pdf for r in results}
    page_pdfs.update({n: _text_page(source, n, workdir) for n in sorted(text_pages)})
    analyses = {r.number: r.analysis for r in results}
    kept = tuple(n for n in numbers if n in text_pages or scan.keep_blank_pages or not analyses[n].blank)
    if not kept:  # an all-blank document still gets an archival copy of its pages
        kept = tuple(numbers)
    archival = workdir / "archival.pdf"
    fmt = assemble([page_pdfs[n] for n in kept], archival)
    pages = tuple(PageText(r.number, r.analysis.text, "ocr", r.analysis.confidence)
                  for r in results if r.analysis.text)
    return DirectRun(analyses, EngineOutput(pages, archival, fmt), kept)


def _slotted_page(slots: CpuSlots, source: SourceFile, number: int, ocr: OcrSettings, scan: ScanSettings,
                  workdir: Path) -> PageResult:
    with slots.slot():
        return _page(source, number, ocr, scan, workdir)


def _text_page(source: SourceFile, number: int, workdir: Path) -> Path:
    """A text page of a PDF as a one-page PDF, unchanged."""
    folder = workdir / f"page-{number:06d}"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "page.pdf"
    _draw_page(source, number, None, 0, PagePlan(0, 0.0, None), out)
    return out


def _page(source: SourceFile, number: int, ocr: OcrSettings, scan: ScanSettings, workdir: Path) -> PageResult:
    """Analyse, recognise and draw one page (see the module docstring)."""
    folder = workdir / f"page-{number:06d}"
    folder.mkdir(parents=True, exist_ok=True)
    image, encoded = _pdf_page_image(source, number) if source.media_type == PDF else _image_frame(source, number)
    analysis = analyse_page(image, settings=scan, languages=ocr.languages, default_dpi=ocr.image_dpi,
                            osd_first=False, layer_dir=folder, straighten_first=ocr.deskew)
    recognised = not analysis.blank and analysis.separator is None
    layer = layer_path(folder, analysis.rotation) if recognised else None
    skewed = ocr.deskew and analysis.skew is not None and abs(analysis.skew) >= scan.max_skew
    skew = analysis.skew if recognised and skewed else 0.0
    if recognised and skew != analysis.read_skew:
        # Straightened before reading by a skew measured as the page lay, but the page turned
        # out to lie sideways: read it again, straightened by its upright skew (or not at all).
        layer = folder / "straight.pdf"
        straight = straighten(rotate_upright(image, analysis.rotation), skew)
        words = recognize_page(straight, languages=ocr.languages, dpi=analysis.dpi, layer=layer,
                               timeout=ocr.tesseract_timeout, workdir=folder)
        analysis = with_reading(analysis, words, straight.size, skew, scan)
    del image
    plan = PagePlan(analysis.rotation, skew, layer if layer is not None and layer.exists() else None)
    out = folder / "page.pdf"
    _draw_page(source, number, encoded, analysis.dpi, plan, out)
    return PageResult(number, analysis, out)


def _draw_page(source: SourceFile, number: int, encoded: bytes | None, dpi: int, plan: PagePlan, out: Path) -> None:
    """The archival page: a PDF's page as it is drawn (``encoded`` None), else the scan's image data."""
    try:
        if encoded is None:
            pdf_page(Path(source.path), number, plan, out)
        else:
            image_page(encoded, dpi, plan, out)
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise ToolFailedError(f"page {number}: cannot make the archival page: {exc}"[:300]) from None


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
    # The checks and Tesseract see the frame as it is archived: 16-bit grey scaled to 8 bit, not
    # clipped by Pillow's convert("L"), which turned all but pure black ink into paper (blank).
    kept = to_accepted_mode(frame) if needs_conversion(frame) else frame
    if dpi:  # a conversion may start a new image without the resolution tag
        kept.info["dpi"] = dpi
    buffer = io.BytesIO()
    if kept.mode == "1":
        kept.save(buffer, format="TIFF", compression="group4")
    else:
        kept.save(buffer, format="PNG", compress_level=6)
    return kept, buffer.getvalue()


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

