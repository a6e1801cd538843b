"""Pages drawn with Pillow at test time: the one place tests make their scans.

``draw_page`` draws lines of text on a white page; ``save_scan`` writes pages as PNG,
JPEG, multi-page TIFF or an image-only PDF; ``draw_letter`` makes the 300-dpi letters the
classifier tests OCR; ``letter_page``, ``blank_back`` and ``barcode_sheet`` are the scan
station's A4 letters, empty backs and separator sheets; ``write_text_pdf`` makes born-digital
letters. Everything is deterministic, so a test that OCRs a page reads the
same text on every machine with the same Tesseract, and a born-digital letter is the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
A4_150 = (1240, 1754)  # A4 at 150 dpi
BAUANTRAG = [
    "Stadt Musterstadt - Bauamt",
    "Bauantrag für das Grundstück Müllerstraße 12",
    "Sehr geehrte Frau Müßig,",
    "wir bestätigen den Eingang Ihres Bauantrags.",
    "Die Prüfung der Unterlagen dauert etwa vier Wochen.",
    "Mit freundlichen Grüßen",
]
DPI = 150  # small pages OCR fast; 30 px text at 150 dpi is still read reliably
_CREATED = datetime(2024, 1, 15, 9, 30, tzinfo=timezone.utc)  # of every born-digital letter


def draw_page(lines: list[str], size: tuple[int, int] = (1240, 900), font_size: int = 30,
              origin: tuple[int, int] = (90, 80), spacing: float = 1.8, font: str = FONT) -> Image.Image:
    """A white greyscale page with black text lines, like a clean scan.

    Args:
        lines: the text, one line each.
        size: width and height in pixels (the default is a clean 150-dpi half page).
        font_size: font size in pixels.
        origin: where the first line starts (left, top).
        spacing: line distance as a multiple of ``font_size``.
        font: the TrueType file (DejaVu Sans by default).
    """
    page = Image.new("L", size, 255)
    draw = ImageDraw.Draw(page)
    face = ImageFont.truetype(font, font_size)
    left, top = origin
    for i, line in enumerate(lines):
        draw.text((left, top + i * int(font_size * spacing)), line, font=face, fill=0)
    return page


def letter_page(lines: list[str] = BAUANTRAG, size: tuple[int, int] = A4_150, font_size: int = 30,
                origin: tuple[int, int] = (120, 160), font: str = SERIF) -> Image.Image:
    """A whole A4 page at 150 dpi in DejaVu Serif: the scan-station tests' letter."""
    return draw_page(lines, size=size, font_size=font_size, origin=origin, spacing=1.7, font=font)


def blank_back(size=A4_150, seed=0, speckle=0.001, border=0, bleed: Image.Image | None = None) -> Image.Image:
    """An empty sheet as a scanner sees it: grey paper, dust speckle, a dark lid border, bleed-through."""
    rng = np.random.default_rng(seed)
    grey = np.full((size[1], size[0]), 238, dtype=np.int16) + rng.integers(-6, 7, (size[1], size[0]))
    if bleed is not None:
        # Text from the other side shows through as faint mirror writing.
        mirrored = np.asarray(bleed.convert("L").transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize(size))
        grey = np.where(mirrored < 128, grey - 30, grey)
    grey[rng.random(grey.shape) < speckle] = 30
    if border:
        grey[:, :border] = 25
        grey[:border, :] = 25
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))


def barcode_sheet(value: str, fmt=zxingcpp.BarcodeFormat.QRCode, size=A4_150, caption="TRENNBLATT") -> Image.Image:
    """A separator sheet: a barcode with ``value`` and a caption."""
    page = letter_page([caption], size=size)
    code = zxingcpp.create_barcode(value, fmt).to_image(scale=6)
    symbol = Image.fromarray(np.asarray(code)).convert("L")
    page.paste(symbol, (size[0] // 2 - symbol.width // 2, size[1] // 2 - symbol.height // 2))
    return page


def save_scan(images: list[Image.Image], target: Path, dpi: int = DPI) -> Path:
    """Write pages in the format the file name's extension says (png, jpg, tif/tiff, pdf)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fmt = target.suffix.lower().lstrip(".")
    if fmt in ("tif", "tiff"):
        images[0].save(target, format="TIFF", save_all=True, append_images=images[1:],
                       dpi=(dpi, dpi), compression="tiff_lzw")
    elif fmt == "pdf":
        images[0].save(target, format="PDF", save_all=True, append_images=images[1:], resolution=dpi)
    elif fmt in ("jpg", "jpeg"):
        images[0].convert("RGB").save(target, format="JPEG", quality=90, dpi=(dpi, dpi))
    else:
        images[0].save(target, format="PNG", dpi=(dpi, dpi))
    return target


def draw_letter(text: str, path: Path, font_px: int = 36) -> Path:
    """A 300-dpi letter page (A4 width) with the text wrapped at 95 characters, saved as PNG."""
    lines = []
    for line in textwrap.dedent(text).strip().splitlines():
        lines.extend(textwrap.wrap(line, 95) or [""])
    height = 300 + len(lines) * int(font_px * 1.6)
    page = draw_page(lines, size=(2480, height), font_size=font_px, origin=(200, 150), spacing=1.6)
    page.save(path, dpi=(300, 300))
    return path


# The characters of the tests' born-digital letters: Latin, punctuation, €, №, ™, fractions.
_TEXT_PDF_CHARS = frozenset(chr(c) for c in (*range(0x20, 0x250), *range(0x2000, 0x2070), 0x20AC, 0x2116, 0x2122,
                                            *range(0x2150, 0x2190)))


@functools.cache
def _text_pdf_font() -> str:
    """DejaVu Sans cut to ``_TEXT_PDF_CHARS``: fpdf2 parses a whole font file on every PDF
    (~60 ms for DejaVu's 6,000 glyphs), the cut one in a few ms. Written once per machine."""
    from fontTools import subset

    digest = hashlib.sha256(Path(FONT).read_bytes() + "".join(sorted(_TEXT_PDF_CHARS)).encode()).hexdigest()[:16]
    cut = Path(tempfile.gettempdir()) / f"aktenarchiv-tests-dejavu-{digest}.ttf"
    if not cut.exists():
        options = subset.Options()
        options.notdef_outline = True
        options.drop_tables += ["FFTM"]  # FontForge's timestamps: nothing to keep
        font = subset.load_font(FONT, options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[ord(c) for c in _TEXT_PDF_CHARS])
        subsetter.subset(font)
        partial = cut.with_name(f"{cut.name}.{os.getpid()}.part")  # parallel test processes: each its own
        subset.save_font(font, str(partial), options)
        partial.replace(cut)
    return str(cut)


def write_text_pdf(target: Path, *pages: list[str]) -> Path:
    """A born-digital PDF (real text layer, fpdf2 with an embedded font), one page per list of lines."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(_text_pdf_bytes(tuple(tuple(lines) for lines in pages)))
    return target


@functools.lru_cache(maxsize=256)
def _text_pdf_bytes(pages: tuple[tuple[str, ...], ...]) -> bytes:
    """The PDF of ``pages``, made once per test process: the same letters recur across tests,
    and fpdf2 spends ~20 ms per file cutting the font down to the glyphs used. The creation
    date is fixed, so the same pages are the same bytes whenever they are made."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(_CREATED)
    text = {c for lines in pages for line in lines for c in line}
    pdf.add_font("DejaVu", fname=_text_pdf_font() if text <= _TEXT_PDF_CHARS else FONT)
    pdf.set_font("DejaVu", size=12)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
