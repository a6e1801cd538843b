"""``akte batch show NAME``: what one scan batch holds, and whether it is complete.

``cli.py`` joins this app as ``akte batch``; errors become exit codes in the root group
(``_errors.AkteGroup``). ``akte ingest --batch`` uses :func:`warn_incomplete` after its run.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ..archive.store import ArchiveStore
from ..batches import batch_summary, load_batch
from ..config import Settings
from ..release import batch_records
from ._common import emit_json, err, out, settings_of

app = typer.Typer(help="Scan batches (akte ingest --batch NAME): contents and completeness.",
                        no_args_is_help=True)


def _summary(settings: Settings, name: str) -> dict:
    batch = load_batch(settings.archive_dir, name)
    return batch_summary(batch, batch_records(ArchiveStore(settings.archive_dir), name))


def warn_incomplete(settings: Settings, name: str) -> None:
    """After an ingest: say on stderr when the batch's page count differs from the cover sheet."""
    summary = _summary(settings, name)
    if summary["complete"] is False:
        err.print(f"[yellow]batch {escape(name)}: {summary['pages']} pages archived, the cover sheet says "
                  f"{summary['expected_pages']}[/yellow] (see `akte batch show {escape(name)}`)")


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The batch name given to `akte ingest --batch`.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Documents, pages, blank and separator pages, QA state, missing or extra pages of a batch."""
    summary = _summary(settings_of(ctx), name)
    if json_out:
        emit_json(summary)
        return
    out.print(f"[bold]batch {escape(summary['name'])}[/bold]  created {summary['created_at']}")
    out.print(f"  documents {summary['documents']} · pages {summary['pages']} · blank {summary['blank_pages']} "
              f"· separator sheets {summary['separator_pages']}")
    out.print("  QA " + " · ".join(f"{k} {v}" for k, v in summary["qa"].items()))
    if summary["expected_pages"] is None:
        out.print("  cover sheet: no page count given (--expect-pages)")
    elif summary["complete"]:
        out.print(f"  cover sheet: {summary['expected_pages']} pages [green]complete[/green]")
    else:
        out.print(f"  cover sheet: {summary['expected_pages']} pages [red]mismatch[/red]: "
                  f"{summary['missing_pages']} missing, {summary['extra_pages']} extra")
    for row in summary["records"]:
        out.print(f"  {row['id'][:12]}  {row['qa']:<8} {row['pages']:>3} p.  {escape(row['title'])}")
