"""Benchmark both search backends on the same synthetic German records, in one run.

Measures bulk indexing throughput (records/s, German analysis included, since both backends
pay it), the build's time and peak RSS, and latency p50/p95 of (a) plain searches over a
fixed mix of queries (words, compounds, OR, phrases, exclusions, filters, listings) and
(b) the web search page's backend share (a clerk's need-to-know scope, 20 hits, counts per
type, year, correspondent and tag): ``page`` in one ``search_with_counts`` call,
``page_two_calls`` as ``search`` + ``counts``; for each corpus size. Then relevance (MRR,
recall@10, precision@10 per query category) of every backend on the judged corpus of
``bench_relevance.py``, in the same run.

Records are generated and analysed as a stream (analysis in ``--workers`` processes) and
written through the backends' bulk path (``index_documents``) in batches, so the build takes
minutes and its memory stays bounded (peak RSS is reported, workers apart). Each mix
runs ``--repeat`` times; the median of the runs' p50/p95 is reported, as wall time and, for
SQLite, as CPU time of the searching process (what it would take on an idle machine: this
one is shared, so the load average is printed beside every figure). ``--corpus uniform``
is the earlier worst case in which each query word is in ~80 % of the records; ``zipf``
(default) has a realistic word distribution. ``--keep DIR`` keeps the SQLite index files
there and reuses one built earlier for the same size, corpus and seed.

Usage (Elasticsearch must be running: ``bash scripts/elasticsearch.sh start``)::

    python bench/bench_backends.py --sizes 10000,100000
    python bench/bench_backends.py --sizes 10000 --backends sqlite --corpus uniform
    python bench/bench_backends.py --sizes 1000000 --backends sqlite --keep /tmp/bench-index --replicate 10

Results go to stdout as a table and to ``bench/out/backends-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from itertools import islice
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Callable, Iterator

from aktenarchiv.archive.base import SearchBackend, SearchQuery, index_document
from aktenarchiv.archive.elastic import ElasticBackend
from aktenarchiv.archive.sqlite import SqliteBackend
from aktenarchiv.config import ElasticSettings
from aktenarchiv.models import ArchiveRecord, Classification, PageText
from elasticsearch import Elasticsearch

sys.path.insert(0, str(Path(__file__).parent))
from bench_relevance import relevance  # noqa: E402

# Word stock for synthetic letters; compounds and umlauts on purpose, so compound splitting
# and folding cost what they cost on real records.
WORDS = (
    "Antrag Bauantrag Bescheid Gebührenbescheid Rechnung Vertrag Mietvertrag Widerspruch"
    " Protokoll Urkunde Genehmigung Baugenehmigung Straße Hauptstraße Gemeinde Stadtverwaltung"
    " Bürger Bürgerin Müller Schröder Schmidt Weiß Gebühr Zahlung Frist Monat Jahr Sitzung"
    " Gemeinderat Haushalt Kindergarten Schule Friedhof Grundstück Flurstück Eigentümer"
    " Wohnung Miete Kündigung Anhörung Entscheidung Begründung Rechtsbehelfsbelehrung Bauamt"
    " Ordnungsamt Steuer Grundsteuer Hundesteuer Abfallgebühren Wasserversorgung Abwasser"
    " Straßenreinigung Winterdienst Beleuchtung Spielplatz Feuerwehr Einsatz Rechnungsprüfung"
    " Personalakte Arbeitsvertrag Gehalt Urlaub Antragsteller Unterlagen Nachweis Anlage"
).split()
FILLER = (
    "der die das und mit für von auf im in zu den dem des ist wird wurde sind nach über bei"
    " sehr geehrte Damen Herren hiermit bitte freundlichen Grüßen gemäß sowie bis zum"
).split()
DOC_TYPES = ("antrag", "bescheid", "rechnung", "vertrag", "widerspruch", "protokoll", None)
BATCH = 2000  # records per index call: one transaction (SQLite) or a few bulk requests (ES)
QUERIES = (
    "Antrag", "Müller", "Mueller", "Strasse", "Genehmigung", "Gebühren", "Bescheid Frist",
    "Miete OR Kündigung", '"Sehr geehrte Damen"', "Grundsteuer -Hundesteuer", "Feuerwehr Einsatz",
    "Winterdienst", "Vertrag Gehalt", "Spielplatz OR Friedhof OR Schule",
)


SYLLABLES = ("ber ge lan dorf bach wie sen feld haus stra tur kon takt ver wal tung amt mel"
             " dung fest setz ung prü fung ab rech nung zu stän dig keit ein gang aus kunft"
             " bür ger meis ter ord nung frist leis tung ver fah ren grund stück").split()


def vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    """Made-up German-looking words (2–4 syllables): the long tail of an archive's words."""
    words = {"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
             for _ in range(size * 2)}
    return sorted(words)[:size]


def synthetic_records(count: int, seed: int, corpus: str = "zipf") -> Iterator[ArchiveRecord]:
    """``count`` records of 80–400 words each, reproducible from ``seed``.

    ``uniform``: 45 % of the words drawn evenly from the 70 topic words (each query word is in
    about 80 % of the records: a worst case for ranking). ``zipf``: words drawn by Zipf's law
    from function words, a long tail of 4,000 words and the topic words, as in real letters:
    a topic word is in a few per cent of the records, "Sehr geehrte Damen" in most.
    """
    rng = random.Random(seed)
    start = datetime(2015, 1, 1, tzinfo=timezone.utc)
    tail = vocabulary(random.Random(seed + 1))
    for i, word in enumerate(WORDS):  # topic words at ranks from common to rare
        tail.insert(i * 12, word)
    stock = FILLER + tail
    weights = [1 / (rank + 1) for rank in range(len(stock))]
    for n in range(count):
        sha = f"{rng.getrandbits(256):064x}"
        length = rng.randint(80, 400)
        if corpus == "uniform":
            words = [rng.choice(WORDS if rng.random() < 0.45 else FILLER) for _ in range(length)]
        else:
            words = rng.choices(stock, weights, k=length)
        pages = tuple(
            PageText(i + 1, " ".join(words[i * 200 : (i + 1) * 200]), "ocr", 90.0)
            for i in range((len(words) + 199) // 200)
        )
        when = start + timedelta(minutes=rng.randrange(0, 11 * 365 * 24 * 60))
        yield ArchiveRecord(
            id=sha, sha256=sha, source_name=f"scan-{n:06d}.pdf", media_type="application/pdf",
            size=rng.randint(50_000, 900_000), page_count=len(pages),
            ingested_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            title=" ".join(rng.sample(WORDS, 3)), original_object=f"objects/{sha[:2]}/{sha}",
            archival_object=None, archival_sha256=None, pages=pages, engine="bench",
            classification=Classification(
                doc_type=rng.choice(DOC_TYPES),
                reference=f"{rng.randint(10, 99)}.{rng.randint(1, 9)}-{rng.randint(1, 9999)}/24",
                doc_date=(when - timedelta(days=rng.randint(0, 30))).date().isoformat(),
                needs_review=rng.random() < 0.1,
            ),
        )


def query_mix(seed: int, count: int) -> list[SearchQuery]:
    """Searches as clerks type them, a quarter with filters, plus some listings."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.1:
            out.append(SearchQuery(doc_type=rng.choice(DOC_TYPES[:-1])))
        elif roll < 0.35:
            year = rng.randint(2015, 2025)
            out.append(SearchQuery(text=rng.choice(QUERIES), doc_type=rng.choice(DOC_TYPES[:-1]),
                                   date_from=f"{year}-01-01", date_to=f"{year}-12-31"))
        else:
            out.append(SearchQuery(text=rng.choice(QUERIES)))
    return out


def page_mix(seed: int, count: int) -> list[SearchQuery]:
    """What the web's search page asks (``web/pages.py``): a clerk's need-to-know scope (all
    types but one, no unclassified records), 20 hits, facet counts; a quarter with a year
    chosen, a tenth without words (the listing)."""
    rng = random.Random(seed + 1)
    scope = tuple(t for t in DOC_TYPES[:-1] if t != "protokoll")
    out = []
    for _ in range(count):
        roll = rng.random()
        text = None if roll < 0.1 else rng.choice(QUERIES)
        year = rng.randint(2015, 2025) if roll > 0.75 else None
        out.append(SearchQuery(text=text, doc_types=scope, limit=20,
                               date_from=f"{year}-01-01" if year else None, date_to=f"{year}-12-31" if year else None))
    return out


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def build(backend: SqliteBackend | ElasticBackend, records: Iterator[ArchiveRecord], workers: int) -> float:
    """Analyse ``records`` in ``workers`` processes and bulk-index them in batches; seconds.

    The workers analyse the next batch while this process indexes the last one: never more
    than two batches in memory.
    """
    began = time.perf_counter()
    with multiprocessing.Pool(workers) as pool:

        def analyse_next() -> AsyncResult | None:
            batch = list(islice(records, BATCH))
            return pool.map_async(index_document, batch, chunksize=100) if batch else None

        pending = analyse_next()
        while pending is not None:
            docs = pending.get()
            pending = analyse_next()
            report = backend.index_documents(docs)
            if report.errors:
                raise SystemExit(f"{backend.name}: {len(report.errors)} records failed to index")
    if isinstance(backend, SqliteBackend):
        backend.optimize()  # as akte reindex does after a rebuild
    return time.perf_counter() - began


def timed(call: Callable[[SearchQuery], object], queries: list[SearchQuery], repeat: int) -> dict:
    """p50/p95 of ``call`` over ``queries``, as wall time and as CPU time of this process:
    medians over ``repeat`` runs, after a warm-up."""
    for q in queries[:20]:
        call(q)
    runs = []
    load = os.getloadavg()[0]
    for _ in range(repeat):
        wall, cpu = [], []
        for q in queries:
            w0, c0 = time.perf_counter(), time.process_time()
            call(q)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
        runs.append((percentile(wall, 50), percentile(wall, 95), percentile(cpu, 50), percentile(cpu, 95),
                     statistics.fmean(wall)))
    return {
        "queries": len(queries), "repeat": repeat,
        "p50_ms": round(statistics.median(r[0] for r in runs), 1),
        "p95_ms": round(statistics.median(r[1] for r in runs), 1),
        "p50_cpu_ms": round(statistics.median(r[2] for r in runs), 1),
        "p95_cpu_ms": round(statistics.median(r[3] for r in runs), 1),
        "p95_runs_ms": [round(r[1], 1) for r in runs],
        "mean_ms": round(statistics.median(r[4] for r in runs), 1),
        "load": f"{load:.1f}-{os.getloadavg()[0]:.1f}",
    }


def time_queries(backend: SearchBackend, queries: list[SearchQuery], pages: list[SearchQuery], repeat: int) -> dict:
    """(a) plain searches (top level, as before) and (b) the search page's backend share:
    ``page`` in one call (``search_with_counts``), ``page_two_calls`` as search + counts."""
    result = timed(backend.search, queries, repeat)
    if hasattr(backend, "search_with_counts"):  # absent in code before it (a before/after run)
        result["page"] = timed(backend.search_with_counts, pages, repeat)
    result["page_two_calls"] = timed(lambda q: (backend.search(q), backend.counts(q)), pages, repeat)
    return result


def measure(
    backend: SqliteBackend | ElasticBackend, records: Callable[[], Iterator[ArchiveRecord]],
    count: int, queries: tuple[list[SearchQuery], list[SearchQuery]], repeat: int, workers: int,
    built: bool = False,
) -> dict:
    """Build ``backend`` from the streamed ``records`` (unless ``built``), then time the queries."""
    result: dict = {"backend": backend.name, "records": count}
    if not built:
        load = os.getloadavg()[0]
        seconds = build(backend, records(), workers)
        result.update(index_seconds=round(seconds, 1), docs_per_second=round(count / seconds),
                      build_load=f"{load:.1f}-{os.getloadavg()[0]:.1f}")
    result["peak_rss_mb"] = peak_rss_mb()
    result.update(time_queries(backend, *queries, repeat))
    return result


def bulk_only(url: str, records: Iterator[ArchiveRecord], count: int, repeat: int) -> dict:
    """Bulk throughput of the node alone: documents analysed before the clock starts, sent
    ``repeat`` times into fresh indexes; the median rate is reported, with every run's."""
    docs = [index_document(r) for r in islice(records, count)]
    rates = []
    load = os.getloadavg()[0]
    for _ in range(repeat):
        backend = ElasticBackend(ElasticSettings(url=url, index_prefix=f"akte-bench-{uuid.uuid4().hex[:8]}"))
        try:
            began = time.perf_counter()
            report = backend.index_documents(docs)
            rates.append(round(len(docs) / (time.perf_counter() - began)))
        finally:
            drop(backend)
        if report.errors:
            raise SystemExit(f"bulk: {len(report.errors)} documents failed")
    return {"backend": "es bulk only", "records": len(docs), "docs_per_second": round(statistics.median(rates)),
            "runs_docs_per_second": rates, "p50_ms": "-", "p95_ms": "-", "peak_rss_mb": "-",
            "load": f"{load:.1f}-{os.getloadavg()[0]:.1f}"}


def run_elastic(url: str, records: Callable[[], Iterator[ArchiveRecord]], count: int,
                queries: tuple[list[SearchQuery], list[SearchQuery]], repeat: int, workers: int) -> list[dict]:
    """Measure on throw-away index prefixes that are deleted afterwards."""
    results = [bulk_only(url, records(), min(count, 10_000), repeat)]
    backend = ElasticBackend(ElasticSettings(url=url, index_prefix=f"akte-bench-{uuid.uuid4().hex[:8]}"))
    try:
        results.append(measure(backend, records, count, queries, repeat, workers))
    finally:
        drop(backend)
    return results


def replicate(source: Path, target: SqliteBackend, copies: int) -> None:
    """Fill ``target`` with ``copies`` copies of the finished index at ``source``, each with
    fresh record ids and row ids after the last: a large index in minutes, in SQL alone
    (FTS5 tokenizes the copies again; the German analysis in Python is not repeated). Every
    word's share of the records stays that of ``source``."""
    db = target.db
    db.execute("ATTACH DATABASE ? AS src", (str(source),))
    step = db.execute("SELECT max(rowid) FROM src.docs").fetchone()[0]
    for k in range(copies):
        with db:
            for table in ("docs", "doc_text", "doc_keys", "docs_fts"):
                columns = [row[1] for row in db.execute(f"PRAGMA src.table_info({table})") if row[1] != "rowid"]
                values = ["substr(id, 1, 56) || printf('%08x', ?)" if c == "id" else c for c in columns]
                db.execute(
                    f"INSERT INTO {table} (rowid, {', '.join(columns)})"
                    f" SELECT rowid + ?, {', '.join(values)} FROM src.{table}",
                    (k * step, *([k] if "id" in columns else [])),
                )
    db.execute("DETACH DATABASE src")
    with db:  # the copies' words are not in the word list yet: optimize() lists them
        db.execute("DELETE FROM index_state WHERE key = 'body_terms'")
    target.optimize()


def run_sqlite(args: argparse.Namespace, size: int, records: Callable[[], Iterator[ArchiveRecord]],
               queries: tuple[list[SearchQuery], list[SearchQuery]]) -> dict:
    """Measure SQLite in a temporary folder, or in ``--keep`` (reusing a finished build).

    With ``--replicate K`` the index of ``size / K`` records is built (or reused), then copied
    K times into this one (:func:`replicate`); the build time reported is the copying's.
    """
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"index-{args.corpus}-{args.seed}-{size}" + (f"-x{args.replicate}" if args.replicate > 1 else "")
        path = folder / f"{name}.sqlite"
        done = path.with_name(path.name + ".done")
        if not done.exists():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        copied = {}
        if args.replicate > 1 and not done.exists():
            base = size // args.replicate
            small = folder / f"index-{args.corpus}-{args.seed}-{base}.sqlite"
            if not small.with_name(small.name + ".done").exists():
                fresh = SqliteBackend(small)
                load = os.getloadavg()[0]
                seconds = build(fresh, synthetic_records(base, args.seed, args.corpus), args.workers)
                fresh.close()
                small.with_name(small.name + ".done").touch()
                copied = {"base_index_seconds": round(seconds, 1), "base_build_load": f"{load:.1f}"}
            sqlite = SqliteBackend(path)
            load, began = os.getloadavg()[0], time.perf_counter()
            replicate(small, sqlite, args.replicate)
            copied.update(replicated=f"{base} x {args.replicate}", index_seconds=round(time.perf_counter() - began, 1),
                          build_load=f"{load:.1f}-{os.getloadavg()[0]:.1f}")
            sqlite.close()
            done.touch()
        sqlite = SqliteBackend(path)
        result = measure(sqlite, records, size, queries, args.repeat, args.workers, built=done.exists())
        result.update(copied)
        done.touch()
        sqlite.close()
        result["index_mb"] = round(path.stat().st_size / 2**20)
        return result


def drop(backend: ElasticBackend) -> None:
    """Delete a bench index prefix (indexes and template)."""
    client: Elasticsearch = backend.client
    names = list(client.indices.get(index=f"{backend.alias}-v*"))
    client.indices.delete(index=",".join(names))
    client.indices.delete_index_template(name=backend.alias)
    backend.close()


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; prints a table and writes the JSON results."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated record counts")
    ap.add_argument("--backends", default="sqlite,elasticsearch")
    ap.add_argument("--corpus", default="zipf", choices=("zipf", "uniform"))
    ap.add_argument("--queries", type=int, default=300, help="timed searches per size and backend")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the query mix (median p95 reported)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="analysis processes")
    ap.add_argument("--keep", help="folder for SQLite indexes, kept and reused between runs")
    ap.add_argument("--seed", type=int, default=20241125)
    ap.add_argument("--es-url", default="http://127.0.0.1:9200")
    ap.add_argument("--out", default=str(Path(__file__).parent / "out"))
    ap.add_argument("--replicate", type=int, default=1,
                    help="SQLite: build 1/K of each size, then copy it K times (minutes for a million)")
    ap.add_argument("--relevance", type=int, default=600,
                    help="generated letters of the relevance corpus (bench_relevance.py); 0 skips it")
    args = ap.parse_args(argv)

    results = []
    queries = (query_mix(args.seed, args.queries), page_mix(args.seed, args.queries))
    load = os.getloadavg()[0]
    for size in (int(s) for s in args.sizes.split(",")):
        def records(size: int = size) -> Iterator[ArchiveRecord]:
            return synthetic_records(size, args.seed, args.corpus)

        # German analysis alone (Python, shared by both backends), for reading the rates below.
        sample = list(islice(records(), min(size, 5000)))
        index_document(sample[0])  # loads the compound dictionary outside the timing
        t0 = time.perf_counter()
        for record in sample:
            index_document(record)
        rate = round(len(sample) / (time.perf_counter() - t0))
        del sample
        results.append({"backend": "analysis only", "records": size, "docs_per_second": rate,
                        "p50_ms": "-", "p95_ms": "-", "peak_rss_mb": "-"})
        for name in args.backends.split(","):
            if name == "sqlite":
                results.append(run_sqlite(args, size, records, queries))
            else:
                results.extend(run_elastic(args.es_url, records, size, queries, args.repeat, args.workers))
            print(json.dumps(results[-1]), file=sys.stderr)

    relevance_results = relevance(args.backends.split(","), args.relevance, args.seed, args.es_url) \
        if args.relevance else None
    print(f"corpus {args.corpus}; load average {load:.1f} on {os.cpu_count()} cores at the start"
          " (shared machine: wall figures are upper bounds; CPU = this process, SQLite only)")
    print(f"{'backend':14} {'records':>8} {'build s':>8} {'docs/s':>7} {'RSS MB':>7} {'call':15}"
          f" {'p50 ms':>7} {'p95 ms':>7} {'p50 CPU':>7} {'p95 CPU':>7}  load (query runs)")
    for r in results:
        head = (f"{r['backend']:14} {r['records']:>8} {r.get('index_seconds', '-'):>8}"
                f" {r.get('docs_per_second', '-'):>7} {r['peak_rss_mb']:>7}")
        calls = [("search" if "queries" in r else "-", r), *((k, r[k]) for k in ("page", "page_two_calls") if k in r)]
        for name, t in calls:
            cpu = (t.get("p50_cpu_ms", "-"), t.get("p95_cpu_ms", "-")) if r["backend"] == "sqlite" else ("-", "-")
            print(f"{head} {name:15} {t['p50_ms']:>7} {t['p95_ms']:>7} {cpu[0]:>7} {cpu[1]:>7}  {t.get('load', '')}")
            head = " " * len(head)
    if relevance_results:
        print(f"relevance: {relevance_results['records']} judged records, {relevance_results['queries']} queries")
        for name in args.backends.split(","):
            for category, m in relevance_results[name].items():
                print(f"  {name:14} {category:14} MRR {m['mrr']:<6} recall@10 {m['recall@10']:<6}"
                      f" precision@10 {m['precision@10']}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (out / f"backends-{stamp}.json").write_text(
        json.dumps({"corpus": args.corpus, "load": load, "results": results,
                    "relevance": relevance_results}, indent=2) + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
