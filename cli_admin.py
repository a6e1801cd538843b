"""Administrator commands of ``akte``: ``migrate …`` (and the index maintenance beside it).

Registered on the main app by ``cli.py``; errors are mapped to exit codes there.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from . import migrate as jobs
from .cli import BarProgress, _progress, command, err, settings_of

migrate_app = typer.Typer(help="Migration jobs: legacy folders, paperless-ngx exports, archive export/import.",
                          no_args_is_help=True)

DryRun = Annotated[bool, typer.Option("--dry-run", help="Report what would happen; change nothing.")]
Workers = Annotated[Optional[int], typer.Option("--workers", min=1, help="Items processed at once (default: one per core).")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print the final report as JSON.")]


def _finish(report: jobs.MigrationReport, json_out: bool) -> None:
    if json_out:
        report.write_json(sys.stdout)
    table = Table(title=f"migrate {report.job}{' (dry run)' if report.dry_run else ''}", show_edge=False)
    table.add_column("status")
    table.add_column("items", justify="right")
    for status, n in sorted(report.counts.items()):
        table.add_row(status, str(n))
    err.print(table)
    for item in report.failures:
        where = item.get("origin") or item.get("path") or item.get("id")
        err.print(f"  [red]{item['status']}[/red] {escape(str(where))}: {escape(str(item.get('reason')))}")
    problems = report.count(jobs.FAILED) + report.count(jobs.CONFLICT)
    if problems > len(report.failures):
        err.print(f"  … and {problems - len(report.failures)} more failures")
    for note in report.notes:
        err.print(f"[yellow]note:[/yellow] {escape(note)}")
    listed = f"every item: {report.path}" if report.path else "nothing written (every item: --json)"
    err.print(f"[dim]{report.total} items in {report.seconds:.1f} s; {escape(listed)}[/dim]")
    raise typer.Exit(int(report.exit_code))


def _run_job(label: str, total: int, job, json_out: bool) -> None:
    """Run one migration job under an item progress bar, then print its report."""
    with _progress("items") as progress:
        report = job(BarProgress(progress, total, label))
    jobs.log_job(report)
    _finish(report, json_out)


@command("import-folder", target=migrate_app)
def import_folder(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="Folder of legacy scans/PDFs (searched recursively).")],
    metadata: Annotated[Optional[Path], typer.Option("--metadata", help="CSV or JSON: path, type, Aktenzeichen, date, title, …")] = None,
    encoding: Annotated[Optional[str], typer.Option(
        "--encoding", help="Text encoding of the metadata file (default: UTF-8 with or without BOM, else cp1252).")] = None,
    dry_run: DryRun = False, workers: Workers = None, json_out: JsonOut = False,
) -> None:
    """Import a legacy file share, with metadata mapped from a spreadsheet."""
    settings = settings_of(ctx)
    total = jobs.count_folder_items(src) if src.is_dir() else 0
    _run_job("import-folder", total, lambda sink: jobs.import_folder(
        src, metadata, settings, workers=workers, dry_run=dry_run, progress=sink, encoding=encoding), json_out)


@command("import-paperless", target=migrate_app)
def import_paperless(
    ctx: typer.Context,
    export_dir: Annotated[Path, typer.Argument(metavar="EXPORT_DIR", help="Folder written by paperless-ngx's document_exporter.")],
    dry_run: DryRun = False, workers: Workers = None, json_out: JsonOut = False,
) -> None:
    """Import a paperless-ngx export: types, correspondents, tags, custom fields, text, checksums."""
    settings = settings_of(ctx)
    _run_job("import-paperless", jobs.count_paperless(export_dir), lambda sink: jobs.import_paperless(
        export_dir, settings, workers=workers, dry_run=dry_run, progress=sink), json_out)


@command("export", target=migrate_app)
def export(
    ctx: typer.Context,
    dest: Annotated[Path, typer.Argument(help="Export folder (created; an existing export is updated).")],
    dry_run: DryRun = False, workers: Workers = None, json_out: JsonOut = False,
) -> None:
    """Export the whole archive: originals, archival PDFs, manifests with hashes, the model."""
    settings = settings_of(ctx)
    _run_job("export", jobs.count_records(settings), lambda sink: jobs.export(
        dest, settings, workers=workers, dry_run=dry_run, progress=sink), json_out)


@command("import", target=migrate_app)
def import_(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="A folder written by `akte migrate export`.")],
    dry_run: DryRun = False, workers: Workers = None, json_out: JsonOut = False,
) -> None:
    """Import an aktenarchiv export into this archive; every object is verified after writing."""
    settings = settings_of(ctx)
    _run_job("import", jobs.count_archive_export(src), lambda sink: jobs.import_archive(
        src, settings, workers=workers, dry_run=dry_run, progress=sink), json_out)


@command("reindex")
def reindex(
    ctx: typer.Context,
    backend: Annotated[Optional[str], typer.Option("--backend", help="Rebuild this backend's index (sqlite or elasticsearch).")] = None,
    pending: Annotated[bool, typer.Option("--pending", help="Only index records waiting since an outage.")] = False,
) -> None:
    """Rebuild the search index from the archive store (new version, atomic switch, resumable)."""
    from dataclasses import replace

    from .archive.store import ArchiveStore
    from .errors import ConfigError

    settings = settings_of(ctx)
    if backend:
        if backend not in ("sqlite", "elasticsearch"):
            raise ConfigError(f"backend {backend!r}: use 'sqlite' or 'elasticsearch'")
        settings = replace(settings, backend=backend)
    total = 0 if pending else sum(1 for _ in ArchiveStore(settings.archive_dir).record_ids())
    with _progress("records") as progress:
        task = progress.add_task(f"reindex {settings.backend}", total=total, visible=not pending)
        outcome = jobs.reindex(settings, pending_only=pending, progress=lambda n: progress.advance(task, n))
    err.print(f"{outcome.pending_indexed} pending record(s) indexed into {outcome.backend}")
    report = outcome.report
    if report is None:
        return
    for record_id, reason in list(report.bulk.errors.items())[:50]:
        err.print(f"  [red]failed[/red] {record_id[:12]}: {escape(reason)}")
    if not report.switched:
        from .errors import ArchiveUnavailableError

        raise ArchiveUnavailableError(
            f"{len(report.bulk.errors)} record(s) failed; the old index stays live, run `akte reindex` again to resume"
        )
    resumed = " (resumed)" if report.resumed else ""
    err.print(f"[green]rebuilt[/green] {outcome.backend} index {report.index}{resumed}: {outcome.records} records indexed")
