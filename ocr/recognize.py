"""The ocr stage: per-page text for a source file, and its archival PDF.

Pages that already carry text are read from their text layer; scans go to the OCR engine
the settings name (:mod:`.engine`; by default ocrmypdf with Tesseract, which makes a
PDF/A-2b with an invisible text layer). Born-digital PDFs are kept as they are: converting
them would gain nothing and loses embedded data such as ZUGFeRD/Factur-X invoice XML
(DESIGN.md).
"""

from __future__ import annotations

from pathlib import Path

from ..config import OcrSettings
from ..models import PDF, ImportMeta, OcrResult, PageText, SourceFile
from .engine import OcrJob
from .registry import get_engine
from .textlayer import read_text_layer
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


def recognize(source: SourceFile, settings: OcrSettings, workdir: Path, jobs: int = 1) -> OcrResult:
    """Text of every page of ``source``; the engine writes any archival PDF under ``workdir``.

    Args:
        source: the checked input.
        settings: OCR settings (engine, languages, rotation, deskew, timeouts).
        workdir: an empty folder owned by this call.
        jobs: pages the engine may OCR at once for this document.
    """
    src = Path(source.path).absolute()  # engines run programs in their own working directory
    all_text = source.media_type == PDF and len(source.text_pages) == source.page_count
    if all_text:
        texts = read_text_layer(src)
        pages = tuple(PageText(n, texts.get(n, ""), "text-layer", None) for n in range(1, source.page_count + 1))
        return OcrResult(source.sha256, pages, "text-layer", None)

    engine = get_engine(settings.engine)
    skip = source.text_pages if source.media_type == PDF else ()
    timeout = settings.timeout_base + settings.timeout_per_page * source.page_count
    out = engine.recognize(OcrJob(source, src, workdir.absolute(), settings, skip, jobs, timeout))
    layer = read_text_layer(src, skip) if skip else {}
    recognised = {page.number: page for page in out.pages}
    pages = tuple(
        PageText(n, layer[n], "text-layer", None) if n in layer else recognised.get(n, PageText(n, "", "ocr", None))
        for n in range(1, source.page_count + 1)
    )
    archival = str(out.archival_pdf) if out.archival_pdf else None
    return OcrResult(source.sha256, pages, engine.version(), archival, out.archival_format)


def recognize_item(
    source: SourceFile, meta: ImportMeta | None, settings: OcrSettings, workdir: Path, jobs: int = 1
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
    return recognize(source, settings, workdir, jobs)
