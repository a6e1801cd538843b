"""Portable archive exports, and importing them into another archive.

An export folder is self-describing and uses the store's own layout::

    akte-export.json             format, version, when, from where, how many records
    records/ab/<id>.json         the manifests, with every hash and all metadata
    objects/ab/<sha256>          originals
    archival/ab/<sha256>.pdf     archival PDFs
    model/                       the archive's classification model, if it has one

Running an export again into the same folder copies only what is new or changed.

Importing trusts nothing in the export: every manifest is type-checked, every object is
looked up where the layout puts its hash, confined to the export (no absolute paths, no
``..``, no symlink leading out) and hashed again; the record id must be the SHA-256 of its
original. Paths in the importing archive are derived from those verified hashes only, every
copy is verified after writing, and an existing record is never replaced. A damaged or
hostile export never becomes a damaged archive.
"""

from __future__ import annotations

import json
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterator

from ..archive.confine import MissingFileError, inside
from ..archive.seal import write_record
from ..archive.store import ArchiveStore, atomic_copy, atomic_write_bytes, is_record_id, sha256_file
from ..errors import ArchiveUnavailableError, InputFileError
from ..models import ArchiveRecord, document_id, now_iso
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
    locks: dict[str, threading.Lock] = {}
    guard = threading.Lock()

    def lock_for(rel: str) -> threading.Lock:
        # Documents split from one batch file share its original: one thread copies it.
        with guard:
            return locks.setdefault(rel, threading.Lock())

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
            with lock_for(rel):
                if _same(target.root / rel, store.root / rel):
                    continue  # another record's thread copied it meanwhile
                if atomic_copy(store.root / rel, target.root / rel) != sha:
                    (target.root / rel).unlink(missing_ok=True)
                    return (record_id, MigrationStatus.FAILED,
                            f"{rel} does not match its hash in the archive (run akte verify)")
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
        descriptor["exported_at"] = now_iso()
        atomic_write_bytes(dest / DESCRIPTOR, json.dumps(descriptor, indent=1).encode())


def _same(dst: Path, src: Path) -> bool:
    # Objects are named by their hash: an existing one of the same size is the same object.
    return dst.is_file() and dst.stat().st_size == src.stat().st_size


def open_export(src: Path) -> ArchiveStore:
    """The export folder as a store; raises InputFileError if it is not one of ours."""
    try:
        descriptor = json.loads(inside(src, src / DESCRIPTOR, DESCRIPTOR).read_bytes().decode("utf-8"))
    except MissingFileError:
        raise InputFileError(str(src), f"no {DESCRIPTOR}: not an aktenarchiv export") from None
    except (OSError, ValueError) as exc:  # OutsideError, UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InputFileError(str(src), f"unreadable {DESCRIPTOR}: {exc}") from None
    if not isinstance(descriptor, dict):
        raise InputFileError(str(src), f"{DESCRIPTOR} is not a JSON object")
    version = descriptor.get("version")
    if descriptor.get("format") != FORMAT or not isinstance(version, int) or version > VERSION:
        raise InputFileError(str(src), f"unsupported export format {descriptor.get('format')!r:.60} "
                                       f"version {version!r:.20}")
    return ArchiveStore(src)


def count_export(src: Path) -> int:
    """Records in an export folder."""
    return sum(1 for _ in open_export(src).record_ids())


_NONE = type(None)
_RECORD = {"id": str, "sha256": str, "source_name": str, "media_type": str, "size": int, "page_count": int,
           "ingested_at": str, "title": str, "original_object": str, "archival_object": (str, _NONE),
           "archival_sha256": (str, _NONE), "pages": list, "engine": str, "classification": (dict, _NONE),
           "audit": list, "archival_format": (str, _NONE), "extra": list, "batch": (str, _NONE),
           "source_pages": list, "separator_pages": list}
_REQUIRED = ("id", "sha256", "source_name", "media_type", "size", "page_count", "ingested_at", "title",
             "original_object", "pages", "engine")
_PAGE = {"number": int, "text": str, "source": str, "confidence": (int, float, _NONE)}
# What the scan station adds to a page (manifests written before it lack these keys).
_SCAN_PAGE = {"rotation": int, "dpi": (int, _NONE), "blank": bool, "issues": list, "in_archival": bool,
              "separator": (str, _NONE)}
_CLASSIFICATION = {"doc_type": (str, _NONE), "confidence": (int, float, _NONE), "needs_review": bool,
                   "method": str, "fields": list, "doc_date": (str, _NONE), "reference": (str, _NONE)}
_FIELD = {"kind": str, "value": str, "raw": str, "page": int, "start": int, "end": int}


def _typed(data: Any, kinds: dict, where: str, required: tuple[str, ...] = ()) -> dict:
    """``data`` if it is an object whose keys have the listed types; ValueError naming the first that does not."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} is not an object")
    for key, kind in kinds.items():
        if key not in data:
            if key in required:
                raise ValueError(f"{where}: {key!r} is missing")
            continue
        value, allowed = data[key], kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise ValueError(f"{where}: {key!r} has the wrong type ({type(value).__name__})")
    return data


def checked_record(data: Any, record_id: str) -> ArchiveRecord:
    """The record a foreign manifest describes, after checking every value it holds.

    Raises:
        ValueError: with the first problem found (type, id, hash format, layout path).
    """
    _typed(data, _RECORD, "manifest", _REQUIRED)
    if data["id"] != record_id or not is_record_id(data["sha256"]):
        raise ValueError(f"manifest names id {data['id']!r:.80} / sha256 {data['sha256']!r:.80}, not its file name")
    # A document split from a batch file has an id derived from the file's hash and its pages.
    for key in ("source_pages", "separator_pages"):
        if any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in data.get(key) or ()):
            raise ValueError(f"{key} holds something other than page numbers")
    expected = document_id(data["sha256"], tuple(data["source_pages"])) if data.get("source_pages") else data["sha256"]
    if expected != record_id:
        raise ValueError(f"id {record_id:.80} is not the one its sha256 and source pages give")
    if not data["source_name"] or any(c in data["source_name"] for c in "/\x00") or data["source_name"] in (".", ".."):
        raise ValueError(f"source_name {data['source_name']!r:.80} is not a file name")
    if data["size"] < 0 or data["page_count"] < 0:
        raise ValueError("negative size or page count")
    try:
        datetime.fromisoformat(data["ingested_at"])
        if (data.get("classification") or {}).get("doc_date") is not None:
            date.fromisoformat(str(data["classification"]["doc_date"]))
    except ValueError:
        raise ValueError("ingested_at or the document date is not an ISO date") from None
    for n, page in enumerate(data["pages"], start=1):
        _typed(page, {**_PAGE, **_SCAN_PAGE}, f"page {n}", tuple(_PAGE))
        if page["source"] not in ("ocr", "text-layer", "imported") or set(page) - set(_PAGE) - set(_SCAN_PAGE):
            raise ValueError(f"page {n}: unexpected source or keys")
        if any(not isinstance(issue, str) for issue in page.get("issues") or ()):
            raise ValueError(f"page {n}: issues holds something other than text")
    classification = _typed(data.get("classification") or {}, _CLASSIFICATION, "classification")
    for n, field in enumerate(classification.get("fields") or (), start=1):
        if len(_typed(field, _FIELD, f"classification field {n}", tuple(_FIELD))) != len(_FIELD):
            raise ValueError(f"classification field {n}: unexpected keys")
    if any(not isinstance(entry, dict) for entry in data.get("audit") or ()):
        raise ValueError("audit holds something other than objects")
    if any(not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, str) for v in pair))
           for pair in data.get("extra") or ()):
        raise ValueError("extra holds something other than [name, value] pairs of text")
    if data["original_object"] != original_rel(data["sha256"]):
        raise ValueError(f"original_object {data['original_object']!r:.80} is not {original_rel(data['sha256'])}")
    archival, archival_sha = data.get("archival_object"), data.get("archival_sha256")
    if (archival is None) != (archival_sha is None):
        raise ValueError("archival_object and archival_sha256 must be given together")
    if archival_sha is not None and (not is_record_id(archival_sha) or archival != archival_rel(archival_sha)):
        raise ValueError(f"archival_object {archival!r:.80} is not archival/ab/<its sha256>.pdf")
    try:
        return ArchiveRecord.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"unusable manifest: {exc}") from None


def original_rel(sha: str) -> str:
    """Where the store layout keeps the original with this hash."""
    return f"objects/{sha[:2]}/{sha}"


def archival_rel(sha: str) -> str:
    """Where the store layout keeps the archival PDF with this hash."""
    return f"archival/{sha[:2]}/{sha}.pdf"


@dataclass(frozen=True, slots=True)
class _Incoming:
    """A record of the export whose manifest and objects were checked, and where its objects are."""

    record: ArchiveRecord
    objects: tuple[tuple[Path, str, str], ...]  # (real path in the export, our relative path, sha256)


def _export_manifests(root: Path) -> Iterator[Path]:
    """Every ``records/*/*.json`` of an export, in a stable order (the same files ``record_ids`` names)."""
    records = root / "records"
    if records.is_dir():
        for sub in sorted(records.iterdir()):
            yield from sorted(sub.glob("*.json"))


def _check_incoming(root: Path, manifest: Path) -> _Incoming:
    """Read and check one manifest of the export and hash its objects; ValueError with the reason."""
    record_id = manifest.stem
    if not is_record_id(record_id) or manifest.parent.name != record_id[:2]:
        raise ValueError("not a record id (64 lower-case hex characters, kept in records/<first two>/)")
    real = inside(root, manifest, f"records/{manifest.parent.name}/{manifest.name}")
    try:
        data = json.loads(real.read_bytes().decode("utf-8"))
    except (OSError, RecursionError) as exc:
        raise ValueError(f"unreadable manifest: {exc}") from None
    record = checked_record(data, record_id)
    objects = [(original_rel(record.sha256), record.sha256, "original")]
    if record.archival_sha256:
        objects.append((archival_rel(record.archival_sha256), record.archival_sha256, "archival PDF"))
    checked = []
    for rel, sha, label in objects:
        try:
            path = inside(root, root / rel, rel)
        except MissingFileError:
            raise ValueError(f"{label} {rel} missing from the export") from None
        if sha256_file(path) != sha:
            raise ValueError(f"{label} {rel} does not match its hash (recomputed on import)")
        checked.append((path, rel, sha))
    if checked[0][0].stat().st_size != record.size:
        raise ValueError(f"manifest says {record.size} bytes, the original has {checked[0][0].stat().st_size}")
    return _Incoming(record, tuple(checked))


def _comparable(record: ArchiveRecord) -> dict:
    """A record's content, without the notes that importing adds."""
    data = record.to_json()
    data["audit"] = [entry for entry in data["audit"] if entry.get("event") != "imported"]
    return data


def import_export(src: Path, store: ArchiveStore, on_record: Callable[[ArchiveRecord], None],
                  on_item: ItemSink, *, workers: int = 2, dry_run: bool = False) -> None:
    """Copy every record of the export ``src`` into ``store``, trusting nothing in the export.

    Manifests are checked and objects hashed in ``workers`` threads; everything that writes
    happens here, one record at a time. New records go to ``on_record`` (it journals and
    indexes); every outcome goes to ``on_item``: imported, duplicate (the same record is
    already here), conflict (a different record with that id is here: nothing changed),
    failed (with the reason), or would-import in a dry run.

    Raises:
        InputFileError: ``src`` is not an aktenarchiv export.
        ArchiveUnavailableError: this archive cannot be written (disk full).
    """
    source = open_export(src)
    root = source.root.resolve()

    def check(manifest: Path) -> tuple[str, _Incoming | str]:
        try:
            return manifest.stem, _check_incoming(root, manifest)
        except ValueError as exc:  # OutsideError is one
            return manifest.stem, str(exc)
        except OSError as exc:
            return manifest.stem, f"cannot read from the export: {exc.strerror or exc}"

    for record_id, incoming in _bounded_map(check, _export_manifests(source.root), workers):
        if isinstance(incoming, str):
            on_item(record_id, MigrationStatus.FAILED, incoming)
            continue
        try:
            outcome = _land(incoming, store, on_record, source.root, dry_run)
        except OSError as exc:  # disk full, archive gone: stop; running the import again resumes
            raise ArchiveUnavailableError(
                f"cannot write to the archive {store.root} while importing {record_id}: {exc.strerror or exc}"
            ) from None
        on_item(record_id, *outcome)


def _land(incoming: _Incoming, store: ArchiveStore, on_record: Callable[[ArchiveRecord], None],
          origin: Path, dry_run: bool) -> tuple[MigrationStatus, str | None]:
    """Bring one checked record into ``store``; (status, reason). Never replaces anything."""
    record = incoming.record
    if store.has_record(record.id):
        try:
            here = _comparable(store.read_record(record.id))
        except (ValueError, KeyError, TypeError) as exc:
            return MigrationStatus.CONFLICT, f"a record with this id is here but its manifest is unreadable ({exc}); nothing changed"
        theirs = _comparable(record)
        if here == theirs:
            return MigrationStatus.SKIPPED, "already in this archive"
        differ = ", ".join(sorted(k for k in set(here) | set(theirs) if here.get(k) != theirs.get(k)))
        return MigrationStatus.CONFLICT, f"a different record with this id is already here (differs in: {differ}); nothing changed"
    if dry_run:
        return MigrationStatus.WOULD_IMPORT, None
    written: list[Path] = []
    for path, rel, sha in incoming.objects:
        target = store.root / rel
        if target.exists() or target.is_symlink():
            if target.is_file() and not target.is_symlink() and sha256_file(target) == sha:
                continue  # the same object is already here (shared archival PDF, or an interrupted run)
            for done in written:
                done.unlink(missing_ok=True)
            return MigrationStatus.FAILED, f"{rel} already exists in this archive with other content; nothing changed (run akte verify)"
        # Verify after write: read back what is on disk, not what was sent.
        if atomic_copy(path, target) != sha or sha256_file(target) != sha:
            for done in (*written, target):
                done.unlink(missing_ok=True)
            return MigrationStatus.FAILED, f"{rel} changed while being written"
        written.append(target)
    note = {"event": "imported", "at": now_iso(), "from_export": str(origin)}
    record = replace(record, audit=(*record.audit, note))
    write_record(store, record)  # manifest last (sealed): the record now exists
    on_record(record)
    return MigrationStatus.IMPORTED, None
