"""Migration jobs for administrators: legacy folders, paperless-ngx exports, archive exports.

Every job streams its input, can run as a dry run, reports each item as imported,
skipped-as-duplicate or failed (with the reason), and can be interrupted and run again:
items are keyed by the SHA-256 of their bytes, so each ends in the archive exactly once.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import IO, Iterator

from ..archive.confine import printable
from ..archive.store import ArchiveStore
from ..config import Settings
from ..errors import ExitCode
from ..ingest.discover import discover
from ..pipeline import commit, ingest_items
from ..run import ProgressSink, open_run
from ..states import MigrationStatus, OutcomeStatus
from .archive_export import count_export, export_archive, import_export
from .folder import Failed, iter_folder_items
from .paperless import count_documents, iter_paperless_items

# The one translation: how an input of the pipeline ended, as a migration item.
_STATUS = {
    OutcomeStatus.ARCHIVED: MigrationStatus.IMPORTED,
    OutcomeStatus.DUPLICATE: MigrationStatus.SKIPPED,
    OutcomeStatus.QUARANTINED: MigrationStatus.FAILED,
    OutcomeStatus.WOULD_ARCHIVE: MigrationStatus.WOULD_IMPORT,
}
_PROBLEMS = (MigrationStatus.FAILED, MigrationStatus.CONFLICT)


def _shown(value: str | None) -> str | None:
    return None if value is None else printable(value)


class MigrationReport:
    """The final report of a job: one line per item in ``<archive>/reports/<job>-<time>.jsonl``.

    Only the counts and the first failures stay in memory, so a job of 100 000 items
    reports in constant memory; ``iter_items`` reads the full list back. A dry run writes
    nothing into the archive: its items go to an anonymous temporary file (``path`` None).
    """

    KEEP_FAILURES = 200

    def __init__(self, job: str, archive_dir: Path, dry_run: bool = False) -> None:
        from ..ingest.journal import now_iso

        self.job, self.dry_run, self.seconds = job, dry_run, 0.0
        self.archive_dir = archive_dir
        self.notes: list[str] = []
        self.counts: Counter = Counter()
        self.failures: list[dict] = []
        if dry_run:
            self.path: Path | None = None
            self._fh = tempfile.TemporaryFile("w+", encoding="utf-8")
        else:
            stamp = now_iso().replace(":", "").replace("+0000", "Z")
            self.path = archive_dir / "reports" / f"{job}-{stamp}-{os.getpid()}.jsonl"
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "w", encoding="utf-8")
        self._started = time.monotonic()

    def add(self, status: MigrationStatus, *, path: str | None = None, id: str | None = None,
            origin: str | None = None, reason: str | None = None) -> None:
        """Record one item's outcome."""
        item = {"status": status, "path": _shown(path), "id": _shown(id), "origin": _shown(origin),
                "reason": _shown(reason)}
        self.counts[status] += 1
        if status in _PROBLEMS and len(self.failures) < self.KEEP_FAILURES:
            self.failures.append(item)
        self._fh.write(json.dumps(item, ensure_ascii=False) + "\n")

    def close(self) -> MigrationReport:
        """Finish the report file (a dry run's stays open to be read back); returns self."""
        self.seconds = time.monotonic() - self._started
        if self.path is None:
            self._fh.flush()
        else:
            self._fh.close()
        return self

    def count(self, status: MigrationStatus) -> int:
        """How many items ended with ``status``."""
        return self.counts[status]

    @property
    def total(self) -> int:
        """Items reported."""
        return sum(self.counts.values())

    @property
    def exit_code(self) -> ExitCode:
        """PARTIAL when any item failed or conflicted with a record already here."""
        return ExitCode.PARTIAL if any(self.count(status) for status in _PROBLEMS) else ExitCode.OK

    def iter_items(self) -> Iterator[dict]:
        """Every item, read back from the report file."""
        if self.path is None:
            self._fh.seek(0)
            yield from (json.loads(line) for line in self._fh)
            return
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)

    def write_json(self, out: IO[str]) -> None:
        """The report as one JSON object, the item list streamed from the file."""
        head = {"job": self.job, "dry_run": self.dry_run, "seconds": round(self.seconds, 2),
                "counts": dict(self.counts), "notes": self.notes, "report_file": self.path and str(self.path)}
        out.write(json.dumps(head, ensure_ascii=False, indent=2)[:-2] + ',\n  "items": [')
        for n, item in enumerate(self.iter_items()):
            out.write(("," if n else "") + "\n    " + json.dumps(item, ensure_ascii=False))
        out.write("\n  ]\n}\n")


def _with_workers(settings: Settings, workers: int | None) -> Settings:
    return settings if not workers else replace(settings, ocr=replace(settings.ocr, workers=workers))


def _pipeline_job(job: str, items, failures: list[Failed], settings: Settings, dry_run: bool,
                  progress: ProgressSink | None) -> MigrationReport:
    report = MigrationReport(job, settings.archive_dir, dry_run)

    def sink(o) -> None:
        report.add(_STATUS[o.status], path=o.path, id=o.record_id, origin=o.origin, reason=o.reason)

    def drain() -> None:  # failures found while reading the source, reported as they come
        while failures:
            f = failures.pop(0)
            report.add(MigrationStatus.FAILED, path=f.path, origin=f.origin, reason=f.reason)
            if progress is not None:
                progress.advance(1, f.path)

    def watched():
        for item in items:
            drain()
            yield item
        drain()

    batch = ingest_items(watched(), settings, progress, dry_run=dry_run, sink=sink)
    if batch.index_message:
        report.notes.append(batch.index_message)
    return report.close()


def count_folder_items(src: Path) -> int:
    """Files under ``src`` (for the progress bar)."""
    return sum(1 for _ in discover([src]))


def import_folder(src: Path, metadata: Path | None, settings: Settings, *, workers: int | None = None,
                  dry_run: bool = False, progress: ProgressSink | None = None,
                  encoding: str | None = None) -> MigrationReport:
    """``migrate import-folder``: a legacy tree of scans/PDFs with an optional metadata file.

    ``encoding`` is the metadata file's; by default it is detected (UTF-8, else cp1252).
    """
    settings = _with_workers(settings, workers)
    failures: list[Failed] = []
    items = iter_folder_items(src, metadata, settings.classify.taxonomy, failures, encoding)
    return _pipeline_job("import-folder", items, failures, settings, dry_run, progress)


def import_paperless(export: Path, settings: Settings, *, workers: int | None = None,
                     dry_run: bool = False, progress: ProgressSink | None = None) -> MigrationReport:
    """``migrate import-paperless``: a paperless-ngx ``document_exporter`` folder."""
    settings = _with_workers(settings, workers)
    failures: list[Failed] = []
    items = iter_paperless_items(export, settings.classify.taxonomy, failures)
    return _pipeline_job("import-paperless", items, failures, settings, dry_run, progress)


def count_paperless(export: Path) -> int:
    """Documents in a paperless-ngx export."""
    return count_documents(export)


def _record_sink(report: MigrationReport, progress: ProgressSink | None):
    """Where the archive export and import report each record: the report, and the bar."""

    def on_item(record_id: str, status: MigrationStatus, reason: str | None) -> None:
        report.add(status, id=record_id, reason=reason)
        if progress is not None:
            progress.advance(1, record_id)

    return on_item


def export(dest: Path, settings: Settings, *, workers: int | None = None, dry_run: bool = False,
           progress: ProgressSink | None = None) -> MigrationReport:
    """``migrate export``: a complete, portable, self-describing copy of the archive."""
    store = ArchiveStore(settings.archive_dir)
    report = MigrationReport("export", settings.archive_dir, dry_run)
    on_item = _record_sink(report, progress)
    export_archive(store, dest, on_item, workers=workers or settings.workers, dry_run=dry_run)
    return report.close()


def import_archive(src: Path, settings: Settings, *, workers: int | None = None, dry_run: bool = False,
                   progress: ProgressSink | None = None) -> MigrationReport:
    """``migrate import``: bring the records of an export into this archive, verified."""
    report = MigrationReport("import", settings.archive_dir, dry_run)
    on_item = _record_sink(report, progress)
    with open_run(settings, dry_run=dry_run) as run:
        import_export(src, run.store, lambda record: commit(run, f"export:{src}", record), on_item,
                      workers=workers or settings.workers, dry_run=dry_run)
    if run.report.index_message:
        report.notes.append(run.report.index_message)
    return report.close()


def count_archive_export(src: Path) -> int:
    """Records in an export folder."""
    return count_export(src)


def count_records(settings: Settings) -> int:
    """Records in the archive."""
    return sum(1 for _ in ArchiveStore(settings.archive_dir).record_ids())


def log_job(report: MigrationReport) -> None:
    """Note a finished job in the audit chain (each record's own entry was written as it was stored)."""
    if not report.dry_run:
        ArchiveStore(report.archive_dir).audit.append(f"migrate-{report.job}", details={
            "counts": dict(report.counts), "seconds": round(report.seconds, 1),
            "report_file": report.path.relative_to(report.archive_dir).as_posix()})
