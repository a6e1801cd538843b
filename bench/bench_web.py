"""Benchmark the web archive: time of the search page and the record page, p50/p95.

An archive of ``--records`` synthetic records (one page of German text each, types spread over
the taxonomy, sealed manifests) is built in ``--dir`` (default /dev/shm) and indexed in the
chosen backend; a clerk (default scope: no ``personal``, so the scope filter is in every query)
signs in, and ``--requests`` searches for one or two words of the corpus and as many record
pages are timed in-process through the real application (FastAPI TestClient: the whole server
path including the session check, the scoped query with facet counts and the audit entry of
each read; no network). Warm: each kind runs ``--warmup`` requests first.

Usage: .venv/bin/python bench/bench_web.py [--records 10000] [--requests 200] [--backend sqlite]
Target (issue 14): search p95 <= 150 ms at 100 000 records on SQLite, warm.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from aktenarchiv.archive.registry import open_backend
from aktenarchiv.archive.seal import commit_record_change
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.config import DEFAULT_TAXONOMY, load_settings
from aktenarchiv.models import Classification
from aktenarchiv.web.app import create_app
from aktenarchiv.web.users import Role, UserStore
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
from bench_audit import synthetic  # noqa: E402
from bench_migrate import WORDS  # noqa: E402

PASSWORD = "Bench-Passwort-1"


def build(settings, count: int) -> list[str]:
    """Store, seal and index ``count`` records; returns their ids."""
    store = ArchiveStore(settings.archive_dir)
    rng = random.Random(7)
    backend = open_backend(settings)
    ids, batch = [], []
    src = settings.archive_dir.parent / "original"
    for n in range(count):
        record, original = synthetic(n, rng)
        record = replace(record, classification=Classification(doc_type=DEFAULT_TAXONOMY[n % len(DEFAULT_TAXONOMY)],
                                                               confidence=0.9))
        src.write_bytes(original)
        store.put_original(src, record.sha256)
        commit_record_change(store, record, "sealed")
        ids.append(record.id)
        batch.append(record)
        if len(batch) == 1000:
            backend.index(batch)
            batch = []
    backend.index(batch)
    backend.close()
    return ids


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "elasticsearch"))
    parser.add_argument("--dir", type=Path, default=Path("/dev/shm") if Path("/dev/shm").is_dir() else None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-web-", dir=args.dir))
    try:
        settings = load_settings(work / "archiv", overrides={"backend": args.backend})
        started = time.perf_counter()
        ids = build(settings, args.records)
        print(f"built {args.records} records in {time.perf_counter() - started:.0f} s ({args.backend})")
        users = UserStore(settings.archive_dir)
        users.add("bench", Role.CLERK, None, PASSWORD)
        users.close()
        client = TestClient(create_app(settings))
        form = client.get("/anmelden").text
        csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        client.post("/anmelden", data={"name": "bench", "passwort": PASSWORD, "csrf": csrf, "weiter": "/"})
        rng = random.Random(3)
        searches = [f"/?q={' '.join(rng.sample(WORDS, rng.choice((1, 2))))}" for _ in range(args.requests)]
        pages = [f"/akte/{rng.choice(ids)}" for _ in range(args.requests)]
        print("search page ms", timed(client, searches, args.warmup))
        print("record page ms", timed(client, pages, args.warmup), "(404 for records of type personal)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
