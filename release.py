"""``akte release BATCH``: check that a batch's paper may be destroyed, and certify it.

A batch is released only when, checked now and all at once:

- the batch has documents, its page count matches the cover sheet (when one was given) and
  none of its inputs lies in quarantine;
- every document is archived (the journal says so), its manifest matches its seal in the
  audit chain, and its original and archival PDF are re-read and match their hashes;
- every document is in the search index;
- its QA is passed or approved (at *hoch* and *sehr-hoch* by someone other than the scanner);
- every page of the batch's sample is signed off as its protection need demands
  (:mod:`aktenarchiv.sampling`).

Otherwise nothing is written and every blocking reason is listed. A release writes the
certificate (:mod:`aktenarchiv.archive.certificate`) and a ``release`` entry naming every
document and sealing the certificate files and the manifests as they were. The chain is
the authority: a batch with a release entry is never released again, and its records take no
further QA decisions or sign-offs.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .archive.audit import Actor, Entry
from .archive.certificate import FORMAT, RELEASE_EVENT, certificate_paths, write_certificate
from .archive.registry import indexed_ids
from .archive.store import ArchiveStore
from .batches import Batch, batch_summary, load_batch
from .config import Settings
from .errors import AkteError, ExitCode, IntegrityError, QaClosedError
from .fsio import sha256_file
from .ingest.journal import Journal
from .models import ArchiveRecord, now_iso
from .qa import APPROVE, QaStatus, last_decision, qa_status
from .run import archive_lock
from .sampling import SamplePage, batch_sample, check_plan_of


@dataclass(frozen=True, slots=True)
class Blocker:
    """One reason a batch cannot be released yet."""

    reason: str
    record: str | None = None
    integrity: bool = False  # a hash or seal does not match: exit 6, not "not yet"

    def describe(self) -> str:
        """One line for a person."""
        return f"{self.record[:12]}: {self.reason}" if self.record else self.reason


class ReleaseBlockedError(AkteError):
    """The batch cannot be released; ``blockers`` says why (exit 4, or 6 when a hash failed)."""

    exit_code = ExitCode.PARTIAL

    def __init__(self, batch: str, blockers: list[Blocker]) -> None:
        super().__init__(f"batch {batch} cannot be released: {len(blockers)} blocking reason(s)")
        self.blockers = blockers
        if any(b.integrity for b in blockers):
            self.exit_code = ExitCode.INTEGRITY


class AlreadyReleasedError(AkteError):
    """The batch was released before; a release is final."""


@dataclass(frozen=True, slots=True)
class ReleaseCheck:
    """A batch and everything :func:`check_release` found about it."""

    batch: Batch
    records: tuple[ArchiveRecord, ...]
    sample: tuple[SamplePage, ...]
    blockers: tuple[Blocker, ...]
    manifests: dict[str, str]  # record id → SHA-256 of its manifest as checked


def batch_records(store: ArchiveStore, name: str) -> list[ArchiveRecord]:
    """The records of batch ``name``, in the order they were archived (see :func:`listed_records`)."""
    return listed_records(store, name)[0]


def listed_records(store: ArchiveStore, name: str) -> tuple[list[ArchiveRecord], list[str]]:
    """The records of batch ``name`` in the order they were archived, and the ids of those
    sealed as part of it whose manifest is gone.

    Every seal entry names its record's batch, so the audit index lists a batch's records:
    this reads those manifests, plus those of records whose latest seal predates that (none in
    an archive begun since), not the whole archive. The manifest decides: a listed record is
    only taken when it says ``name``. A manifest written outside akte has no seal and is in no
    list; ``akte verify`` reports it as unsealed.
    """
    audit = store.audit
    listed = audit.batch_members(name)
    missing = [record_id for record_id in listed if not store.has_record(record_id)]
    wanted = dict.fromkeys([*listed, *audit.unlisted()])
    records = (store.read_record(record_id) for record_id in wanted if store.has_record(record_id))
    found = sorted((r for r in records if r.batch == name), key=lambda r: (r.ingested_at, r.source_name))
    return found, missing


def release_entry(store: ArchiveStore, record_id: str) -> Entry | None:
    """The ``release`` entry naming ``record_id`` (its batch was released), or None."""
    return next((e for e in store.audit.entries_for(record_id) if e.event == RELEASE_EVENT), None)


def refuse_if_released(store: ArchiveStore, record: ArchiveRecord) -> None:
    """Raise QaClosedError when the record's batch is released: its QA is closed."""
    entry = release_entry(store, record.id)
    if entry is not None:
        raise QaClosedError(f"record {record.id[:12]} belongs to batch {entry.details.get('batch')}, released on "
                        f"{entry.at} by {entry.actor}: its quality control is closed")


def check_release(settings: Settings, store: ArchiveStore, name: str) -> ReleaseCheck:
    """Check every condition of a release (see the module docstring); nothing is written."""
    batch = load_batch(store.root, name)
    records, missing = listed_records(store, name)
    blockers = _batch_blockers(settings, store, batch, records)
    blockers.extend(Blocker("sealed in the audit chain as part of this batch, but its manifest is gone (run "
                            "`akte verify`)", record_id, integrity=True) for record_id in missing)
    journal = Journal(store.root / "journal.sqlite")
    hashed: dict[str, str | None] = {}  # documents split from one file share its original: hash it once
    manifests: dict[str, str] = {}
    try:
        for record in records:
            blockers.extend(_stored_blockers(store, journal, record, hashed, manifests))
            blockers.extend(_qa_blockers(record))
    finally:
        journal.close()
    sample = batch_sample(records)
    for page in sample:
        if page.missing:
            blockers.append(Blocker(f"sample page {page.page} (sheet {page.source_page} of the scan): {page.missing}",
                                    page.record_id))
    return ReleaseCheck(batch, tuple(records), tuple(sample), tuple(blockers), manifests)


def _batch_blockers(settings: Settings, store: ArchiveStore, batch: Batch,
                    records: list[ArchiveRecord]) -> list[Blocker]:
    blockers = []
    if not records:
        blockers.append(Blocker(f"batch {batch.name} holds no documents"))
    summary = batch_summary(batch, records)
    if summary["complete"] is False:
        blockers.append(Blocker(f"the cover sheet says {batch.expected_pages} pages, {summary['pages']} are archived "
                                f"({summary['missing_pages']} missing, {summary['extra_pages']} extra)"))
    blockers.extend(Blocker(f"input {item['source']} of this batch is in quarantine: {item['reason']}")
                    for item in _quarantined(store, batch.name))
    try:
        indexed = indexed_ids(settings)
    except AkteError as exc:
        blockers.append(Blocker(f"the search index cannot be checked: {exc.message}"))
    else:
        blockers.extend(Blocker("not in the search index (run `akte reindex --pending`)", r.id)
                        for r in records if r.id not in indexed)
    return blockers


def _quarantined(store: ArchiveStore, name: str) -> list[dict[str, Any]]:
    """Quarantined inputs of batch ``name`` not archived since (their reason.json names the batch)."""
    found = []
    journal = Journal(store.root / "journal.sqlite")
    try:
        for reason in sorted((store.root / "quarantine").glob("*/reason.json")):
            try:
                info = json.loads(reason.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if not isinstance(info, dict) or info.get("batch") != name:
                continue
            entry = journal.get(str(info.get("sha256"))) if info.get("sha256") else None
            if entry is None or entry.state == "quarantined":
                found.append(info)
    finally:
        journal.close()
    return found


def _stored_blockers(store: ArchiveStore, journal: Journal, record: ArchiveRecord,
                     hashed: dict[str, str | None], manifests: dict[str, str]) -> list[Blocker]:
    """Journal state, manifest seal, and the objects re-read and hashed now."""
    found = []
    entry = journal.get(record.id)
    if entry is None or entry.state != "archived":
        found.append(Blocker(f"not completely archived (journal: {entry.state if entry else 'no entry'})", record.id))
    manifest = sha256_file(store.manifest_path(record.id))
    manifests[record.id] = manifest
    if manifest != store.audit.sealed_hash(record.id):
        found.append(Blocker("its manifest differs from its seal in the audit chain (run `akte verify`)",
                             record.id, True))
    objects = [(record.original_object, record.sha256, "original")]
    if record.archival_object:
        objects.append((record.archival_object, record.archival_sha256, "archival PDF"))
    for rel, expected, label in objects:
        if rel not in hashed:
            try:  # confined to the object folders: a forged path is never read (/dev/zero, a FIFO)
                hashed[rel] = sha256_file(store.stored_object(rel, record.id))
            except IntegrityError as exc:  # missing, not a regular file, or outside the store: it says which
                found.append(Blocker(f"its {label}: {exc.message}", record.id, True))
                hashed[rel] = None
                continue
        if hashed[rel] != expected:
            found.append(Blocker(f"its {label} {rel} does not match its hash", record.id, True))
    return found


def _qa_blockers(record: ArchiveRecord) -> list[Blocker]:
    status = qa_status(record)
    decision = last_decision(record) or {}
    if status == QaStatus.REVIEW:
        return [Blocker("waits in the QA queue (`akte qa approve` or `reject`)", record.id)]
    if status == QaStatus.REJECTED:
        return [Blocker(f"rejected in QA ({decision.get('reason')}): rescan it in a new batch", record.id)]
    plan = check_plan_of(record)
    if decision.get("action") == APPROVE and plan.not_scanner and decision.get("by") == plan.operator:
        return [Blocker(f"approved by its scanner {plan.operator}; protection need {plan.schutzbedarf} needs "
                        "the approval of a second person", record.id)]
    return []


def release_batch(settings: Settings, name: str) -> tuple[dict[str, Any], Entry]:
    """Release batch ``name``: check everything, write its certificate, seal it in the chain.

    Returns:
        The certificate and the audit entry that seals it.

    Raises:
        BatchNotFoundError: no such batch.
        AlreadyReleasedError: the batch was released before.
        ReleaseBlockedError: some condition fails; every blocking reason is in ``blockers``.
    """
    store = ArchiveStore(settings.archive_dir)
    with archive_lock(store.root), store.audit.locked():
        check = check_release(settings, store, name)
        earlier = release_entry(store, check.records[0].id) if check.records else None
        if earlier is not None:
            raise AlreadyReleasedError(f"batch {name} was released on {earlier.at} by {earlier.actor} (certificate "
                                       f"{certificate_paths(store.root, name)[0].relative_to(store.root)})")
        if check.blockers:
            raise ReleaseBlockedError(name, list(check.blockers))
        head = store.audit.head()
        certificate = _certificate(check, head)
        json_sha, pdf_sha = write_certificate(store.root, certificate)
        entry = store.audit.append(RELEASE_EVENT, tuple(r.id for r in check.records), {
            "batch": name, "documents": len(check.records), "pages": certificate["batch"]["pages"],
            "certificate_sha256": json_sha, "pdf_sha256": pdf_sha, "manifests": check.manifests})
    return certificate, entry


def _certificate(check: ReleaseCheck, head: Entry | None) -> dict[str, Any]:
    """The certificate's content (see :mod:`aktenarchiv.archive.certificate`)."""
    summary = batch_summary(check.batch, check.records)
    actor = Actor.current()
    documents = []
    for record in check.records:
        plan = check_plan_of(record)
        decision = last_decision(record) or {}
        documents.append({
            "id": record.id, "title": record.title, "source_name": record.source_name, "pages": record.page_count,
            "source_pages": list(record.source_pages), "sha256": record.sha256,
            "archival_sha256": record.archival_sha256, "manifest_sha256": check.manifests[record.id],
            "schutzbedarf": plan.schutzbedarf, "operator": plan.operator, "qa": str(qa_status(record)),
            "approved_by": decision.get("by") if decision.get("action") == APPROVE else None,
            "sample_pages": [p.page for p in check.sample if p.record_id == record.id],
        })
    return {
        "format": FORMAT, "version": 1,
        "batch": {"name": check.batch.name, "created_at": check.batch.created_at, "documents": len(documents),
                  "pages": summary["pages"], "expected_pages": check.batch.expected_pages,
                  "blank_pages": summary["blank_pages"], "separator_pages": summary["separator_pages"],
                  "schutzbedarf": sorted({d["schutzbedarf"] for d in documents})},
        "release": {"by": actor.name, "host": actor.host, "at": now_iso(),
                    "audit_head": {"seq": head.seq if head else 0, "hash": head.hash if head else "0" * 64}},
        "qa": dict(Counter(d["qa"] for d in documents)),
        "sample": {"pages": len(check.sample),
                   "signed_by": sorted({who for p in check.sample for who in p.signed_by}),
                   "items": [p.to_json() for p in check.sample]},
        "checked": ["every document archived and journaled", "manifests match their seals in the audit chain",
                    "originals and archival PDFs re-read and hash-checked", "every document in the search index",
                    "QA passed or approved", "sample signed off per protection need",
                    "page count against the cover sheet", "no input of the batch in quarantine"],
        "documents": documents,
    }
