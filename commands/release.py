"""``akte qa sample``, ``akte qa signoff`` and ``akte release``: from a checked batch to its release.

``akte qa sample BATCH`` lists the pages of the batch's sample and what each still needs;
``akte qa signoff ID [PAGE …] [--fail REASON]`` records a person's look at sampled pages;
``akte release BATCH`` checks everything and writes the release certificate. The logic is in
:mod:`aktenarchiv.sampling` and :mod:`aktenarchiv.release`. ``qa sample`` and ``qa signoff``
join ``akte qa`` (this module adds them to its app); ``cli.py`` joins :data:`app` at the top
level; errors are raised as ``AkteError`` and become exit codes in the root group.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.markup import escape

from ..archive.certificate import certificate_paths
from ..archive.seal import update_record
from ..archive.store import ArchiveStore
from ..batches import load_batch
from ..errors import AkteError
from ..models import ArchiveRecord
from ..release import ReleaseBlockedError, batch_records, refuse_if_released, release_batch
from ..sampling import batch_sample, sign_off
from ._common import emit_json, err, out, settings_of
from .qa import RecordId
from .qa import app as qa_app

app = typer.Typer()

BatchName = Annotated[str, typer.Argument(metavar="BATCH", help="The batch name given to `akte ingest --batch`.")]


@qa_app.command("sample")
def sample(
    ctx: typer.Context,
    name: BatchName,
    json_out: Annotated[bool, typer.Option("--json", help="Print every sampled page as JSON.")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Also pages already signed off.")] = False,
) -> None:
    """The pages of a batch a person must look at (drawn by the system), and what each still needs."""
    store = ArchiveStore(settings_of(ctx).archive_dir)
    load_batch(store.root, name)
    pages = batch_sample(batch_records(store, name))
    open_pages = [p for p in pages if p.missing]
    store.audit.append("qa-sample", details={"batch": name, "pages": len(pages), "open": len(open_pages)})
    shown = pages if show_all else open_pages
    if json_out:
        emit_json([p.to_json() for p in shown])
        return
    for page in shown:
        state = escape(page.missing) if page.missing else f"signed off by {escape(', '.join(page.signed_by))}"
        out.print(f"{page.record_id[:12]}  page {page.page:>3} (sheet {page.source_page:>3})  "
                  f"{page.plan.schutzbedarf:<9}  {escape(page.title)}  [dim]{state}[/dim]")
    err.print(f"batch {escape(name)}: {len(pages)} page(s) in the sample, {len(open_pages)} still need a person; "
              "sign off with `akte qa signoff ID [PAGE …]`")


@qa_app.command("signoff")
def signoff(
    ctx: typer.Context,
    record_id: RecordId,
    pages: Annotated[Optional[list[int]], typer.Argument(metavar="[PAGE]...", help="Sampled pages looked at (default: all of the record's).")] = None,
    fail: Annotated[Optional[str], typer.Option("--fail", help="The pages do not show the paper correctly: why.")] = None,
) -> None:
    """Record that you looked at sampled pages of a record and found them fine (or not, with --fail)."""
    store = ArchiveStore(settings_of(ctx).archive_dir)

    def change(record: ArchiveRecord) -> ArchiveRecord:
        refuse_if_released(store, record)
        if record.batch is None:
            raise AkteError(f"record {record.id[:12]} belongs to no scan batch: it has no sample")
        return sign_off(record, batch_sample(batch_records(store, record.batch)), list(pages or ()), fail is None, fail)

    updated = update_record(store, store.resolve(record_id), "qa-signoff", change)
    entry = updated.audit[-1]
    verdict = "fine" if entry["ok"] else f"found wrong: {escape(fail or '')}"
    out.print(f"{updated.id[:12]}  page(s) {', '.join(map(str, entry['pages']))} {verdict} ({escape(entry['by'])})")


@app.command("release")
def release(
    ctx: typer.Context,
    name: BatchName,
    json_out: Annotated[bool, typer.Option("--json", help="Print the certificate (or the blocking reasons) as JSON.")] = False,
) -> None:
    """Release a checked batch for the destruction of its paper, with a certificate (exit 4 while blocked)."""
    settings = settings_of(ctx)
    try:
        certificate, entry = release_batch(settings, name)
    except ReleaseBlockedError as exc:
        if json_out:
            emit_json({"released": False, "batch": name, "blockers": [
                {"record": b.record, "reason": b.reason, "integrity": b.integrity} for b in exc.blockers]})
        for blocker in exc.blockers:
            err.print(f"  [red]blocked[/red] {escape(blocker.describe())}")
        raise
    json_path, pdf_path = certificate_paths(settings.archive_dir, name)
    if json_out:
        emit_json({"released": True, "certificate": certificate, "audit_entry": entry.seq,
                   "files": [str(json_path), str(pdf_path)]})
        return
    batch = certificate["batch"]
    out.print(f"batch {escape(name)} released: {batch['documents']} document(s), {batch['pages']} page(s), "
              f"audit entry {entry.seq}")
    out.print(f"certificate: {json_path}\n             {pdf_path}")
