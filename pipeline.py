"""The ingest pipeline, visibly in order: discover → check → ocr → classify → store → index.

Every input ends in exactly one of: archived, duplicate of an existing record, or
quarantined with its reason. The journal records each step, so a crash or ``kill -9``
resumes on the next run with nothing lost and nothing archived twice. Migrations feed the
same pipeline with items that carry metadata (:class:`ImportMeta`). What a run holds and
how it settles each input (lock, report, quarantine, index batches) is in ``run.py``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .archive.certificate import certificate_paths
from .batches import check_name, open_batch
from .classify.stage import classify_document, load_stage_model
from .config import Settings
from .errors import (
    ConfigError,
    MissingToolError,
    QuarantineReason,
    ToolFailedError,
    storage_error,
)
from .ingest.checksums import verify_checksums
from .ingest.discover import open_regular, scan
from .ingest.journal import now_iso
from .ingest.sniff import sniff
from .models import ArchiveRecord, ImportMeta, OcrResult, SourceFile, document_id
from .ocr.recognize import check_ocr, recognize_item
from .ocr.split import SplitDocument, split_documents
from .ocr.transfer import make_title, stamp_archival, transfer_note
from .run import (
    BatchReport,
    FirstCopy,
    Outcome,
    ProgressSink,
    Run,
    copy_outcome,
    internal_error,
    open_run,
    quarantine,
    queue_index,
    settle,
)
from .states import JournalState, OutcomeStatus
from .textnorm import shown
from .workers import Done, InlinePool, WorkerPool

Item = tuple[Path, ImportMeta | None]


def ingest(
    paths: Iterable[str | Path], settings: Settings, progress: ProgressSink | None = None,
    batch: str | None = None, expected_pages: int | None = None,
) -> BatchReport:
    """Archive every file under ``paths``; returns what happened to each.

    All inputs are checked first, so the progress bar knows the number of pages. Entries
    that must not be read (a FIFO, a symlink leaving its folder) are quarantined by reason
    only. Raises InputFileError for a path that does not exist or lies inside the archive.
    With ``batch``, the records belong to that scan batch (created, or reopened on a rerun)
    and ``expected_pages`` is the operator's page count for its completeness check.
    """
    files = list(scan(list(paths), archive=settings.archive_dir))
    check_ocr(settings.ocr)
    load_stage_model(settings.classify, settings.archive_dir)  # a broken model fails here, not mid-batch
    if batch is not None:
        check_name(batch)
        if certificate_paths(settings.archive_dir, batch)[0].is_file():
            raise ConfigError(f"batch {batch} is released (its paper may be destroyed) and takes no more documents: "
                              "scan into a new batch")
    with open_run(settings, progress) as run:
        if batch is not None:
            run.batch = open_batch(settings.archive_dir, batch, expected_pages).name
        run.progress.phase("checking", len(files), "files")
        todo = []
        for found in files:
            if found.problem:
                quarantine(run, found.path, None, found.problem, keep_copy=False)
            elif checked := _check(run, found.path, None):
                todo.append(checked)
            run.progress.advance(1, found.path.name)
        run.progress.phase(f"OCR {len(todo)} file(s)", sum(s.page_count for s, _ in todo), "pages")
        _process(run, iter(todo), len(todo))
    return run.report


def ingest_items(
    items: Iterable[Item], settings: Settings, progress: ProgressSink | None = None, dry_run: bool = False,
    sink: Callable[[Outcome], None] | None = None,
) -> BatchReport:
    """Archive a stream of (file, metadata) items, as migrations produce them.

    Items are checked and processed as they come, with a bounded number in flight, so a
    job of 100 000 items needs no more memory than one of ten.
    """
    check_ocr(settings.ocr)
    load_stage_model(settings.classify, settings.archive_dir)
    with open_run(settings, progress, dry_run) as run:
        run.per_item = True
        run.report.sink = sink
        checked = (c for c in (_check(run, path, meta) for path, meta in items) if c)
        if dry_run:
            for source, meta in checked:
                settle(run, source.sha256, Outcome(source.path, OutcomeStatus.WOULD_ARCHIVE, source.sha256,
                                                   pages=source.page_count, origin=meta and meta.origin))
                run.advance(source, source.path)
        else:
            _process(run, checked)
    return run.report


def _check(run: Run, path: Path, meta: ImportMeta | None) -> tuple[SourceFile, ImportMeta | None] | None:
    """Hash and check one input; settle duplicates and bad files right away (then None)."""
    checked = _check_one(run, path, meta)
    if checked is None and run.per_item:
        run.advance(None, path)
    return checked


def _check_one(run: Run, path: Path, meta: ImportMeta | None) -> tuple[SourceFile, ImportMeta | None] | None:
    origin = meta.origin if meta else None
    try:
        with open_regular(path) as fh:  # a FIFO swapped in since discovery must not block us
            size = os.fstat(fh.fileno()).st_size
            sha = hashlib.file_digest(fh, "sha256").hexdigest()
    except QuarantineReason as exc:
        quarantine(run, path, None, exc.reason, origin, keep_copy=False)
        return None
    except OSError as exc:
        quarantine(run, path, None, f"cannot read file: {exc.strerror or exc}", origin)
        return None
    first = run.seen.get(sha)
    if first is not None:
        # A copy within this run ends as its first copy does: a duplicate of the record it
        # became, or quarantined with it. Until that is known, it waits.
        if first.outcome is None:
            first.waiting.append((str(path), origin))
        else:
            run.report.add(copy_outcome(first.outcome, str(path), origin))
        return None
    run.seen[sha] = FirstCopy(str(path))
    entry = run.journal.get(sha)
    split_into = entry.record_id if entry is not None and entry.state == JournalState.ARCHIVED else None
    if split_into and split_into != sha and run.store.has_record(split_into):
        # A batch file split into documents: its first document's record stands for it.
        settle(run, sha, Outcome(str(path), OutcomeStatus.DUPLICATE, split_into,
                                 "already archived (split into documents)", origin=origin))
        return None
    if run.store.has_record(sha):
        if entry is not None and entry.state in (JournalState.STARTED, JournalState.STORED) and not run.dry_run:
            # A crash hit between writing the manifest and finishing: finish now.
            queue_index(run, sha, str(path), run.store.read_record(sha))
            settle(run, sha, Outcome(str(path), OutcomeStatus.ARCHIVED, sha, origin=origin))
        else:
            settle(run, sha, Outcome(str(path), OutcomeStatus.DUPLICATE, sha, "already archived", origin=origin))
        return None
    try:
        if meta is not None:
            verify_checksums(path, sha, meta)
        return sniff(path, sha, size, run.settings.ocr), meta
    except QuarantineReason as exc:
        quarantine(run, path, sha, exc.reason, origin)
        return None
    except Exception as exc:  # a decoder tripping over a malformed file must not end the batch
        quarantine(run, path, sha, internal_error(run, "checking", path, exc), origin)
        return None



def _process(run: Run, checked: Iterator[tuple[SourceFile, ImportMeta | None]], count: int | None = None) -> None:
    """Recognise in worker processes; classify, store and index here, in order of completion.

    Workers only read inputs and write into their own work folders; every write to the
    archive and the journal happens in this process, one record at a time. With fewer
    documents than workers, each document's OCR gets the spare cores (ocrmypdf --jobs).
    On Ctrl-C or a fatal error the workers and their OCR runs are stopped at once; what was
    not stored stays "started" in the journal and the next run redoes it. With
    ``ocr.in_process`` the jobs run here instead, one at a time.
    """
    workers = 1 if run.settings.ocr.in_process else max(1, min(run.settings.workers, count or run.settings.workers))
    jobs = max(1, (os.cpu_count() or 1) // workers)
    workroot = Path(tempfile.mkdtemp(prefix="work-", dir=_workdir(run.store.root)))
    try:
        with InlinePool() if run.settings.ocr.in_process else WorkerPool(workers) as pool:
            exhausted = False
            while pool.busy or not exhausted:
                while not exhausted and pool.has_room():
                    nxt = next(checked, None)
                    if nxt is None:
                        exhausted = True
                        break
                    source, meta = nxt
                    run.journal.mark(source.sha256, source.path, JournalState.STARTED)
                    pool.submit(nxt, recognize_item, source, meta, run.settings.ocr, workroot / source.sha256, jobs,
                                run.settings.scan)
                for done in pool.wait():
                    source, meta = done.key
                    _finish(run, done, source, meta)
                    shutil.rmtree(workroot / source.sha256, ignore_errors=True)
                    run.advance(source, source.path)
    finally:
        shutil.rmtree(workroot, ignore_errors=True)


def _finish(run: Run, done: Done, source: SourceFile, meta: ImportMeta | None) -> None:
    origin = meta.origin if meta else None
    try:
        if done.error is not None:
            raise done.error
        ocr = done.result
    except MissingToolError:
        raise
    except ToolFailedError as exc:
        quarantine(run, Path(source.path), source.sha256, f"OCR failed: {exc.message}", origin)
    except Exception as exc:  # never lose a file to a bug: keep it, say why
        quarantine(run, Path(source.path), source.sha256, internal_error(run, "OCR", source.path, exc), origin)
    else:
        try:
            _archive(run, source, meta, ocr)
        except QuarantineReason as exc:  # e.g. the file changed after it was checked
            quarantine(run, Path(source.path), source.sha256, exc.reason, origin)
        except OSError as exc:  # disk full, archive gone: stop; the journal resumes the batch
            raise storage_error(run.store.root, f"while storing {shown(source.path)}", exc) from None


def _workdir(root: Path) -> Path:
    work = root / "work"
    work.mkdir(parents=True, exist_ok=True)
    return work


def _archive(run: Run, source: SourceFile, meta: ImportMeta | None, ocr: OcrResult) -> None:
    """Classify, store and index one recognised file: one record, or one per document of a
    batch file with separator sheets (``scan.split = "separator"``)."""
    store = run.store
    documents = None
    work = Path(tempfile.mkdtemp(prefix="split-", dir=_workdir(store.root)))
    try:
        if run.settings.scan.split == "separator" and meta is None:
            documents = split_documents(ocr, run.settings.scan, work)
        planned = partial(run.journal.plan_object, source.sha256)
        original = store.put_original(Path(source.path), source.sha256, planned)
        records = []
        for doc in documents or (None,):
            doc_id = document_id(source.sha256, doc.pages) if doc else source.sha256
            if doc is not None and store.has_record(doc_id):
                # Written before a crash: keep it (and its archival PDF) rather than make a second one.
                record = store.read_record(doc_id)
            else:
                record = _record(run, source, meta, doc.ocr if doc else ocr, original, doc, len(documents or ()))
                if doc is not None:  # its objects are planned under the file's hash: see remove_leftovers
                    planned(store.manifest_path(record.id).relative_to(store.root).as_posix())
                run.seals.add(record, "imported" if meta else "ingested",
                              {"source_path": shown(source.path), "pages": record.page_count,
                               "origin": meta and meta.origin})
            run.seals.then(partial(_stored, run, source, record, doc is not None))
            records.append(record)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    run.seals.then(partial(_archived, run, source, meta, records, documents is not None))


def _stored(run: Run, source: SourceFile, record: ArchiveRecord, split: bool) -> None:
    """Journal and index a record whose manifest is live (its audit entry durable)."""
    if split:
        # Its objects are referenced by a sealed record now: a rerun after a crash keeps them.
        run.journal.forget_objects(source.sha256)
    commit(run, source.path, record)


def _archived(run: Run, source: SourceFile, meta: ImportMeta | None, records: list[ArchiveRecord],
              split: bool) -> None:
    """Report an input archived once all its records are."""
    if split:
        # The batch file is done once all its documents are: a rerun finds it by its hash.
        run.journal.mark(source.sha256, source.path, JournalState.ARCHIVED, records[0].id)
    settle(run, source.sha256, Outcome(source.path, OutcomeStatus.ARCHIVED, records[0].id, pages=source.page_count,
                                       origin=meta.origin if meta else None))


def _record(
    run: Run, source: SourceFile, meta: ImportMeta | None, ocr: OcrResult, original: str,
    document: SplitDocument | None = None, of: int = 1,
) -> ArchiveRecord:
    """The record of ``source`` (or of one ``document`` split from it), its archival PDF stamped and stored."""
    model = load_stage_model(run.settings.classify, run.settings.archive_dir)  # cached per file
    classification = classify_document(ocr, run.settings.classify, model=model)
    if meta is not None:
        known = {k: v for k, v in (("doc_type", meta.doc_type), ("reference", meta.reference),
                                   ("doc_date", meta.doc_date)) if v}
        if meta.doc_type:
            known.update(confidence=1.0, needs_review=False, method="import", suggested_type=None)
        classification = replace(classification, **known)
    if document is not None and document.reference:
        classification = replace(classification, reference=document.reference)
    pages, separators = (document.pages, document.separators) if document is not None else ((), ())
    # Names in the manifest are printable text; a split document's note counts its own pages.
    named = replace(source, path=shown(source.path), page_count=len(pages) or source.page_count)
    title = (meta.title if meta and meta.title else None) or make_title(named, ocr)
    note = transfer_note(named, meta, run.settings, ocr)
    if pages:
        title = f"{title} (S. {pages[0]}–{pages[-1]})"
        note["split"] = f"document of pages {pages[0]}–{pages[-1]} of {named.name}, one of {of}"
    note = stamp_archival(ocr, meta, note)
    archival, archival_sha = (None, None)
    record_id = document_id(source.sha256, pages) if pages else source.sha256
    if ocr.archival_pdf:
        # Planned under the record's own id: a split document's PDF stays only if its manifest does.
        archival, archival_sha = run.store.put_archival(
            Path(ocr.archival_pdf), partial(run.journal.plan_object, record_id))
    return ArchiveRecord(
        id=record_id,
        sha256=source.sha256,
        source_name=named.name,
        media_type=source.media_type,
        size=source.size,
        page_count=named.page_count,
        ingested_at=now_iso(),
        title=title,
        original_object=original,
        archival_object=archival,
        archival_sha256=archival_sha,
        pages=ocr.pages,
        engine=ocr.engine,
        classification=classification,
        audit=(note,),
        archival_format=ocr.archival_format,
        extra=meta.extra if meta else (),
        batch=run.batch,
        source_pages=pages,
        separator_pages=separators,
    )


def commit(run: Run, path: str, record: ArchiveRecord) -> None:
    """Journal a record whose manifest was just written, then index it."""
    run.journal.mark(record.id, path, JournalState.STORED, record.id)
    queue_index(run, record.id, path, record)


