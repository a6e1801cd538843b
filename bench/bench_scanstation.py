"""Benchmark: the scan station's page analysis against plain ``tesseract`` on the same images.

Draws two separate sets of German letters (umlauts, ß, dates, amounts): a TUNE set, on
which the thresholds in ``ScanSettings`` were chosen, and a HELD-OUT set never tuned on
(other seed, other texts, other fonts and sizes). Each set holds upright pages, pages fed
upside down or sideways (with a resolution tag), pages without a resolution tag at
100–150 dpi, sparse (half-empty) pages upright and upside down (all with slight skew, blur, grey paper and noise), and blank backs (dust, bleed-through, dark lid border). On every
text page it runs, in one run, plain ``tesseract IMG - -l deu+eng`` and the scan station
(:func:`aktenarchiv.ocr.pagecheck.analyse_page`) -- with ``--before`` also the OCR stage as
it was without the scan station (ocrmypdf) -- and reports the character error rate (CER)
per kind of page, the blank pages found and the text pages wrongly called
blank. It then draws a 100-document batch file (multi-page TIFF) with separator sheets
(QR, Code 128, DataMatrix; some fed turned, some with an ``AZ:`` reference) and reports
separator accuracy. Last, the public scans in ``/work/shared/samples/scans`` are turned
upside down and sideways: plain Tesseract on the upright page is the reference there.

Usage: .venv/bin/python bench/bench_scanstation.py [--set tune|heldout|both] [--letters 4] [--no-samples] [--before]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zxingcpp
from aktenarchiv.config import ScanSettings
from aktenarchiv.ocr.pagecheck import analyse_page
from aktenarchiv.ocr.separator import match_separator, read_barcodes, split_pages
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = "/usr/share/fonts/truetype/dejavu/"
SAMPLES = Path("/work/shared/samples/scans")
A4_INCH = (210 / 25.4, 297 / 25.4)
BEFORE = os.environ.get("AKTE_BENCH_BEFORE") == "1"  # set by --before for the worker processes
TURN = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}


@dataclass(frozen=True)
class TextSet:
    """What makes one set of letters different from the other."""

    name: str
    seed: int
    fonts: tuple[str, ...]
    point_sizes: tuple[int, ...]
    subjects: tuple[str, ...]
    sentences: tuple[str, ...]
    names: tuple[str, ...]
    streets: tuple[str, ...]


TUNE = TextSet(
    "tune", 11, ("DejaVuSerif.ttf", "DejaVuSans.ttf"), (11, 12),
    ("Bauantrag", "Gebührenbescheid", "Widerspruch gegen den Bescheid", "Anhörung", "Eingangsbestätigung"),
    ("wir bestätigen den Eingang Ihres Schreibens vom {date}.",
     "Die Prüfung Ihrer Unterlagen durch das Bauamt dauert etwa vier Wochen.",
     "Bitte überweisen Sie den Betrag von {amount} bis zum {date} auf unser Konto.",
     "Gegen diesen Bescheid können Sie innerhalb eines Monats Widerspruch erheben.",
     "Für Rückfragen steht Ihnen Frau {name} gern zur Verfügung.",
     "Die Gebühr wurde nach der Verwaltungsgebührensatzung festgesetzt.",
     "Wir bitten Sie, die fehlenden Nachweise bis zum {date} nachzureichen.",
     "Das Grundstück liegt im Geltungsbereich des Bebauungsplans Nr. 17."),
    ("Müller", "Schäfer", "Köhler", "Weiß", "Bäumer", "Groß"),
    ("Müllerstraße", "Lindenallee", "Am Gänsemarkt", "Schloßplatz"),
)
HELDOUT = TextSet(
    "heldout", 4242, ("DejaVuSansMono.ttf", "DejaVuSerifCondensed.ttf", "DejaVuSansCondensed.ttf"), (10, 13),
    ("Mahnung", "Kostenfestsetzung", "Zuweisung eines Kita-Platzes", "Sondernutzungserlaubnis", "Ladung"),
    ("nach Prüfung Ihres Antrags vom {date} ergeht folgende Entscheidung.",
     "Die Sondernutzung des öffentlichen Straßenraums wird befristet erlaubt.",
     "Der ausstehende Betrag in Höhe von {amount} ist sofort fällig.",
     "Ihr Kind erhält ab dem {date} einen Platz in der Kindertagesstätte Sonnenhügel.",
     "Sollten Sie Fragen haben, wenden Sie sich bitte an Herrn {name}.",
     "Die Kosten des Verfahrens trägt der Antragsteller gemäß § 80 VwVfG.",
     "Zur mündlichen Verhandlung werden Sie hiermit förmlich geladen.",
     "Änderungen Ihrer Anschrift teilen Sie uns bitte unverzüglich mit."),
    ("Özdemir", "Jürgens", "Häußler", "Brückner", "Großmann", "Löffler"),
    ("Bahnhofstraße", "Königsweg", "Zur Mühle", "Rosenstraße"),
)


def turned(kind: str) -> int:
    """Degrees a page of this kind was turned counter-clockwise (``rot180``, ``sparse-rot180``)."""
    match = re.search(r"rot(\d+)$", kind)
    return int(match.group(1)) if match else 0


def letter_lines(spec: TextSet, rng: random.Random, sentences: int) -> list[str]:
    def fill(text: str) -> str:
        return text.format(date=f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(2019, 2025)}",
                           amount=f"{rng.randint(10, 9999)},{rng.randint(0, 99):02d} €", name=rng.choice(spec.names))

    lines = [f"Stadt {rng.choice(('Musterstadt', 'Neustadt', 'Überlingen'))} · {rng.choice(spec.streets)} "
             f"{rng.randint(1, 99)}", f"Aktenzeichen 63.{rng.randint(1, 9)}-{rng.randint(100, 9999)}/24",
             rng.choice(spec.subjects), f"Sehr geehrte Frau {rng.choice(spec.names)},"]
    lines += [fill(rng.choice(spec.sentences)) for _ in range(sentences)]
    return lines + ["Mit freundlichen Grüßen", "Ihre Stadtverwaltung"]


def draw_letter(lines: list[str], font: str, points: int, dpi: int) -> tuple[Image.Image, list[str]]:
    """An A4 page at ``dpi`` with the lines wrapped at the right margin, and the lines as drawn."""
    width, height = round(A4_INCH[0] * dpi), round(A4_INCH[1] * dpi)
    page = Image.new("L", (width, height), 255)
    pen = ImageDraw.Draw(page)
    face = ImageFont.truetype(FONTS + font, round(points * dpi / 72))
    x, y, room = round(0.9 * dpi), round(1.0 * dpi), width - round(1.7 * dpi)
    drawn = []
    for line in lines:
        words, current = line.split(), ""
        for word in words:
            if current and pen.textlength(f"{current} {word}", font=face) > room:
                drawn.append(current)
                current = word
            else:
                current = f"{current} {word}".strip()
        drawn.append(current)
    for line in drawn:
        pen.text((x, y), line, font=face, fill=0)
        y += round(points * 1.6 * dpi / 72)
    return page, drawn


def scanner_effects(page: Image.Image, rng: random.Random) -> Image.Image:
    """What a real scan adds: a slight skew, blur, grey paper and sensor noise."""
    page = page.rotate(rng.uniform(-0.8, 0.8), resample=Image.Resampling.BILINEAR, fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    grey = np.asarray(page, dtype=np.int16) * rng.uniform(0.85, 0.97) + rng.uniform(0, 20)
    noise = np.random.default_rng(rng.randint(0, 10**6)).normal(0, rng.uniform(2, 10), grey.shape)
    return Image.fromarray(np.clip(grey + noise, 0, 255).astype(np.uint8))


def blank_back(rng: random.Random, dpi: int, front: Image.Image) -> Image.Image:
    """A duplex back: grey paper, speckle, sometimes bleed-through and a dark lid border."""
    size = (round(A4_INCH[0] * dpi), round(A4_INCH[1] * dpi))
    npr = np.random.default_rng(rng.randint(0, 10**6))
    grey = np.full((size[1], size[0]), rng.randint(225, 250), np.int16) + npr.integers(-8, 9, (size[1], size[0]))
    if rng.random() < 0.5:
        mirrored = np.asarray(front.transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize(size))
        grey = np.where(mirrored < 128, grey - rng.randint(15, 40), grey)
    grey[npr.random(grey.shape) < rng.uniform(0.0005, 0.004)] = rng.randint(10, 80)
    if rng.random() < 0.4:
        border = rng.randint(10, 60)
        grey[:, :border] = 30
        grey[-border:, :] = 30
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))


def draw_set(spec: TextSet, letters: int, folder: Path) -> list[dict]:
    """Pages of one set with their ground truth: kind, path, text (None for blank backs)."""
    rng = random.Random(spec.seed)
    pages = []
    kinds = ["upright", "rot180", "rot90", "rot270", "untagged-lowdpi", "sparse", "sparse-rot180"]
    for index in range(letters * len(kinds)):
        kind = kinds[index % len(kinds)]
        sparse = kind.startswith("sparse")
        lines = letter_lines(spec, rng, 2 if sparse else rng.randint(8, 14))
        if sparse:  # half-empty pages: a subject and a salutation, or an enclosure note
            lines = lines[2:4]
        font, points = rng.choice(spec.fonts), rng.choice(spec.point_sizes)
        dpi = rng.choice((100, 120, 150)) if kind == "untagged-lowdpi" else rng.choice((200, 300))
        page, lines = draw_letter(lines, font, points, 300)
        page = scanner_effects(page, rng)
        if dpi != 300:
            page = page.resize((round(A4_INCH[0] * dpi), round(A4_INCH[1] * dpi)), Image.Resampling.LANCZOS)
        if turned(kind):
            page = page.transpose(TURN[turned(kind)])
        path = folder / f"{spec.name}-{index:03d}-{kind}.png"
        page.save(path, **({} if kind == "untagged-lowdpi" else {"dpi": (dpi, dpi)}))
        pages.append({"kind": kind, "path": str(path), "truth": "\n".join(lines)})
        if index % 3 == 0:
            back = blank_back(rng, dpi, page)
            back_path = folder / f"{spec.name}-{index:03d}-blank.png"
            back.save(back_path, dpi=(dpi, dpi))
            pages.append({"kind": "blank", "path": str(back_path), "truth": None})
    return pages


def cer(truth: str, found: str) -> tuple[int, int]:
    """(edit distance, length of truth) with whitespace runs as one space."""
    a, b = " ".join(truth.split()), " ".join(found.split())
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[len(b)], max(len(a), 1)


def plain_tesseract(path: str) -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    proc = subprocess.run(["tesseract", path, "-", "-l", "deu+eng"], capture_output=True, text=True, env=env)
    return proc.stdout


def run_page(page: dict) -> dict:
    """Both paths on one page (in a worker process)."""
    with Image.open(page["path"]) as image:
        image.load()
        start = time.perf_counter()
        analysis = analyse_page(image, settings=ScanSettings(), languages="deu+eng", default_dpi=300)
        ours_s = time.perf_counter() - start
    start = time.perf_counter()
    plain = plain_tesseract(page["path"]) if page["truth"] is not None else ""
    plain_s = time.perf_counter() - start
    result = dict(page, blank=analysis.blank, rotation=analysis.rotation, dpi=analysis.dpi,
                  issues=analysis.issues, ours_s=ours_s, plain_s=plain_s, ours=analysis.text, plain=plain)
    if page["truth"] is not None:
        result["cer_ours"], result["chars"] = cer(page["truth"], analysis.text)
        result["cer_plain"], _ = cer(page["truth"], plain)
        if BEFORE:
            result["cer_before"], _ = cer(page["truth"], before_path(page["path"]))
    return result


def before_path(path: str) -> str:
    """The project's OCR stage without the scan station (ocrmypdf --rotate-pages, --image-dpi 300)."""
    from aktenarchiv.config import OcrSettings
    from aktenarchiv.fsio import sha256_file
    from aktenarchiv.ingest.sniff import sniff
    from aktenarchiv.ocr.recognize import recognize

    settings = OcrSettings()
    source = sniff(Path(path), sha256_file(path), os.path.getsize(path), settings)
    with tempfile.TemporaryDirectory(prefix="akte-before-") as work:
        return "\n".join(p.text for p in recognize(source, settings, Path(work), jobs=1, scan=None).pages)


def report_set(name: str, results: list[dict]) -> None:
    print(f"\n== {name}: {sum(r['truth'] is not None for r in results)} text pages, "
          f"{sum(r['truth'] is None for r in results)} blank backs")
    columns = ("cer_plain", "cer_before", "cer_ours") if BEFORE else ("cer_plain", "cer_ours")
    names = {"cer_plain": "CER plain", "cer_before": "CER before", "cer_ours": "CER ours"}
    print(f"{'kind':18} {'pages':>5} " + " ".join(f"{names[c]:>10}" for c in columns) + "  rotation right")
    text = [r for r in results if r["truth"] is not None]
    for kind in ("upright", "rot90", "rot180", "rot270", "untagged-lowdpi", "sparse", "sparse-rot180",
                 "all text pages"):
        rows = text if kind == "all text pages" else [r for r in text if r["kind"] == kind]
        if not rows:
            continue
        chars = sum(r["chars"] for r in rows)
        rates = " ".join(f"{sum(r[c] for r in rows) / chars * 100:9.2f}%" for c in columns)
        # A page turned counter-clockwise by r (Pillow's ROTATE_r) is made upright by a clockwise r.
        right = "" if kind == "all text pages" else f"{sum(r['rotation'] == turned(kind) for r in rows)}/{len(rows)}"
        print(f"{kind:18} {len(rows):5d} {rates}  {right}")
    blank = [r for r in results if r["truth"] is None]
    print(f"blank backs flagged: {sum(r['blank'] for r in blank)}/{len(blank)}; "
          f"text pages wrongly called blank: {sum(r['blank'] for r in text)}/{len(text)}")
    print(f"time per text page: plain {sum(r['plain_s'] for r in text) / len(text):.2f} s, "
          f"scan station {sum(r['ours_s'] for r in text) / len(text):.2f} s (one core each)")


def batch_file(folder: Path, documents: int, seed: int) -> tuple[Path, list[tuple[tuple[int, ...], str | None]]]:
    """A multi-page TIFF of ``documents`` documents with separator sheets, and the true split."""
    rng = random.Random(seed)
    formats = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128, zxingcpp.BarcodeFormat.DataMatrix)
    pages, truth, number = [], [], 0
    for doc in range(documents):
        reference = f"63.{rng.randint(1, 9)}-{rng.randint(100, 9999)}/24" if rng.random() < 0.3 else None
        if doc or rng.random() < 0.5:  # the first document may come without a leading sheet
            sheet = Image.new("L", (1240, 1754), 255)
            ImageDraw.Draw(sheet).text((120, 160), "TRENNBLATT", font=ImageFont.truetype(FONTS + "DejaVuSans.ttf", 40))
            code = zxingcpp.create_barcode(f"AZ:{reference}" if reference else "PATCHT", rng.choice(formats))
            width = np.asarray(code.to_image(scale=1)).shape[1]  # long Code 128 symbols must fit the sheet
            scale = max(2, min(rng.choice((3, 4, 6)), 1000 // width))
            symbol = Image.fromarray(np.asarray(code.to_image(scale=scale))).convert("L")
            sheet.paste(symbol, (rng.randint(100, 1240 - symbol.width - 100), rng.randint(300, 1754 - symbol.height - 100)))
            pages.append(sheet.transpose(TURN[rng.choice((90, 180, 270))]) if rng.random() < 0.2 else sheet)
            number += 1
        own = []
        for _ in range(rng.randint(1, 3)):
            text, _ = draw_letter(letter_lines(TUNE, rng, 4), "DejaVuSans.ttf", 12, 150)
            pages.append(text)
            number += 1
            own.append(number)
        truth.append((tuple(own), reference))
    path = folder / "batch.tiff"
    pages[0].save(path, save_all=True, append_images=pages[1:], dpi=(150, 150), compression="tiff_lzw")
    return path, truth


def report_batch(folder: Path, documents: int) -> None:
    path, truth = batch_file(folder, documents, seed=77)
    settings = ScanSettings()
    start = time.perf_counter()
    marks = []
    with Image.open(path) as tiff:
        for index in range(tiff.n_frames):
            tiff.seek(index)
            marks.append(match_separator(read_barcodes(tiff.copy()), settings))
    found = [(d.pages, d.reference) for d in split_pages(marks)]
    elapsed = time.perf_counter() - start
    sheets = sum(1 for m in marks if m is not None)
    expected_sheets = len(marks) - sum(len(p) for p, _ in truth)
    print(f"\n== batch file: {documents} documents, {len(marks)} pages, {expected_sheets} separator sheets")
    print(f"separator sheets found: {sheets}/{expected_sheets}; documents split exactly (pages and reference): "
          f"{sum(a == b for a, b in zip(found, truth))}/{len(truth)} ({len(found)} found); "
          f"{elapsed / len(marks) * 1000:.0f} ms/page for the barcode search")


def sample_pages(folder: Path) -> list[dict]:
    """The public scans, rendered at 300 dpi, upright and turned; truth = plain Tesseract upright."""
    import pypdfium2

    pages = []
    for src in sorted(SAMPLES.glob("*")):
        images = []
        if src.suffix == ".pdf":
            pdf = pypdfium2.PdfDocument(str(src))
            images = [pdf[i].render(scale=300 / 72).to_pil().convert("L") for i in range(min(len(pdf), 3))]
        else:
            images = [Image.open(src).convert("L")]
        for n, image in enumerate(images):
            upright = folder / f"sample-{src.stem}-{n}.png"
            image.save(upright, dpi=(300, 300))
            truth = plain_tesseract(str(upright))
            for turn in (0, 90, 180):
                path = folder / f"sample-{src.stem}-{n}-{turn}.png"
                (image.transpose(TURN[turn]) if turn else image).save(path, dpi=(300, 300))
                pages.append({"kind": "upright" if turn == 0 else f"rot{turn}", "path": str(path), "truth": truth})
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("tune", "heldout", "both"), default="both")
    parser.add_argument("--letters", type=int, default=4, help="letters per kind of page and set")
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--no-samples", action="store_true")
    parser.add_argument("--before", action="store_true",
                        help="also the OCR stage without the scan station (ocrmypdf; slow)")
    args = parser.parse_args()
    if args.before:
        os.environ["AKTE_BENCH_BEFORE"] = "1"
        global BEFORE
        BEFORE = True
    sets = {"tune": (TUNE,), "heldout": (HELDOUT,), "both": (TUNE, HELDOUT)}[args.set]
    with tempfile.TemporaryDirectory(prefix="akte-scanbench-") as tmp, ProcessPoolExecutor(os.cpu_count()) as pool:
        root = Path(tmp)
        print(f"machine: {os.cpu_count()} cores; plain = tesseract IMG - -l deu+eng; ours = analyse_page")
        for spec in sets:
            results = list(pool.map(run_page, draw_set(spec, args.letters, root)))
            report_set(f"{spec.name.upper()} set ({', '.join(spec.fonts)})", results)
        report_batch(root, args.documents)
        if not args.no_samples and SAMPLES.is_dir():
            results = list(pool.map(run_page, sample_pages(root)))
            report_set("public scans (truth: plain Tesseract on the upright page)", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
