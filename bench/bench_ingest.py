"""Benchmark: ``akte ingest`` against plain ``tesseract`` on the same scanned pages, in one run.

For each page set (drawn German A4 pages at 300 dpi, and ``../shared/samples/scans``) this
measures, one after the other on the same pages:

1. plain ``tesseract PAGE - -l deu+eng`` with ``OMP_THREAD_LIMIT=1`` in one process per core
   (the practical ceiling; PDF pages are rendered to PNG at their own resolution first);
2. ``akte ingest`` with ``AKTE_OCR_ENGINE=ocrmypdf`` (the path through ocrmypdf);
3. ``akte ingest`` with ``AKTE_OCR_ENGINE=direct`` (the direct page loop, the default);

and prints pages/min, the ratio to plain Tesseract, CPU seconds per page, peak RSS (of the
whole process tree), the archival PDFs' size, the character error rate of each path's page
text against plain Tesseract's, the load average, and veraPDF's verdict on the archival
PDFs (``--verapdf``, through ``scripts/verapdf.sh``). Then born-digital PDFs: pages/s of
``akte ingest`` (text layer, no OCR), and a 1,000-page scan for the direct path's peak RSS
(``--long-pages``).

The machine is shared: ratios measured side by side in one run are what count.

Usage: .venv/bin/python bench/bench_ingest.py [--pages 10] [--samples DIR | --no-samples]
       [--digital-pages 500] [--long-pages 0] [--verapdf]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.config import OcrSettings
from aktenarchiv.ingest.sniff import sniff
from aktenarchiv.ocr.direct import _pdf_page_image
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).parent))
from bench_scanstation import cer  # noqa: E402  (the benches share one CER)

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORDS = ("Antrag Bescheid Gebühr Grundstück Straße Verwaltung Prüfung Unterlagen Frist Widerspruch "
         "Genehmigung Stadt Bürgerin Zahlung Betrag Aktenzeichen Sachbearbeitung Eingang Mitteilung").split()
REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO.parent.parent / "shared" / "samples" / "scans"
CORES = os.cpu_count() or 1


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 10))) + "."


def draw_page(rng: random.Random, lines: int = 40) -> Image.Image:
    page = Image.new("L", (2480, 3508), 255)  # A4 at 300 dpi
    pen = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 40)
    for line in range(lines):
        pen.text((240, 240 + line * 75), sentence(rng), font=font, fill=0)
    return page


def draw_pages(folder: Path, count: int, rng: random.Random) -> list[Path]:
    paths = []
    for i in range(count):
        path = folder / f"seite_{i:03d}.png"
        draw_page(rng).save(path, dpi=(300, 300))
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


@dataclass
class Measure:
    seconds: float
    cpu: float  # user + system seconds of the process and all its children
    rss_mb: float  # peak of the summed resident memory of the process and its descendants
    load: tuple[float, float]  # 1-minute load average before and after


def _tree_rss(root: int) -> int:
    """Resident kB of ``root`` and all its descendants, from /proc."""
    parents, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/statm") as fh:
                rss[int(entry)] = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, ValueError, IndexError):
            continue
    tree, grown = {root}, True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return sum(rss.get(pid, 0) for pid in tree)


def measured(args: list[str], env: dict[str, str] | None = None) -> Measure:
    """Run ``args``; wall time, CPU of it and its children (wait4), peak RSS of its process tree."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, done = 0, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.25):
            peak = max(peak, _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{args[0]} failed ({proc.returncode}):\n{err.decode(errors='replace')[-2000:]}")
    return Measure(elapsed, usage.ru_utime + usage.ru_stime, peak / 1024, (load, os.getloadavg()[0]))


def plain_tesseract(images: list[Path], out: Path) -> Measure:
    """Plain tesseract on every image, one process per core; texts to ``out/<stem>.txt``."""
    script = ("import os, subprocess, sys\nfrom concurrent.futures import ThreadPoolExecutor\n"
              "env = dict(os.environ, OMP_THREAD_LIMIT='1')\nout = sys.argv[1]\n"
              "def one(p):\n"
              "    r = subprocess.run(['tesseract', p, '-', '-l', 'deu+eng'], capture_output=True, env=env, check=True)\n"
              "    open(os.path.join(out, os.path.basename(p) + '.txt'), 'wb').write(r.stdout)\n"
              f"with ThreadPoolExecutor({CORES}) as pool:\n    list(pool.map(one, sys.argv[2:]))\n")
    return measured([sys.executable, "-c", script, str(out), *map(str, images)])


def akte_ingest(inputs: list[Path], archive: Path, engine: str) -> Measure:
    akte = Path(sys.executable).parent / "akte"
    env = dict(os.environ, AKTE_OCR_ENGINE=engine)
    return measured([str(akte), "--archive", str(archive), "ingest", *map(str, inputs)], env)


@dataclass
class PageSet:
    name: str
    inputs: list[Path]  # what akte ingests
    images: list[Path]  # the same pages as images, for plain tesseract
    keys: list[tuple[str, int]]  # (input file name, page number) of each image


def drawn_set(folder: Path, count: int) -> PageSet:
    pages = draw_pages(folder, count, random.Random(1))
    return PageSet(f"{count} drawn A4 pages (300 dpi PNG)", pages, pages, [(p.name, 1) for p in pages])


def sample_set(samples: Path, folder: Path) -> PageSet:
    inputs = sorted(p for p in samples.iterdir() if p.suffix.lower() in (".pdf", ".png", ".jpg", ".tif", ".tiff"))
    images, keys = [], []
    settings = OcrSettings()
    for path in inputs:
        if path.suffix.lower() != ".pdf":
            images.append(path)
            keys.append((path.name, 1))
            continue
        source = sniff(path, "0" * 64, path.stat().st_size, settings)
        for number in range(1, source.page_count + 1):
            image, _ = _pdf_page_image(source, number)
            target = folder / f"{path.stem}-{number}.png"
            image.save(target, dpi=image.info["dpi"])
            images.append(target)
            keys.append((path.name, number))
    return PageSet(f"{len(images)} pages of {len(inputs)} real scans ({samples})", inputs, images, keys)


def archive_texts(archive: Path) -> tuple[dict[tuple[str, int], str], list[Path]]:
    store = ArchiveStore(archive)
    texts, pdfs = {}, []
    for record in store.iter_records():
        for page in record.pages:
            texts[(record.source_name, page.number)] = page.text
        if record.archival_object:
            pdfs.append(store.path(record.archival_object))
    return texts, pdfs


def error_rate(found: dict[tuple[str, int], str], plain: dict[tuple[str, int], str]) -> float:
    errors = total = 0
    for key, truth in plain.items():
        distance, length = cer(truth, found.get(key, ""))
        errors, total = errors + distance, total + length
    return errors / max(total, 1)


def verapdf(pdfs: list[Path]) -> str:
    if not pdfs:
        return "no archival PDFs"
    proc = subprocess.run(["bash", str(REPO / "scripts" / "verapdf.sh"), *map(str, pdfs)], capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    passed = sum(line.startswith("PASS") for line in lines)
    if not lines:
        return f"veraPDF did not run: {(proc.stderr or proc.stdout).strip()[-200:]}"
    return f"veraPDF PDF/A-2b: {passed}/{len(pdfs)} pass" + "".join(f"\n      {line}" for line in lines if line.startswith("FAIL"))


def report(line: str, pages: int, m: Measure, plain: Measure | None, extra: str = "") -> None:
    ratio = f"{plain.seconds / m.seconds:5.2f}×" if plain else "   1× "
    print(f"  {line:<22} {m.seconds:7.1f} s {pages / m.seconds * 60:7.1f} pages/min  ratio {ratio}  "
          f"CPU {m.cpu / pages:5.1f} s/page  peak RSS {m.rss_mb:6.0f} MB  load {m.load[0]:.1f}→{m.load[1]:.1f}{extra}")


def bench_set(pages: PageSet, root: Path, check_pdfa: bool) -> None:
    print(f"\n{pages.name}")
    out = root / "plain"
    out.mkdir()
    plain = plain_tesseract(pages.images, out)
    plain_text = {key: (out / (image.name + ".txt")).read_text(encoding="utf-8", errors="replace")
                  for key, image in zip(pages.keys, pages.images)}
    count = len(pages.images)
    report("plain tesseract", count, plain, None)
    for engine in ("ocrmypdf", "direct"):
        archive = root / f"archive-{engine}"
        m = akte_ingest(pages.inputs, archive, engine)
        texts, pdfs = archive_texts(archive)
        size = sum(p.stat().st_size for p in pdfs) / 1e6
        # Only pages that were OCRed are compared (a text page of a mixed PDF is read, not recognised).
        extra = f"  archival {size:6.2f} MB  CER vs plain {error_rate(texts, plain_text):6.2%}"
        report(f"akte ingest ({engine})", count, m, plain, extra)
        if check_pdfa:
            print(f"      {verapdf(pdfs)}")


def bench_digital(root: Path, pages: int) -> None:
    digital = born_digital(root, pages, random.Random(2))
    m = akte_ingest([digital], root / "archive-digital", "direct")
    print(f"\nborn-digital PDF, {pages} pages: {m.seconds:.1f} s  {pages / m.seconds:.1f} pages/s  "
          f"CPU {m.cpu:.1f} s  peak RSS {m.rss_mb:.0f} MB  load {m.load[0]:.1f}→{m.load[1]:.1f}")


def bench_long(root: Path, pages: int) -> None:
    """A multi-page TIFF of short letters: the direct path's memory on a long file."""
    rng = random.Random(3)
    first = draw_page(rng, lines=3).resize((1240, 1754))
    rest = [draw_page(rng, lines=3).resize((1240, 1754)) for _ in range(min(pages, 20) - 1)]
    path = root / "long.tiff"
    frames = (rest * (pages // max(len(rest), 1) + 1))[:pages - 1]
    first.save(path, save_all=True, append_images=frames, dpi=(150, 150), compression="tiff_lzw")
    m = akte_ingest([path], root / "archive-long", "direct")
    print(f"\n{pages}-page TIFF (A4, 150 dpi, direct): {m.seconds:.1f} s  {pages / m.seconds * 60:.1f} pages/min  "
          f"peak RSS {m.rss_mb:.0f} MB  load {m.load[0]:.1f}→{m.load[1]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=10, help="drawn pages (0: none)")
    parser.add_argument("--samples", type=Path, default=SAMPLES, help="folder of real scans")
    parser.add_argument("--no-samples", action="store_true", help="skip the real scans")
    parser.add_argument("--digital-pages", type=int, default=500)
    parser.add_argument("--long-pages", type=int, default=0, help="pages of a long TIFF for peak RSS (0: skip)")
    parser.add_argument("--verapdf", action="store_true", help="check the archival PDFs with scripts/verapdf.sh")
    args = parser.parse_args()
    print(f"machine: {CORES} cores; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="akte-bench-") as tmp:
        root = Path(tmp)
        if args.pages:
            (root / "drawn").mkdir()
            bench_set(drawn_set(root / "drawn", args.pages), root / "drawn", args.verapdf)
        if not args.no_samples and args.samples.is_dir():
            (root / "samples").mkdir()
            bench_set(sample_set(args.samples, root / "samples"), root / "samples", args.verapdf)
        if args.digital_pages:
            bench_digital(root, args.digital_pages)
        if args.long_pages:
            bench_long(root, args.long_pages)


if __name__ == "__main__":
    main()
