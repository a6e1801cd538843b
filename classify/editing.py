"""A person's correction of a record: its document type and what a clerk knows about it
(reference, correspondent, tags, custom fields) — ``akte edit`` and ``akte label``.

Every front end calls :func:`apply_edit`, so a correction has one effect wherever it is
made: the manifest is rewritten with the change appended to the record's own audit list,
sealed by an entry in the audit chain, and the record is re-indexed at once. A type set by
hand gets confidence 1.0 and leaves the review queue (``method == "manual"``, which training
reads as a correction).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from ..archive.audit_entries import Actor
from ..archive.recordfields import is_builtin, name_key, record_fields, value_key, with_fields
from ..archive.registry import open_backend
from ..archive.seal import update_record
from ..archive.store import ArchiveStore
from ..config import Settings
from ..errors import AkteError, ArchiveUnavailableError
from ..models import ArchiveRecord, now_iso

_MAX_VALUE = 1000  # characters of one field value: a reference or a name, not a document
# Control characters (C0, DEL, C1), bidi overrides and line separators: a value must read as stored.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True, slots=True)
class RecordEdit:
    """What to change; None leaves a field as it is, ``""`` clears it."""

    doc_type: str | None = None
    reference: str | None = None
    correspondent: str | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = field(default=())  # custom (name, value); value "" removes

    def check(self, taxonomy: tuple[str, ...]) -> None:
        """Refuse values no record should get.

        Raises:
            AkteError: an unknown type, a value too long or with control characters, an empty
                tag or field name, or a custom field named like a built-in one.
        """
        if self.doc_type is not None and self.doc_type not in taxonomy:
            raise AkteError(f"unknown type {self.doc_type!r}; the taxonomy is: {', '.join(taxonomy)}")
        values = [self.reference, self.correspondent, *self.add_tags, *self.remove_tags,
                  *(x for pair in self.fields for x in pair)]
        for value in values:
            if value is not None and (len(value) > _MAX_VALUE or _CONTROL.search(value)):
                raise AkteError(f"value {value[:40]!r}: at most {_MAX_VALUE} characters, no control characters")
        if any(not t.strip() for t in (*self.add_tags, *self.remove_tags)):
            raise AkteError("a tag must not be empty")
        for name, _ in self.fields:
            if not name_key(name):
                raise AkteError(f"field name {name!r} has no letters or digits")
            if is_builtin(name):
                raise AkteError(f"{name!r} is a built-in field: use its own option (--ref, --correspondent, --tag)")

    @property
    def empty(self) -> bool:
        """True when nothing would change."""
        return self == RecordEdit()


def edited(record: ArchiveRecord, edit: RecordEdit, by: str, note: str | None = None,
           via: str | None = None) -> ArchiveRecord:
    """The record with ``edit`` applied and the change appended to its audit list.

    The entry keeps each changed value before and after (``from_type``/``to_type`` for the
    type, as ``akte label`` always wrote them; ``changes`` for the fields).
    """
    before = record_fields(record)
    tags = before.tags
    if edit.add_tags or edit.remove_tags:
        drop = {value_key(t) for t in edit.remove_tags}
        tags = tuple(t for t in (*tags, *(t.strip() for t in edit.add_tags)) if value_key(t) not in drop)
    updated = with_fields(
        record,
        **({"reference": edit.reference} if edit.reference is not None else {}),
        **({"correspondent": edit.correspondent} if edit.correspondent is not None else {}),
        **({"tags": tags} if tags != before.tags else {}),
        custom=edit.fields,
    )
    changes = _field_changes(before, record_fields(updated))
    entry: dict[str, Any] = {"at": now_iso(), "action": "edit" if changes else "label", "by": by}
    if edit.doc_type is not None:
        cls = record.classification
        entry.update(from_type=cls.doc_type, from_method=cls.method, from_confidence=cls.confidence,
                     from_suggested=cls.suggested_type, to_type=edit.doc_type)
        updated = replace(updated, classification=replace(
            updated.classification, doc_type=edit.doc_type, confidence=1.0, needs_review=False, method="manual",
            suggested_type=None))
    if changes:
        entry["changes"] = changes
    if via:
        entry["via"] = via
    if note:
        entry["note"] = note
    return replace(updated, audit=record.audit + (entry,))


def _field_changes(before, after) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in ("reference", "correspondent", "tags"):
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes[name] = {"from": list(old) if name == "tags" else old, "to": list(new) if name == "tags" else new}
    old_fields, new_fields = dict(before.custom), dict(after.custom)
    fields = {n: {"from": old_fields.get(n), "to": new_fields.get(n)}
              for n in dict.fromkeys([*old_fields, *new_fields]) if old_fields.get(n) != new_fields.get(n)}
    if fields:
        changes["fields"] = fields
    return changes


def apply_edit(settings: Settings, record: ArchiveRecord, edit: RecordEdit, actor: Actor | None = None,
               note: str | None = None, via: str | None = None) -> ArchiveRecord:
    """Store a person's correction of ``record`` (manifest sealed in the audit chain, then the index).

    ``actor`` is who decided (the operating-system user by default).

    Raises:
        AkteError: the edit is refused (:meth:`RecordEdit.check`) or changes nothing.
        ArchiveUnavailableError: the manifest was written but the index was not (reindex).
    """
    edit.check(settings.classify.taxonomy)
    if edit.empty:
        raise AkteError("nothing to change: give --type, --ref, --correspondent, --tag, --untag or --field")
    actor = actor or Actor.current()

    def change(current: ArchiveRecord) -> ArchiveRecord:
        updated = edited(current, edit, actor.name, note, via)
        if "to_type" not in updated.audit[-1] and "changes" not in updated.audit[-1]:
            raise AkteError(f"record {record.id[:12]} already has these values; nothing changed")
        return updated

    updated = update_record(ArchiveStore(settings.archive_dir), record.id, None, change, actor)  # "label" or "edit"
    backend = open_backend(settings)
    try:
        report = backend.index([updated])
    finally:
        backend.close()
    if report.errors:
        detail = "; ".join(f"{rid[:12]}: {why}" for rid, why in report.errors.items())
        raise ArchiveUnavailableError(f"manifest updated but the index was not: {detail} (run a reindex)")
    return updated
