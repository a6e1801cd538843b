"""The archive store on disk: the source of truth every index is rebuilt from.

Layout under the archive directory::

    objects/ab/<sha256>            originals, byte-exact, content-addressed
    archival/ab/<sha256>.pdf       archival PDF/A copies (named by their own hash)
    records/ab/<id>.json           one manifest per record (id = sha256 of the original)
    quarantine/<sha256>/           inputs we could not process: a copy + reason.json

Every write goes to ``<name>.part`` first, is flushed to disk and then renamed, so a crash
never leaves a half-written file under a final name. A manifest is written last: a record
exists once its manifest does.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from ..errors import QuarantineReason, RecordNotFoundError
from ..models import ArchiveRecord

if TYPE_CHECKING:
    from .audit import AuditLog

CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a ``.part`` file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(part, path)
    _fsync_dir(path.parent)


def atomic_copy(src: Path, dst: Path) -> str:
    """Copy ``src`` to ``dst`` via a ``.part`` file; returns the SHA-256 of what was written."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    part = dst.with_name(dst.name + ".part")
    digest = hashlib.sha256()
    with open(src, "rb") as fin, open(part, "wb") as fout:
        while chunk := fin.read(CHUNK):
            digest.update(chunk)
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    os.replace(part, dst)
    _fsync_dir(dst.parent)
    return digest.hexdigest()


def manifest_bytes(record: ArchiveRecord) -> bytes:
    """The exact bytes of a record's manifest (their SHA-256 is what the audit chain seals)."""
    return json.dumps(record.to_json(), ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


@dataclass
class VerifyReport:
    """What ``verify`` found; ``ok`` when nothing is missing, altered or orphaned."""

    records: int = 0
    objects_checked: int = 0
    missing: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)
    broken_manifests: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not (self.missing or self.altered or self.orphaned or self.broken_manifests)


class ArchiveStore:
    """Originals, archival copies, manifests and quarantine under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- paths -------------------------------------------------------------------------
    def _original_rel(self, sha: str) -> str:
        return f"objects/{sha[:2]}/{sha}"

    def _archival_rel(self, sha: str) -> str:
        return f"archival/{sha[:2]}/{sha}.pdf"

    def _manifest(self, record_id: str) -> Path:
        return self.root / "records" / record_id[:2] / f"{record_id}.json"

    def manifest_path(self, record_id: str) -> Path:
        """Where a record's manifest lives."""
        return self._manifest(record_id)

    @cached_property
    def audit(self) -> AuditLog:
        """The archive's audit log (opened on first use)."""
        from .audit import AuditLog

        return AuditLog(self.root)

    def path(self, rel: str) -> Path:
        """Absolute path of a stored object given its relative path."""
        return self.root / rel

    # -- writing -----------------------------------------------------------------------
    def put_original(self, src: Path, sha: str) -> str:
        """Store the original bytes under their hash; refuse if they changed while copying."""
        rel = self._original_rel(sha)
        dst = self.root / rel
        if dst.exists() and sha256_file(dst) == sha:
            return rel
        written = atomic_copy(src, dst)
        if written != sha:
            dst.unlink(missing_ok=True)
            raise QuarantineReason(str(src), "file changed while it was being archived (still being written?)")
        return rel

    def put_archival(self, pdf: Path) -> tuple[str, str]:
        """Store an archival PDF under its own hash; returns (relative path, sha256)."""
        sha = sha256_file(pdf)
        rel = self._archival_rel(sha)
        if not (self.root / rel).exists():
            atomic_copy(pdf, self.root / rel)
        return rel, sha

    def write_record(self, record: ArchiveRecord, event: str | None = None, details: dict | None = None) -> None:
        """Write (or replace) a record's manifest, sealed in the audit chain (``seal.commit_record_change``).

        There is no unsealed way to write a manifest: ``akte verify`` would report it as altered.
        ``event`` defaults to what the record's newest audit note says happened ("imported",
        "qa-approve", …), else "updated".
        """
        from .seal import commit_record_change

        if event is None:
            last = record.audit[-1] if record.audit else {}
            event = str(last.get("event") or last.get("action") or "updated")
        commit_record_change(self, record, event, details)

    def quarantine(self, src: Path, sha: str | None, reason: str, detail: dict | None = None) -> str:
        """Keep a copy of an input we could not process, with the reason beside it."""
        key = sha or hashlib.sha256(str(src).encode()).hexdigest()
        folder = self.root / "quarantine" / key
        copied = False
        try:
            if src.is_file() and not (folder / src.name).exists():
                atomic_copy(src, folder / src.name)
            copied = (folder / src.name).exists()
        except OSError:
            copied = False  # unreadable: the reason file still records what happened
        info = {"source": str(src), "sha256": sha, "reason": reason, "copy_kept": copied}
        info.update(detail or {})
        atomic_write_bytes(folder / "reason.json", json.dumps(info, ensure_ascii=False, indent=1).encode())
        return f"quarantine/{key}"

    # -- reading -----------------------------------------------------------------------
    def has_record(self, record_id: str) -> bool:
        """True when a manifest for this id exists."""
        return self._manifest(record_id).is_file()

    def read_record(self, record_id: str) -> ArchiveRecord:
        """Load one record by full id."""
        path = self._manifest(record_id)
        try:
            return ArchiveRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise RecordNotFoundError(f"no record {record_id}") from None

    def resolve(self, prefix: str) -> str:
        """Full record id for an id or a unique prefix of at least 6 characters."""
        prefix = prefix.strip().lower()
        if len(prefix) == 64 and self.has_record(prefix):
            return prefix
        if len(prefix) < 6 or any(c not in "0123456789abcdef" for c in prefix):
            raise RecordNotFoundError(f"no record {prefix!r} (give at least 6 hex characters)")
        folder = self.root / "records" / prefix[:2]
        matches = sorted(p.stem for p in folder.glob(f"{prefix}*.json")) if folder.is_dir() else []
        if not matches:
            raise RecordNotFoundError(f"no record {prefix!r}")
        if len(matches) > 1:
            raise RecordNotFoundError(f"id prefix {prefix!r} is ambiguous ({len(matches)} records)")
        return matches[0]

    def record_ids(self) -> Iterator[str]:
        """Every record id, in a stable order."""
        records = self.root / "records"
        if not records.is_dir():
            return
        for sub in sorted(records.iterdir()):
            if len(sub.name) != 2 or not sub.is_dir():
                continue  # not part of the layout: ``verify`` reports it as stray
            for manifest in sorted(sub.glob(f"{sub.name}*.json")):
                if len(manifest.stem) == 64:
                    yield manifest.stem

    def iter_records(self) -> Iterator[ArchiveRecord]:
        """Every record (loaded one at a time)."""
        for record_id in self.record_ids():
            yield self.read_record(record_id)

    def clean_partials(self) -> int:
        """Remove ``.part`` leftovers of an interrupted run; returns how many."""
        removed = 0
        for top in ("objects", "archival", "records"):
            for part in (self.root / top).glob("*/*.part"):
                part.unlink(missing_ok=True)
                removed += 1
        return removed

    # -- integrity ---------------------------------------------------------------------
    def verify(self, progress=None) -> VerifyReport:
        """Recompute every stored hash; report missing, altered and orphaned objects."""
        report = VerifyReport()
        referenced: set[str] = set()
        for record_id in self.record_ids():
            try:
                record = self.read_record(record_id)
            except (ValueError, KeyError, TypeError) as exc:
                report.broken_manifests.append(f"records/{record_id[:2]}/{record_id}.json: {exc}")
                continue
            report.records += 1
            checks = [(record.original_object, record.sha256)]
            if record.archival_object:
                checks.append((record.archival_object, record.archival_sha256))
            if record.id != record.sha256:
                report.altered.append(f"records/{record_id[:2]}/{record_id}.json: id/hash mismatch")
            for rel, expected in checks:
                referenced.add(rel)
                target = self.root / rel
                if not target.is_file():
                    report.missing.append(f"{rel} (record {record.id[:12]})")
                    continue
                report.objects_checked += 1
                if sha256_file(target) != expected:
                    report.altered.append(f"{rel} (record {record.id[:12]})")
            if progress:
                progress()
        for top in ("objects", "archival"):
            for path in sorted((self.root / top).glob("*/*")):
                rel = path.relative_to(self.root).as_posix()
                if rel not in referenced:
                    report.orphaned.append(rel)
        return report

    def copy_out(self, rel: str, dest: Path) -> None:
        """Hand a stored object to the user (via a temporary name)."""
        atomic_copy(self.root / rel, dest)
