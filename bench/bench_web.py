"""Benchmark the web archive: time of the search page and the record page, p50/p95.

An archive of ``--records`` synthetic German records (those of ``bench_backends.py``: 80–400
words, types spread over six types and unclassified, sealed manifests) is built in ``--dir``
(default /dev/shm) and indexed in the chosen backend; a clerk (default scope: no ``personal``,
no unclassified records, so the scope filter is in every query) signs in, and ``--requests``
searches of the backend bench's query set (words, umlaut spellings, OR, phrases, exclusions)
and as many record pages are timed in-process through the real application (FastAPI
TestClient: the whole server path including the session check, the scoped query with facet
counts and the audit entry of each read; no network). Warm: each kind runs ``--warmup``
requests first.

``--corpus zipf`` (default) draws words by Zipf's law, as in real letters; ``--corpus uniform``
is the worst case in which each query word is in about 80 % of the records, so every search
ranks and counts most of the archive.

On Elasticsearch (``--backend elasticsearch``, node from ``AKTE_ES_URL`` or 127.0.0.1:9200) the
records go to a throw-away index prefix ``akte-benchweb-<random>``, deleted afterwards.
The search page's time is broken down: the same scoped searches with facet counts are timed
straight on the backend (``ScopedArchive.search``), the rest is the web layer (session check,
read log, template).

``--keep DIR`` (SQLite) builds the archive in DIR once and reuses it on later runs with the same
DIR, e.g. to measure the same 100 000 records before and after a change of the backend.

Usage: .venv/bin/python bench/bench_web.py [--records 10000] [--requests 200] [--backend sqlite] [--keep DIR]
Target (issue 14): search p95 <= 150 ms at 100 000 records on SQLite, warm.
The QS page of a records-staff user is timed too: its first view reads every manifest, later
views only those that changed (``qa.QueueCache``); beside it, what reading every manifest costs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from aktenarchiv.archive.base import SearchQuery
from aktenarchiv.archive.registry import open_backend
from aktenarchiv.archive.seal import commit_record_change
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.config import load_settings
from aktenarchiv.qa import QueueCache, qa_queue
from aktenarchiv.web.access import ScopedArchive
from aktenarchiv.web.app import create_app
from aktenarchiv.web.pages import PAGE_SIZE
from aktenarchiv.web.users import Role, User, UserStore
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
from bench_backends import QUERIES, drop, synthetic_records  # noqa: E402

PASSWORD = "Bench-Passwort-1"


def build(settings, count: int, corpus: str) -> list[str]:
    """Store, seal and index ``count`` records; returns their ids."""
    store = ArchiveStore(settings.archive_dir)
    backend = open_backend(settings)
    ids, batch = [], []
    src = settings.archive_dir.parent / "original"
    for record in synthetic_records(count, seed=7, corpus=corpus):
        # The original's bytes are its text, so the id is its real hash and put_original accepts it.
        original = "\f".join(page.text for page in record.pages).encode()
        sha = hashlib.sha256(original).hexdigest()
        record = replace(record, id=sha, sha256=sha, size=len(original), original_object=f"objects/{sha[:2]}/{sha}")
        src.write_bytes(original)
        store.put_original(src, sha)
        commit_record_change(store, record, "sealed")
        ids.append(record.id)
        batch.append(record)
        if len(batch) == 1000:
            backend.index(batch)
            batch = []
    backend.index(batch)
    backend.close()
    return ids


def signed_in(app, name: str) -> TestClient:
    """A browser of ``name``, signed in through the real form."""
    client = TestClient(app)
    form = client.get("/anmelden").text
    csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    client.post("/anmelden", data={"name": name, "passwort": PASSWORD, "csrf": csrf, "weiter": "/"})
    return client


def timed(client: TestClient, urls: list[str], warmup: int) -> dict[str, float]:
    """p50/p95 in milliseconds over ``urls`` (after ``warmup`` untimed ones)."""
    for url in urls[:warmup]:
        client.get(url)
    times = []
    for url in urls:
        started = time.perf_counter()
        answer = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code in (200, 404), (url, answer.status_code)
    times.sort()
    return {"p50": round(statistics.median(times), 1), "p95": round(times[int(len(times) * 0.95) - 1], 1)}


def backend_time(settings, urls: list[str], warmup: int) -> dict[str, float]:
    """p50/p95 of the search pages' backend work alone: the clerk's scoped search with counts."""
    archive = ScopedArchive(settings, User("bench", Role.CLERK, None, False, ""), "web", "bench", QueueCache())
    queries = [SearchQuery(text=parse_qs(urlsplit(url).query)["q"][0], limit=PAGE_SIZE) for url in urls]
    for query in queries[:warmup]:
        archive.search(query, with_counts=True)
    times = []
    for query in queries:
        started = time.perf_counter()
        archive.search(query, with_counts=True)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50": round(statistics.median(times), 1), "p95": round(times[int(len(times) * 0.95) - 1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "elasticsearch"))
    parser.add_argument("--corpus", default="zipf", choices=("zipf", "uniform"))
    parser.add_argument("--dir", type=Path, default=Path("/dev/shm") if Path("/dev/shm").is_dir() else None)
    parser.add_argument("--keep", type=Path, help="SQLite: build the archive here once, reuse it afterwards.")
    args = parser.parse_args()
    if args.keep is not None and args.backend != "sqlite":
        parser.error("--keep is for the SQLite backend (an Elasticsearch index is always thrown away)")
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-web-", dir=args.dir))
    overrides = {"backend": args.backend}
    if args.backend == "elasticsearch":
        overrides.update({"elastic.url": os.environ.get("AKTE_ES_URL", "http://127.0.0.1:9200"),
                          "elastic.index_prefix": f"akte-benchweb-{uuid.uuid4().hex[:8]}"})
    settings = load_settings(work / "archiv", overrides=overrides, environ={})
    try:
        kept = sorted(ArchiveStore(settings.archive_dir).record_ids()) if (work / "archiv").is_dir() else []
        if kept:
            ids = kept
            print(f"reusing the {len(ids)} records in {work}")
        else:
            started = time.perf_counter()
            ids = build(settings, args.records, args.corpus)
            print(f"built {args.records} records in {time.perf_counter() - started:.0f} s ({args.backend}, {args.corpus})")
            users = UserStore(settings.archive_dir)
            users.add("bench", Role.CLERK, None, PASSWORD)
            users.add("qs", Role.RECORDS, None, PASSWORD)
            users.close()
        app = create_app(settings)
        client, staff = signed_in(app, "bench"), signed_in(app, "qs")
        rng = random.Random(3)
        searches = ["/?" + urlencode({"q": rng.choice(QUERIES)}) for _ in range(args.requests)]
        pages = [f"/akte/{rng.choice(ids)}" for _ in range(args.requests)]
        # Two cores shared with other work: the figures mean little without the load beside them.
        print("load average before timing (1/5/15 min):", os.getloadavg())
        print("search page ms", timed(client, searches, args.warmup))
        print("of which backend ms", backend_time(settings, searches, args.warmup), "(scoped search + counts)")
        print("record page ms", timed(client, pages, args.warmup), "(404 for unclassified records)")
        started = time.perf_counter()
        waiting = len(qa_queue(ArchiveStore(settings.archive_dir).iter_records()))
        print(f"QA queue read from every manifest (each QS view before the cache): "
              f"{(time.perf_counter() - started) * 1000:.0f} ms, {waiting} waiting")
        started = time.perf_counter()
        assert staff.get("/qs").status_code == 200
        print(f"QS page ms, first view (cache filled): {(time.perf_counter() - started) * 1000:.0f}; after it",
              timed(staff, ["/qs"] * 20, 2))
        print("load average after timing (1/5/15 min):", os.getloadavg())
    finally:
        if args.backend == "elasticsearch":
            drop(open_backend(settings))
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
