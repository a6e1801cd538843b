"""Portable archive exports, and importing them into another archive.

An export folder is self-describing and uses the store's own layout::

    akte-export.json             format, version, when, from where, how many records
    records/ab/<id>.json         the manifests, with every hash and all metadata
    objects/ab/<sha256>          originals
    archival/ab/<sha256>.pdf     archival PDFs
    model/                       the archive's classification model, if it has one

Running an export again into the same folder copies only what is new or changed.
Importing verifies every object against its manifest before and after writing, so a
damaged export never becomes a damaged archive.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator

from ..archive.store import ArchiveStore, atomic_copy, atomic_write_bytes, sha256_file
from ..errors import InputFileError
from ..models import ArchiveRecord
from ..states import MigrationStatus

FORMAT = "aktenarchiv-export"
VERSION = 1
DESCRIPTOR = "akte-export.json"


ItemSink = Callable[[str, MigrationStatus, "str | None"], None]  # (record id, status, reason)


def _bounded_map(func: Callable, items: Iterator, workers: int) -> Iterator:
    """``map`` over a thread pool with at most ``2 × workers`` items in flight, in order."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        window: list = []
        for item in items:
            window.append(pool.submit(func, item))
            if len(window) >= 2 * max(1, workers):
                yield window.pop(0).result()
        for future in window:
            yield future.result()


def export_archive(store: ArchiveStore, dest: Path, on_item: ItemSink, *, workers: int = 2,
                   dry_run: bool = False) -> None:
    """Export every record of ``store`` into ``dest`` (incrementally); each outcome goes to ``on_item``."""
    target = ArchiveStore(dest)

    def one(record_id: str) -> tuple[str, MigrationStatus, str | None]:
        try:
            record = store.read_record(record_id)
        except (ValueError, KeyError, TypeError) as exc:
            return record_id, MigrationStatus.FAILED, f"broken manifest: {exc}"
        new_manifest = json.dumps(record.to_json(), ensure_ascii=False, indent=1, sort_keys=True).encode()
        manifest_path = target.root / "records" / record_id[:2] / f"{record_id}.json"
        unchanged = manifest_path.is_file() and manifest_path.read_bytes() == new_manifest
        objects = [(record.original_object, record.sha256)]
        if record.archival_object:
            objects.append((record.archival_object, record.archival_sha256))
        missing = [(rel, sha) for rel, sha in objects if not _same(target.root / rel, store.root / rel)]
        if unchanged and not missing:
            return record_id, MigrationStatus.UNCHANGED, "already exported, unchanged"
        if dry_run:
            return record_id, MigrationStatus.WOULD_EXPORT, None
        for rel, sha in missing:
            if atomic_copy(store.root / rel, target.root / rel) != sha:
                (target.root / rel).unlink(missing_ok=True)
                return record_id, MigrationStatus.FAILED, f"{rel} does not match its hash in the archive (run akte verify)"
        if not unchanged:
            atomic_write_bytes(manifest_path, new_manifest)  # last: the record is complete
        return record_id, MigrationStatus.EXPORTED, None

    for item in _bounded_map(one, store.record_ids(), workers):
        on_item(*item)
    if not dry_run:
        model = store.root / "model"
        if model.is_dir():
            shutil.copytree(model, dest / "model", dirs_exist_ok=True)
        descriptor = {
            "format": FORMAT, "version": VERSION, "source_archive": str(store.root),
            "records": sum(1 for _ in target.record_ids()),
            "layout": {"records": "records/ab/<id>.json", "originals": "objects/ab/<sha256>",
                       "archival": "archival/ab/<sha256>.pdf", "model": "model/"},
        }
        from ..ingest.journal import now_iso

        descriptor["exported_at"] = now_iso()
        atomic_write_bytes(dest / DESCRIPTOR, json.dumps(descriptor, indent=1).encode())


def _same(dst: Path, src: Path) -> bool:
    # Objects are named by their hash: an existing one of the same size is the same object.
    return dst.is_file() and dst.stat().st_size == src.stat().st_size


def open_export(src: Path) -> ArchiveStore:
    """The export folder as a store; raises InputFileError if it is not one of ours."""
    try:
        descriptor = json.loads((src / DESCRIPTOR).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(str(src), f"no {DESCRIPTOR}: not an aktenarchiv export") from None
    except (OSError, ValueError) as exc:
        raise InputFileError(str(src), f"unreadable {DESCRIPTOR}: {exc}") from None
    if descriptor.get("format") != FORMAT or descriptor.get("version", 0) > VERSION:
        raise InputFileError(str(src), f"unsupported export format {descriptor.get('format')!r} "
                                       f"version {descriptor.get('version')!r}")
    return ArchiveStore(src)


def count_export(src: Path) -> int:
    """Records in an export folder."""
    return sum(1 for _ in open_export(src).record_ids())


def import_export(src: Path, store: ArchiveStore, on_record: Callable[[ArchiveRecord], None],
                  on_item: ItemSink, *, workers: int = 2, dry_run: bool = False) -> None:
    """Copy every record of the export ``src`` into ``store``, verified.

    New records go to ``on_record`` (called in this thread, one at a time: it indexes and
    journals); every outcome goes to ``on_item``.
    """
    source = open_export(src)
    from ..ingest.journal import now_iso

    def one(record_id: str):
        if store.has_record(record_id):
            return record_id, MigrationStatus.SKIPPED, "already in this archive", None
        try:
            record = source.read_record(record_id)
        except (ValueError, KeyError, TypeError) as exc:
            return record_id, MigrationStatus.FAILED, f"broken manifest: {exc}", None
        objects = [(record.original_object, record.sha256)]
        if record.archival_object:
            objects.append((record.archival_object, record.archival_sha256))
        for rel, sha in objects:
            path = source.root / rel
            if not path.is_file():
                return record_id, MigrationStatus.FAILED, f"{rel} missing from the export", None
            if record.id != record.sha256 or sha256_file(path) != sha:
                return record_id, MigrationStatus.FAILED, f"{rel} does not match the hash in its manifest", None
        if dry_run:
            return record_id, MigrationStatus.WOULD_IMPORT, None, None
        for rel, sha in objects:
            written = atomic_copy(source.root / rel, store.root / rel)
            # Verify after write: read back what is on disk, not what was sent.
            if written != sha or sha256_file(store.root / rel) != sha:
                (store.root / rel).unlink(missing_ok=True)
                return record_id, MigrationStatus.FAILED, f"{rel} changed while being written", None
        note = {"event": "imported", "at": now_iso(), "from_export": str(source.root)}
        return record_id, MigrationStatus.IMPORTED, None, replace(record, audit=(*record.audit, note))

    for record_id, status, reason, record in _bounded_map(one, source.record_ids(), workers):
        if record is not None:
            store.write_record(record)  # manifest last: the record now exists
            on_record(record)
        on_item(record_id, status, reason)
