"""Need-to-know access to the archive: every read of the web layer goes through here.

A user's scope is an allow-list of document types (``""`` = unclassified) that becomes part
of the backend query (``SearchQuery.doc_types``), so hit lists, counts and cursors can only
ever contain records inside it; a single record outside it is reported exactly like a record
that does not exist. Every read is written to the read log before anything is handed out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..archive.audit import Actor
from ..archive.base import SearchQuery
from ..archive.registry import open_backend
from ..archive.store import ArchiveStore, is_record_id
from ..classify.labelling import apply_label
from ..config import Settings
from ..errors import ConfigError, RecordNotFoundError
from ..models import SUFFIXES, ArchiveRecord, SearchPage
from ..qa import QueueCache, QueueEntry
from ..qa_decisions import record_decision
from .readlog import log_read
from .users import Role, User

UNCLASSIFIED = ""


def scope_for(user: User, settings: Settings) -> tuple[str, ...] | None:
    """The document types ``user`` may see; None for admins (everything).

    Types given to the user replace the role's default; records staff always see unclassified
    records too (they sort them), clerks never. ``personal`` only appears where it was given.
    """
    if user.role is Role.ADMIN:
        return None
    defaults = settings.web.records_types if user.role is Role.RECORDS else settings.web.clerk_types
    types = tuple(user.types) if user.types is not None else tuple(defaults)
    if user.role is Role.RECORDS and UNCLASSIFIED not in types:
        types += (UNCLASSIFIED,)
    if user.role is Role.CLERK:
        types = tuple(t for t in types if t != UNCLASSIFIED)
    return types


def check_record_id(record_id: str) -> str:
    """A full record id (64 lower-case hex digits); anything else is not found."""
    if not is_record_id(record_id):
        raise RecordNotFoundError("no such record")
    return record_id


@dataclass(frozen=True, slots=True)
class Download:
    """A file handed out: where it is, what to call it, its media type."""

    path: Path
    filename: str
    media_type: str


class ScopedArchive:
    """The archive as one signed-in user may see it."""

    def __init__(self, settings: Settings, user: User, channel: str, client: str, queue: QueueCache) -> None:
        self.settings = settings
        self.user = user
        self.channel = channel  # "web" or "api", for the read log
        self.actor = Actor(user.name, client)  # who reads, from which address
        self.scope = scope_for(user, settings)
        self.store = ArchiveStore(settings.archive_dir)
        self.queue = queue  # the application's, which remembers unchanged manifests

    def allows(self, doc_type: str | None) -> bool:
        """True when records of this type are inside the user's scope."""
        return self.scope is None or (doc_type or UNCLASSIFIED) in self.scope

    def assignable_types(self) -> tuple[str, ...]:
        """Types this user may set by hand (a correction must not move a record out of reach)."""
        return tuple(t for t in self.settings.classify.taxonomy if self.allows(t))

    def search(self, query: SearchQuery, with_counts: bool = False) -> tuple[SearchPage, dict | None]:
        """One page of hits (and facet counts) inside the scope.

        Raises:
            ConfigError: the query or cursor is malformed (raised by the backends themselves:
                any other exception is a fault of the archive or a bug, never the request's).
            ArchiveUnavailableError: the search index cannot be read.
        """
        scoped = replace(query, doc_types=self.scope)
        backend = open_backend(self.settings)
        try:
            # One backend call for hits and facet counts (one query parse, one FTS pass less).
            page, counts = backend.search_with_counts(scoped) if with_counts else (backend.search(scoped), None)
        finally:
            backend.close()
        return page, counts

    def record(self, record_id: str, action: str = "view") -> ArchiveRecord:
        """A record inside the scope, its read logged; RecordNotFoundError otherwise."""
        record = self._visible(record_id)
        self.log(action, record.id)
        return record

    def log(self, action: str, record_id: str | None = None, **detail) -> None:
        """Write one read of this user to the audit log (before it is answered)."""
        log_read(self.settings.archive_dir, self.actor, self.channel, action, record_id, **detail)

    def _visible(self, record_id: str) -> ArchiveRecord:
        check_record_id(record_id)
        if not self.store.has_record(record_id):
            raise RecordNotFoundError("no such record")
        record = self.store.read_record(record_id)
        if not self.allows(record.doc_type):
            raise RecordNotFoundError("no such record")  # the same answer as for a missing one
        return record

    def download(self, record_id: str, original: bool = False) -> Download:
        """The archival PDF (or, for records staff and admins, the original) of a record in scope."""
        if original and self.user.role is Role.CLERK:
            raise RecordNotFoundError("no such file")
        record = self._visible(record_id)
        if record.source_pages and (original or not record.archival_object) and self.scope is not None:
            # A document split from a batch file: the file holds its neighbours' pages too, which
            # may lie outside the scope (admins alone see every type).
            raise RecordNotFoundError("no such file")
        self.log("download-original" if original else "download", record.id)
        if original or not record.archival_object:
            rel, media_type = record.original_object, record.media_type
        else:
            rel, media_type = record.archival_object, "application/pdf"
        suffix = SUFFIXES.get(media_type, ("",))[0]  # from the detected type, never from a file name
        return Download(self.store.stored_object(rel, record.id), f"{record.id[:12]}{suffix}", media_type)

    def archival_pdf(self, record_id: str, page: int) -> tuple[ArchiveRecord, Path]:
        """A record in scope and the PDF its page images come from (read of that page logged)."""
        record = self._visible(record_id)
        if not 1 <= page <= record.page_count or (record.source_pages and not record.archival_object):
            raise RecordNotFoundError("no such page")  # a split document's page n is not page n of its file
        self.log("page-image", record.id, page=page)
        return record, self.store.stored_object(record.archival_object or record.original_object, record.id)

    def review_queue(self, limit: int = 20) -> SearchPage:
        """Records inside the scope that wait for a person's decision on their type."""
        page, _ = self.search(SearchQuery(needs_review=True, limit=limit))
        return page

    def trail(self, record_id: str) -> list:
        """Every audit entry naming a record in scope (changes and reads): for admins' eyes."""
        record = self._visible(record_id)
        return self.store.audit.entries_for(record.id)

    def label(self, record_id: str, doc_type: str) -> ArchiveRecord:
        """Set a record's type by hand, as ``akte label`` does, audited with this user's name."""
        record = self._visible(record_id)
        if doc_type not in self.assignable_types():
            raise ConfigError(f"type {doc_type!r} is not one this user may assign")
        return apply_label(self.settings, record, doc_type, self.actor, via=self.channel)

    def qa_queue(self) -> list[QueueEntry]:
        """Records inside the scope whose scans wait for a person's check (records staff, admins).

        Raises:
            RecordNotFoundError: the user is a clerk (the queue is not theirs to see).
        """
        self._records_staff()
        queue = [entry for entry in self.queue.queue(self.store) if self.allows(entry.record.doc_type)]
        self.log("qa-queue", records=len(queue))
        return queue

    def qa_decide(self, record_id: str, approve: bool, text: str | None) -> ArchiveRecord:
        """Approve or reject a record's scans, as ``akte qa approve|reject`` does, audited with
        this user's name and address.

        Raises:
            RecordNotFoundError: a clerk, or a record outside the scope.
            ConfigError: a rejection without a reason.
        """
        self._records_staff()
        record = self._visible(record_id)
        if not approve and not (text or "").strip():
            raise ConfigError("Bitte einen Grund für die Ablehnung angeben.")
        return record_decision(self.store, record, approve, text, self.actor, via=self.channel)

    def _records_staff(self) -> None:
        if self.user.role is Role.CLERK:
            raise RecordNotFoundError("no such page")
