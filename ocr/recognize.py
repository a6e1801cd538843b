"""The ocr stage: per-page text for a source file, and its archival PDF.

Pages that already carry text are read from their text layer; scans go through ocrmypdf
(Tesseract) and come out as a PDF/A-2b with an invisible text layer. Born-digital PDFs are
kept as they are: converting them would gain nothing and loses embedded data such as
ZUGFeRD/Factur-X invoice XML (DESIGN.md).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..config import OcrSettings
from ..models import PDF, ImportMeta, OcrResult, PageText, SourceFile
from .prepare import prepare_image
from .textlayer import read_text_layer
from .tools import ocrmypdf as ocrmypdf_tool
from .tools import tesseract

STAGE_VERSION = 1


def engine_name() -> str:
    """Names the OCR engine and its version, for the record's transfer note."""
    return f"tesseract {tesseract.version()} / {ocrmypdf_tool.version()}"


def recognize(source: SourceFile, settings: OcrSettings, workdir: Path, jobs: int = 1) -> OcrResult:
    """Text of every page of ``source``; writes any archival PDF under ``workdir``.

    Args:
        source: the checked input.
        settings: OCR settings (languages, rotation, deskew, timeouts).
        workdir: an empty folder owned by this call.
        jobs: pages ocrmypdf may OCR at once for this document.
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
    ocr_input = src if source.media_type == PDF else prepare_image(src, workdir)
    run = ocrmypdf_tool.run_ocrmypdf(
        input_file=ocr_input,
        output_file=output.absolute(),
        sidecar_dir=sidecars.absolute(),
        languages=settings.languages,
        rotate_pages=settings.rotate_pages,
        deskew=settings.deskew and not mixed,  # deskew would re-render text pages as images
        skip_text=mixed,
        image_dpi=settings.image_dpi if source.media_type != PDF else None,
        jobs=jobs,
        timeout=60 + settings.timeout_per_page * source.page_count,
        tesseract_timeout=settings.tesseract_timeout,
    )
    layer = read_text_layer(src, source.text_pages) if mixed else {}
    pages = []
    for number in range(1, source.page_count + 1):
        if number in layer:
            pages.append(PageText(number, layer[number], "text-layer", None))
            continue
        sidecar = sidecars / f"page-{number:06d}.json"
        data = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.exists() else {}
        # No sidecar: Tesseract found nothing ("Empty page"), a blank sheet.
        pages.append(PageText(number, (data.get("text") or "").strip(), "ocr", data.get("confidence")))
    return OcrResult(source.sha256, tuple(pages), engine_name(), str(run.output), run.archival_format)


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
