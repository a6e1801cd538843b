"""``akte reindex``: the search index rebuilt from the store, which is the source of truth.

The rebuild goes into a new index version beside the live one and replaces it atomically;
an interrupted rebuild resumes where it stopped. It works on an open pipeline run
(``run.open_run``), which holds the archive's write lock and has already indexed the
records an earlier run left pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from ..config import Settings
from ..errors import ArchiveUnavailableError
from ..states import JournalState
from .base import ReindexReport, SearchBackend
from .store import ArchiveStore


class OpenRun(Protocol):
    """What the reindex needs of ``run.Run`` (the archive is locked while it exists)."""

    settings: Settings
    store: ArchiveStore
    journal: object  # ingest.journal.Journal: pending() and mark()
    backend: SearchBackend | None
    report: object  # run.BatchReport: index_message and pending_indexed


@dataclass
class ReindexOutcome:
    """What ``akte reindex`` did."""

    backend: str
    pending_indexed: int
    records: int = 0
    report: ReindexReport | None = None  # of a full rebuild


def reindex(run: OpenRun, *, pending_only: bool = False,
            progress: Callable[[int], None] | None = None) -> ReindexOutcome:
    """Unless ``pending_only``, rebuild the whole index of ``run``'s backend from the store.

    Raises:
        ArchiveUnavailableError: the search backend cannot be reached.
    """
    settings = run.settings
    if run.backend is None:
        raise ArchiveUnavailableError(run.report.index_message or f"{settings.backend} backend unavailable")
    outcome = ReindexOutcome(settings.backend, run.report.pending_indexed)
    if pending_only:
        return outcome
    outcome.report = run.backend.reindex_into_new_version(run.store.iter_records(), progress)
    outcome.records = outcome.report.bulk.indexed
    run.store.audit.append("reindex", details={"backend": settings.backend, "records": outcome.records,
                                               "switched": outcome.report.switched})
    if outcome.report.switched:
        for entry in run.journal.pending():  # the new index holds every stored record
            run.journal.mark(entry.sha256, entry.path, JournalState.ARCHIVED, entry.record_id)
    return outcome
