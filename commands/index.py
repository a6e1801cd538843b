"""``akte reindex``: the search index rebuilt from the archive store."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ..archive.reindex import reindex as reindex_run
from ..archive.store import ArchiveStore
from ..config import backend_name
from ..errors import ArchiveUnavailableError
from ._common import err, print_index_problems, progress_bars, settings_of

app = typer.Typer()


@app.command("reindex")
def reindex(
    ctx: typer.Context,
    backend: Annotated[Optional[str], typer.Option("--backend", help="Rebuild this backend's index (sqlite or elasticsearch).")] = None,
    pending: Annotated[bool, typer.Option("--pending", help="Only index records waiting since an outage.")] = False,
) -> None:
    """Rebuild the search index from the archive store (new version, atomic switch, resumable)."""
    from ..run import open_run  # loads the audit chain and its signing: only when the command runs

    settings = settings_of(ctx)
    if backend:
        settings = replace(settings, backend=backend_name(backend))
    total = 0 if pending else sum(1 for _ in ArchiveStore(settings.archive_dir).record_ids())
    with progress_bars("records") as progress, open_run(settings, retry_index_failures=True) as run:
        task = progress.add_task(f"reindex {settings.backend}", total=total, visible=not pending)
        outcome = reindex_run(run, pending_only=pending, progress=lambda n: progress.advance(task, n))
    err.print(f"{outcome.pending_indexed} pending record(s) indexed into {outcome.backend}")
    if pending:  # (a full rebuild indexes every stored record again, and says what failed)
        print_index_problems(run.report)
    if pending and run.report.index_errors:
        raise ArchiveUnavailableError(f"{len(run.report.index_errors)} pending record(s) were refused by the "
                                      f"search index; the journal keeps why (akte verify)")
    report = outcome.report
    if report is None:
        return
    for record_id, reason in list(report.bulk.errors.items())[:50]:
        err.print(f"  [red]failed[/red] {record_id[:12]}: {escape(reason)}")
    if not report.switched:
        raise ArchiveUnavailableError(
            f"{len(report.bulk.errors)} record(s) failed; the old index stays live, run `akte reindex` again to resume"
        )
    resumed = " (resumed)" if report.resumed else ""
    err.print(f"[green]rebuilt[/green] {outcome.backend} index {report.index}{resumed}: {outcome.records} records indexed")
