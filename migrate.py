"""Migration jobs for administrators: legacy folders, paperless-ngx exports, archive exports.

Every job streams its input, can run as a dry run, reports each item as imported,
skipped-as-duplicate or failed (with the reason), and can be interrupted and run again:
items are keyed by the SHA-256 of their bytes, so each ends in the archive exactly once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from .archive.store import ArchiveStore
from .archive.transfer import count_export, export_archive, import_export
from .config import Settings
from .errors import ExitCode
from .ingest.discover import discover
from .ingest.legacy import Failed, iter_folder_items
from .ingest.paperless import count_documents, iter_paperless_items
from .pipeline import (
    ARCHIVED,
    DUPLICATE,
    QUARANTINED,
    WOULD_ARCHIVE,
    ProgressSink,
    commit,
    ingest_items,
    open_run,
)

IMPORTED, SKIPPED, FAILED = "imported", "skipped-as-duplicate", "failed"
_STATUS = {ARCHIVED: IMPORTED, DUPLICATE: SKIPPED, QUARANTINED: FAILED, WOULD_ARCHIVE: "would-import"}


@dataclass
class MigrationReport:
    """The final report of a job: one entry per item."""

    job: str
    items: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many items ended with ``status``."""
        return sum(1 for item in self.items if item["status"] == status)

    def counts(self) -> dict[str, int]:
        """Items per status."""
        out: dict[str, int] = {}
        for item in self.items:
            out[item["status"]] = out.get(item["status"], 0) + 1
        return out

    @property
    def exit_code(self) -> ExitCode:
        """PARTIAL when any item failed."""
        return ExitCode.PARTIAL if self.count(FAILED) else ExitCode.OK

    def to_json(self) -> dict:
        """The report as JSON."""
        return {"job": self.job, "dry_run": self.dry_run, "seconds": round(self.seconds, 2),
                "counts": self.counts(), "notes": self.notes, "items": self.items}


def _with_workers(settings: Settings, workers: int | None) -> Settings:
    return settings if not workers else replace(settings, ocr=replace(settings.ocr, workers=workers))


def _from_pipeline(job: str, batch, failures: list[Failed], dry_run: bool) -> MigrationReport:
    report = MigrationReport(job, dry_run=dry_run, seconds=batch.seconds)
    for o in batch.outcomes:
        report.items.append({"status": _STATUS[o.status], "path": o.path, "id": o.record_id,
                             "origin": o.origin, "reason": o.reason})
    for f in failures:
        report.items.append({"status": FAILED, "path": f.path, "id": None, "origin": f.origin, "reason": f.reason})
    if batch.index_message:
        report.notes.append(batch.index_message)
    return report


def count_folder_items(src: Path) -> int:
    """Files under ``src`` (for the progress bar)."""
    return sum(1 for _ in discover([src]))


def import_folder(src: Path, metadata: Path | None, settings: Settings, *, workers: int | None = None,
                  dry_run: bool = False, progress: ProgressSink | None = None) -> MigrationReport:
    """``migrate import-folder``: a legacy tree of scans/PDFs with an optional metadata file."""
    settings = _with_workers(settings, workers)
    failures: list[Failed] = []
    items = iter_folder_items(src, metadata, settings.classify.taxonomy, failures)
    batch = ingest_items(items, settings, progress, dry_run=dry_run)
    return _from_pipeline("import-folder", batch, failures, dry_run)


def import_paperless(export: Path, settings: Settings, *, workers: int | None = None,
                     dry_run: bool = False, progress: ProgressSink | None = None) -> MigrationReport:
    """``migrate import-paperless``: a paperless-ngx ``document_exporter`` folder."""
    settings = _with_workers(settings, workers)
    failures: list[Failed] = []
    items = iter_paperless_items(export, settings.classify.taxonomy, failures)
    batch = ingest_items(items, settings, progress, dry_run=dry_run)
    return _from_pipeline("import-paperless", batch, failures, dry_run)


def count_paperless(export: Path) -> int:
    """Documents in a paperless-ngx export."""
    return count_documents(export)


def export(dest: Path, settings: Settings, *, workers: int | None = None, dry_run: bool = False,
           progress: Callable[[], None] | None = None) -> MigrationReport:
    """``migrate export``: a complete, portable, self-describing copy of the archive."""
    started = time.monotonic()
    store = ArchiveStore(settings.archive_dir)
    result = export_archive(store, dest, workers=workers or settings.workers, dry_run=dry_run, progress=progress)
    report = MigrationReport("export", dry_run=dry_run)
    status = {"exported": "exported", "skipped": "skipped-unchanged", "failed": FAILED, "would-export": "would-export"}
    report.items = [{"status": status[s], "id": rid, "reason": reason} for rid, s, reason in result.items]
    report.seconds = time.monotonic() - started
    return report


def import_archive(src: Path, settings: Settings, *, workers: int | None = None, dry_run: bool = False,
                   progress: Callable[[], None] | None = None) -> MigrationReport:
    """``migrate import``: bring the records of an export into this archive, verified."""
    with open_run(settings) as run:
        result = import_export(src, run.store, lambda record: commit(run, f"export:{src}", record),
                               workers=workers or settings.workers, dry_run=dry_run, progress=progress)
    report = MigrationReport("import", dry_run=dry_run, seconds=run.report.seconds)
    status = {"imported": IMPORTED, "duplicate": SKIPPED, "failed": FAILED, "would-import": "would-import"}
    report.items = [{"status": status[s], "id": rid, "reason": reason} for rid, s, reason in result.items]
    if run.report.index_message:
        report.notes.append(run.report.index_message)
    return report


def count_archive_export(src: Path) -> int:
    """Records in an export folder."""
    return count_export(src)


@dataclass
class ReindexOutcome:
    """What ``akte reindex`` did."""

    backend: str
    pending_indexed: int
    records: int = 0
    report: object | None = None  # archive.base.ReindexReport of a full rebuild


def reindex(settings: Settings, *, pending_only: bool = False,
            progress: Callable[[int], None] | None = None) -> ReindexOutcome:
    """Index what is pending, and unless ``pending_only`` rebuild the whole index from the store.

    The store is the source of truth; the rebuild goes into a new index version that
    replaces the live one atomically, and resumes where an interrupted rebuild stopped.

    Raises:
        ArchiveUnavailableError: the search backend cannot be reached.
    """
    from .errors import ArchiveUnavailableError
    from .ingest.journal import Journal

    journal_path = settings.archive_dir / "journal.sqlite"
    before = len(Journal(journal_path).pending()) if journal_path.exists() else 0
    with open_run(settings) as run:  # indexes pending records first
        if run.backend is None:
            raise ArchiveUnavailableError(run.report.index_message or f"{settings.backend} backend unavailable")
        outcome = ReindexOutcome(settings.backend, before - len(run.journal.pending()))
        if pending_only:
            return outcome
        outcome.report = run.backend.reindex_into_new_version(run.store.iter_records(), progress)
        outcome.records = outcome.report.bulk.indexed
        if outcome.report.switched:
            for entry in run.journal.pending():  # the new index holds every stored record
                run.journal.mark(entry.sha256, entry.path, "archived", entry.record_id)
    return outcome
