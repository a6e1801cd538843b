"""The ocr stage: per-page text for a source file, and its archival PDF.

Pages that already carry text are read from their text layer; scans go through ocrmypdf
(Tesseract) and come out as a PDF/A-2b with an invisible text layer. Born-digital PDFs are
kept as they are: converting them would gain nothing and loses embedded data such as
ZUGFeRD/Factur-X invoice XML (DESIGN.md).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ..config import OcrSettings, ScanSettings
from ..ingest.sniff import PDF
from ..models import ImportMeta, OcrResult, PageText, SourceFile
from .pagecheck import PageAnalysis
from .prepare import prepare_image
from .scanpages import PreparedInput, analyse_source, prepare_input
from .textlayer import read_text_layer
from .tools import ocrmypdf as ocrmypdf_tool
from .tools import tesseract

STAGE_VERSION = 1


def engine_name() -> str:
    """Names the OCR engine and its version, for the record's transfer note."""
    return f"tesseract {tesseract.version()} / {ocrmypdf_tool.version()}"


def recognize(
    source: SourceFile, settings: OcrSettings, workdir: Path, jobs: int = 1, scan: ScanSettings | None = None
) -> OcrResult:
    """Text of every page of ``source``; writes any archival PDF under ``workdir``.

    Args:
        source: the checked input.
        settings: OCR settings (languages, rotation, deskew, timeouts).
        workdir: an empty folder owned by this call.
        jobs: pages ocrmypdf may OCR at once for this document.
        scan: the scan station's settings; when given, every scanned page is checked,
            turned upright and recognised at its effective resolution (``scanpages``).
    """
    src = Path(source.path).absolute()  # ocrmypdf runs in its own working directory
    all_text = source.media_type == PDF and len(source.text_pages) == source.page_count
    if all_text:
        texts = read_text_layer(src)
        pages = tuple(PageText(n, texts.get(n, ""), "text-layer", None) for n in range(1, source.page_count + 1))
        return OcrResult(source.sha256, pages, "text-layer", None)

    sidecars = workdir / "pages"
    sidecars.mkdir(parents=True, exist_ok=True)
    output = workdir / "archival.pdf"
    mixed = source.media_type == PDF and bool(source.text_pages)
    workdir.mkdir(parents=True, exist_ok=True)
    analyses = analyse_source(source, settings, scan) if scan is not None else {}
    if scan is not None:
        prepared = prepare_input(source, analyses, scan, workdir)
    else:
        ocr_input = src if source.media_type == PDF else prepare_image(src, workdir)
        prepared = PreparedInput(ocr_input, tuple(range(1, source.page_count + 1)), ocr_input != src)
    run = ocrmypdf_tool.run_ocrmypdf(
        input_file=prepared.path.absolute(),
        output_file=output.absolute(),
        sidecar_dir=sidecars.absolute(),
        languages=settings.languages,
        rotate_pages=settings.rotate_pages and scan is None,  # the scan station turned the pages already
        deskew=settings.deskew and not mixed,  # deskew would re-render text pages as images
        skip_text=mixed,
        # Analysed images carry their effective resolution as a tag.
        image_dpi=settings.image_dpi if source.media_type != PDF and scan is None else None,
        jobs=jobs,
        timeout=60 + settings.timeout_per_page * source.page_count,
        tesseract_timeout=settings.tesseract_timeout,
    )
    layer = read_text_layer(src, source.text_pages) if mixed else {}
    position = {number: index for index, number in enumerate(prepared.pages, start=1)}
    pages = []
    for number in range(1, source.page_count + 1):
        if number in layer:
            pages.append(PageText(number, layer[number], "text-layer", None))
            continue
        sidecar = sidecars / f"page-{position.get(number, 0):06d}.json"
        data = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.exists() else {}
        # No sidecar: Tesseract found nothing ("Empty page"), a blank sheet.
        page = PageText(number, (data.get("text") or "").strip(), "ocr", data.get("confidence"))
        pages.append(_with_analysis(page, analyses.get(number), number in position))
    return OcrResult(source.sha256, tuple(pages), engine_name(), str(run.output), run.archival_format)


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
