"""Quality control of scanned records (RESISCAN's "Qualitätskontrolle"): status and decisions.

A record's QA state is derived from what the scan station found on its pages and from the
decisions a person recorded in its audit trail, so it never drifts from the manifest:

- ``passed``: no page has an issue that needs a person (a blank back alone does not);
- ``review``: some page does, or every scanned page is blank; the record waits in ``akte qa``;
- ``approved`` / ``rejected``: a person decided (the latest decision counts); a rejected
  record needs a rescan.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Iterable

from .archive.audit import Actor
from .archive.store import ArchiveStore
from .errors import AkteError, RecordNotFoundError
from .models import ArchiveRecord, PageText, now_iso
from .ocr.pagecheck import INFORMATIONAL

APPROVE, REJECT = "qa-approve", "qa-reject"
SIGNOFF = "qa-signoff"  # a person's look at sampled pages (sampling.py)


class QaStatus(StrEnum):
    """Where a record stands in quality control."""

    PASSED = "passed"
    REVIEW = "review"
    APPROVED = "approved"
    REJECTED = "rejected"


def page_qa(page: PageText) -> dict[str, Any]:
    """One page's QA entry, as ``akte show --json`` prints it."""
    return {"number": page.number, "dpi": page.dpi, "confidence": page.confidence, "rotation": page.rotation,
            "blank": page.blank, "issues": list(page.issues)}


def checked_pages(record: ArchiveRecord) -> tuple[PageText, ...]:
    """Pages the scan station looked at (OCRed scans; not text layers or imported text)."""
    return tuple(p for p in record.pages if p.source == "ocr" and p.dpi is not None)


def _open_issues(page: PageText) -> list[str]:
    # A blank back alone (informational) is no reason to look at a page.
    return [issue for issue in page.issues if issue not in INFORMATIONAL]


def flagged_pages(record: ArchiveRecord) -> tuple[PageText, ...]:
    """The pages a person has to look at: those with an issue (a blank back alone is none),
    or every page when all of them are blank."""
    pages = checked_pages(record)
    if pages and all(p.blank for p in pages):
        return pages
    return tuple(p for p in pages if _open_issues(p))


def findings(record: ArchiveRecord) -> list[str]:
    """Why a record needs a person, e.g. ``["page 2: low-dpi", "all pages blank"]``."""
    pages = checked_pages(record)
    found = [f"page {p.number}: {', '.join(issues)}" for p in pages if (issues := _open_issues(p))]
    if pages and all(p.blank for p in pages):
        found.append("all pages blank")
    return found


def last_decision(record: ArchiveRecord) -> dict[str, Any] | None:
    """The latest QA decision in the record's audit trail, if any."""
    decisions = [entry for entry in record.audit if entry.get("action") in (APPROVE, REJECT)]
    return decisions[-1] if decisions else None


def qa_status(record: ArchiveRecord) -> QaStatus:
    """The record's QA status (see the module docstring)."""
    decision = last_decision(record)
    if decision is not None:
        return QaStatus.APPROVED if decision["action"] == APPROVE else QaStatus.REJECTED
    return QaStatus.REVIEW if findings(record) else QaStatus.PASSED


def record_qa(record: ArchiveRecord) -> dict[str, Any]:
    """``{status, pages: [...], findings, decision}`` for ``akte show --json``."""
    return {"status": str(qa_status(record)), "pages": [page_qa(p) for p in checked_pages(record)],
            "findings": findings(record), "decision": last_decision(record)}


def decide(record: ArchiveRecord, approve: bool, text: str | None, by: str | None = None,
           via: str | None = None) -> ArchiveRecord:
    """``record`` with a person's QA decision appended to its audit trail.

    Args:
        record: the record decided on.
        approve: True to approve it as it is, False to reject it (rescan needed).
        text: the note (approve, optional) or the reason (reject, required).
        by: who decided (the operating-system user by default).
        via: where, when not on the command line (``"web"``).
    """
    if not approve and not (text or "").strip():
        raise AkteError("a rejection needs a reason (--reason), e.g. \"page 2 cut off, rescan\"")
    if not checked_pages(record):
        raise AkteError(f"record {record.id[:12]} has no scanned pages; there is nothing to check")
    entry: dict[str, Any] = {
        "at": now_iso(),
        "action": APPROVE if approve else REJECT,
        "by": by or Actor.current().name,
        "from_status": str(qa_status(record)),
        "findings": findings(record),
    }
    if via:
        entry["via"] = via
    if text:
        entry["note" if approve else "reason"] = text.strip()
    return with_approvers(replace(record, audit=record.audit + (entry,)))


def approvers(record: ArchiveRecord) -> list[str]:
    """Who approved the record, in the order they first did: the people whose latest word on it
    is an approval (``qa approve``) or a sign-off of its sampled pages as fine. A rejected record
    has no approver, nor does a person who last found a page wrong."""
    latest: dict[str, bool] = {}
    for entry in record.audit:
        action = entry.get("action")
        if action in (APPROVE, REJECT, SIGNOFF):
            latest[str(entry.get("by"))] = action == APPROVE or (action == SIGNOFF and entry.get("ok") is True)
    if qa_status(record) == QaStatus.REJECTED:
        return []
    return [who for who, approved in latest.items() if approved]


def with_approvers(record: ArchiveRecord) -> ArchiveRecord:
    """``record`` with its transfer note's ``approved_by`` naming :func:`approvers` (None: nobody yet).

    The note is the first audit entry that has ``approved_by``; a record without one is returned as it is.
    """
    at = next((i for i, entry in enumerate(record.audit) if "approved_by" in entry), None)
    if at is None:
        return record
    names = approvers(record)
    note = {**record.audit[at], "approved_by": ", ".join(names) if names else None}
    return replace(record, audit=record.audit[:at] + (note,) + record.audit[at + 1:])


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A record in the QA queue and why it is there."""

    record: ArchiveRecord
    status: QaStatus
    findings: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The entry as ``akte qa --json`` lists it."""
        return {"id": self.record.id, "title": self.record.title, "status": str(self.status),
                "ingested_at": self.record.ingested_at, "findings": list(self.findings)}


def qa_queue(records: Iterable[ArchiveRecord], include_decided: bool = False) -> list[QueueEntry]:
    """Records that wait for a person's check (oldest first).

    Args:
        records: the records to look at (the whole archive, one batch's, or those a user may see).
        include_decided: also records already approved or rejected.
    """
    wanted = {QaStatus.REVIEW} | ({QaStatus.APPROVED, QaStatus.REJECTED} if include_decided else set())
    queue = []
    for record in records:
        status = qa_status(record)
        if status in wanted:
            queue.append(QueueEntry(record, status, tuple(findings(record))))
    queue.sort(key=lambda entry: entry.record.ingested_at)
    return queue


class QueueCache:
    """The QA queue of one archive, kept between calls: the web's QS page asks on every view.

    A manifest is read again only when its file changed. Every write replaces a manifest by
    a rename, so a changed one has another inode, size, modification or change time; a view
    of a large archive then costs one ``stat`` per record instead of reading and parsing every
    manifest. A manifest written in the last ``racy_seconds`` is read again on the next view too
    (git's rule for "racily clean" files: a file system may reuse a freed inode within one
    timestamp tick). Records that need no person are remembered as such; those that wait keep
    what the QS page shows, without their page texts and audit trail (a large queue would
    otherwise hold every text in memory).
    """

    def __init__(self, racy_seconds: float = 2.0) -> None:
        self._known: dict[str, tuple[tuple[int, ...] | None, QueueEntry | None]] = {}
        self._lock = threading.Lock()  # the web answers requests in several threads
        self._racy_ns = int(racy_seconds * 1e9)

    def queue(self, store: ArchiveStore) -> list[QueueEntry]:
        """What :func:`qa_queue` gives for every record of ``store`` (oldest first), with each
        entry's record shorn of its page texts and audit trail.

        Raises:
            BrokenManifestError, ArchiveUnavailableError: as :meth:`ArchiveStore.read_record`
            and :meth:`ArchiveStore.manifest_stats`.
        """
        with self._lock:
            known: dict[str, tuple[tuple[int, ...] | None, QueueEntry | None]] = {}
            racy = time.time_ns() - self._racy_ns
            complete = False
            try:
                # Each stat is taken before the read: a manifest replaced in between is read again.
                for record_id, found in store.manifest_stats():
                    stamp = (found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)
                    entry = self._known.get(record_id)
                    if entry is None or entry[0] != stamp:
                        try:
                            waiting = qa_queue([store.read_record(record_id)])
                        except RecordNotFoundError:  # gone since the listing
                            continue
                        entry = (stamp if max(found.st_mtime_ns, found.st_ctime_ns) < racy else None,
                                 _shown(waiting[0]) if waiting else None)
                    known[record_id] = entry
                complete = True
            finally:  # what was read stays known, even when a broken manifest ends this view
                self._known = known if complete else {**self._known, **known}
        queue = [entry for _, entry in known.values() if entry is not None]
        queue.sort(key=lambda entry: entry.record.ingested_at)
        return queue


def _shown(entry: QueueEntry) -> QueueEntry:
    pages = tuple(replace(page, text="") for page in entry.record.pages)
    return replace(entry, record=replace(entry.record, pages=pages, audit=()))
