"""``akte migrate …``: legacy folders, paperless-ngx exports, archive export and import.

Joined to the root app by ``cli.py`` under the name ``migrate``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..migrate import jobs
from ..states import MigrationStatus
from ._common import BarProgress, err, progress_bars, settings_of

app = typer.Typer(help="Migration jobs: legacy folders, paperless-ngx exports, archive export/import.",
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
    problems = report.count(MigrationStatus.FAILED) + report.count(MigrationStatus.CONFLICT)
    if problems > len(report.failures):
        err.print(f"  … and {problems - len(report.failures)} more failures")
    for note in report.notes:
        err.print(f"[yellow]note:[/yellow] {escape(note)}")
    listed = f"every item: {report.path}" if report.path else "nothing written (every item: --json)"
    err.print(f"[dim]{report.total} items in {report.seconds:.1f} s; {escape(listed)}[/dim]")
    raise typer.Exit(int(report.exit_code))


def _run_job(label: str, total: int, job, json_out: bool) -> None:
    """Run one migration job under an item progress bar, then print its report."""
    with progress_bars("items") as progress:
        report = job(BarProgress(progress, total, label))
    jobs.log_job(report)
    _finish(report, json_out)


@app.command("import-folder")
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


@app.command("import-paperless")
def import_paperless(
    ctx: typer.Context,
    export_dir: Annotated[Path, typer.Argument(metavar="EXPORT_DIR", help="Folder written by paperless-ngx's document_exporter.")],
    dry_run: DryRun = False, workers: Workers = None, json_out: JsonOut = False,
) -> None:
    """Import a paperless-ngx export: types, correspondents, tags, custom fields, text, checksums."""
    settings = settings_of(ctx)
    _run_job("import-paperless", jobs.count_paperless(export_dir), lambda sink: jobs.import_paperless(
        export_dir, settings, workers=workers, dry_run=dry_run, progress=sink), json_out)


@app.command("export")
def export(
    ctx: typer.Context,
    dest: Annotated[Path, typer.Argument(help="Export folder (created; an existing export is updated).")],
    dry_run: DryRun = False, workers: Workers = None, json_out: JsonOut = False,
) -> None:
    """Export the whole archive: originals, archival PDFs, manifests with hashes, the model."""
    settings = settings_of(ctx)
    _run_job("export", jobs.count_records(settings), lambda sink: jobs.export(
        dest, settings, workers=workers, dry_run=dry_run, progress=sink), json_out)


@app.command("import")
def import_(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="A folder written by `akte migrate export`.")],
    dry_run: DryRun = False, workers: Workers = None, json_out: JsonOut = False,
) -> None:
    """Import an aktenarchiv export into this archive; every object is verified after writing."""
    settings = settings_of(ctx)
    _run_job("import", jobs.count_archive_export(src), lambda sink: jobs.import_archive(
        src, settings, workers=workers, dry_run=dry_run, progress=sink), json_out)
