"""Page images for the record page, rendered from the archival PDF with pypdfium2 and cached.

The cache lives in ``<archive>/web/pages/`` keyed by the rendered file's SHA-256, the page
and the width, so it never serves a stale image and can be deleted at any time. PDFium is
not thread-safe: renders run one at a time under a lock (cached images need none).
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pypdfium2 as pdfium

from ..errors import RecordNotFoundError
from ..fsio import atomic_write_bytes
from ..models import ArchiveRecord

WIDTHS = (240, 1000)  # thumbnail, reading size (pixels)
_LOCK = threading.Lock()


def page_png(archive_dir: Path, record: ArchiveRecord, pdf: Path, page: int, width: int) -> Path:
    """The cached PNG of one page of ``pdf`` at ``width`` pixels, rendered on first use.

    Raises:
        RecordNotFoundError: the width is not offered, or the file is not a PDF (an image
            original without archival copy has no pages to render).
    """
    if width not in WIDTHS:
        raise RecordNotFoundError("no such image size")
    sha = record.archival_sha256 if record.archival_object else record.sha256
    target = Path(archive_dir) / "web" / "pages" / sha[:2] / f"{sha}-{page}-{width}.png"
    if target.is_file():
        return target
    with open(pdf, "rb") as fh:
        if fh.read(5) != b"%PDF-":
            raise RecordNotFoundError("no page images for this record")
    with _LOCK:
        document = pdfium.PdfDocument(str(pdf))
        try:
            if page > len(document):
                raise RecordNotFoundError("no such page")
            pdf_page = document[page - 1]
            scale = width / pdf_page.get_width()
            image = pdf_page.render(scale=scale).to_pil()
            pdf_page.close()
        finally:
            document.close()
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=True)
    atomic_write_bytes(target, buffer.getvalue())
    return target
