"""The ingest pipeline, visibly in order: discover → check → ocr → classify → store → index.

Every input ends in exactly one of: archived, duplicate of an existing record, or
quarantined with its reason. The journal records each step, so a crash or ``kill -9``
resumes on the next run with nothing lost and nothing archived twice.
"""

from __future__ import annotations

import fcntl
import getpass
import os
import re
import shutil
import socket
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Protocol

from .archive.base import SearchBackend, open_backend
from .archive.store import ArchiveStore, sha256_file
from .classify.stage import classify_document
from .config import Settings
from .errors import ArchiveUnavailableError, ExitCode, MissingToolError, QuarantineReason, ToolFailedError
from .ingest.discover import discover
from .ingest.journal import Journal, now_iso
from .ingest.sniff import mislabelled, sniff
from .models import ArchiveRecord, OcrResult, SourceFile
from .ocr.recognize import recognize
from .ocr.tools import tesseract

ARCHIVED, DUPLICATE, QUARANTINED = "archived", "duplicate", "quarantined"
_GENERIC_NAME = re.compile(r"^(scan|img|image|dok|doc|document|seite|page|file)?[\W_]*\d*$", re.I)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one input file ended."""

    path: str
    status: str  # archived | duplicate | quarantined
    record_id: str | None = None
    reason: str | None = None
    pages: int = 0


@dataclass
class BatchReport:
    """The result of one ``ingest`` run."""

    outcomes: list[Outcome] = field(default_factory=list)
    index_pending: int = 0
    index_message: str | None = None
    seconds: float = 0.0

    def count(self, status: str) -> int:
        """How many inputs ended with ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def pages(self) -> int:
        """Pages of the inputs archived in this run."""
        return sum(o.pages for o in self.outcomes if o.status == ARCHIVED)

    @property
    def exit_code(self) -> ExitCode:
        """PARTIAL when anything was quarantined, else OK."""
        return ExitCode.PARTIAL if self.count(QUARANTINED) else ExitCode.OK


class ProgressSink(Protocol):
    """Where the pipeline reports progress (the CLI draws a bar from it)."""

    def start(self, files: int, pages: int) -> None: ...

    def advance(self, pages: int, name: str) -> None: ...


class _NoProgress:
    def start(self, files: int, pages: int) -> None:
        pass

    def advance(self, pages: int, name: str) -> None:
        pass


@contextmanager
def archive_lock(root: Path) -> Iterator[None]:
    """Hold the archive's write lock; another writer gets a clear error, not a race."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ArchiveUnavailableError(f"{root}: another akte process is writing to this archive") from None
        yield


def ingest(paths: Iterable[str | Path], settings: Settings, progress: ProgressSink | None = None) -> BatchReport:
    """Archive every file under ``paths``; returns what happened to each."""
    progress = progress or _NoProgress()
    started = time.monotonic()
    tesseract.check_languages(settings.ocr.languages)
    files = list(discover(list(paths)))
    root = settings.archive_dir
    store = ArchiveStore(root)
    report = BatchReport()
    with archive_lock(root):
        store.clean_partials()
        # Work folders of a run that was killed: we hold the lock, so nobody uses them.
        shutil.rmtree(root / "work", ignore_errors=True)
        journal = Journal(root / "journal.sqlite")
        backend = _open_index(settings, report)
        try:
            if backend is not None:
                backend = index_pending(journal, store, backend, report)
            todo = _check_inputs(files, settings.ocr, store, journal, backend, report)
            progress.start(len(todo), sum(s.page_count for s in todo))
            _process(todo, settings, store, journal, backend, report, progress)
        finally:
            journal.close()
            if backend is not None:
                backend.close()
    report.index_pending = len(Journal(root / "journal.sqlite").pending())
    report.seconds = time.monotonic() - started
    return report


def _open_index(settings: Settings, report: BatchReport) -> SearchBackend | None:
    try:
        return open_backend(settings)
    except ArchiveUnavailableError as exc:
        report.index_message = f"search index unavailable ({exc.message}); records are stored and will be indexed later"
        return None


def index_pending(journal: Journal, store: ArchiveStore, backend: SearchBackend, report: BatchReport | None = None):
    """Index records that were stored but not indexed (after a crash or a backend outage).

    Returns the backend, or None when it became unavailable (the records stay pending).
    """
    for entry in journal.pending():
        try:
            result = backend.index([store.read_record(entry.record_id)])
        except ArchiveUnavailableError as exc:
            if report is not None:
                report.index_message = f"search index unavailable ({exc.message}); records stay pending"
            return None
        if not result.errors:
            journal.mark(entry.sha256, entry.path, "archived", entry.record_id)
    return backend


def _check_inputs(files, ocr_settings, store, journal, backend, report) -> list[SourceFile]:
    """Hash and check every input; settle duplicates and bad files right away."""
    todo: list[SourceFile] = []
    seen: dict[str, str] = {}
    for path in files:
        try:
            size = path.stat().st_size
            sha = sha256_file(path)
        except OSError as exc:
            reason = f"cannot read file: {exc.strerror or exc}"
            store.quarantine(path, None, reason)
            report.outcomes.append(Outcome(str(path), QUARANTINED, reason=reason))
            continue
        if sha in seen:
            report.outcomes.append(Outcome(str(path), DUPLICATE, record_id=sha, reason=f"same bytes as {seen[sha]}"))
            continue
        seen[sha] = str(path)
        entry = journal.get(sha)
        if store.has_record(sha):
            if entry is not None and entry.state in ("started", "stored"):
                # A crash hit between writing the manifest and finishing: finish now.
                _index_and_mark(sha, str(path), store.read_record(sha), journal, backend, report)
                report.outcomes.append(Outcome(str(path), ARCHIVED, record_id=sha))
            else:
                report.outcomes.append(Outcome(str(path), DUPLICATE, record_id=sha, reason="already archived"))
            continue
        try:
            todo.append(sniff(path, sha, size, ocr_settings))
        except QuarantineReason as exc:
            _quarantine(store, journal, report, path, sha, exc.reason)
    return todo


def _quarantine(store, journal, report, path: Path, sha: str | None, reason: str) -> None:
    store.quarantine(path, sha, reason)
    if sha:
        journal.mark(sha, str(path), "quarantined", reason=reason)
    report.outcomes.append(Outcome(str(path), QUARANTINED, reason=reason))


def _process(todo, settings: Settings, store, journal, backend, report, progress) -> None:
    """Recognise in worker processes; classify, store and index here, in order of completion.

    Workers only read inputs and write into their own work folders; every write to the
    archive and the journal happens in this process, one record at a time.
    """
    workers = max(1, min(settings.workers, len(todo) or 1))
    jobs = max(1, (os.cpu_count() or 1) // workers)
    workroot = Path(tempfile.mkdtemp(prefix="work-", dir=_workdir(store.root)))
    try:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            pending: dict[Future, SourceFile] = {}
            queue = list(reversed(todo))
            while queue or pending:
                while queue and len(pending) < workers:
                    source = queue.pop()
                    journal.mark(source.sha256, source.path, "started")
                    work = workroot / source.sha256
                    pending[pool.submit(recognize, source, settings.ocr, work, jobs)] = source
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    source = pending.pop(future)
                    try:
                        ocr = future.result()
                    except MissingToolError:
                        for other in pending:
                            other.cancel()
                        raise
                    except ToolFailedError as exc:
                        _quarantine(store, journal, report, Path(source.path), source.sha256, f"OCR failed: {exc.message}")
                    except Exception as exc:  # never lose a file to a bug: keep it, say why
                        reason = f"internal error during OCR: {type(exc).__name__}: {exc}"
                        _quarantine(store, journal, report, Path(source.path), source.sha256, reason)
                    else:
                        backend = _archive(source, ocr, settings, store, journal, backend, report)
                    shutil.rmtree(workroot / source.sha256, ignore_errors=True)
                    progress.advance(source.page_count, Path(source.path).name)
    finally:
        shutil.rmtree(workroot, ignore_errors=True)


def _workdir(root: Path) -> Path:
    work = root / "work"
    work.mkdir(parents=True, exist_ok=True)
    return work


def _archive(source: SourceFile, ocr: OcrResult, settings: Settings, store, journal, backend, report):
    """Classify, store and index one recognised document; returns the (maybe lost) backend."""
    classification = classify_document(ocr, settings.classify)
    original = store.put_original(Path(source.path), source.sha256)
    archival, archival_sha = (None, None)
    if ocr.archival_pdf:
        archival, archival_sha = store.put_archival(Path(ocr.archival_pdf))
    record = ArchiveRecord(
        id=source.sha256,
        sha256=source.sha256,
        source_name=source.name,
        media_type=source.media_type,
        size=source.size,
        page_count=source.page_count,
        ingested_at=now_iso(),
        title=make_title(source, ocr),
        original_object=original,
        archival_object=archival,
        archival_sha256=archival_sha,
        pages=ocr.pages,
        engine=ocr.engine,
        classification=classification,
        audit=(_transfer_note(source, settings),),
        archival_format=ocr.archival_format,
    )
    store.write_record(record)
    journal.mark(source.sha256, source.path, "stored", record.id)
    report.outcomes.append(Outcome(source.path, ARCHIVED, record_id=record.id, pages=source.page_count))
    return _index_and_mark(source.sha256, source.path, record, journal, backend, report)


def _index_and_mark(sha, path, record, journal, backend, report):
    if backend is None:
        return None
    try:
        result = backend.index([record])
    except ArchiveUnavailableError as exc:
        report.index_message = f"search index unavailable ({exc.message}); records are stored and will be indexed later"
        return None
    if not result.errors:
        journal.mark(sha, path, "archived", record.id)
    return backend


def _transfer_note(source: SourceFile, settings: Settings) -> dict:
    """Who archived what, when and how (the core of a RESISCAN transfer note)."""
    note = {
        "event": "ingested",
        "at": now_iso(),
        "source_path": source.path,
        "user": getpass.getuser(),
        "host": socket.gethostname(),
        "ocr": {
            "languages": settings.ocr.languages,
            "rotate_pages": settings.ocr.rotate_pages,
            "deskew": settings.ocr.deskew,
        },
    }
    if mislabelled(source):
        note["note"] = f"file name does not match its content ({source.media_type})"
    return note


def make_title(source: SourceFile, ocr: OcrResult) -> str:
    """A readable title: the file name, unless a scanner made it up; then the first text line."""
    stem = Path(source.name).stem
    if not _GENERIC_NAME.match(stem):
        return re.sub(r"[_]+", " ", stem).strip()
    for line in ocr.text.splitlines():
        line = " ".join(line.split())
        if sum(c.isalpha() for c in line) >= 4:
            return line[:80]
    return stem
