"""The default OCR engine: Tesseract through ocrmypdf, with a PDF/A-2b archival copy.

Scans go through ocrmypdf (page rotation, deskew, ``deu+eng``) and come out as a PDF/A-2b
with an invisible text layer; our ocrmypdf plugin leaves each page's text and mean word
confidence in a sidecar file, which is read back here. Mixed PDFs keep their text pages
(``--skip-text``) and are not deskewed, which would re-render those pages as images.
"""

from __future__ import annotations

import json

from ..config import OcrSettings
from ..models import PDF, PageText
from .engine import EngineOutput, OcrJob
from .prepare import prepare_image
from .tools import ocrmypdf as ocrmypdf_tool
from .tools import tesseract


class OcrmypdfEngine:
    """Tesseract through ocrmypdf (see the module docstring)."""

    def check(self, settings: OcrSettings) -> None:
        """Tesseract is installed, recent enough, and has every configured language."""
        tesseract.check_languages(settings.languages)

    def version(self) -> str:
        """``tesseract <version> / <ocrmypdf version>``."""
        return f"tesseract {tesseract.version()} / {ocrmypdf_tool.version()}"

    def recognize(self, job: OcrJob) -> EngineOutput:
        """OCR the scanned pages into ``<workdir>/archival.pdf``; text from the sidecars."""
        source, settings = job.source, job.settings
        sidecars = job.workdir / "pages"
        sidecars.mkdir(parents=True, exist_ok=True)
        mixed = bool(job.skip_pages)
        ocr_input = job.input_file if source.media_type == PDF else prepare_image(job.input_file, job.workdir)
        run = ocrmypdf_tool.run_ocrmypdf(
            input_file=ocr_input,
            output_file=job.workdir / "archival.pdf",
            sidecar_dir=sidecars,
            languages=settings.languages,
            rotate_pages=settings.rotate_pages and not job.prepared,
            deskew=settings.deskew and not mixed,  # deskew would re-render text pages as images
            skip_text=mixed,
            image_dpi=settings.image_dpi if source.media_type != PDF and not job.prepared else None,
            jobs=job.jobs,
            timeout=job.timeout,
            tesseract_timeout=settings.tesseract_timeout,
        )
        pages = []
        for number in range(1, source.page_count + 1):
            sidecar = sidecars / f"page-{number:06d}.json"
            if number in job.skip_pages or not sidecar.exists():
                continue  # no sidecar: Tesseract found nothing ("Empty page"), a blank sheet
            data = json.loads(sidecar.read_text(encoding="utf-8"))
            pages.append(PageText(number, (data.get("text") or "").strip(), "ocr", data.get("confidence")))
        return EngineOutput(tuple(pages), run.output, run.archival_format)
