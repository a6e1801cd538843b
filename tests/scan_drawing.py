"""Pages for the scan-station tests, drawn with Pillow: letters, blank backs, separator sheets."""

from __future__ import annotations

import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
A4_150 = (1240, 1754)  # A4 at 150 dpi

LETTER = [
    "Stadt Musterstadt - Bauamt",
    "Bauantrag für das Grundstück Müllerstraße 12",
    "Sehr geehrte Frau Müßig,",
    "wir bestätigen den Eingang Ihres Bauantrags.",
    "Die Prüfung der Unterlagen dauert etwa vier Wochen.",
    "Mit freundlichen Grüßen",
]


def letter_page(lines=LETTER, size=A4_150, font_size=30, origin=(120, 160), font=FONT) -> Image.Image:
    """A white page with black text lines starting at ``origin``."""
    page = Image.new("L", size, 255)
    pen = ImageDraw.Draw(page)
    face = ImageFont.truetype(font, font_size)
    x, y = origin
    for line in lines:
        pen.text((x, y), line, font=face, fill=0)
        y += int(font_size * 1.7)
    return page


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
