"""The ingest pipeline, visibly in order: discover → check → ocr → classify → store → index.

Every input ends in exactly one of: archived, duplicate of an existing record, or
quarantined with its reason. The journal records each step, so a crash or ``kill -9``
resumes on the next run with nothing lost and nothing archived twice. Migrations feed the
same pipeline with items that carry metadata (:class:`ImportMeta`).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from .archive.base import SearchBackend
from .archive.certificate import certificate_paths
from .archive.registry import open_backend
from .archive.seal import SealGroup, finish_pending
from .archive.store import ArchiveStore
from .batches import check_name, open_batch
from .classify.stage import classify_document, load_stage_model
from .config import Settings
from .errors import (
    ArchiveUnavailableError,
    ConfigError,
    ExitCode,
    MissingToolError,
    QuarantineReason,
    StorageFullError,
    ToolFailedError,
    storage_error,
)
from .ingest.checksums import verify_checksums
from .ingest.discover import open_regular, scan
from .ingest.journal import Journal, now_iso
from .ingest.sniff import sniff
from .logs import log_path
from .models import ArchiveRecord, ImportMeta, OcrResult, SourceFile, document_id
from .ocr.recognize import check_ocr, recognize_item
from .ocr.split import SplitDocument, split_documents
from .ocr.transfer import make_title, stamp_archival, transfer_note
from .states import JournalState, OutcomeStatus
from .textnorm import shown
from .workers import Done, InlinePool, WorkerPool

INDEX_BATCH = 200  # records per index call during a run: one bulk request / one transaction
# Group commit of the audit entries of new records (archive/seal.py): one fsync per group of at
# most AUDIT_GROUP records or AUDIT_GROUP_SECONDS of work, so the chain's fsync costs at most
# its own time per AUDIT_GROUP_SECONDS of ingest (about 1.5 % at 7 ms), however fast records come.
AUDIT_GROUP = 32
AUDIT_GROUP_SECONDS = 0.5

Item = tuple[Path, ImportMeta | None]
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
class _FirstCopy:
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
    seen: dict[str, _FirstCopy] = field(default_factory=dict)  # sha256 → first input with those bytes
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


def ingest(
    paths: Iterable[str | Path], settings: Settings, progress: ProgressSink | None = None,
    batch: str | None = None, expected_pages: int | None = None,
) -> BatchReport:
    """Archive every file under ``paths``; returns what happened to each.

    All inputs are checked first, so the progress bar knows the number of pages. Entries
    that must not be read (a FIFO, a symlink leaving its folder) are quarantined by reason
    only. Raises InputFileError for a path that does not exist or lies inside the archive.
    With ``batch``, the records belong to that scan batch (created, or reopened on a rerun)
    and ``expected_pages`` is the operator's page count for its completeness check.
    """
    files = list(scan(list(paths), archive=settings.archive_dir))
    check_ocr(settings.ocr)
    load_stage_model(settings.classify, settings.archive_dir)  # a broken model fails here, not mid-batch
    if batch is not None:
        check_name(batch)
        if certificate_paths(settings.archive_dir, batch)[0].is_file():
            raise ConfigError(f"batch {batch} is released (its paper may be destroyed) and takes no more documents: "
                              "scan into a new batch")
    with open_run(settings, progress) as run:
        if batch is not None:
            run.batch = open_batch(settings.archive_dir, batch, expected_pages).name
        run.progress.phase("checking", len(files), "files")
        todo = []
        for found in files:
            if found.problem:
                _quarantine(run, found.path, None, found.problem, keep_copy=False)
            elif checked := _check(run, found.path, None):
                todo.append(checked)
            run.progress.advance(1, found.path.name)
        run.progress.phase(f"OCR {len(todo)} file(s)", sum(s.page_count for s, _ in todo), "pages")
        _process(run, iter(todo), len(todo))
    return run.report


def ingest_items(
    items: Iterable[Item], settings: Settings, progress: ProgressSink | None = None, dry_run: bool = False,
    sink: Callable[[Outcome], None] | None = None,
) -> BatchReport:
    """Archive a stream of (file, metadata) items, as migrations produce them.

    Items are checked and processed as they come, with a bounded number in flight, so a
    job of 100 000 items needs no more memory than one of ten.
    """
    check_ocr(settings.ocr)
    load_stage_model(settings.classify, settings.archive_dir)
    with open_run(settings, progress, dry_run) as run:
        run.per_item = True
        run.report.sink = sink
        checked = (c for c in (_check(run, path, meta) for path, meta in items) if c)
        if dry_run:
            for source, meta in checked:
                _settle(run, source.sha256, Outcome(source.path, OutcomeStatus.WOULD_ARCHIVE, source.sha256,
                                                    pages=source.page_count, origin=meta and meta.origin))
                run.advance(source, source.path)
        else:
            _process(run, checked)
    return run.report


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


def _check(run: Run, path: Path, meta: ImportMeta | None) -> tuple[SourceFile, ImportMeta | None] | None:
    """Hash and check one input; settle duplicates and bad files right away (then None)."""
    checked = _check_one(run, path, meta)
    if checked is None and run.per_item:
        run.advance(None, path)
    return checked


def _check_one(run: Run, path: Path, meta: ImportMeta | None) -> tuple[SourceFile, ImportMeta | None] | None:
    origin = meta.origin if meta else None
    try:
        with open_regular(path) as fh:  # a FIFO swapped in since discovery must not block us
            size = os.fstat(fh.fileno()).st_size
            sha = hashlib.file_digest(fh, "sha256").hexdigest()
    except QuarantineReason as exc:
        _quarantine(run, path, None, exc.reason, origin, keep_copy=False)
        return None
    except OSError as exc:
        _quarantine(run, path, None, f"cannot read file: {exc.strerror or exc}", origin)
        return None
    first = run.seen.get(sha)
    if first is not None:
        # A copy within this run ends as its first copy does: a duplicate of the record it
        # became, or quarantined with it. Until that is known, it waits.
        if first.outcome is None:
            first.waiting.append((str(path), origin))
        else:
            run.report.add(_copy_outcome(first.outcome, str(path), origin))
        return None
    run.seen[sha] = _FirstCopy(str(path))
    entry = run.journal.get(sha)
    split_into = entry.record_id if entry is not None and entry.state == JournalState.ARCHIVED else None
    if split_into and split_into != sha and run.store.has_record(split_into):
        # A batch file split into documents: its first document's record stands for it.
        _settle(run, sha, Outcome(str(path), OutcomeStatus.DUPLICATE, split_into,
                                  "already archived (split into documents)", origin=origin))
        return None
    if run.store.has_record(sha):
        if entry is not None and entry.state in (JournalState.STARTED, JournalState.STORED) and not run.dry_run:
            # A crash hit between writing the manifest and finishing: finish now.
            _index(run, sha, str(path), run.store.read_record(sha))
            _settle(run, sha, Outcome(str(path), OutcomeStatus.ARCHIVED, sha, origin=origin))
        else:
            _settle(run, sha, Outcome(str(path), OutcomeStatus.DUPLICATE, sha, "already archived", origin=origin))
        return None
    try:
        if meta is not None:
            verify_checksums(path, sha, meta)
        return sniff(path, sha, size, run.settings.ocr), meta
    except QuarantineReason as exc:
        _quarantine(run, path, sha, exc.reason, origin)
        return None
    except Exception as exc:  # a decoder tripping over a malformed file must not end the batch
        _quarantine(run, path, sha, _internal_error(run, "checking", path, exc), origin)
        return None


class WorkerTraceback(Exception):
    """The text of a traceback from a worker process (tracebacks themselves do not pickle)."""

    def __str__(self) -> str:
        return f"\n{self.args[0]}"


def _internal_error(run: Run, step: str, path: Path | str, exc: Exception) -> str:
    """Log an unexpected exception with its traceback; the quarantine reason that points to it."""
    where = log_path(run.settings.archive_dir)
    remote = getattr(exc, "worker_traceback", None)  # set by workers.py for an error in a worker
    if remote and exc.__cause__ is None:
        # Logged as the cause, the worker's traceback shows where the bug struck (as
        # concurrent.futures does with its _RemoteTraceback).
        exc.__cause__ = WorkerTraceback(remote.rstrip())
    log.error("internal error during %s of %s", step, shown(str(path)), exc_info=exc)
    return f"internal error during {step} ({type(exc).__name__}: {exc})"[:300] + f", see log {where}"


def _quarantine(
    run: Run, path: Path, sha: str | None, reason: str, origin: str | None = None, keep_copy: bool = True
) -> None:
    if not run.dry_run:
        log.info("quarantined %s: %s", shown(str(path)), reason)
        detail = {k: v for k, v in (("origin", origin), ("batch", run.batch)) if v}  # release looks for its batch's
        kept = run.store.quarantine(path, sha, reason, detail, keep_copy=keep_copy)
        run.store.audit.append("quarantined", (sha,) if sha else (), {"source_path": shown(str(path)), "reason": reason,
                                                                       "kept": kept, "origin": origin})
        if sha:
            run.journal.mark(sha, str(path), JournalState.QUARANTINED, reason=reason)
    _settle(run, sha, Outcome(str(path), OutcomeStatus.QUARANTINED, reason=reason, origin=origin))


def _settle(run: Run, sha: str | None, outcome: Outcome) -> None:
    """Report how an input ended, and with it every copy of its bytes that waited."""
    run.report.add(outcome)
    first = run.seen.get(sha) if sha else None
    if first is None or first.path != outcome.path:
        return
    first.outcome = outcome
    for path, origin in first.waiting:
        run.report.add(_copy_outcome(outcome, path, origin))
    first.waiting.clear()


def _copy_outcome(first: Outcome, path: str, origin: str | None) -> Outcome:
    """The outcome of a second copy of the same bytes within one run."""
    if first.status == OutcomeStatus.QUARANTINED:
        # Its bytes are already kept in quarantine, under the same hash.
        return Outcome(path, OutcomeStatus.QUARANTINED, reason=f"same bytes as {first.path}: {first.reason}",
                       origin=origin)
    return Outcome(path, OutcomeStatus.DUPLICATE, first.record_id, f"same bytes as {first.path}", origin=origin)


def _process(run: Run, checked: Iterator[tuple[SourceFile, ImportMeta | None]], count: int | None = None) -> None:
    """Recognise in worker processes; classify, store and index here, in order of completion.

    Workers only read inputs and write into their own work folders; every write to the
    archive and the journal happens in this process, one record at a time. With fewer
    documents than workers, each document's OCR gets the spare cores (ocrmypdf --jobs).
    On Ctrl-C or a fatal error the workers and their OCR runs are stopped at once; what was
    not stored stays "started" in the journal and the next run redoes it. With
    ``ocr.in_process`` the jobs run here instead, one at a time.
    """
    workers = 1 if run.settings.ocr.in_process else max(1, min(run.settings.workers, count or run.settings.workers))
    jobs = max(1, (os.cpu_count() or 1) // workers)
    workroot = Path(tempfile.mkdtemp(prefix="work-", dir=_workdir(run.store.root)))
    try:
        with InlinePool() if run.settings.ocr.in_process else WorkerPool(workers) as pool:
            exhausted = False
            while pool.busy or not exhausted:
                while not exhausted and pool.has_room():
                    nxt = next(checked, None)
                    if nxt is None:
                        exhausted = True
                        break
                    source, meta = nxt
                    run.journal.mark(source.sha256, source.path, JournalState.STARTED)
                    pool.submit(nxt, recognize_item, source, meta, run.settings.ocr, workroot / source.sha256, jobs,
                                run.settings.scan)
                for done in pool.wait():
                    source, meta = done.key
                    _finish(run, done, source, meta)
                    shutil.rmtree(workroot / source.sha256, ignore_errors=True)
                    run.advance(source, source.path)
    finally:
        shutil.rmtree(workroot, ignore_errors=True)


def _finish(run: Run, done: Done, source: SourceFile, meta: ImportMeta | None) -> None:
    origin = meta.origin if meta else None
    try:
        if done.error is not None:
            raise done.error
        ocr = done.result
    except MissingToolError:
        raise
    except ToolFailedError as exc:
        _quarantine(run, Path(source.path), source.sha256, f"OCR failed: {exc.message}", origin)
    except Exception as exc:  # never lose a file to a bug: keep it, say why
        _quarantine(run, Path(source.path), source.sha256, _internal_error(run, "OCR", source.path, exc), origin)
    else:
        try:
            _archive(run, source, meta, ocr)
        except QuarantineReason as exc:  # e.g. the file changed after it was checked
            _quarantine(run, Path(source.path), source.sha256, exc.reason, origin)
        except OSError as exc:  # disk full, archive gone: stop; the journal resumes the batch
            raise storage_error(run.store.root, f"while storing {shown(source.path)}", exc) from None


def _workdir(root: Path) -> Path:
    work = root / "work"
    work.mkdir(parents=True, exist_ok=True)
    return work


def _archive(run: Run, source: SourceFile, meta: ImportMeta | None, ocr: OcrResult) -> None:
    """Classify, store and index one recognised file: one record, or one per document of a
    batch file with separator sheets (``scan.split = "separator"``)."""
    store = run.store
    documents = None
    work = Path(tempfile.mkdtemp(prefix="split-", dir=_workdir(store.root)))
    try:
        if run.settings.scan.split == "separator" and meta is None:
            documents = split_documents(ocr, run.settings.scan, work)
        planned = partial(run.journal.plan_object, source.sha256)
        original = store.put_original(Path(source.path), source.sha256, planned)
        records = []
        for doc in documents or (None,):
            doc_id = document_id(source.sha256, doc.pages) if doc else source.sha256
            if doc is not None and store.has_record(doc_id):
                # Written before a crash: keep it (and its archival PDF) rather than make a second one.
                record = store.read_record(doc_id)
            else:
                record = _record(run, source, meta, doc.ocr if doc else ocr, original, doc, len(documents or ()))
                if doc is not None:  # its objects are planned under the file's hash: see remove_leftovers
                    planned(store.manifest_path(record.id).relative_to(store.root).as_posix())
                run.seals.add(record, "imported" if meta else "ingested",
                              {"source_path": shown(source.path), "pages": record.page_count,
                               "origin": meta and meta.origin})
            run.seals.then(partial(_stored, run, source, record, doc is not None))
            records.append(record)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    run.seals.then(partial(_archived, run, source, meta, records, documents is not None))


def _stored(run: Run, source: SourceFile, record: ArchiveRecord, split: bool) -> None:
    """Journal and index a record whose manifest is live (its audit entry durable)."""
    if split:
        # Its objects are referenced by a sealed record now: a rerun after a crash keeps them.
        run.journal.forget_objects(source.sha256)
    commit(run, source.path, record)


def _archived(run: Run, source: SourceFile, meta: ImportMeta | None, records: list[ArchiveRecord],
              split: bool) -> None:
    """Report an input archived once all its records are."""
    if split:
        # The batch file is done once all its documents are: a rerun finds it by its hash.
        run.journal.mark(source.sha256, source.path, JournalState.ARCHIVED, records[0].id)
    _settle(run, source.sha256, Outcome(source.path, OutcomeStatus.ARCHIVED, records[0].id, pages=source.page_count,
                                        origin=meta.origin if meta else None))


def _record(
    run: Run, source: SourceFile, meta: ImportMeta | None, ocr: OcrResult, original: str,
    document: SplitDocument | None = None, of: int = 1,
) -> ArchiveRecord:
    """The record of ``source`` (or of one ``document`` split from it), its archival PDF stamped and stored."""
    model = load_stage_model(run.settings.classify, run.settings.archive_dir)  # cached per file
    classification = classify_document(ocr, run.settings.classify, model=model)
    if meta is not None:
        known = {k: v for k, v in (("doc_type", meta.doc_type), ("reference", meta.reference),
                                   ("doc_date", meta.doc_date)) if v}
        if meta.doc_type:
            known.update(confidence=1.0, needs_review=False, method="import", suggested_type=None)
        classification = replace(classification, **known)
    if document is not None and document.reference:
        classification = replace(classification, reference=document.reference)
    pages, separators = (document.pages, document.separators) if document is not None else ((), ())
    # Names in the manifest are printable text; a split document's note counts its own pages.
    named = replace(source, path=shown(source.path), page_count=len(pages) or source.page_count)
    title = (meta.title if meta and meta.title else None) or make_title(named, ocr)
    note = transfer_note(named, meta, run.settings, ocr)
    if pages:
        title = f"{title} (S. {pages[0]}–{pages[-1]})"
        note["split"] = f"document of pages {pages[0]}–{pages[-1]} of {named.name}, one of {of}"
    note = stamp_archival(ocr, meta, note)
    archival, archival_sha = (None, None)
    record_id = document_id(source.sha256, pages) if pages else source.sha256
    if ocr.archival_pdf:
        # Planned under the record's own id: a split document's PDF stays only if its manifest does.
        archival, archival_sha = run.store.put_archival(
            Path(ocr.archival_pdf), partial(run.journal.plan_object, record_id))
    return ArchiveRecord(
        id=record_id,
        sha256=source.sha256,
        source_name=named.name,
        media_type=source.media_type,
        size=source.size,
        page_count=named.page_count,
        ingested_at=now_iso(),
        title=title,
        original_object=original,
        archival_object=archival,
        archival_sha256=archival_sha,
        pages=ocr.pages,
        engine=ocr.engine,
        classification=classification,
        audit=(note,),
        archival_format=ocr.archival_format,
        extra=meta.extra if meta else (),
        batch=run.batch,
        source_pages=pages,
        separator_pages=separators,
    )


def commit(run: Run, path: str, record: ArchiveRecord) -> None:
    """Journal a record whose manifest was just written, then index it."""
    run.journal.mark(record.id, path, JournalState.STORED, record.id)
    _index(run, record.id, path, record)


def _index(run: Run, sha: str, path: str, record: ArchiveRecord) -> None:
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
