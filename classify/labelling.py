"""A person's correction of a record's document type (``akte label``, the web archive's *Prüfen*).

Both front ends call :func:`apply_label`, so a correction has one effect wherever it is made:
the type is set with confidence 1.0, the review flag cleared, an audit entry appended to the
manifest, and the record re-indexed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..archive.audit import Actor
from ..archive.registry import open_backend
from ..archive.seal import commit_record_change
from ..archive.store import ArchiveStore
from ..config import Settings
from ..errors import AkteError, ArchiveUnavailableError
from ..models import ArchiveRecord, now_iso


def relabelled(record: ArchiveRecord, doc_type: str, by: str, note: str | None = None,
               via: str | None = None) -> ArchiveRecord:
    """The record with its type set by hand and the change appended to its audit."""
    before = record.classification
    entry: dict[str, Any] = {
        "at": now_iso(),
        "action": "label",
        "by": by,
        "from_type": before.doc_type,
        "from_method": before.method,
        "from_confidence": before.confidence,
        "from_suggested": before.suggested_type,
        "to_type": doc_type,
    }
    if via:
        entry["via"] = via
    if note:
        entry["note"] = note
    classification = replace(before, doc_type=doc_type, confidence=1.0, needs_review=False, method="manual",
                             suggested_type=None)
    return replace(record, classification=classification, audit=record.audit + (entry,))


def check_type(settings: Settings, doc_type: str) -> None:
    """Refuse a type outside the taxonomy, before anything is read or written.

    Raises:
        AkteError: ``doc_type`` is not in the taxonomy.
    """
    if doc_type not in settings.classify.taxonomy:
        raise AkteError(f"unknown type {doc_type!r}; the taxonomy is: {', '.join(settings.classify.taxonomy)}")


def apply_label(settings: Settings, record: ArchiveRecord, doc_type: str, actor: Actor | None = None,
                note: str | None = None, via: str | None = None) -> ArchiveRecord:
    """Store a hand-set type for ``record`` (manifest sealed in the audit chain, then the index).

    ``actor`` is who decided (the operating-system user by default; the signed-in user and
    their client address in the web archive).

    Raises:
        AkteError: ``doc_type`` is not in the taxonomy.
        ArchiveUnavailableError: the manifest was written but the index was not (reindex).
    """
    check_type(settings, doc_type)
    actor = actor or Actor.current()
    updated = relabelled(record, doc_type, actor.name, note, via)
    entry = updated.audit[-1]
    details = {k: v for k, v in entry.items() if k not in ("at", "by")}
    commit_record_change(ArchiveStore(settings.archive_dir), updated, "label", details, actor)
    backend = open_backend(settings)
    try:
        report = backend.index([updated])
    finally:
        backend.close()
    if report.errors:
        detail = "; ".join(f"{rid[:12]}: {why}" for rid, why in report.errors.items())
        raise ArchiveUnavailableError(f"manifest updated but the index was not: {detail} (run a reindex)")
    return updated
