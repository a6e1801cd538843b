"""Detect what an input file really is (by content, not name) and check it can be archived.

Every check raises :class:`QuarantineReason` with a short reason a records clerk can act
on; the pipeline keeps such files in quarantine. Checks cover zero-byte and unreadable
files, truncated/corrupt/encrypted PDFs, decompression bombs and unsupported types.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pikepdf
from PIL import Image, UnidentifiedImageError

from ..config import OcrSettings
from ..errors import QuarantineReason
from ..models import JPEG, PDF, PNG, TIFF, SourceFile
from ..pdftext import PdfiumError, page_texts

_MAGIC = (
    (b"%PDF-", PDF),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
)
# Recognised so the reason can name them; none of them is a scan we can archive.
_OTHER = (
    (b"PK\x03\x04", "a ZIP container (e.g. Word/Excel/OpenDocument)"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"{\\rtf", "an RTF document"),
    (b"<?xml", "an XML file"),
)


def media_type_of(head: bytes, path: Path) -> str:
    """The media type from the first bytes; raises QuarantineReason for anything else."""
    # A PDF may carry junk before its header; readers accept it within the first 1 KiB.
    if b"%PDF-" in head[:1024]:
        return PDF
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    for magic, what in _OTHER:
        if head.startswith(magic):
            raise QuarantineReason(str(path), f"unsupported file type: content is {what}, not a PDF or scan image")
    looks = "text" if _is_text(head) else "unknown binary data"
    raise QuarantineReason(
        str(path), f"unsupported or mislabelled file: content is {looks}, not PDF, TIFF, PNG or JPEG"
    )


def _is_text(head: bytes) -> bool:
    try:
        head[:512].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sniff(path: Path, sha256: str, size: int, settings: OcrSettings) -> SourceFile:
    """Check one input file and describe it; raises QuarantineReason if it cannot be archived."""
    if size == 0:
        raise QuarantineReason(str(path), "empty file (0 bytes)")
    try:
        with open(path, "rb") as fh:
            head = fh.read(2048)
    except OSError as exc:
        raise QuarantineReason(str(path), f"cannot read file: {exc.strerror or exc}") from None
    media_type = media_type_of(head, path)
    if media_type == PDF:
        pages, text_pages = _check_pdf(path, settings)
    else:
        pages, text_pages = _check_image(path, media_type, settings), ()
    return SourceFile(str(path), sha256, size, media_type, pages, text_pages)


def _check_pdf(path: Path, settings: OcrSettings) -> tuple[int, tuple[int, ...]]:
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - 2048))
        tail = fh.read()
    if b"%%EOF" not in tail:
        # qpdf would "repair" it, silently losing whatever was cut off: the paper may
        # already be gone, so a truncated transfer must be noticed, not papered over.
        raise QuarantineReason(str(path), "truncated PDF: no end-of-file marker (incomplete copy or scan?)")
    try:
        with pikepdf.open(path) as pdf:
            if pdf.is_encrypted:
                raise QuarantineReason(
                    str(path), "encrypted PDF: remove the protection and ingest again (archival copies must be readable)"
                )
            count = len(pdf.pages)
    except pikepdf.PasswordError:
        raise QuarantineReason(str(path), "encrypted PDF: it needs a password to open") from None
    except pikepdf.PdfError as exc:
        raise QuarantineReason(str(path), f"corrupt PDF: {str(exc).splitlines()[0][:200]}") from None
    if count == 0:
        raise QuarantineReason(str(path), "PDF has no pages")
    return count, _text_pages(path, settings)


def _text_pages(path: Path, settings: OcrSettings) -> tuple[int, ...]:
    """1-based numbers of the pages that already carry a real text layer (pdfium: ~1 ms a page)."""
    try:
        # Invisible characters (an OCR layer from an earlier scan) count as text too.
        found = [number for number, text in enumerate(page_texts(path), start=1)
                 if sum(1 for c in text if not c.isspace()) >= settings.min_text_chars]
    except PdfiumError as exc:
        raise QuarantineReason(str(path), f"corrupt PDF: cannot read its pages ({exc})"[:300]) from None
    return tuple(found)


def _check_image(path: Path, media_type: str, settings: OcrSettings) -> int:
    old_limit = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1× and 2× its limit; we refuse at 1×.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = settings.max_image_pixels
            with Image.open(path) as img:
                frames = getattr(img, "n_frames", 1)
                for index in range(frames):
                    img.seek(index)
                    _check_pixels(path, img.size, settings)
                    img.load()  # decodes the data: catches truncated images
            return frames
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise QuarantineReason(
            str(path), f"image too large (decompression bomb?): over {settings.max_image_pixels:,} pixels"
        ) from None
    except UnidentifiedImageError:
        raise QuarantineReason(str(path), f"corrupt image: not a readable {media_type.split('/')[1].upper()}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise QuarantineReason(str(path), f"corrupt or truncated image: {exc}") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old_limit


def _check_pixels(path: Path, size: tuple[int, int], settings: OcrSettings) -> None:
    if size[0] * size[1] > settings.max_image_pixels:
        raise QuarantineReason(
            str(path), f"image too large (decompression bomb?): {size[0]}×{size[1]} pixels"
        )
