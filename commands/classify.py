"""``akte label``, ``akte edit``, ``akte train``, ``akte review`` and ``akte classify-eval``.

A Typer sub-app; ``cli.py`` merges it into the top level with ``app.add_typer(classify.app)``
(no name, so the commands stand beside ``ingest`` and ``search``). The root callback puts
the run's ``config.Settings`` on ``ctx.obj``. Errors are raised as ``AkteError`` subclasses;
the root group maps them to exit codes. Data goes to stdout, progress to stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..archive.base import SearchQuery
from ..archive.registry import open_backend
from ..archive.store import ArchiveStore
from ..classify.editing import RecordEdit, apply_edit
from ..classify.evaluate import evaluate, held_out_metrics
from ..classify.model import save_model
from ..classify.stage import (
    archive_model_path,
    load_stage_model,
    resolve_model_path,
)
from ..classify.train import (
    base_corpus,
    corrected_records,
    describe_examples,
    load_labelled_dir,
    train_from_examples,
)
from ..errors import InputFileError
from ..fsio import sha256_file
from ._common import settings_of
from ._errors import visible

app = typer.Typer(no_args_is_help=True, help="Document types: label, train, review, evaluate.")


def _err(message: str) -> None:
    typer.echo(message, err=True)


@app.command()
def label(
    ctx: typer.Context,
    record_id: str = typer.Argument(..., metavar="ID", help="Record id or a unique prefix (≥ 6 hex digits)."),
    doc_type: str = typer.Argument(..., metavar="TYPE", help="The correct document type."),
    note: Optional[str] = typer.Option(None, "--note", help="Why (kept in the record's audit)."),
) -> None:
    """Set a record's document type by hand (clears the review flag; audited). Same as ``akte edit ID --type``."""
    settings = settings_of(ctx)
    edit = RecordEdit(doc_type=doc_type)
    edit.check(settings.classify.taxonomy)  # before the record is looked up: the usage error comes first
    store = ArchiveStore(settings.archive_dir)
    record = store.read_record(store.resolve(record_id))
    updated = apply_edit(settings, record, edit, note=note)
    typer.echo(f"{updated.id[:12]}  {record.doc_type or '-'} → {doc_type}")


@app.command()
def edit(
    ctx: typer.Context,
    record_id: str = typer.Argument(..., metavar="ID", help="Record id or a unique prefix (≥ 6 hex digits)."),
    doc_type: Optional[str] = typer.Option(None, "--type", help="The correct document type."),
    reference: Optional[str] = typer.Option(None, "--ref", help='Aktenzeichen ("" clears it).'),
    correspondent: Optional[str] = typer.Option(None, "--correspondent", help='Correspondent ("" clears it).'),
    tags: list[str] = typer.Option([], "--tag", help="Add a tag (repeatable)."),
    untags: list[str] = typer.Option([], "--untag", help="Remove a tag (repeatable)."),
    fields: list[str] = typer.Option([], "--field", help='Custom field NAME=VALUE ("NAME=" removes it; repeatable).'),
    note: Optional[str] = typer.Option(None, "--note", help="Why (kept in the record's audit)."),
) -> None:
    """Correct what is known about a record: type, Aktenzeichen, correspondent, tags, custom fields.

    The change is kept in the record's audit with the old and new values, sealed in the audit
    chain, and the search index is updated at once.
    """
    settings = settings_of(ctx)
    pairs = []
    for given in fields:
        name, sep, value = given.partition("=")
        if not sep:
            raise typer.BadParameter(f"{given!r} is not NAME=VALUE", param_hint="--field")
        pairs.append((name.strip(), value))
    change = RecordEdit(doc_type=doc_type, reference=reference, correspondent=correspondent,
                        add_tags=tuple(tags), remove_tags=tuple(untags), fields=tuple(pairs))
    change.check(settings.classify.taxonomy)
    store = ArchiveStore(settings.archive_dir)
    record = store.read_record(store.resolve(record_id))
    updated = apply_edit(settings, record, change, note=note)
    entry = updated.audit[-1]
    if "to_type" in entry:
        typer.echo(f"{updated.id[:12]}  type: {entry['from_type'] or '-'} → {entry['to_type']}")
    for name, values in (entry.get("changes") or {}).items():
        items = values.items() if name == "fields" else [(name, values)]
        for shown_name, change_of in items:
            typer.echo(visible(f"{updated.id[:12]}  {shown_name}: {_shown(change_of['from'])} → {_shown(change_of['to'])}"))


def _shown(value) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "-"
    return value or "-"


def _text_from_archive(store: ArchiveStore):
    """``text_of`` for scans in a labelled folder: the OCR text of the same bytes in the archive.

    Scans are OCRed once, at ingest; training reuses that text instead of OCRing again.
    """

    def text_of(path: Path) -> str:
        sha = sha256_file(path)
        if not store.has_record(sha):
            raise InputFileError(str(path), "scan is not in the archive; ingest it first or give a .txt")
        return "\f".join(p.text for p in store.read_record(sha).pages)

    return text_of


@app.command()
def train(
    ctx: typer.Context,
    labelled_dir: Optional[Path] = typer.Argument(None, help="Folders per type of .txt files and/or scans."),
    base: bool = typer.Option(True, "--base/--no-base", help="Include the generated base corpus."),
    base_n: int = typer.Option(3000, "--base-n", help="Generated documents in the base corpus."),
    out: Optional[Path] = typer.Option(None, "--out", help="Model file (default: <archive>/model/classifier.zip)."),
    eval_n: int = typer.Option(300, "--eval-n", help="Held-out generated documents to measure (0: none)."),
) -> None:
    """Train the archive's model from labelled folders and clerks' corrections."""
    settings = settings_of(ctx)
    store = ArchiveStore(settings.archive_dir)
    examples = base_corpus(base_n, taxonomy=settings.classify.taxonomy) if base else []
    if labelled_dir is not None:
        examples += load_labelled_dir(labelled_dir, taxonomy=settings.classify.taxonomy,
                                      text_of=_text_from_archive(store))
    corrections = corrected_records(store.iter_records())
    examples += corrections
    _err(f"training on {len(examples)} documents ({len(corrections)} corrections): {describe_examples(examples)}")
    model = train_from_examples(examples, source=f"akte train: base={base_n if base else 0}, "
                                f"dir={labelled_dir}, corrections={len(corrections)}")
    metrics = held_out_metrics(model, settings.classify, eval_n) if eval_n else {}
    target = out or (Path(settings.classify.model_path) if settings.classify.model_path
                     else archive_model_path(settings.archive_dir))
    meta = save_model(model, target, metrics=metrics)
    typer.echo(json.dumps({"model": str(target), "labels": meta["labels"], "counts": meta["counts"],
                           "metrics": metrics}, ensure_ascii=False))


@app.command()
def review(
    ctx: typer.Context,
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many records."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table."),
) -> None:
    """List records that need a clerk's decision on their type."""
    settings = settings_of(ctx)
    store = ArchiveStore(settings.archive_dir)
    backend = open_backend(settings)
    try:
        page = backend.search(SearchQuery(needs_review=True, limit=limit))
    finally:
        backend.close()
    for hit in page.hits:
        cls = store.read_record(hit.id).classification
        row = {"id": hit.id, "title": hit.title, "suggested": cls.suggested_type, "confidence": cls.confidence}
        if as_json:
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            conf = f"{cls.confidence:.2f}" if cls.confidence is not None else "-"
            typer.echo(f"{hit.id[:12]}  {row['suggested'] or '-':<14} {conf:>5}  {visible(hit.title)}")
    _err(f"{page.total} record(s) need review" + (f"; showing {len(page.hits)}" if page.total > len(page.hits) else ""))


@app.command("classify-eval")
def classify_eval(
    ctx: typer.Context,
    labelled_dir: Path = typer.Argument(..., help="Folders per type; a truth.json beside them adds extraction."),
    as_json: bool = typer.Option(False, "--json", help="The full report as JSON."),
) -> None:
    """Measure the classifier on a labelled directory (accuracy, review rate, extraction)."""
    settings = settings_of(ctx)
    items = load_labelled_dir(labelled_dir, text_of=_text_from_archive(ArchiveStore(settings.archive_dir)))
    truth_file = labelled_dir / "truth.json"
    truth = None
    if truth_file.is_file():
        try:
            truth = json.loads(truth_file.read_bytes().decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise InputFileError(str(truth_file), f"not a readable UTF-8 JSON file ({exc})") from None
    _err(f"model: {resolve_model_path(settings.classify, settings.archive_dir)}")
    model = load_stage_model(settings.classify, settings.archive_dir)
    report = evaluate(model, items, settings=settings.classify, truth=truth)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    typer.echo(f"documents {report['n']}  accuracy {report['accuracy']}  macro-F1 {report['macro_f1']}")
    typer.echo(f"sent to review {report['abstain_rate']}  accuracy of the rest {report['accuracy_decided']}")
    for doc_type, row in report["per_type"].items():
        typer.echo(f"  {doc_type:<14} precision {row['precision']}  recall {row['recall']}  n={row['support']}")
    for kind, row in (report.get("extraction") or {}).items():
        typer.echo(f"  {kind:<10} precision {row['precision']}  recall {row['recall']}  found {row['found']}")
    typer.echo(f"ms per document {report['ms_per_document']['mean']} (p95 {report['ms_per_document']['p95']})")
