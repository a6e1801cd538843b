"""The states and names that are written to disk or shown to users, one enum each.

They are ``StrEnum``s: each member *is* its string, so the journal, the manifests, the
migration reports and the settings files keep the values they always had (nothing to
migrate), while code compares against members instead of repeating literals.

- :class:`JournalState`: where one input stands in ``<archive>/journal.sqlite``;
- :class:`OutcomeStatus`: how one input of a run ended (``akte ingest``'s summary);
- :class:`MigrationStatus`: how one item of a migration job ended (its report file);
- :class:`BackendName`: the search backends a setting may name.
"""

from __future__ import annotations

from enum import StrEnum


class JournalState(StrEnum):
    """One input's state in the journal: ``started ─► stored ─► archived``, or ``quarantined``."""

    STARTED = "started"  # checked, sent to OCR; a crash here redoes it
    STORED = "stored"  # manifest written, not yet in the search index ("index pending")
    ARCHIVED = "archived"  # stored and indexed
    QUARANTINED = "quarantined"  # kept in <archive>/quarantine/ with its reason


class OutcomeStatus(StrEnum):
    """How one input of a run ended."""

    ARCHIVED = "archived"
    DUPLICATE = "duplicate"  # the same bytes are already archived
    QUARANTINED = "quarantined"
    WOULD_ARCHIVE = "would-archive"  # a dry run's answer


class MigrationStatus(StrEnum):
    """How one item of ``akte migrate …`` ended, as its report lists it."""

    IMPORTED = "imported"
    SKIPPED = "skipped-as-duplicate"  # already in the archive
    FAILED = "failed"
    CONFLICT = "conflict"  # another record with this id is already here; it is left unchanged
    WOULD_IMPORT = "would-import"  # dry run
    EXPORTED = "exported"
    UNCHANGED = "skipped-unchanged"  # already exported, unchanged
    WOULD_EXPORT = "would-export"  # dry run


class BackendName(StrEnum):
    """The search backends (``backend`` in the settings, ``--backend`` on the command line)."""

    SQLITE = "sqlite"  # embedded default
    ELASTICSEARCH = "elasticsearch"

    @classmethod
    def choices(cls) -> str:
        """``'sqlite' or 'elasticsearch'``, for error messages."""
        return " or ".join(repr(m.value) for m in cls)
