"""One ingest run's state and bookkeeping: the lock, the report, how each input ended, the index.

``open_run`` locks the archive, clears what a killed run left and yields the :class:`Run` that
``pipeline.py`` works with. Every input is settled here (archived, duplicate, or quarantined
with its reason), and records are indexed in batches; what the index did not take stays
pending in the journal.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Protocol

from .archive.base import SearchBackend
from .archive.registry import open_backend
from .archive.seal import SealGroup, finish_pending
from .archive.store import ArchiveStore
from .config import Settings
from .errors import ArchiveUnavailableError, ExitCode, StorageFullError
from .ingest.journal import Journal
from .logs import log_path
from .models import ArchiveRecord, SourceFile
from .states import JournalState, OutcomeStatus
from .textnorm import shown

INDEX_BATCH = 200  # records per index call during a run: one bulk request / one transaction
# Group commit of the audit entries of new records (archive/seal.py): one fsync per group of at
# most AUDIT_GROUP records or AUDIT_GROUP_SECONDS of work, so the chain's fsync costs at most
# its own time per AUDIT_GROUP_SECONDS of ingest (about 1.5 % at 7 ms), however fast records come.
AUDIT_GROUP = 32
AUDIT_GROUP_SECONDS = 0.5

log = logging.getLogger(__name__)
MAX_INDEX_ATTEMPTS = 3  # then a run stops retrying a record the index refuses; reindex still does


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one input ended."""

    path: str
    status: OutcomeStatus
    record_id: str | None = None
    reason: str | None = None
    pages: int = 0
    origin: str | None = None


@dataclass
class BatchReport:
    """The result of one run.

    Outcomes are kept in ``outcomes``, or, when ``sink`` is set (long migrations), handed
    to it one by one and only counted here, so memory does not grow with the job.
    """

    outcomes: list[Outcome] = field(default_factory=list)
    index_pending: int = 0
    pending_indexed: int = 0  # records of earlier runs indexed when this one opened
    index_errors: dict[str, str] = field(default_factory=dict)  # record id → why the index refused it
    index_given_up: int = 0  # pending records not retried: they failed MAX_INDEX_ATTEMPTS times
    index_message: str | None = None
    seconds: float = 0.0
    sink: Callable[[Outcome], None] | None = None
    counts: Counter = field(default_factory=Counter)
    pages: int = 0  # pages of the inputs archived in this run

    def add(self, outcome: Outcome) -> None:
        """Record how one input ended."""
        self.counts[outcome.status] += 1
        if outcome.status == OutcomeStatus.ARCHIVED:
            self.pages += outcome.pages
        if self.sink is not None:
            self.sink(outcome)
        else:
            self.outcomes.append(outcome)

    def count(self, status: OutcomeStatus) -> int:
        """How many inputs ended with ``status``."""
        return self.counts[status]

    @property
    def exit_code(self) -> ExitCode:
        """PARTIAL when anything was quarantined, else OK."""
        return ExitCode.PARTIAL if self.count(OutcomeStatus.QUARANTINED) else ExitCode.OK


class ProgressSink(Protocol):
    """Where the pipeline reports progress (the CLI draws bars from it).

    ``phase`` starts a new bar of ``total`` units; ``advance`` moves the current one.
    ``ingest`` counts files while checking, then pages while recognising; migrations
    count items throughout.
    """

    def phase(self, label: str, total: int, unit: str) -> None: ...

    def advance(self, amount: int, name: str) -> None: ...


class _NoProgress:
    def phase(self, label: str, total: int, unit: str) -> None:
        pass

    def advance(self, amount: int, name: str) -> None:
        pass


@dataclass(slots=True)
class FirstCopy:
    """The first input of a run with given bytes; later copies share its fate."""

    path: str
    outcome: Outcome | None = None  # set once it is settled
    waiting: list[tuple[str, str | None]] = field(default_factory=list)  # copies seen before that


@dataclass
class Run:
    """What one run works with; only the main process touches it."""

    settings: Settings
    store: ArchiveStore
    journal: Journal
    backend: SearchBackend | None
    report: BatchReport
    progress: ProgressSink
    per_item: bool = False  # progress counts items (migrations) instead of pages
    dry_run: bool = False  # check and report only: nothing is written
    batch: str | None = None  # the scan batch the records of this run belong to
    seen: dict[str, FirstCopy] = field(default_factory=dict)  # sha256 → first input with those bytes
    unindexed: list[tuple[str, str, ArchiveRecord]] = field(default_factory=list)  # (sha, path, record)
    seals: SealGroup | None = None  # new manifests waiting for their audit entries' shared fsync

    def advance(self, source: SourceFile | None, path: Path | str) -> None:
        """Report one input as finished."""
        amount = 1 if self.per_item else (source.page_count if source else 0)
        self.progress.advance(amount, Path(path).name)


@contextmanager
def archive_lock(root: Path) -> Iterator[None]:
    """Hold the archive's write lock; another writer gets a clear error, not a race."""
    root.mkdir(parents=True, exist_ok=True)
    # Close-on-exec: no OCR worker or tool may inherit the lock (and outlive us holding it).
    fd = os.open(root / ".lock", os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ArchiveUnavailableError(f"{root}: another akte process is writing to this archive") from None
        yield
    finally:
        os.close(fd)


class _DryJournal:
    """The journal of a dry run: nothing was ever recorded, and nothing may be."""

    def get(self, sha256: str) -> None:
        return None

    def pending(self, max_attempts: int | None = None) -> list:
        return []


@contextmanager
def open_run(settings: Settings, progress: ProgressSink | None = None, dry_run: bool = False, *,
             retry_index_failures: bool = False) -> Iterator[Run]:
    """Lock the archive, open journal and index, index what is pending; yields the run.

    A dry run opens nothing that would write: no lock file, journal or index is created,
    not even the archive folder. Pending records the index refused ``MAX_INDEX_ATTEMPTS``
    times are only retried with ``retry_index_failures`` (``akte reindex``); otherwise they
    are counted as given up.
    """
    root = settings.archive_dir
    store = ArchiveStore(root)
    report = BatchReport()
    started = time.monotonic()
    if dry_run:
        yield Run(settings, store, _DryJournal(), None, report, progress or _NoProgress(), dry_run=True)
        report.seconds = time.monotonic() - started
        return
    with archive_lock(root):
        store.clean_partials()
        finish_pending(store)
        # Work folders of a run that was killed: we hold the lock, so nobody uses them.
        shutil.rmtree(root / "work", ignore_errors=True)
        journal = Journal(root / "journal.sqlite")
        remove_leftovers(journal, store)
        run = Run(settings, store, journal, _open_index(settings, report), report, progress or _NoProgress(),
                  seals=SealGroup(store, AUDIT_GROUP, AUDIT_GROUP_SECONDS))
        try:
            if run.backend is not None:
                run.backend = index_pending(journal, store, run.backend, report,
                                            retry_all=retry_index_failures)
            yield run
            run.seals.flush()
            _flush_index(run)
        finally:
            report.index_pending = len(journal.pending())
            journal.close()
            if run.backend is not None:
                run.backend.close()
    report.seconds = time.monotonic() - started
    log.info("run done in %.1f s: %s; %d record(s) wait to be indexed", report.seconds,
             ", ".join(f"{status} {n}" for status, n in sorted(report.counts.items())) or "no inputs",
             report.index_pending)

def _open_index(settings: Settings, report: BatchReport) -> SearchBackend | None:
    try:
        return open_backend(settings)
    except ArchiveUnavailableError as exc:
        report.index_message = f"search index unavailable ({exc.message}); records are stored and will be indexed later"
        return None


def remove_leftovers(journal: Journal, store: ArchiveStore) -> None:
    """Remove objects a killed run wrote for an input whose manifest it never wrote.

    Such objects are referenced by nothing (``verify`` would call them orphans for ever);
    where the manifest was written after all, they are kept and the record is finished. A
    batch file split into documents names no record by its hash: each document's archival
    PDF is planned under the document's id, and the manifests the documents were to get are
    planned under the file's hash beside its original, which one existing manifest keeps
    (e.g. completed by ``finish_pending`` after a kill before the group's fsync).
    """
    for sha, rels in journal.unfinished_objects().items():
        manifests = [rel for rel in rels if rel.startswith("records/")]
        if not (store.has_record(sha) or any((store.root / rel).is_file() for rel in manifests)):
            store.drop_objects([rel for rel in rels if rel not in manifests])
        journal.forget_objects(sha)


def index_pending(journal: Journal, store: ArchiveStore, backend: SearchBackend, report: BatchReport | None = None,
                  retry_all: bool = False):
    """Index records that were stored but not indexed (after a crash or a backend outage).

    Returns the backend, or None when it became unavailable (the records stay pending).
    """
    report = report if report is not None else BatchReport()
    pending = journal.pending(None if retry_all else MAX_INDEX_ATTEMPTS)
    report.index_given_up = 0 if retry_all else len(journal.pending()) - len(pending)
    for start in range(0, len(pending), INDEX_BATCH):
        batch = pending[start:start + INDEX_BATCH]
        try:
            result = backend.index([store.read_record(entry.record_id) for entry in batch])
        except ArchiveUnavailableError as exc:
            report.index_message = f"search index unavailable ({exc.message}); records stay pending"
            return None
        for entry in batch:
            if entry.record_id in result.errors:
                _index_refused(journal, report, entry.sha256, result.errors[entry.record_id])
            else:
                journal.mark(entry.sha256, entry.path, JournalState.ARCHIVED, entry.record_id)
                report.pending_indexed += 1
    return backend


def _index_refused(journal: Journal, report: BatchReport, sha: str, reason: str) -> None:
    """Keep the reason the index gave for refusing a record, in the journal and the report."""
    log.warning("search index refused record %s: %s", sha, reason, extra={"shown": True})
    journal.index_failed(sha, reason)
    report.index_errors[sha] = reason


class WorkerTraceback(Exception):
    """The text of a traceback from a worker process (tracebacks themselves do not pickle)."""

    def __str__(self) -> str:
        return f"\n{self.args[0]}"


def internal_error(run: Run, step: str, path: Path | str, exc: Exception) -> str:
    """Log an unexpected exception with its traceback; the quarantine reason that points to it."""
    where = log_path(run.settings.archive_dir)
    remote = getattr(exc, "worker_traceback", None)  # set by workers.py for an error in a worker
    if remote and exc.__cause__ is None:
        # Logged as the cause, the worker's traceback shows where the bug struck (as
        # concurrent.futures does with its _RemoteTraceback).
        exc.__cause__ = WorkerTraceback(remote.rstrip())
    log.error("internal error during %s of %s", step, shown(str(path)), exc_info=exc)
    return f"internal error during {step} ({type(exc).__name__}: {exc})"[:300] + f", see log {where}"


def quarantine(
    run: Run, path: Path, sha: str | None, reason: str, origin: str | None = None, keep_copy: bool = True
) -> None:
    """Keep an input in quarantine with its reason, in the audit log and the journal, and settle it.

    A dry run writes nothing and only reports it. ``keep_copy=False`` keeps the reason only
    (for entries that must not be read, such as a FIFO).
    """
    if not run.dry_run:
        log.info("quarantined %s: %s", shown(str(path)), reason)
        detail = {k: v for k, v in (("origin", origin), ("batch", run.batch)) if v}  # release looks for its batch's
        kept = run.store.quarantine(path, sha, reason, detail, keep_copy=keep_copy)
        run.store.audit.append("quarantined", (sha,) if sha else (), {"source_path": shown(str(path)), "reason": reason,
                                                                       "kept": kept, "origin": origin})
        if sha:
            run.journal.mark(sha, str(path), JournalState.QUARANTINED, reason=reason)
    settle(run, sha, Outcome(str(path), OutcomeStatus.QUARANTINED, reason=reason, origin=origin))


def settle(run: Run, sha: str | None, outcome: Outcome) -> None:
    """Report how an input ended, and with it every copy of its bytes that waited."""
    run.report.add(outcome)
    first = run.seen.get(sha) if sha else None
    if first is None or first.path != outcome.path:
        return
    first.outcome = outcome
    for path, origin in first.waiting:
        run.report.add(copy_outcome(outcome, path, origin))
    first.waiting.clear()


def copy_outcome(first: Outcome, path: str, origin: str | None) -> Outcome:
    """The outcome of a second copy of the same bytes within one run."""
    if first.status == OutcomeStatus.QUARANTINED:
        # Its bytes are already kept in quarantine, under the same hash.
        return Outcome(path, OutcomeStatus.QUARANTINED, reason=f"same bytes as {first.path}: {first.reason}",
                       origin=origin)
    return Outcome(path, OutcomeStatus.DUPLICATE, first.record_id, f"same bytes as {first.path}", origin=origin)


def queue_index(run: Run, sha: str, path: str, record: ArchiveRecord) -> None:
    """Index a stored record with the run's next batch (sent once INDEX_BATCH are waiting)."""
    # Records are indexed in batches (one bulk request, one transaction); until then the
    # journal holds them as "stored", so a crash leaves them pending, never lost.
    if run.backend is None:
        return
    run.unindexed.append((sha, path, record))
    if len(run.unindexed) >= INDEX_BATCH:
        _flush_index(run)


def _flush_index(run: Run) -> None:
    batch, run.unindexed = run.unindexed, []
    if run.backend is None or not batch:
        return
    try:
        result = run.backend.index([record for _, _, record in batch])
    except StorageFullError:
        raise
    except ArchiveUnavailableError as exc:
        run.report.index_message = f"search index unavailable ({exc.message}); records are stored and will be indexed later"
        run.backend = None
        return
    for sha, path, record in batch:
        if record.id in result.errors:
            _index_refused(run.journal, run.report, sha, result.errors[record.id])
        else:
            run.journal.mark(sha, path, JournalState.ARCHIVED, record.id)
