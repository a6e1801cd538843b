"""The archive store on disk: the source of truth every index is rebuilt from.

Layout under the archive directory::

    objects/ab/<sha256>            originals, byte-exact, content-addressed
    archival/ab/<sha256>.pdf       archival PDF/A copies (named by their own hash)
    records/ab/<id>.json           one manifest per record (id = sha256 of the original)
    quarantine/<sha256>/           inputs we could not process: a copy + reason.json

Every write goes through :mod:`aktenarchiv.fsio` (``<name>.part``, fsync, rename, directory
fsync), so a crash never leaves a half-written file under a final name. A manifest is
written last: a record exists once its manifest does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..errors import QuarantineReason, RecordNotFoundError
from ..fsio import atomic_copy, atomic_write_bytes, sha256_file
from ..models import ArchiveRecord


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

    def write_record(self, record: ArchiveRecord) -> None:
        """Write (or replace) a record's manifest."""
        data = json.dumps(record.to_json(), ensure_ascii=False, indent=1, sort_keys=True)
        atomic_write_bytes(self._manifest(record.id), data.encode("utf-8"))

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
            for manifest in sorted(sub.glob("*.json")):
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
