"""Draw a few German municipal letters as scans (PNG, multi-page TIFF, image PDF) for the demo.

Usage: python scripts/make_letters.py OUT_DIR   (deterministic; existing files are kept)
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LETTERS = {
    "bauantrag_mueller.png": [[
        "Stadt Musterstadt · Bauordnungsamt", "Aktenzeichen: 63.2-4711/24", "Musterstadt, 5. März 2024", "",
        "Bauantrag für das Grundstück Müllerstraße 12", "Sehr geehrter Herr Müller,",
        "wir bestätigen den Eingang Ihres Bauantrags vom 28.02.2024.",
        "Die Prüfung der Unterlagen dauert etwa sechs Wochen.", "Mit freundlichen Grüßen", "Weiß, Sachbearbeiterin",
    ]],
    "widerspruch_gebuehren.tiff": [[
        "Jürgen Schäfer · Lindenstraße 3 · 12345 Musterstadt", "An die Stadtverwaltung Musterstadt",
        "Ihr Zeichen: 32-2024-0815", "Widerspruch gegen den Gebührenbescheid vom 12.01.2024", "",
        "Sehr geehrte Damen und Herren,", "hiermit lege ich Widerspruch gegen den oben genannten",
        "Bescheid über Abfallgebühren ein. Die Berechnung ist falsch.",
    ], [
        "Seite 2", "Ich bitte um Überprüfung und eine schriftliche Antwort.", "Mit freundlichen Grüßen",
        "Jürgen Schäfer",
    ]],
    "rechnung_strassenreinigung.pdf": [[
        "Reinigungsdienst Groß GmbH", "Rechnung Nr. 2024-0117", "Datum: 31.01.2024", "",
        "Straßenreinigung Januar 2024, Innenstadt", "Betrag netto: 1.234,56 €", "Umsatzsteuer 19 %: 234,57 €",
        "Gesamtbetrag: 1.469,13 €", "IBAN: DE89 3704 0044 0532 0130 00",
    ]],
}


def draw(lines: list[str], rng: random.Random) -> Image.Image:
    """One 200-dpi A4 page with slight skew and noise, like a sheet through a scanner."""
    page = Image.new("L", (1654, 2339), 255)
    pen = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 36)
    y = 180
    for line in lines:
        pen.text((160, y), line, font=font, fill=rng.randint(0, 40))
        y += 64
    for _ in range(400):  # dust
        x, yy = rng.randrange(1654), rng.randrange(2339)
        pen.point((x, yy), fill=rng.randint(0, 120))
    page = page.rotate(rng.uniform(-1.5, 1.5), expand=False, fillcolor=255, resample=Image.BICUBIC)
    return page.filter(ImageFilter.GaussianBlur(0.6))


def main(out: Path) -> None:
    """Write the letters into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2024)
    for name, pages in LETTERS.items():
        target = out / name
        images = [draw(p, rng) for p in pages]
        if target.exists():
            continue
        if target.suffix == ".tiff":
            images[0].save(target, save_all=True, append_images=images[1:], dpi=(200, 200), compression="tiff_lzw")
        elif target.suffix == ".pdf":
            images[0].save(target, save_all=True, append_images=images[1:], resolution=200)
        else:
            images[0].save(target, dpi=(200, 200))
    print(f"letters in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "samples/briefe"))
