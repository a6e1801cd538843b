"""``akte qa``: the quality-control queue of scanned records, and a person's decisions.

``akte qa [--batch NAME] [--json]`` lists the records waiting for a check with their findings;
``akte qa approve ID [--note TEXT]`` and ``akte qa reject ID --reason TEXT`` record the
decision in the record's audit trail (the manifest is rewritten crash-safely, sealed in the
audit chain). ``cli.py`` joins this app as ``akte qa``; errors are raised as ``AkteError``
subclasses and become exit codes in the root group (``_errors.AkteGroup``).
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.markup import escape

from ..archive.store import ArchiveStore
from ..qa import qa_queue, qa_status
from ..qa_decisions import record_decision
from ..release import batch_records
from ._common import emit_json, err, out, settings_of

app = typer.Typer(help="Quality control of scans: the queue, approve, reject.", invoke_without_command=True)

RecordId = Annotated[str, typer.Argument(metavar="ID", help="Record id or a unique prefix (≥ 6 characters).")]


@app.callback()
def queue(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print the queue as a JSON list.")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Also records already decided (approved/rejected).")] = False,
    batch: Annotated[Optional[str], typer.Option("--batch", help="Only records of this scan batch.")] = None,
) -> None:
    """Records whose scans need a person's check, with the reasons (run without a subcommand)."""
    if ctx.invoked_subcommand is not None:
        return
    store = ArchiveStore(settings_of(ctx).archive_dir)
    records = store.iter_records() if batch is None else batch_records(store, batch)
    rows = [entry.to_json() for entry in qa_queue(records, include_decided=show_all)]
    if json_out:
        emit_json(rows)
        return
    for row in rows:
        out.print(f"{row['id'][:12]}  {row['status']:<8}  {escape(row['title'])}")
        for finding in row["findings"]:
            out.print(f"    {escape(finding)}")
    err.print(f"{len(rows)} record(s) in the QA queue")


def _decide(ctx: typer.Context, record_id: str, approve: bool, text: str | None) -> None:
    store = ArchiveStore(settings_of(ctx).archive_dir)
    record = store.read_record(store.resolve(record_id))
    updated = record_decision(store, record, approve, text)
    out.print(f"{updated.id[:12]}  {qa_status(record)} → {qa_status(updated)}")


@app.command("approve")
def approve(
    ctx: typer.Context,
    record_id: RecordId,
    note: Annotated[Optional[str], typer.Option("--note", help="Why it is fine (kept in the audit).")] = None,
) -> None:
    """Accept a record's scans as they are (recorded in its audit trail)."""
    _decide(ctx, record_id, True, note)


@app.command("reject")
def reject(
    ctx: typer.Context,
    record_id: RecordId,
    reason: Annotated[str, typer.Option("--reason", help="What is wrong; the paper must be rescanned.")],
) -> None:
    """Reject a record's scans: a rescan is needed (recorded in its audit trail)."""
    _decide(ctx, record_id, False, reason)
