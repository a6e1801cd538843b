"""What a clerk knows about a record besides its pages: reference, correspondent, tags,
custom fields, notes and file names, read under one set of names for search, show and edit.

Migrations keep these in ``ArchiveRecord.extra`` as ``(name, value)`` pairs as the source
called them: paperless-ngx as ``correspondent``, ``tag`` (one pair per tag; archives imported
before wrote one comma-joined ``tags``), ``note``, ``original_filename`` and its custom fields
by name; a legacy share by the columns of its metadata file (``Korrespondent``,
``Schlagworte``, ``Bemerkung`` …). :func:`record_fields` reads all of these spellings, so
records imported before this module only need ``akte reindex`` to become searchable by them.

Filters compare *keys*: values folded (case, umlauts) with runs of spaces made one, so
``--correspondent "stadtwerke  beispielstadt"`` finds ``Stadtwerke Beispielstadt``. Every
key a record has is one string (``tag:gebuehren``, ``field:kassenzeichen=4711``); both
backends filter by "has this key", so they answer alike.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any

from ..models import ArchiveRecord
from ..textnorm import fold
from .analysis import analyze_for_index
from .identifiers import identifier_tokens
from .query import MARK_CLOSE, MARK_OPEN, ParsedQuery, Term, make_snippet

CORRESPONDENT, TAG, NOTE, FILE_NAME = "correspondent", "tag", "note", "original_filename"

# Folded names of ``extra`` pairs → (role, whether one value may hold several, split by , or ;).
_ROLES: dict[str, tuple[str, bool]] = {
    **{n: (CORRESPONDENT, False) for n in ("correspondent", "korrespondent", "absender", "sender")},
    **{n: (TAG, False) for n in ("tag", "schlagwort", "stichwort")},
    **{n: (TAG, True) for n in ("tags", "schlagworte", "schlagwoerter", "stichworte", "stichwoerter", "keywords")},
    **{n: (NOTE, False) for n in ("note", "notes", "notiz", "notizen", "bemerkung", "bemerkungen", "anmerkung")},
    **{n: (FILE_NAME, False) for n in ("original_filename", "originaldateiname", "dateiname", "filename")},
}
_LIST_SEPARATORS = re.compile(r"[,;]")

# How a snippet names the field a query matched in (clerks read German).
LABELS = {"reference": "Aktenzeichen", CORRESPONDENT: "Korrespondent", TAG: "Tag", NOTE: "Notiz",
          FILE_NAME: "Datei"}

# Index fields of the metadata and their weight relative to the page text (1.0): a hit on a
# reference or a correspondent ranks above the same words somewhere in the text. Both
# backends use these (SQLite: bm25 column weights; Elasticsearch: field boosts).
META_WEIGHTS = {"ref_terms": 8.0, "corr_terms": 6.0, "tag_terms": 6.0, "field_terms": 6.0,
                "note_terms": 2.0, "file_terms": 2.0}

# Names a query may use for the built-in fields (``Korrespondent:Stadtwerke``), folded.
QUERY_NAMES = {
    **{n: "reference" for n in ("aktenzeichen", "az", "ref", "reference", "geschaeftszeichen")},
    **{n: CORRESPONDENT for n in ("korrespondent", "correspondent", "absender")},
    **{n: TAG for n in ("tag", "tags", "schlagwort")},
}


def value_key(value: str) -> str:
    """The form filters compare: folded, one space between words."""
    return " ".join(fold(value).split())


def name_key(name: str) -> str:
    """The form custom field names are compared in: folded letters and digits only
    (``Invoice Number``, ``invoice_number`` and ``InvoiceNumber`` are one field)."""
    return "".join(c for c in fold(name) if c.isalnum())


def reference_key(value: str) -> str:
    """Filter key of a reference."""
    return f"reference:{value_key(value)}"


def correspondent_key(value: str) -> str:
    """Filter key of a correspondent."""
    return f"{CORRESPONDENT}:{value_key(value)}"


def tag_key(value: str) -> str:
    """Filter key of a tag."""
    return f"{TAG}:{value_key(value)}"


def field_key(name: str, value: str) -> str:
    """Filter key of a custom field's value."""
    return f"field:{name_key(name)}={value_key(value)}"


@dataclass(frozen=True, slots=True)
class RecordFields:
    """The searchable metadata of one record."""

    reference: str | None = None
    correspondent: str | None = None
    tags: tuple[str, ...] = ()
    custom: tuple[tuple[str, str], ...] = ()  # (name as given, value)
    notes: tuple[str, ...] = ()
    file_names: tuple[str, ...] = ()  # the name the scan arrived with, the source system's

    def labelled(self) -> list[tuple[str, str]]:
        """``(label, value)`` pairs in display order (snippets name the field this way)."""
        out = [(LABELS["reference"], self.reference)] if self.reference else []
        if self.correspondent:
            out.append((LABELS[CORRESPONDENT], self.correspondent))
        out.extend((LABELS[TAG], t) for t in self.tags)
        out.extend(self.custom)
        out.extend((LABELS[NOTE], n) for n in self.notes)
        out.extend((LABELS[FILE_NAME], f) for f in self.file_names)
        return out

    def keys(self) -> list[tuple[str, str, str]]:
        """``(kind, filter key, value as shown)`` for every filterable value."""
        out = [("reference", reference_key(self.reference), self.reference)] if self.reference else []
        if self.correspondent:
            out.append((CORRESPONDENT, correspondent_key(self.correspondent), self.correspondent))
        out.extend((TAG, tag_key(t), t) for t in self.tags)
        out.extend(("field", field_key(n, v), v) for n, v in self.custom)
        return out

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (``akte show --json``)."""
        return {
            "reference": self.reference, "correspondent": self.correspondent, "tags": list(self.tags),
            "custom_fields": {n: v for n, v in self.custom}, "notes": list(self.notes),
            "file_names": list(self.file_names),
        }


def _role(name: str) -> tuple[str, bool] | None:
    return _ROLES.get(fold(name.strip()).replace(" ", "_").replace("-", "_"))


def is_builtin(name: str) -> bool:
    """True for a field name that means a built-in field (``Korrespondent``, ``Schlagworte`` …)."""
    return _role(name) is not None or fold(name.strip()) in QUERY_NAMES


def record_fields(record: ArchiveRecord) -> RecordFields:
    """The metadata of ``record``, whichever names its source gave the fields."""
    correspondent: str | None = None
    tags: dict[str, str] = {}
    custom: dict[str, tuple[str, str]] = {}
    notes: list[str] = []
    files: dict[str, None] = {record.source_name: None} if record.source_name else {}
    for name, value in record.extra:
        value = value.strip()
        if not value:
            continue
        role = _role(name)
        if role is None:
            custom.setdefault(name_key(name) or name, (name, value))
        elif role[0] == CORRESPONDENT:
            correspondent = correspondent or value
        elif role[0] == TAG:
            for tag in (_LIST_SEPARATORS.split(value) if role[1] else (value,)):
                if tag.strip():
                    tags.setdefault(value_key(tag), tag.strip())
        elif role[0] == NOTE:
            notes.append(value)
        else:
            files[value] = None
    return RecordFields(
        reference=record.classification.reference or None, correspondent=correspondent,
        tags=tuple(tags.values()), custom=tuple(custom.values()), notes=tuple(notes), file_names=tuple(files),
    )


def terms(*values: str) -> str:
    """Index form of field values: analysed words, their compound parts and identifier tokens,
    so a field answers words (``MIG``) and identifiers (``MIG-D3/13336``, ``13336``) alike."""
    out: list[str] = []
    for value in values:
        analysed = analyze_for_index(value)
        idents = identifier_tokens(value)
        out.extend(p for p in (analysed.body, analysed.parts, idents.compact, idents.exact) if p)
    return " ".join(out)


def file_terms(*names: str) -> str:
    """Index form of file names: the words of the name without its extension (so ``pdf`` is
    no search word) and the identifier tokens of the whole name (``0815.pdf``)."""
    out = []
    for name in names:
        analysed = analyze_for_index(PurePosixPath(name.replace("\\", "/")).stem)
        idents = identifier_tokens(name)
        out.extend(p for p in (analysed.body, analysed.parts, idents.compact, idents.exact) if p)
    return " ".join(out)


def index_fields(record: ArchiveRecord) -> dict[str, Any]:
    """The metadata part of the index document (see :func:`.base.index_document`)."""
    fields = record_fields(record)
    return {
        "ref_terms": terms(fields.reference or ""),
        "corr_terms": terms(fields.correspondent or ""),
        "tag_terms": terms(*fields.tags),
        "field_terms": terms(*(v for _, v in fields.custom)),
        "note_terms": terms(*fields.notes),
        "file_terms": file_terms(*fields.file_names),
        "keys": [(kind, key, shown) for kind, key, shown in fields.keys()],
        "correspondent": fields.correspondent,
        "tags": list(fields.tags),
        "meta": json.dumps(_snippet_fields(fields), ensure_ascii=False),
    }


def _snippet_fields(fields: RecordFields) -> list[tuple[str, str, str]]:
    # (label, value, its index terms): a snippet names a field when the query matched its terms.
    out = [(label, value, terms(value)) for label, value in fields.labelled() if label != LABELS[FILE_NAME]]
    out.extend((LABELS[FILE_NAME], f, file_terms(f)) for f in fields.file_names)
    return out


_KEEP: Any = object()


def with_fields(record: ArchiveRecord, *, reference: str | None = _KEEP, correspondent: str | None = _KEEP,
                tags: tuple[str, ...] | None = _KEEP,
                custom: tuple[tuple[str, str], ...] = ()) -> ArchiveRecord:
    """``record`` with fields replaced (``""`` or None clears one; ``custom`` pairs with an
    empty value remove that field). Pairs of other names in ``extra`` are kept as they are."""
    extra = list(record.extra)
    if correspondent is not _KEEP:
        extra = [p for p in extra if (_role(p[0]) or ("",))[0] != CORRESPONDENT]
        if correspondent and correspondent.strip():
            extra.append((CORRESPONDENT, correspondent.strip()))
    if tags is not _KEEP:
        extra = [p for p in extra if (_role(p[0]) or ("",))[0] != TAG]
        extra.extend((TAG, t.strip()) for t in dict.fromkeys(tags or ()) if t.strip())
    for name, value in custom:
        extra = [p for p in extra if _role(p[0]) is not None or name_key(p[0]) != name_key(name)]
        if value.strip():
            extra.append((name.strip(), value.strip()))
    classification = record.classification
    if reference is not _KEEP:
        classification = replace(classification, reference=(reference or "").strip() or None)
    return replace(record, extra=tuple(extra), classification=classification)


# ``Name:value`` or ``Name:"a value"`` as a whole query token; a name starts with a letter, so
# times (``10:30``) stay words, and a value does not start with "/", so URLs do too.
_FIELD_TOKEN = re.compile(r'(?<!\S)([^\W\d_][\w.-]*):(?:"([^"]*)"|([^\s"/][^\s"]*))(?!\S)')


def split_field_filters(text: str) -> tuple[str | None, list[str]]:
    """Take ``Name:value`` tokens out of a query: the words left over (None when none are)
    and the filter keys asked for. ``Aktenzeichen:``, ``Korrespondent:`` and ``Tag:`` (and
    their English names) name the built-in fields, any other name a custom field
    (``Kassenzeichen:4711``).
    """
    keys = []
    for match in _FIELD_TOKEN.finditer(text):
        name, value = match.group(1), match.group(2) if match.group(2) is not None else match.group(3)
        role = QUERY_NAMES.get(fold(name).rstrip("."))  # "Az.:" as clerks abbreviate it
        if role == "reference":
            keys.append(reference_key(value))
        elif role == CORRESPONDENT:
            keys.append(correspondent_key(value))
        elif role == TAG:
            keys.append(tag_key(value))
        else:
            keys.append(field_key(name, value))
    rest = " ".join(_FIELD_TOKEN.sub(" ", text).split())
    return rest or None, keys


def filter_keys(reference: str | None, correspondent: str | None, tags: tuple[str, ...],
                custom: tuple[tuple[str, str], ...]) -> list[str]:
    """The keys a record must have for these filters (all of them)."""
    keys = [reference_key(reference)] if reference is not None else []
    if correspondent is not None:
        keys.append(correspondent_key(correspondent))
    keys.extend(tag_key(t) for t in tags)
    keys.extend(field_key(n, v) for n, v in custom)
    return keys


def _matches(term: Term, tokens: set[str]) -> bool:
    if term.is_identifier:
        return term.stems[0] in tokens or term.exact in tokens
    if term.is_phrase:
        return all(s in tokens for s in term.stems)
    return any(s in tokens for s in (term.stems[0], *term.variants))


def hit_snippet(text: str, meta: str, parsed: ParsedQuery | None) -> tuple[str, int | None]:
    """A hit's snippet: the fields the query matched, named (``Aktenzeichen: «MIG-D3/13336»``),
    then the best window of page text when that matched too; and the page of that window.

    ``meta`` is the ``meta`` of the index document. Computed from stored values, so both
    backends give the same snippet.
    """
    body, page = make_snippet(text, parsed)
    if parsed is None:
        return body, page
    named = []
    for label, value, value_terms in json.loads(meta or "[]"):
        tokens = set(value_terms.split())
        if any(_matches(term, tokens) for clause in parsed.must for term in clause):
            marked, _ = make_snippet(value, parsed)
            named.append(f"{label}: {marked if MARK_OPEN in marked else MARK_OPEN + value + MARK_CLOSE}")
    if not named:
        return body, page
    fields = " · ".join(named)
    return (f"{fields} — {body}", page) if MARK_OPEN in body else (fields, None)
