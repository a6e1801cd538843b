"""Relevance you can measure: MRR and recall@10 of both backends on judged queries.

The corpus: generated held-out letters (``classify.synthetic.corpus``) with the generator's OCR-like
noise (broken words, rn/m, dropped letters …), plus, when ``bench_extract.py`` has run, the
letters it drew and OCRed with Tesseract. A record is *relevant* to a query when the clean
page (before noise and OCR) contains every query word (umlauts folded; a reference or number
by its letters and digits), so a record whose text OCR garbled still counts: that is what
the clerk wants found.

Queries, in categories: names, streets, whole references, parts of references (the case
number; a part starting inside the plan code, ``5.5-1690``), topics, and spellings that
differ from the page (``Mueller``, ``Strasse``). The generator keeps numbers intact, so a
third of its letters get OCR's number errors here (a space inside, O for 0, l for 1). Precision@10 is reported too: the price of approximate matching.

Usage (before/after: run it once per checkout; ``PYTHONPATH`` may point at another tree)::

    .venv/bin/python bench/bench_relevance.py --n 600
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import tempfile
import time
import unicodedata
import uuid
from pathlib import Path

import aktenarchiv
from aktenarchiv.archive.base import SearchQuery
from aktenarchiv.archive.elastic import ElasticBackend
from aktenarchiv.archive.sqlite import SqliteBackend
from aktenarchiv.classify.synthetic import corpus
from aktenarchiv.config import ElasticSettings
from aktenarchiv.models import ArchiveRecord, Classification, PageText

ROOT = Path(__file__).resolve().parent.parent
_TYPOS = {"Müller": "Mueller", "Schröder": "Schroeder", "Krüger": "Krueger", "Weiß": "Weiss",
          "Straße": "Strasse", "Grundstück": "Grundstueck", "Gebühr": "Gebuehr"}


def fold(text: str) -> str:
    """Lower case, umlauts spelled out, accents dropped (for judging only)."""
    text = text.lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}))
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def build_corpus(n: int, seed: int) -> list[tuple[str, str]]:
    """``(clean, indexed)`` texts: generated letters with noise, plus cached Tesseract output."""
    clean: list[str] = []
    original = corpus.add_noise

    def keep_clean(text: str, rng: random.Random, rate: float) -> str:
        clean.append(re.sub(r"[\x01\x02]", "", text))
        return original(text, rng, rate)

    corpus.add_noise = keep_clean
    try:
        docs = corpus.generate_corpus(n, seed=seed, held_out=True)
    finally:
        corpus.add_noise = original
    rng = random.Random(seed)
    pairs = [(c, ocr_identifiers(text, rng)) for c, (text, _) in zip(clean, docs)]
    cache = ROOT / "bench" / "out" / "extract-ocr.json"
    if cache.exists():
        for key, ocred in json.loads(cache.read_text()).items():
            n_docs, ocr_seed = int(key.split("-")[0]), int(key.split("-")[1])
            generated = corpus.generate_corpus(n_docs, seed=ocr_seed, held_out=True)
            pairs.extend((re.sub(r"[\x01\x02]", "", text), doc["ocr"])
                         for (text, _), doc in zip(generated, ocred))
    return pairs


_REFERENCE = re.compile(r"(?<![\w./-])(?!\d{4}-\d\d-\d\d)(?:[IV]+/\d-\d+\.\d+|\d+(?:\.\d+)?-\d{2,4}(?:[/-]\d{2,4})+|\d+\.\d+-\d+)")


def ocr_identifiers(text: str, rng: random.Random) -> str:
    """What OCR does to numbers (the generator protects them): in a third of the letters,
    each reference gets a space inside a number, or a letter O for a 0 / l for a 1."""
    if rng.random() > 1 / 3:
        return text

    def damage(match: re.Match[str]) -> str:
        ref = match.group()
        digits = [i for i, c in enumerate(ref) if c.isdigit() and 0 < i < len(ref) - 1]
        if not digits:
            return ref
        i = rng.choice(digits)
        if rng.random() < 0.5:
            return ref[:i] + " " + ref[i:]
        return ref.replace("0", "O", 1) if "0" in ref else ref.replace("1", "l", 1)

    return _REFERENCE.sub(damage, text)


def make_queries(pairs: list[tuple[str, str]], seed: int) -> list[tuple[str, str]]:
    """``(category, query)`` pairs drawn from what the corpus holds."""
    rng = random.Random(seed)
    text = "\n".join(clean for clean, _ in pairs)
    out: list[tuple[str, str]] = []
    names = sorted({f"{f} {last}" for f in corpus._FIRST for last in corpus._LAST if f"{f} {last}" in text})
    out += [("name", q) for q in rng.sample(names, min(15, len(names)))]
    out += [("name", q) for q in rng.sample(corpus._LAST, 8)]
    out += [("street", q) for q in corpus._STREETS]
    refs = sorted(set(_REFERENCE.findall(text)))
    whole = rng.sample(refs, min(30, len(refs)))
    out += [("reference", q) for q in whole]
    out += [("ref part", re.split(r"-", q, maxsplit=1)[1]) for q in whole if "-" in q]
    out += [("ref inner", q[1:]) for q in whole if q[:2].isdigit() and "." in q[:5]]
    topics = [w for phrase in corpus._VORHABEN + corpus._LEISTUNGEN for w in phrase.split()
              if len(w) > 6 and w[0].isupper()]
    out += [("topic", q) for q in sorted(set(topics))]
    out += [("spelling", v) for k, v in _TYPOS.items() if k in text]
    return out


def relevant(query: str, clean: str) -> bool:
    """Does the clean page contain every word of the query?"""
    page = fold(clean)
    compact_page = re.sub(r"[\W_]", "", page)
    for word in query.split():
        if any(c.isdigit() for c in word):
            if re.sub(r"[\W_]", "", fold(word)) not in compact_page:
                return False
        elif fold(word) not in page:
            return False
    return True


def record(n: int, clean: str, indexed: str) -> ArchiveRecord:
    """An archive record holding the indexed (noisy) text."""
    sha = hashlib.sha256(f"rel-{n}-{clean[:50]}".encode()).hexdigest()
    return ArchiveRecord(
        id=sha, sha256=sha, source_name=f"brief-{n}.pdf", media_type="application/pdf", size=1,
        page_count=1, ingested_at=f"2024-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z",
        title=f"Brief {n}", original_object=f"objects/{sha[:2]}/{sha}", archival_object=None,
        archival_sha256=None, pages=(PageText(1, indexed, "ocr", 90.0),), engine="bench",
        classification=Classification(),
    )


def evaluate(backend, queries, judged) -> dict:
    """MRR, recall@10 and precision@10 per category and overall."""
    per: dict[str, list[tuple[float, float, float]]] = {}
    for (category, query), rel in zip(queries, judged):
        if not rel:
            continue
        hits = [h.id for h in backend.search(SearchQuery(text=query, limit=10)).hits]
        rank = next((i + 1 for i, h in enumerate(hits) if h in rel), None)
        found = sum(h in rel for h in hits)
        per.setdefault(category, []).append(
            (1 / rank if rank else 0.0, found / min(10, len(rel)), found / len(hits) if hits else 0.0)
        )
    out = {}
    for category, rows in [*per.items(), ("all", [r for rows in per.values() for r in rows])]:
        out[category] = {
            "queries": len(rows),
            "mrr": round(sum(r[0] for r in rows) / len(rows), 3),
            "recall@10": round(sum(r[1] for r in rows) / len(rows), 3),
            "precision@10": round(sum(r[2] for r in rows) / len(rows), 3),
        }
    return out


def relevance(backends: list[str], n: int, seed: int, es_url: str) -> dict:
    """MRR, recall@10 and precision@10 per query category of each of ``backends``, on the
    same judged corpus (``n`` generated letters plus the OCRed ones)."""
    pairs = build_corpus(n, seed)
    records = [record(i, clean, indexed) for i, (clean, indexed) in enumerate(pairs)]
    queries = make_queries(pairs, seed)
    judged = [{r.id for r, (clean, _) in zip(records, pairs) if relevant(q, clean)} for _, q in queries]
    results: dict = {"records": len(records), "queries": len(queries)}
    with tempfile.TemporaryDirectory() as tmp:
        for name in backends:
            if name == "sqlite":
                backend = SqliteBackend(Path(tmp) / "index.sqlite")
            else:
                backend = ElasticBackend(ElasticSettings(
                    url=es_url, index_prefix=f"akte-relevance-{uuid.uuid4().hex[:8]}"))
            try:
                backend.index(records)
                results[name] = evaluate(backend, queries, judged)
            finally:
                if name != "sqlite":
                    client = backend.client
                    client.indices.delete(index=",".join(client.indices.get(index=f"{backend.alias}-v*")))
                    client.indices.delete_index_template(name=backend.alias)
                backend.close()
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; prints a table per backend and writes the JSON results."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=600, help="generated letters besides the OCRed ones")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--backends", default="sqlite,elasticsearch")
    ap.add_argument("--es-url", default="http://127.0.0.1:9200")
    ap.add_argument("--label", default=str(Path(aktenarchiv.__file__).parent))
    ap.add_argument("--no-approximate", action="store_true",
                    help="switch OCR-tolerant matching off (to see what it costs and gains)")
    args = ap.parse_args(argv)
    if args.no_approximate:
        from aktenarchiv.archive import elastic, sqlite

        sqlite.eligible = elastic.eligible = lambda word: False

    results = {"label": args.label, **relevance(args.backends.split(","), args.n, args.seed, args.es_url)}
    print(f"{results['label']}: {results['records']} records, {results['queries']} queries")
    for name in args.backends.split(","):
        print(f"\n{name:14} {'queries':>7} {'MRR':>6} {'R@10':>6} {'P@10':>6}")
        for category, r in results[name].items():
            print(f"{category:14} {r['queries']:>7} {r['mrr']:>6} {r['recall@10']:>6} {r['precision@10']:>6}")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (out / f"relevance-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
