"""Field extraction on real Tesseract output: precision and recall per field.

Draws held-out generated letters (``classify.synthetic.corpus``, layouts and phrasings unused in
training) as 300-dpi pages with Pillow, degrades some of them as scanners do (lower
resolution, blur, a slight skew, small type), OCRs them with Tesseract (``deu``, one thread
per process, two processes) and compares what :func:`classify.extract.extract_fields`
finds with what the generator wrote:

* ``reference`` and ``doc_date``: one value per document; precision = right / given,
  recall = right / documents that have one. ``legible`` counts only documents whose
  value survived OCR (its digits are in the OCR text in order, separators aside);
* ``date``, ``iban``, ``amount``: every occurrence, as sets per document.

The OCR text is cached (``--cache``), so the same pages score several extractors:
``--compare-rev REV`` also scores ``classify/extract.py`` as it was at git revision REV.

Usage::

    .venv/bin/python bench/bench_extract.py --n 60 --compare-rev main
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import ModuleType

from aktenarchiv.classify import extract as current_extract
from aktenarchiv.classify.synthetic.corpus import generate_corpus
from aktenarchiv.models import PageText
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
ROOT = Path(__file__).resolve().parent.parent


def draw(text: str, seed: int) -> Image.Image:
    """One letter page; every third page clean, the others degraded in a seeded way."""
    rng = random.Random(seed)
    font_px = rng.choice([30, 34, 38]) if seed % 3 else 36
    font = ImageFont.truetype(FONT, font_px)
    lines: list[str] = []
    for line in textwrap.dedent(text).strip().splitlines():
        lines.extend(textwrap.wrap(line, 95) or [""])
    step = int(font_px * 1.6)
    page = Image.new("L", (2480, 300 + len(lines) * step), 255)
    pen = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        pen.text((200, 150 + i * step), line, font=font, fill=0)
    if seed % 3:
        page = page.rotate(rng.uniform(-0.6, 0.6), fillcolor=255, resample=Image.BICUBIC)
        scale = rng.choice([0.4, 0.45, 0.5, 0.6])  # 120-180 dpi
        page = page.resize((int(page.width * scale), int(page.height * scale)), Image.BILINEAR)
        page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9)))
    return page


def ocr(job: tuple[str, int]) -> str:
    """Tesseract text of one drawn page."""
    import pytesseract

    text, seed = job
    return pytesseract.image_to_string(draw(text, seed), lang="deu")


def load_rev(rev: str) -> ModuleType:
    """``classify/extract.py`` at git revision ``rev``, as a module of this package."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:classify/extract.py"],
        capture_output=True, text=True, check=True,
    ).stdout
    name = "aktenarchiv.classify._extract_at_rev"
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "aktenarchiv.classify"
    sys.modules[name] = module
    exec(compile(source, f"{rev}:classify/extract.py", "exec"), module.__dict__)  # noqa: S102
    return module


_LOOKALIKE = str.maketrans({"o": "0", "l": "1", "i": "1", "|": "1"})


def _digits(value: str) -> str:
    """Letters and digits only, OCR's look-alikes folded (``I/4-419`` = ``1/4-419``)."""
    return re.sub(r"[^0-9a-z|]", "", value.lower()).translate(_LOOKALIKE)


def score(extractor: ModuleType, docs: list[dict]) -> dict[str, dict[str, float]]:
    """Precision and recall per field over the OCRed documents."""
    tally = {k: {"given": 0, "right": 0, "truth": 0, "legible": 0, "right_legible": 0}
             for k in ("reference", "doc_date", "date", "iban", "amount")}
    for doc in docs:
        fields, doc_date, reference = extractor.extract_fields([PageText(1, doc["ocr"], "ocr", 90.0)])
        compact = _digits(doc["ocr"])
        single = (("reference", reference, doc["references"]),
                  ("doc_date", doc_date, [doc["doc_date"]] if doc["doc_date"] else []))
        for kind, value, truth in single:
            t = tally[kind]
            legible = bool(truth) and (kind == "doc_date" or _digits(truth[0]) in compact)
            t["truth"] += bool(truth)
            t["legible"] += legible
            if value:
                t["given"] += 1
                t["right"] += value in truth
                t["right_legible"] += legible and value in truth
        for kind, key in (("date", "dates"), ("iban", "ibans"), ("amount", "amounts")):
            found = {f.value for f in fields if f.kind == kind}
            truth = set(doc[key])
            t = tally[kind]
            t["given"] += len(found)
            t["right"] += len(found & truth)
            t["truth"] += len(truth)
    out = {}
    for kind, t in tally.items():
        out[kind] = {
            "precision": round(t["right"] / t["given"], 3) if t["given"] else None,
            "recall": round(t["right"] / t["truth"], 3) if t["truth"] else None,
            "given": t["given"], "truth": t["truth"],
        }
        if kind in ("reference", "doc_date"):
            out[kind]["recall_legible"] = (
                round(t["right_legible"] / t["legible"], 3) if t["legible"] else None
            )
            out[kind]["legible"] = t["legible"]
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; prints a table per extractor and writes the JSON results."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=60, help="letters to draw and OCR")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--cache", default=str(ROOT / "bench" / "out" / "extract-ocr.json"))
    ap.add_argument("--compare-rev", help="also score classify/extract.py of this git revision")
    args = ap.parse_args(argv)

    cache = Path(args.cache)
    key = f"{args.n}-{args.seed}-v2"  # bump when draw() changes
    docs = json.loads(cache.read_text()).get(key) if cache.exists() else None
    if docs is None:
        corpus = generate_corpus(args.n, seed=args.seed, held_out=True)
        os.environ["OMP_THREAD_LIMIT"] = "1"
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=2) as pool:
            texts = list(pool.map(ocr, [(text, i) for i, (text, _) in enumerate(corpus)]))
        print(f"OCR of {args.n} pages: {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        docs = [
            {"ocr": o, "doc_date": t.doc_date, "references": t.references, "dates": t.dates,
             "ibans": t.ibans, "amounts": t.amounts}
            for o, (_, t) in zip(texts, corpus)
        ]
        cache.parent.mkdir(parents=True, exist_ok=True)
        stored = json.loads(cache.read_text()) if cache.exists() else {}
        stored[key] = docs
        cache.write_text(json.dumps(stored, ensure_ascii=False))

    results = {"current": score(current_extract, docs)}
    if args.compare_rev:
        results[args.compare_rev] = score(load_rev(args.compare_rev), docs)
    for name, fields in results.items():
        print(f"\nextractor: {name} ({len(docs)} OCRed letters)")
        print(f"{'field':10} {'precision':>9} {'recall':>7} {'legible':>8} {'given':>6} {'truth':>6}")
        for kind, r in fields.items():
            print(f"{kind:10} {r['precision']!s:>9} {r['recall']!s:>7} "
                  f"{r.get('recall_legible', '-')!s:>8} {r['given']:>6} {r['truth']:>6}")
    out = cache.parent / f"extract-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
