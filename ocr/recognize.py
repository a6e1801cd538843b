"""The ocr stage: per-page text for a source file, and its archival PDF.

Pages that already carry text are read from their text layer; scans go to the OCR engine
the settings name (:mod:`.engine`; by default ocrmypdf with Tesseract, which makes a
PDF/A-2b with an invisible text layer). Born-digital PDFs are kept as they are: converting
them would gain nothing and loses embedded data such as ZUGFeRD/Factur-X invoice XML
(DESIGN.md).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..config import OcrSettings, ScanSettings
from ..models import PDF, ImportMeta, OcrResult, PageText, SourceFile
from . import direct
from .engine import EngineOutput, OcrJob
from .pagecheck import PageAnalysis, analyse_page
from .registry import get_engine
from .scanpages import PreparedInput, analyse_source, prepare_input
from .textlayer import read_text_fast, read_text_layer
from .tools import ocrmypdf as ocrmypdf_tool
from .tools.process import kill_running

STAGE_VERSION = 1


def check_ocr(settings: OcrSettings) -> None:
    """Fail once, before a run, when the configured engine cannot work.

    Raises:
        ConfigError: ``settings.engine`` names no engine.
        MissingToolError: a program or a language model is missing.
    """
    get_engine(settings.engine).check(settings)


def stop_ocr() -> None:
    """Stop the OCR program this (worker) process runs, with all its children, at once."""
    kill_running()


def recognize(
    source: SourceFile, settings: OcrSettings, workdir: Path, jobs: int = 1, scan: ScanSettings | None = None
) -> OcrResult:
    """Text of every page of ``source``; the engine writes any archival PDF under ``workdir``.

    Args:
        source: the checked input.
        settings: OCR settings (engine, languages, rotation, deskew, timeouts).
        workdir: an empty folder owned by this call.
        jobs: pages the engine may OCR at once for this document.
        scan: the scan station's settings; when given, every scanned page is checked, turned
            upright and tagged with its effective resolution before the engine sees it
            (``scanpages``), and blank pages may be left out of the archival PDF.
    """
    src = Path(source.path).absolute()  # engines run programs in their own working directory
    all_text = source.media_type == PDF and len(source.text_pages) == source.page_count
    if all_text:
        texts = read_text_fast(src)
        pages = tuple(PageText(n, texts.get(n, ""), "text-layer", None) for n in range(1, source.page_count + 1))
        return OcrResult(source.sha256, pages, "text-layer", None)

    workdir.mkdir(parents=True, exist_ok=True)
    engine = get_engine(settings.engine)
    text_pages = source.text_pages if source.media_type == PDF else ()
    if scan is not None and isinstance(engine, direct.DirectEngine) and direct.takes(source):
        done = direct.run(source, settings, scan, workdir)
        # The direct path numbers pages as the source does.
        analyses, out, position = done.analyses, done.output, {number: number for number in done.kept}
    else:
        analyses, out, position = _through_engine(engine, source, src, settings, scan, workdir, jobs)
    layer = read_text_layer(src, text_pages) if text_pages else {}
    recognised = {page.number: page for page in out.pages}
    pages = []
    for number in range(1, source.page_count + 1):
        if number in layer:
            pages.append(PageText(number, layer[number], "text-layer", None))
            continue
        # A page the engine did not return is blank (Tesseract found nothing on it).
        found = recognised.get(position.get(number, 0))
        page = replace(found, number=number) if found else PageText(number, "", "ocr", None)
        pages.append(_with_analysis(page, analyses.get(number), number in position))
    archival = str(out.archival_pdf) if out.archival_pdf else None
    return OcrResult(source.sha256, tuple(pages), engine.version(), archival, out.archival_format)


def _through_engine(engine, source: SourceFile, src: Path, settings: OcrSettings, scan: ScanSettings | None,
                    workdir: Path, jobs: int) -> tuple[dict[int, PageAnalysis], EngineOutput, dict[int, int]]:
    """The scan station's analysis, then the engine on the prepared input; the map from our page numbers to its."""
    # An engine may bring its own page analysis (the test suite's fake engines do, so that they need no Tesseract).
    page_analyser = getattr(engine, "analyse_page", analyse_page)
    analyses = analyse_source(source, settings, scan, page_analyser) if scan is not None else {}
    if scan is not None:
        prepared = prepare_input(source, analyses, scan, workdir)
    else:
        prepared = PreparedInput(src, tuple(range(1, source.page_count + 1)), False)
    # The engine numbers the pages of the file it gets; ``position`` maps ours to its.
    position = {number: index for index, number in enumerate(prepared.pages, start=1)}
    text_pages = source.text_pages if source.media_type == PDF else ()
    skip = tuple(position[n] for n in text_pages if n in position)
    timeout = settings.timeout_base + settings.timeout_per_page * source.page_count
    job = OcrJob(source, prepared.path.absolute(), workdir.absolute(), settings, skip, jobs, timeout,
                 prepared=scan is not None)
    return analyses, engine.recognize(job), position


def _with_analysis(page: PageText, analysis: PageAnalysis | None, in_archival: bool) -> PageText:
    """``page`` with what the scan station found; a blank page keeps no (noise) text."""
    if analysis is None:
        return page
    text, confidence = ("", None) if analysis.blank else (page.text, page.confidence)
    return replace(page, text=text, confidence=confidence, rotation=analysis.rotation, dpi=analysis.dpi,
                   blank=analysis.blank, issues=analysis.issues, in_archival=in_archival,
                   separator=analysis.separator.value if analysis.separator else None)


def recognize_item(
    source: SourceFile, meta: ImportMeta | None, settings: OcrSettings, workdir: Path, jobs: int = 1,
    scan: ScanSettings | None = None,
) -> OcrResult:
    """Like :func:`recognize`, but keeps what a migration brings instead of OCRing again.

    An archival PDF made elsewhere (e.g. by paperless-ngx) is kept and its text layer read;
    else text that came with the item is kept page by page; else the file is recognised.
    """
    if meta is not None and meta.archival_path:
        archival = Path(meta.archival_path).absolute()
        texts = read_text_layer(archival)
        pages = tuple(PageText(n, texts[n], "text-layer", None) for n in sorted(texts))
        fmt = ocrmypdf_tool.pdfa_status(archival)
        return OcrResult(source.sha256, pages, f"imported ({meta.origin})", str(archival), fmt)
    if meta is not None and meta.text is not None:
        chunks = meta.text.split("\f")
        chunks += [""] * (source.page_count - len(chunks))
        pages = tuple(PageText(n, t.strip(), "imported", None) for n, t in enumerate(chunks, start=1))
        return OcrResult(source.sha256, pages, f"imported ({meta.origin})", None)
    return recognize(source, settings, workdir, jobs, scan)
