"""Benchmark the audit chain and the seals: write overhead, and verification at 100 000 records.

1. **Write overhead.** ``--writes`` synthetic records (one page of German text, a small
   original) are stored twice through the real store: once with ``ArchiveStore.write_record``
   (no chain), once with ``seal.commit_record_change`` (staged manifest + audit entry +
   rename). Both on ``--disk`` (default: a folder under /tmp on the machine's disk), because
   the difference is mostly fsync. The extra time per record is set against a real ingest's
   time per record, measured by ingesting ``--real`` born-digital PDFs through the pipeline
   (the fastest kind of input: no OCR; a scanned page takes 2–3 s more). ``store.write_record``
   is itself sealed now, so the baseline is the plain crash-safe manifest write it replaced.
2. **Verification at scale.** ``--records`` synthetic records are sealed into an archive in
   ``--dir`` (default /dev/shm, so that building it takes minutes, not an hour of fsyncs),
   then timed: ``AuditLog.verify`` (the chain), ``seal.check_store`` (every manifest against
   its seal, plus stray files), ``ArchiveStore.verify`` (every object rehashed), and
   ``entries_for`` of 1 000 random records (the index).

Usage: .venv/bin/python bench/bench_audit.py [--records 100000] [--writes 300] [--real 20]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aktenarchiv.archive.audit import AuditLog
from aktenarchiv.archive.seal import check_store, commit_record_change
from aktenarchiv.archive.store import ArchiveStore, manifest_bytes
from aktenarchiv.fsio import atomic_write_bytes
from aktenarchiv.models import ArchiveRecord, PageText

sys.path.insert(0, str(Path(__file__).parent))
from bench_migrate import WORDS, tiny_pdf  # noqa: E402


def synthetic(n: int, rng: random.Random) -> tuple[ArchiveRecord, bytes]:
    """Record number ``n``: its original's bytes and a manifest with one page of text."""
    text = " ".join(rng.choices(WORDS, k=300))
    original = f"Akte {n}\n{text}".encode()
    sha = hashlib.sha256(original).hexdigest()
    record = ArchiveRecord(
        id=sha, sha256=sha, source_name=f"scan{n}.pdf", media_type="application/pdf", size=len(original),
        page_count=1, ingested_at="2024-03-05T10:00:00+00:00", title=f"Akte {n}",
        original_object=f"objects/{sha[:2]}/{sha}", archival_object=None, archival_sha256=None,
        pages=(PageText(1, text, "text-layer", None),), engine="text-layer",
    )
    return record, original


def store_records(store: ArchiveStore, count: int, sealed: bool, work: Path, seed: int = 1) -> float:
    """Store ``count`` synthetic records; returns seconds."""
    rng = random.Random(seed)
    src = work / "original"
    started = time.perf_counter()
    for n in range(count):
        record, original = synthetic(n, rng)
        src.write_bytes(original)
        store.put_original(src, record.sha256)
        if sealed:
            commit_record_change(store, record, "ingested", {"pages": 1})
        else:  # the manifest write of the store before the chain: .part, fsync, rename, fsync of the folder
            atomic_write_bytes(store.manifest_path(record.id), manifest_bytes(record))
    return time.perf_counter() - started


def write_overhead(disk: Path, writes: int, rounds: int = 3) -> float:
    """Per-record milliseconds without and with the chain (median of alternating rounds, as
    the disk's fsync time drifts); returns the extra ms per record."""
    results: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(rounds):
        for sealed in (False, True):
            root = Path(tempfile.mkdtemp(dir=disk))
            try:
                seconds = store_records(ArchiveStore(root / "archiv"), writes, sealed, root)
            finally:
                shutil.rmtree(root)
            results[sealed].append(seconds / writes * 1000)
    median = {sealed: statistics.median(ms) for sealed, ms in results.items()}
    for sealed, ms in median.items():
        print(f"  store {writes} records {'with' if sealed else 'without'} chain: {ms:.2f} ms/record "
              f"(median of {rounds})")
    return median[True] - median[False]


def real_ingest_ms(disk: Path, count: int) -> float:
    """Milliseconds per record of a real ``pipeline.ingest`` of born-digital PDFs."""
    from aktenarchiv.config import load_settings
    from aktenarchiv.pipeline import ingest

    root = Path(tempfile.mkdtemp(dir=disk))
    try:
        inbox = root / "eingang"
        inbox.mkdir()
        for n in range(count):
            (inbox / f"brief{n}.pdf").write_bytes(tiny_pdf(f"Bescheid Nummer {n} über die Gebühr"))
        settings = load_settings(root / "archiv", environ={})
        report = ingest([inbox], settings)
        return report.seconds / max(1, report.count("archived")) * 1000
    finally:
        shutil.rmtree(root)


def verify_at_scale(root: Path, records: int) -> None:
    store = ArchiveStore(root)
    have = sum(1 for _ in store.record_ids())
    if have < records:
        root.parent.mkdir(parents=True, exist_ok=True)
        seconds = store_records(store, records - have, True, root.parent, seed=have + 7)
        print(f"  built {records - have} sealed records in {seconds:.0f} s")
    log = AuditLog(root)
    timings = {}
    started = time.perf_counter()
    chain = log.verify()
    timings["audit verify (chain)"] = (time.perf_counter() - started, chain.entries, "entries")
    started = time.perf_counter()
    seals = check_store(store, chain)
    timings["seal + stray check"] = (time.perf_counter() - started, seals.manifests, "manifests")
    started = time.perf_counter()
    report = store.verify()
    timings["store verify (objects)"] = (time.perf_counter() - started, report.records, "records")
    ids = random.Random(3).sample(list(store.record_ids()), 1000)
    started = time.perf_counter()
    found = sum(len(log.entries_for(record_id)) for record_id in ids)
    timings["entries_for ×1000"] = (time.perf_counter() - started, 1000, "lookups")
    assert chain.ok and seals.ok and report.ok and found >= 1000, "the generated archive must verify"
    for name, (seconds, count, unit) in timings.items():
        print(f"  {name:<24} {seconds:8.2f} s  {count / seconds:>10.0f} {unit}/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000, help="0: only the write overhead.")
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--real", type=int, default=20)
    parser.add_argument("--disk", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--dir", type=Path, default=None, help="Keep the big archive here (reused when rerun).")
    args = parser.parse_args()

    print(f"write overhead on {args.disk}:")
    extra = write_overhead(args.disk, args.writes)
    if args.real:
        per_record = real_ingest_ms(args.disk, args.real)
        print(f"  real ingest of born-digital PDFs (includes the chain): {per_record:.0f} ms/record; "
              f"chain share ≈ {extra / per_record * 100:.1f} % (a scanned page adds 2–3 s, i.e. < 0.3 %)")
    if not args.records:
        return
    shm = Path("/dev/shm")
    big = args.dir or Path(tempfile.mkdtemp(dir=shm if shm.is_dir() else None)) / "archiv"
    print(f"verification at {args.records} records in {big}:")
    try:
        verify_at_scale(big, args.records)
    finally:
        if args.dir is None:
            shutil.rmtree(big.parent)


if __name__ == "__main__":
    main()
