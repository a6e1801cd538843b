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
import os
import re
import stat
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from ..errors import ArchiveUnavailableError, InputFileError, IntegrityError, QuarantineReason, RecordNotFoundError
from ..fsio import NAME_BYTES, atomic_copy, atomic_open, atomic_write_bytes, copy_hashing, sha256_file
from ..models import ArchiveRecord
from ..textnorm import shown

if TYPE_CHECKING:
    from .audit import AuditLog

RECORD_ID = re.compile(r"[0-9a-f]{64}")  # a record id is the SHA-256 of its original
_ID_PREFIX = re.compile(r"[0-9a-f]{6,64}")
_OBJECT_TOPS = ("objects", "archival")


class BrokenManifestError(IntegrityError, ValueError):
    """A manifest that cannot be read as a record (exit 6).

    Also a ``ValueError``, like the parse errors it stands for, so ``verify`` counts it among
    the broken manifests.
    """


def is_record_id(text: object) -> bool:
    """True for a full record id: 64 lower-case hex characters, nothing else."""
    return isinstance(text, str) and RECORD_ID.fullmatch(text) is not None


def _shown(text: str) -> str:
    # A user's or a file's string in a message: quoted, control characters escaped, bounded.
    return repr(text if len(text) <= 80 else text[:80] + "…")



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
        # Every manifest path is built here, so no string that is not a record id (`../x`,
        # an absolute path) ever becomes a path to read or write.
        if not is_record_id(record_id):
            raise RecordNotFoundError(f"{_shown(str(record_id))} is not a record id (64 hex characters)")
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
    def put_original(self, src: Path, sha: str, planned: Callable[[str], None] | None = None) -> str:
        """Store the original bytes under their hash; refuse if they changed while copying.

        ``planned`` is told the object's relative path before a new object is written (the
        journal keeps it, so a run killed before the manifest is written can remove it).
        The copy is never readable by more people than the source file is.
        """
        rel = self._original_rel(sha)
        dst = self.root / rel
        if dst.exists() and sha256_file(dst) == sha:
            return rel
        if planned:
            planned(rel)
        written = atomic_copy(src, dst, mode=0o666 & os.stat(src).st_mode)
        if written != sha:
            dst.unlink(missing_ok=True)
            raise QuarantineReason(str(src), "file changed while it was being archived (still being written?)")
        return rel

    def put_archival(self, pdf: Path, planned: Callable[[str], None] | None = None) -> tuple[str, str]:
        """Store an archival PDF under its own hash; returns (relative path, sha256)."""
        sha = sha256_file(pdf)
        rel = self._archival_rel(sha)
        if not (self.root / rel).exists():
            if planned:
                planned(rel)
            atomic_copy(pdf, self.root / rel)
        return rel, sha

    def quarantine(
        self, src: Path, sha: str | None, reason: str, detail: dict | None = None, keep_copy: bool = True
    ) -> str:
        """Keep a copy of an input we could not process, with the reason beside it.

        Copy and reason are readable by the owner only (an input may be a private file).
        A name too long to write beside its ``.part`` is kept as ``original<suffix>``;
        ``reason.json`` records the source as given. ``keep_copy=False`` records only the
        reason (for entries that must not be opened: a FIFO, a symlink leaving the folder).
        """
        key = sha or hashlib.sha256(os.fsencode(str(src))).hexdigest()
        folder = self.root / "quarantine" / key
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = src.name if len(os.fsencode(src.name)) <= NAME_BYTES else "original" + _short_suffix(src)
        copied = False
        if keep_copy:
            try:
                if src.is_file() and not (folder / name).exists():  # never open a FIFO or device
                    atomic_copy(src, folder / name, mode=0o600)
                copied = (folder / name).exists()
            except OSError:
                copied = False  # unreadable: the reason file still records what happened
        info = {"source": shown(str(src)), "sha256": sha, "reason": shown(reason), "copy_kept": copied}
        if info["source"] != str(src):  # not UTF-8: the exact bytes of the name, too
            info["source_bytes_hex"] = os.fsencode(str(src)).hex()
        if copied:
            info["copy"] = shown(name)
        info.update(detail or {})
        data = json.dumps(info, ensure_ascii=False, indent=1).encode()
        atomic_write_bytes(folder / "reason.json", data, mode=0o600)
        return f"quarantine/{key}"

    def drop_objects(self, rels: list[str]) -> list[str]:
        """Remove objects a run wrote for a record it never finished; returns those removed.

        Only call this for objects no manifest references (the caller's journal knows).
        """
        removed = []
        for rel in rels:
            target = self.root / rel
            if target.is_file():
                target.unlink()
                removed.append(rel)
        return removed

    # -- reading -----------------------------------------------------------------------
    def has_record(self, record_id: str) -> bool:
        """True when a manifest for this id exists (never for a string that is not an id)."""
        return is_record_id(record_id) and self._manifest(record_id).is_file()

    def read_record(self, record_id: str) -> ArchiveRecord:
        """Load one record by full id.

        Raises:
            RecordNotFoundError: ``record_id`` is not an id, or there is no such record.
            BrokenManifestError: the manifest is not a regular file or not a record.
            ArchiveUnavailableError: the manifest cannot be read (permissions, I/O).
        """
        path = self._manifest(record_id)
        rel = path.relative_to(self.root).as_posix()
        try:
            if not stat.S_ISREG(path.stat().st_mode):  # a FIFO would block the reader
                raise BrokenManifestError(f"record {record_id}: manifest {rel} is not a regular file")
            return ArchiveRecord.from_json(json.loads(path.read_bytes().decode("utf-8")))
        except FileNotFoundError:
            raise RecordNotFoundError(f"no record {record_id}") from None
        except OSError as exc:
            raise ArchiveUnavailableError(f"record {record_id}: cannot read {rel}: {exc.strerror or exc}") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            if isinstance(exc, BrokenManifestError):
                raise
            raise BrokenManifestError(
                f"record {record_id}: manifest {rel} is broken ({type(exc).__name__}: {exc}); run `akte verify`"
            ) from None

    def resolve(self, prefix: str) -> str:
        """Full record id for an id or a unique prefix of 6 to 64 hex characters (any case).

        Raises:
            RecordNotFoundError: not hex / too short or long, no match, or more than one match.
        """
        wanted = prefix.strip().lower()
        if not _ID_PREFIX.fullmatch(wanted):
            raise RecordNotFoundError(
                f"{_shown(prefix)} is not a record id: give 6 to 64 hex characters (0-9, a-f)"
            )
        if len(wanted) == 64:
            if self.has_record(wanted):
                return wanted
            raise RecordNotFoundError(f"no record {wanted}")
        folder = self.root / "records" / wanted[:2]
        matches = sorted(p.stem for p in folder.glob(f"{wanted}*.json") if is_record_id(p.stem))
        if not matches:
            raise RecordNotFoundError(f"no record {wanted!r}")
        if len(matches) > 1:
            raise RecordNotFoundError(f"id prefix {wanted!r} is ambiguous ({len(matches)} records)")
        return matches[0]

    def record_ids(self) -> Iterator[str]:
        """Every record id, in a stable order."""
        for record_id, _ in self._manifests():
            yield record_id

    def manifest_stats(self) -> Iterator[tuple[str, os.stat_result]]:
        """Every record id with its manifest's ``stat``, from one scan of each folder: for a
        caller that looks for changed manifests among 100 000."""
        for record_id, entry in self._manifests():
            try:
                found = entry.stat()
            except FileNotFoundError:  # gone since the scan, or a dangling link
                continue
            yield record_id, found

    def _manifests(self) -> Iterator[tuple[str, os.DirEntry]]:
        # records/<2 hex>/<the same 2 + 62 more>.json; anything else is stray (``verify`` says so).
        records = self.root / "records"
        if not records.is_dir():
            return
        try:
            for shard in sorted((e for e in os.scandir(records) if len(e.name) == 2 and e.is_dir()),
                                key=lambda e: e.name):
                for entry in sorted(os.scandir(shard.path), key=lambda e: e.name):
                    if entry.name[:2] == shard.name and entry.name[64:] == ".json" and is_record_id(entry.name[:64]):
                        yield entry.name[:64], entry
        except OSError as exc:  # an unreadable folder must not hide its records
            raise ArchiveUnavailableError(f"cannot list the records in {records}: {exc.strerror or exc}") from None

    def iter_records(self) -> Iterator[ArchiveRecord]:
        """Every record (loaded one at a time)."""
        for record_id in self.record_ids():
            yield self.read_record(record_id)

    def clean_partials(self) -> int:
        """Remove ``.part`` leftovers of an interrupted run; returns how many."""
        removed = 0
        for top in ("objects", "archival", "records", "quarantine"):
            for part in (self.root / top).glob("*/*.part"):
                part.unlink(missing_ok=True)
                removed += 1
        return removed

    # -- integrity ---------------------------------------------------------------------
    def verify(self, progress=None) -> VerifyReport:
        """Recompute every stored hash; report missing, altered and orphaned objects.

        An ingest may be running meanwhile: ``.part`` files and objects written after this
        check started (their manifest may follow any moment) are not orphans.
        """
        started = time.time()
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
            if record.id != record.expected_id:
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
                if rel in referenced or path.name.endswith(".part") or _written_since(path, started):
                    continue
                report.orphaned.append(rel)
        return report

    def stored_object(self, rel: str, record_id: str) -> Path:
        """The regular file a manifest's object path names, confined to the object folders.

        Raises:
            IntegrityError: the path leaves ``objects/``/``archival/``, or the file is missing
                or not a regular file.
        """
        parts = Path(rel).parts if isinstance(rel, str) else ()
        path = self.root / rel if parts else self.root
        inside = (
            len(parts) == 3 and parts[0] in _OBJECT_TOPS and ".." not in parts
            and path.resolve().is_relative_to((self.root / parts[0]).resolve())
        )
        if not inside:
            raise IntegrityError(f"record {record_id}: object path {_shown(str(rel))} leaves the object store")
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise IntegrityError(f"record {record_id}: {rel} is missing from the store; run `akte verify`") from None
        if not stat.S_ISREG(mode):
            raise IntegrityError(f"record {record_id}: {rel} is not a regular file; run `akte verify`")
        return path

    def copy_out(self, rel: str, sha256: str, dest: Path, *, record_id: str, overwrite: bool = False) -> None:
        """Hand a stored object to the user, checking its hash while copying.

        The bytes go to a hidden temporary file beside ``dest``, which becomes ``dest`` only when
        its SHA-256 matches the manifest; on any failure (altered object, full disk, Ctrl-C) it
        is removed, so nothing partial or altered is ever left behind.

        Raises:
            IntegrityError: the object is missing, outside the store, or altered (exit 6).
            InputFileError: ``dest`` exists (and not ``overwrite``), is a folder, lies inside the
                archive, or cannot be written.
        """
        src = self.stored_object(rel, record_id)
        dest = Path(dest)
        if dest.is_dir():
            raise InputFileError(str(dest), "is a folder; give a file name")
        if os.path.lexists(dest) and not overwrite:
            raise InputFileError(str(dest), "exists already; add --force to replace it")
        if not dest.parent.is_dir():
            raise InputFileError(str(dest), f"folder {dest.parent} does not exist")
        if dest.parent.resolve().is_relative_to(self.root.resolve()):
            raise InputFileError(str(dest), "is inside the archive; write copies elsewhere")
        try:
            fin = open(src, "rb")
        except OSError as exc:
            raise ArchiveUnavailableError(f"record {record_id}: cannot read {rel}: {exc.strerror or exc}") from None
        try:
            with fin, atomic_open(dest, hidden=True) as fout:
                digest = copy_hashing(fin, fout)
                if digest != sha256:  # raised inside: the temporary file goes, dest stays as it was
                    raise IntegrityError(
                        f"record {record_id}: {rel} is altered (SHA-256 {digest[:12]}…, manifest says "
                        f"{str(sha256)[:12]}…); nothing written; run `akte verify`"
                    )
        except OSError as exc:
            raise InputFileError(str(dest), f"cannot write: {exc.strerror or exc}") from None


def _short_suffix(path: Path) -> str:
    suffix = shown(path.suffix)
    return suffix if len(suffix) <= 10 else ""


def _written_since(path: Path, started: float) -> bool:
    try:
        return path.stat().st_mtime >= started
    except FileNotFoundError:  # removed meanwhile (e.g. a rerun cleaning up): not an orphan
        return True
