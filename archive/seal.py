"""Sealed records: every manifest is covered by its SHA-256 in the audit chain.

A manifest changes only through :func:`commit_record_change`, in three crash-safe steps:

1. the new manifest is staged as ``records/ab/<id>.json.pending`` (fsync'd);
2. an audit entry naming the record and ``manifest_sha256`` of the staged bytes is appended;
3. the staged file is renamed over the manifest.

A crash after 1 leaves a pending file no entry covers: the change never happened and
:func:`finish_pending` removes it. A crash after 2 leaves a pending file its entry covers:
:func:`finish_pending` completes the rename. ``verify`` accepts that state (and says so).

:func:`check_store` compares every manifest with its seal, and reports stray files
anywhere in the archive, each finding with the record it concerns.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import IntegrityError
from ..fsio import fsync_dir, sha256_file
from ..models import ArchiveRecord
from .audit import BATCH_KEY, MANIFEST_KEY, Actor, ChainReport, Entry, Finding
from .store import ArchiveStore, is_record_id, manifest_bytes

PENDING = ".pending"
HEX2 = re.compile(r"^[0-9a-f]{2}\Z")
SQLITE_FILE = re.compile(r"^(index|journal)\.sqlite(\.rebuild)?(-wal|-shm|-journal)?\Z")
# Top-level folders whose content is free-form (kept by the pipeline, migrations, releases;
# web/ holds the web archive's users, sessions, cookie key and page-image cache).
FREE_FOLDERS = frozenset({"quarantine", "reports", "model", "work", "releases", "batches", "logs", "web"})
ROOT_FILES = frozenset({".lock", "akte.toml"})
AUDIT_FILE = re.compile(r"^(\d{8}\.jsonl|heads\.jsonl|signing\.pub|\.lock|index\.sqlite(-wal|-shm|-journal)?)\Z")


@dataclass
class SealReport:
    """What :func:`check_store` found; ``notes`` are states that are fine but worth saying."""

    manifests: int = 0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every manifest matches its seal and no stray file was found."""
        return not self.findings


def _pending(store: ArchiveStore, record_id: str) -> Path:
    path = store.manifest_path(record_id)
    return path.with_name(path.name + PENDING)


def commit_record_change(store: ArchiveStore, record: ArchiveRecord, event: str,
                         details: dict[str, Any] | None = None, actor: Actor | None = None) -> Entry:
    """Write a record's new manifest and its audit entry together, crash-safely.

    Args:
        store: the archive.
        record: the record as it is to be stored.
        event: what happened ("sealed" for a new record, "label", "imported", "qa", …).
        details: further facts for the entry (who approved, the old and new type, …).
        actor: who did it; the operating-system user by default.

    Returns:
        The audit entry that seals the new manifest.
    """
    with store.audit.locked():
        pending, entry = _stage_and_append(store, record, event, details, actor, durable=True)
        _go_live(pending, store.manifest_path(record.id))
    return entry


def update_record(store: ArchiveStore, record_id: str, event: str | None,
                  change: Callable[[ArchiveRecord], ArchiveRecord], actor: Actor | None = None) -> ArchiveRecord:
    """Read a record, change it and commit the change, all under the audit lock.

    Two people changing one record at once (two browsers, a browser and ``akte``) never
    overwrite each other: the second reads the manifest the first wrote. A release, which
    holds the same lock, cannot slip between a check ``change`` makes and the write.

    Args:
        store: the archive.
        record_id: the record (a full id).
        event: the audit event ("qa", "qa-signoff", …); None: the new entry's ``action``.
        change: the record as stored now → the record to store, with the entry it appended
            to its ``audit`` last (the entry's fields but ``at`` and ``by`` become the details);
            it raises to refuse.
        actor: who did it; the operating-system user by default.

    Returns:
        The record as stored.
    """
    with store.audit.locked():
        updated = change(store.read_record(record_id))
        entry = updated.audit[-1]
        details = {k: v for k, v in entry.items() if k not in ("at", "by")}
        commit_record_change(store, updated, event or entry["action"], details, actor)
    return updated


def _stage_and_append(store: ArchiveStore, record: ArchiveRecord, event: str, details: dict[str, Any] | None,
                      actor: Actor | None, durable: bool) -> tuple[Path, Entry]:
    """Steps 1 and 2 of a change (the caller holds the audit lock); returns the staged file and its entry."""
    data = manifest_bytes(record)
    pending = _pending(store, record.id)
    details = dict(details or {})
    _finish_one(store, pending)  # an earlier interrupted change of this record comes first
    current = store.manifest_path(record.id)
    if current.is_file():
        before, sealed = sha256_file(current), store.audit.sealed_hash(record.id)
        if sealed is None:
            details["unsealed_before"] = before  # an archive from before sealing: adopted, visibly
        elif before != sealed:
            raise IntegrityError(f"record {record.id[:12]}: its manifest differs from its seal in the audit "
                                 "chain (changed outside akte); run `akte verify` before changing it")
    _stage(pending, data)
    try:
        details[MANIFEST_KEY] = hashlib.sha256(data).hexdigest()
        details[BATCH_KEY] = record.batch  # the audit index lists a batch's records from these
        entry = store.audit.append(event, (record.id,), details, actor, durable=durable)
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    return pending, entry


class SealGroup:
    """Group commit of new manifests: the audit entries of records finished together share one fsync.

    :meth:`add` stages a manifest (fsync'd) and writes its audit entry without an fsync;
    :meth:`then` attaches what must wait until the entries are durable (journal, index, the
    report); :meth:`flush` fsyncs the log once, puts the staged manifests live and only then
    runs those actions. A group is flushed when it holds ``size`` records or its oldest has
    waited ``max_wait`` seconds, so the fsync costs at most its own time per ``max_wait`` of
    work however fast records come. A crash before the fsync is one that hit after step 1 or
    2 of :func:`commit_record_change`: :func:`finish_pending` completes the staged manifests
    whose entries reached the disk and drops the others, whose inputs the journal still has
    as started, so the next run redoes them. Nothing was reported archived in between.
    """

    def __init__(self, store: ArchiveStore, size: int = 32, max_wait: float = 0.5) -> None:
        self.store = store
        self.size = max(1, size)
        self.max_wait = max_wait
        # In order: (staged file, live manifest) to put live, or an action to run.
        self._steps: list[tuple[Path, Path] | Callable[[], None]] = []
        self._count = 0
        self._since = 0.0

    def add(self, record: ArchiveRecord, event: str, details: dict[str, Any] | None = None,
            actor: Actor | None = None) -> Entry:
        """Stage ``record``'s manifest and write its entry; it goes live at the next flush."""
        manifest = self.store.manifest_path(record.id)
        if any(isinstance(step, tuple) and step[1] == manifest for step in self._steps):
            self.flush()  # a second change of one record waits for its first
        with self.store.audit.locked():
            pending, entry = _stage_and_append(self.store, record, event, details, actor, durable=False)
        if not self._count:
            self._since = time.monotonic()
        self._steps.append((pending, manifest))
        self._count += 1
        return entry

    def then(self, action: Callable[[], None]) -> None:
        """Run ``action`` once everything added so far is durable and live; flush when due."""
        self._steps.append(action)
        if self._count >= self.size or time.monotonic() - self._since >= self.max_wait:
            self.flush()

    def flush(self) -> None:
        """Make the group's entries durable, then put its manifests live and run its actions, in order."""
        if self._count:
            with self.store.audit.locked():
                self.store.audit.sync()
                self.store.audit.refresh()  # the index learns the entries once they are durable
        steps, self._steps, self._count = self._steps, [], 0
        for step in steps:
            if isinstance(step, tuple):
                _go_live(*step)
            else:
                step()


def _stage(pending: Path, data: bytes) -> None:
    """Write the new manifest beside the live one, durably (no ``.part`` needed: a torn staged
    file matches no audit entry and is dropped)."""
    pending.parent.mkdir(parents=True, exist_ok=True)
    with open(pending, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    fsync_dir(pending.parent)  # the staged file must survive a crash once its entry is written


def _go_live(pending: Path, manifest: Path) -> None:
    """The last step of a change: the staged manifest replaces the live one. No directory
    fsync: after a crash either name is found, and a staged file its entry covers is completed."""
    os.replace(pending, manifest)


def _finish_one(store: ArchiveStore, pending: Path) -> str | None:
    """Complete or drop one interrupted change; returns what was done."""
    if not pending.is_file():
        return None
    record_id = pending.name.split(".", 1)[0]
    if sha256_file(pending) == store.audit.sealed_hash(record_id):
        _go_live(pending, store.manifest_path(record_id))
        return "completed"
    pending.unlink()
    return "dropped"


def finish_pending(store: ArchiveStore) -> dict[str, str]:
    """Complete changes whose audit entry was written, drop those without; returns record id → action.

    Run at the start of every writing command (it holds the archive lock then).
    """
    done = {}
    records = store.root / "records"
    with store.audit.locked():
        for pending in records.glob(f"*/*.json{PENDING}") if records.is_dir() else ():
            action = _finish_one(store, pending)
            if action:
                done[pending.name.split(".", 1)[0]] = action
    return done


def adopt_unsealed(store: ArchiveStore, actor: Actor | None = None) -> list[str]:
    """Seal every manifest that has no seal yet (an archive from before sealing); returns their ids.

    Manifests whose seal exists but differs are left alone: that is a finding, not an adoption.
    """
    adopted = []
    with store.audit.locked():
        for record_id in store.record_ids():
            if store.audit.sealed_hash(record_id) is None:
                digest = sha256_file(store.manifest_path(record_id))
                store.audit.append("adopted", (record_id,), {MANIFEST_KEY: digest}, actor)
                adopted.append(record_id)
    return adopted


def check_store(store: ArchiveStore, chain: ChainReport, progress: Callable[[], None] | None = None) -> SealReport:
    """Compare every manifest with its seal in ``chain``; report stray files anywhere in the archive."""
    report = SealReport()
    stored: set[str] = set()
    for record_id in store.record_ids():
        stored.add(record_id)
        report.manifests += 1
        where = store.manifest_path(record_id).relative_to(store.root).as_posix()
        actual = sha256_file(store.manifest_path(record_id))
        sealed = chain.seals.get(record_id)
        if actual != sealed:
            if _pending_matches(store, record_id, sealed):
                report.notes.append(f"{where}: an interrupted change is pending; the next writing command "
                                    "completes it")
            elif sealed is None:
                report.findings.append(Finding("unsealed", where, "the audit chain holds no seal for this "
                                               "manifest (written outside akte, or its seal entry was removed)",
                                               (record_id,)))
            else:
                report.findings.append(Finding("altered", where, "the manifest differs from the hash sealed in "
                                               "the audit chain: it was changed outside akte", (record_id,)))
        if progress:
            progress()
    for record_id, sealed in chain.seals.items():
        if record_id in stored:
            continue
        where = store.manifest_path(record_id).relative_to(store.root).as_posix()
        if _pending_matches(store, record_id, sealed):
            report.notes.append(f"{where}: a new record is pending; the next writing command completes it")
        else:
            report.findings.append(Finding("missing", where, "the record is sealed in the audit chain but its "
                                           "manifest is gone", (record_id,)))
    report.findings.extend(find_strays(store.root))
    return report


def _pending_matches(store: ArchiveStore, record_id: str, sealed: str | None) -> bool:
    pending = _pending(store, record_id)
    return sealed is not None and pending.is_file() and sha256_file(pending) == sealed


def find_strays(root: Path) -> list[Finding]:
    """Files and folders that do not belong where they are (the archive's layout is fixed)."""
    findings: list[Finding] = []
    if not root.is_dir():
        return findings

    def stray(path: Path, why: str) -> None:
        rel = path.relative_to(root).as_posix()
        record = path.name[:64] if is_record_id(path.name[:64]) else None
        findings.append(Finding("stray", rel, why, (record,) if record else ()))

    for top in sorted(root.iterdir()):
        name = top.name
        if name in FREE_FOLDERS and top.is_dir():
            continue
        if name in ("objects", "archival", "records") and top.is_dir():
            _check_sharded(top, name, stray)
        elif name == "audit" and top.is_dir():
            for path in sorted(top.iterdir()):
                if path.name == "torn" and path.is_dir():
                    continue  # incomplete lines set aside after a crash
                if not (AUDIT_FILE.match(path.name) and path.is_file()):
                    stray(path, "not part of the audit log")
        elif not (top.is_file() and (name in ROOT_FILES or SQLITE_FILE.match(name))):
            stray(top, "unknown entry in the archive root")
    return findings


def _check_sharded(top: Path, kind: str, stray: Callable[[Path, str], None]) -> None:
    """``objects/ab/<sha256>``, ``archival/ab/<sha256>.pdf``, ``records/ab/<id>.json`` and nothing else."""
    suffix = {"objects": "", "archival": ".pdf", "records": ".json"}[kind]
    for shard in sorted(top.iterdir()):
        if not (shard.is_dir() and HEX2.match(shard.name)):
            stray(shard, f"{kind}/ holds only two-character folders")
            continue
        for path in sorted(shard.iterdir()):
            name = path.name
            if name.endswith(".part") or (kind == "records" and name.endswith(suffix + PENDING)):
                continue  # an interrupted write, cleaned up or completed by the next writing command
            stem = name[: len(name) - len(suffix)] if suffix and name.endswith(suffix) else name
            if not (path.is_file() and name.endswith(suffix) and is_record_id(stem) and stem[:2] == shard.name):
                stray(path, f"not a {kind} file of the form {kind}/{shard.name}/<sha256>{suffix}")


def write_record(store: ArchiveStore, record: ArchiveRecord, event: str | None = None,
                 details: dict | None = None) -> None:
    """Write (or replace) a record's manifest, sealed: :func:`commit_record_change` with the event
    the record's newest audit note names ("imported", "qa-approve", …), else "updated"."""
    if event is None:
        last = record.audit[-1] if record.audit else {}
        event = str(last.get("event") or last.get("action") or "updated")
    commit_record_change(store, record, event, details)
