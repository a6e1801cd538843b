"""Records staff and clerks: ``akte ingest``, ``search``, ``list``, ``show``, ``get`` and ``verify``."""

from __future__ import annotations

from dataclasses import asdict, replace
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.markup import escape

from ..archive.base import SearchQuery
from ..archive.certificate import check_certificates
from ..archive.query import MARK_CLOSE, MARK_OPEN
from ..archive.recordfields import RecordFields, record_fields
from ..archive.registry import indexed_ids, open_backend
from ..archive.seal import check_store
from ..archive.store import ArchiveStore
from ..config import SCHUTZBEDARF, Settings
from ..errors import AkteError, IntegrityError
from ..ingest.journal import Journal
from ..qa import record_qa
from ..states import OutcomeStatus
from ..textnorm import shown
from ._common import BarProgress, emit_json, err, out, print_index_problems, progress_bars, settings_of
from .audit import print_findings
from .batch import warn_incomplete

app = typer.Typer()
Schutzbedarf = Enum("Schutzbedarf", {name: name for name in SCHUTZBEDARF}, type=str)


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (searched recursively).")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the per-file outcome as JSON.")] = False,
    batch: Annotated[Optional[str], typer.Option("--batch", help="Name of the scan batch (see `akte batch show`).")] = None,
    expect_pages: Annotated[
        Optional[int], typer.Option("--expect-pages", min=1, help="Pages on the batch's cover sheet (needs --batch).")
    ] = None,
    split: Annotated[
        Optional[str], typer.Option("--split", help="separator: one record per document between separator "
                                    "sheets; none: one record per file [default: setting scan.split].")
    ] = None,
    schutzbedarf: Annotated[Optional[Schutzbedarf], typer.Option("--schutzbedarf", help="Protection need of this batch [settings: transfer.schutzbedarf].")] = None,
    operator: Annotated[Optional[str], typer.Option("--operator", help="Who scanned this batch (default: the OS user).")] = None,
) -> None:
    """Archive scans and PDFs: check, OCR, classify, store, index. Exit 4 if some were quarantined."""
    from ..pipeline import ingest as run_ingest

    settings = settings_of(ctx)
    if expect_pages is not None and batch is None:
        raise AkteError("--expect-pages needs --batch NAME")
    if split is not None:
        if split not in ("separator", "none"):
            raise AkteError(f"--split {split!r}: use 'separator' or 'none'")
        settings = replace(settings, scan=replace(settings.scan, split=split))
    transfer = {k: v for k, v in (("schutzbedarf", schutzbedarf and schutzbedarf.value), ("operator", operator)) if v}
    settings = replace(settings, transfer=replace(settings.transfer, **transfer))
    with progress_bars() as progress:
        report = run_ingest(paths, settings, BarProgress(progress), batch=batch, expected_pages=expect_pages)
    # File names that are not UTF-8 are shown escaped (scan\xff.png), never a crash.
    outcomes = [replace(o, path=shown(o.path), reason=o.reason and shown(o.reason)) for o in report.outcomes]
    archived, duplicates, quarantined = (report.count(status) for status in (
        OutcomeStatus.ARCHIVED, OutcomeStatus.DUPLICATE, OutcomeStatus.QUARANTINED))
    if json_out:
        emit_json({
            "archived": archived, "duplicates": duplicates,
            "quarantined": quarantined, "index_pending": report.index_pending,
            "index_errors": report.index_errors,
            "seconds": round(report.seconds, 2), "outcomes": [asdict(o) for o in outcomes],
        })
    rate = report.pages / report.seconds * 60 if report.seconds else 0
    err.print(
        f"[bold]archived {archived}[/bold] · duplicates {duplicates} · "
        f"[{'red' if quarantined else 'green'}]quarantined {quarantined}[/] "
        f"· {report.pages} pages in {report.seconds:.1f} s ({rate:.1f} pages/min) → {settings.archive_dir}"
    )
    for o in outcomes:
        if o.status == OutcomeStatus.DUPLICATE:
            err.print(f"  duplicate  {escape(o.path)} → record {o.record_id[:12]} ({escape(o.reason or '')})")
    for o in outcomes:
        if o.status == OutcomeStatus.QUARANTINED:
            err.print(f"  [red]quarantined[/red] {escape(o.path)}: {escape(o.reason or '')}")
    if quarantined:
        err.print(f"  quarantined files are kept with their reason in {settings.archive_dir / 'quarantine'}")
    print_index_problems(report)
    if report.index_pending:
        err.print(f"[yellow]{report.index_pending} record(s) wait to be indexed[/yellow]: run `akte reindex --pending`")
    if batch is not None:
        warn_incomplete(settings, batch)
    raise typer.Exit(int(report.exit_code))


def _print_hits(hits, total: int, what: str) -> None:
    if not hits:
        err.print(f"no {what}")
        return
    for rank, hit in enumerate(hits, start=1):
        out.print(
            f"[bold]{rank:>2}. {escape(hit.title)}[/bold]  [dim]{hit.id[:12]}[/dim]  "
            f"{hit.doc_type or '–'}  {hit.date}" + (f"  score {hit.score:.3g}" if what == "hits" else "")
        )
        if hit.snippet:
            snippet = escape(hit.snippet).replace(MARK_OPEN, f"[bold yellow]{MARK_OPEN}").replace(
                MARK_CLOSE, f"{MARK_CLOSE}[/bold yellow]"
            )
            page = f"[dim]p.{hit.page}[/dim] " if hit.page else ""
            out.print(f"    {page}{snippet}")
    err.print(f"[dim]{len(hits)} of {total} {what}[/dim]")


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help='Words (all must match), "a phrase", A OR B, -excluded, Field:value.')],
    doc_type: Annotated[Optional[str], typer.Option("--type", help="Only this document type.")] = None,
    date_from: Annotated[Optional[str], typer.Option("--from", help="Archived on or after (YYYY-MM-DD).")] = None,
    date_to: Annotated[Optional[str], typer.Option("--to", help="Archived on or before (YYYY-MM-DD).")] = None,
    reference: Annotated[Optional[str], typer.Option("--ref", help="Aktenzeichen, e.g. 63.2-4711/24 (case aside).")] = None,
    correspondent: Annotated[Optional[str], typer.Option("--correspondent", help="Only from/to this correspondent (the whole name, case aside).")] = None,
    tags: Annotated[Optional[list[str]], typer.Option("--tag", help="Only records with this tag (repeatable: all of them).")] = None,
    doc_date_from: Annotated[Optional[str], typer.Option("--date-from", help="Document dated on or after (YYYY-MM-DD).")] = None,
    doc_date_to: Annotated[Optional[str], typer.Option("--date-to", help="Document dated on or before (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 10,
    cursor: Annotated[Optional[str], typer.Option("--cursor", help="Continue after the previous page (printed on stderr).")] = None,
    counts: Annotated[bool, typer.Option("--counts", help="Also count the hits per type, year, correspondent and tag.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print hits as a JSON list.")] = False,
) -> None:
    """Full-text search in German with highlighted snippets. Exit 5 if the index is unreachable."""
    settings = settings_of(ctx)
    q = SearchQuery(text=query, doc_type=doc_type, date_from=_iso(date_from, "--from"),
                    date_to=_iso(date_to, "--to"), reference=reference, correspondent=correspondent,
                    tags=tuple(tags or ()),
                    doc_date_from=_iso(doc_date_from, "--date-from"), doc_date_to=_iso(doc_date_to, "--date-to"),
                    limit=limit, cursor=cursor)
    _answer(settings, q, "hits", json_out, counts)


def _answer(settings: Settings, query: SearchQuery, what: str, json_out: bool, counts: bool = False) -> None:
    """Run a search or listing on the configured backend and print the page."""
    backend = open_backend(settings)
    try:
        page, facets = backend.search_with_counts(query) if counts else (backend.search(query), None)
    finally:
        backend.close()
    if json_out:
        emit_json([asdict(h) for h in page.hits])
    else:
        _print_hits(page.hits, page.total, what)
    if facets:
        for name, values in facets.items():
            if not values:
                continue
            shown = ", ".join(f"{key or 'unclassified'}: {n}" for key, n in values.items())
            err.print(f"[dim]per {name.replace('doc_type', 'type')}:[/dim] {escape(shown)}")
    if page.cursor:
        err.print(f"[dim]more: add --cursor {page.cursor}[/dim]")


def _iso(value: str | None, flag: str) -> str | None:
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2024-03-05", param_hint=flag) from None


@app.command("list")
def list_records(
    ctx: typer.Context,
    doc_type: Annotated[Optional[str], typer.Option("--type", help="Only this document type.")] = None,
    reference: Annotated[Optional[str], typer.Option("--ref", help="Aktenzeichen.")] = None,
    correspondent: Annotated[Optional[str], typer.Option("--correspondent", help="Correspondent.")] = None,
    tags: Annotated[Optional[list[str]], typer.Option("--tag", help="Tag (repeatable: all of them).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 20,
    json_out: Annotated[bool, typer.Option("--json", help="Print records as a JSON list.")] = False,
) -> None:
    """The records, newest first."""
    query = SearchQuery(doc_type=doc_type, reference=reference, correspondent=correspondent, tags=tuple(tags or ()),
                        limit=limit)
    _answer(settings_of(ctx), query, "records", json_out)


@app.command()
def show(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar="ID", help="Record id or a unique prefix (≥ 6 characters).")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the whole record as JSON.")] = False,
) -> None:
    """One record: metadata, per-page text and where its files are."""
    settings = settings_of(ctx)
    store = ArchiveStore(settings.archive_dir)
    record = store.read_record(store.resolve(record_id))
    data = record.to_json()
    fields = record_fields(record)
    data["fields"] = fields.to_json()
    data["original_path"] = str(store.path(record.original_object))
    data["archival_path"] = str(store.path(record.archival_object or record.original_object))
    data["qa"] = record_qa(record)
    store.audit.append("read", (record.id,), {"what": "show"})
    if json_out:
        emit_json(data)
        return
    out.print(f"[bold]{escape(record.title)}[/bold]")
    for key in ("id", "source_name", "media_type", "page_count", "doc_type", "ingested_at", "engine",
                "original_path", "archival_path"):
        out.print(f"  {key:<13} {escape(str(data[key] if data[key] is not None else '–'))}")
    cls = record.classification
    confidence = f"{cls.confidence:.2f}" if cls.confidence is not None else "–"
    review = "  [yellow]needs review[/yellow]" if cls.needs_review else ""
    if cls.suggested_type:
        review += f" (suggested: {escape(cls.suggested_type)})"
    out.print(f"  {'classified':<13} {escape(cls.method)}, confidence {confidence}{review}")
    out.print(f"  {'reference':<13} {escape(cls.reference or '–')}   document date {cls.doc_date or '–'}")
    _print_fields(fields)
    _print_transfer_note(record)
    for page in record.pages:
        conf = f", confidence {page.confidence:.0f}" if page.confidence is not None else ""
        out.print(f"\n[dim]── page {page.number} ({page.source}{conf}) ──[/dim]")
        out.print(escape(page.text))


def _print_fields(fields: RecordFields) -> None:
    """Correspondent, tags, custom fields, notes and file names, one per line."""
    rows = [("correspondent", fields.correspondent or "–"), ("tags", ", ".join(fields.tags) or "–")]
    rows += [(name, value) for name, value in fields.custom]
    rows += [("note", note) for note in fields.notes]
    rows += [("file name", name) for name in fields.file_names[1:]]  # the first is source_name, shown above
    for key, value in rows:
        out.print(f"  {escape(key)[:13]:<13} {escape(value)}")


def _print_transfer_note(record) -> None:
    """The Transfervermerk: the first note of the record's own audit list."""
    note = record.audit[0] if record.audit and record.audit[0].get("event") in ("ingested", "imported") else None
    if note is None:
        return
    out.print("  [bold]Transfervermerk[/bold]")
    for key in ("operator", "at", "scanner", "profile", "schutzbedarf", "pages", "approved_by", "origin"):
        if key in note:
            out.print(f"    {key:<13} {escape(str(note[key] if note[key] not in (None, '') else '–'))}")
    anomalies = note.get("anomalies") or {}
    shown = "; ".join(f"p.{page}: {', '.join(found)}" for page, found in anomalies.items())
    out.print(f"    {'anomalies':<13} {escape(shown or 'none')}")
    checks = note.get("checks")
    if checks:
        who = "four eyes" if checks.get("four_eyes") else "second person" if checks.get("second_person") else "sample"
        pages = ", ".join(map(str, checks.get("sample_pages", []))) or "none drawn"
        out.print(f"    {'checks':<13} {checks.get('sample_share', 0):.0%} of pages ({pages}); {who}")


@app.command()
def get(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar="ID", help="Record id or unique prefix.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write, or a folder to write into.")],
    original: Annotated[bool, typer.Option("--original", help="The byte-exact original instead of the archival PDF.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Hand out a record's archival PDF (or, with --original, the original file), hash-checked.

    Into a folder, the file is named after the scan (``bauantrag.pdf``). Exit 6 when the stored
    object is missing or altered; nothing is written then.
    """
    settings = settings_of(ctx)
    store = ArchiveStore(settings.archive_dir)
    record = store.read_record(store.resolve(record_id))
    use_original = original or not record.archival_object
    rel = record.original_object if use_original else record.archival_object
    sha = record.sha256 if use_original else record.archival_sha256
    if output.is_dir():
        output = output / _file_name(record, use_original)
    store.copy_out(rel, sha, output, record_id=record.id, overwrite=force)
    store.audit.append("read", (record.id,), {"what": "get", "object": rel, "to": shown(str(output))})
    err.print(f"wrote {escape(str(output))} ({'original' if use_original else 'archival PDF/A'})", soft_wrap=True)


def _file_name(record, original: bool) -> str:
    """A safe file name for a record's copy: the scan's own name (``.pdf`` for the archival
    copy), or the id's first 12 characters when that name is unusable."""
    name = Path(str(record.source_name).replace("\\", "/")).name.strip()
    if not name or name.startswith(".") or "\0" in name or len(name.encode("utf-8", "surrogateescape")) > 200:
        name = record.id[:12] + (Path(name).suffix if name and len(Path(name).suffix) <= 8 else "")
    return name if original else f"{Path(name).stem or record.id[:12]}.pdf"


@app.command()
def verify(ctx: typer.Context, json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Recompute every hash, every manifest seal and the audit chain; report stray files (exit 6 on any)."""
    settings = settings_of(ctx)
    store = ArchiveStore(settings.archive_dir)
    total = sum(1 for _ in store.record_ids())
    with progress_bars("records") as progress:
        task = progress.add_task("verify", total=total)
        report = store.verify(lambda: progress.advance(task))
        chain = store.audit.verify()
        seal_task = progress.add_task("seals", total=total)
        seals = check_store(store, chain, lambda: progress.advance(seal_task))
    released, released_notes = check_certificates(store.root, chain.releases, chain.seals)
    findings = chain.findings + seals.findings + released
    notes = seals.notes + released_notes
    index = _index_coverage(settings, store)
    refused = _index_errors(settings)
    if json_out:
        emit_json({**asdict(report), "ok": report.ok and not findings, "index": index, "index_errors": refused,
                   "audit_entries": chain.entries, "findings": [asdict(f) for f in findings], "notes": notes})
    err.print(f"{report.records} records, {report.objects_checked} objects, {seals.manifests} manifest seals, "
              f"{chain.entries} audit entries checked")
    if index.get("unavailable"):
        err.print(f"[yellow]search index not checked:[/yellow] {escape(index['unavailable'])}")
    elif index["not_indexed"] or index["not_in_store"]:
        # The index is derived from the store: a gap is fixed by reindexing, not an integrity failure.
        err.print(f"[yellow]search index ({settings.backend}):[/yellow] {len(index['not_indexed'])} record(s) "
                  f"not indexed, {len(index['not_in_store'])} indexed without a record; run `akte reindex`")
    for item in refused:
        err.print(f"  [yellow]refused by the index[/yellow] {item['id'][:12]} ({item['attempts']} attempt(s)): "
                  f"{escape(item['reason'])}")
    for note in notes:
        err.print(f"  [yellow]note[/yellow] {escape(note)}")
    for label, items in (("missing", report.missing), ("altered", report.altered),
                         ("orphaned", report.orphaned), ("broken manifest", report.broken_manifests)):
        for item in items:
            err.print(f"  [red]{label}[/red] {escape(item)}")
    print_findings(findings)
    store.audit.append("verify", details={"records": report.records, "objects": report.objects_checked,
                                          "ok": report.ok and not findings, "findings": len(findings)})
    if not report.ok or findings:
        raise IntegrityError(
            f"integrity check failed: {len(report.missing)} missing, {len(report.altered)} altered, "
            f"{len(report.orphaned)} orphaned, {len(report.broken_manifests)} broken manifests, "
            f"{len(findings)} seal/audit/layout finding(s)"
        )
    err.print("[green]all objects intact[/green]")


def _index_coverage(settings: Settings, store: ArchiveStore) -> dict[str, Any]:
    """Which stored records the search index lacks, and which it holds without a record."""
    try:
        indexed = indexed_ids(settings)
    except AkteError as exc:
        return {"unavailable": exc.message}
    stored = set(store.record_ids())
    return {"not_indexed": sorted(stored - indexed), "not_in_store": sorted(indexed - stored)}


def _index_errors(settings: Settings) -> list[dict[str, Any]]:
    """Stored records the search index refused, with the reason the journal kept."""
    path = settings.archive_dir / "journal.sqlite"
    if not path.is_file():
        return []
    journal = Journal(path)
    try:
        return [{"id": e.record_id or e.sha256, "path": e.path, "reason": e.index_error, "attempts": e.index_attempts}
                for e in journal.index_failures()]
    finally:
        journal.close()
