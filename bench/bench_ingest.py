"""Benchmark: ``akte ingest`` against plain ``tesseract`` on the same scanned pages.

Draws N German A4 pages at 300 dpi (PNG), then measures on this machine:

1. plain ``tesseract PAGE out -l deu+eng`` over all pages, in as many parallel processes as
   there are cores with ``OMP_THREAD_LIMIT=1`` (the fastest way to run plain tesseract here);
2. ``akte ingest`` of the same pages into a fresh archive (OCR, PDF/A, store, index);
3. ``akte ingest`` of born-digital PDFs (text layer, no OCR).

Prints pages/minute for 1 and 2, their ratio, and pages/s for 3 (median of ``--repeat``).

Usage: .venv/bin/python bench/bench_ingest.py [--pages 10] [--digital-pages 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORDS = ("Antrag Bescheid Gebühr Grundstück Straße Verwaltung Prüfung Unterlagen Frist Widerspruch "
         "Genehmigung Stadt Bürgerin Zahlung Betrag Aktenzeichen Sachbearbeitung Eingang Mitteilung").split()


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 10))) + "."


def draw_pages(folder: Path, count: int, rng: random.Random) -> list[Path]:
    font = ImageFont.truetype(FONT, 40)
    paths = []
    for i in range(count):
        page = Image.new("L", (2480, 3508), 255)  # A4 at 300 dpi
        pen = ImageDraw.Draw(page)
        for line in range(40):
            pen.text((240, 240 + line * 75), sentence(rng), font=font, fill=0)
        path = folder / f"seite_{i:03d}.png"
        page.save(path, dpi=(300, 300))
        paths.append(path)
    return paths


def born_digital(folder: Path, pages: int, rng: random.Random) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("DejaVu", fname=FONT)
    pdf.set_font("DejaVu", size=11)
    for _ in range(pages):
        pdf.add_page()
        for _ in range(40):
            pdf.cell(0, 6, sentence(rng), new_x="LMARGIN", new_y="NEXT")
    path = folder / "digital.pdf"
    pdf.output(str(path))
    return path


def plain_tesseract(pages: list[Path], out: Path) -> float:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")

    def one(page: Path) -> None:
        subprocess.run(["tesseract", str(page), str(out / page.stem), "-l", "deu+eng"],
                       check=True, capture_output=True, env=env)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(one, pages))
    return time.perf_counter() - start


def akte_ingest(inputs: list[Path], archive: Path) -> float:
    akte = Path(sys.executable).parent / "akte"
    start = time.perf_counter()
    proc = subprocess.run([str(akte), "--archive", str(archive), "ingest", *map(str, inputs)],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"akte ingest failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--digital-pages", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="akte-bench-") as tmp:
        root = Path(tmp)
        (root / "scans").mkdir()
        pages = draw_pages(root / "scans", args.pages, rng)
        digital = born_digital(root, args.digital_pages, rng)
        plain, ingest, dig = [], [], []
        for run in range(args.repeat):
            out = root / f"tess{run}"
            out.mkdir()
            plain.append(plain_tesseract(pages, out))
            ingest.append(akte_ingest(pages, root / f"archive{run}"))
            dig.append(akte_ingest([digital], root / f"digital{run}"))
        t_plain, t_ingest, t_dig = (statistics.median(x) for x in (plain, ingest, dig))
        print(f"machine: {os.cpu_count()} cores; {args.pages} scanned A4 pages at 300 dpi; median of {args.repeat}")
        print(f"plain tesseract (deu+eng, {os.cpu_count()} processes): {t_plain:6.1f} s  {args.pages / t_plain * 60:6.1f} pages/min")
        print(f"akte ingest (OCR + PDF/A + store + index):     {t_ingest:6.1f} s  {args.pages / t_ingest * 60:6.1f} pages/min")
        print(f"ratio akte/plain throughput: {t_plain / t_ingest:.2f}")
        print(f"born-digital PDF, {args.digital_pages} pages: {t_dig:.1f} s  {args.digital_pages / t_dig:.1f} pages/s")


if __name__ == "__main__":
    main()
