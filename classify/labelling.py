"""A person's correction of a record's document type (``akte label``, the web archive's *Prüfen*).

A thin front to :func:`.editing.apply_edit`, so a correction has one effect wherever it is
made: the type is set with confidence 1.0, the review flag cleared, an audit entry appended
to the manifest, and the record re-indexed.
"""

from __future__ import annotations

from ..archive.audit_entries import Actor
from ..config import Settings
from ..models import ArchiveRecord
from .editing import RecordEdit, apply_edit


def apply_label(settings: Settings, record: ArchiveRecord, doc_type: str, actor: Actor | None = None,
                note: str | None = None, via: str | None = None) -> ArchiveRecord:
    """Store a hand-set type for ``record`` (manifest sealed in the audit chain, then the index).

    ``actor`` is who decided (the operating-system user by default; the signed-in user and
    their client address in the web archive).

    Raises:
        AkteError: ``doc_type`` is not in the taxonomy.
        ArchiveUnavailableError: the manifest was written but the index was not (reindex).
    """
    return apply_edit(settings, record, RecordEdit(doc_type=doc_type), actor, note, via)
