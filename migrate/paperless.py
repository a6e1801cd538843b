"""Items from a paperless-ngx export (``document_exporter``), streamed.

The export is a folder with ``manifest.json``: one JSON array of Django objects —
correspondents, tags, document types, custom fields, then documents, notes and custom
field instances — and the files each document names under ``__exported_file_name__``
(original) and ``__archive_file_name__`` (paperless's PDF/A). With ``--split-manifest``
each document has its own ``*-manifest.json`` instead.

The manifest is read twice, element by element: first the small lookup tables (kept in a
temporary SQLite database, so a large export stays out of memory), then the documents.
paperless's checksums (MD5 in its exports, SHA-256 accepted too) are checked on import.
"""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
from datetime import date
from pathlib import Path
from typing import Any, Iterator

from ..archive.confine import MissingFileError, OutsideError, confined_file, inside
from ..errors import InputFileError
from ..models import ImportMeta
from ..textnorm import fold
from .folder import Failed
from .jsonstream import JsonStreamError, iter_json_array

FILE_KEY = "__exported_file_name__"
ARCHIVE_KEY = "__archive_file_name__"
_LOOKUPS = {"documents.correspondent", "documents.tag", "documents.documenttype", "documents.customfield"}
# paperless document type names → our taxonomy; German compounds match by their ending.
TYPE_SYNONYMS = {
    "rechnung": ("rechnung", "invoice", "bill", "quittung", "receipt", "gutschrift"),
    "vertrag": ("vertrag", "contract", "agreement", "vereinbarung"),
    "bescheid": ("bescheid", "notice", "decision", "verfuegung"),
    "antrag": ("antrag", "application", "request"),
    "widerspruch": ("widerspruch", "objection", "appeal", "einspruch"),
    "protokoll": ("protokoll", "minutes", "niederschrift"),
    "urkunde": ("urkunde", "certificate", "zeugnis"),
    "personal": ("personal", "personalakte", "personnel", "hr"),
    "korrespondenz": ("korrespondenz", "brief", "letter", "schreiben", "correspondence", "email", "mail"),
    "sonstiges": ("sonstiges", "other", "misc", "diverses"),
}
_REFERENCE_FIELDS = {"aktenzeichen", "az", "reference", "geschaeftszeichen", "file reference"}
_LINKS = {"documents.customfieldinstance": ("document", "field"), "documents.note": ("document",)}
_HEX_DIGEST = re.compile(r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{64})$")


def map_type(name: str | None, taxonomy: tuple[str, ...]) -> str | None:
    """Our document type for a paperless type name, or None if none fits."""
    if not name:
        return None
    folded = fold(name).replace("-", "").replace(" ", "")
    for ours, synonyms in TYPE_SYNONYMS.items():
        if ours in taxonomy and any(folded == s or (len(s) > 4 and folded.endswith(s)) for s in synonyms):
            return ours
    return folded if folded in taxonomy else None


def _manifests(export: Path) -> list[Path]:
    """``manifest.json`` and any split manifests, each a regular file inside ``export``."""
    if not (export / "manifest.json").exists():
        raise InputFileError(str(export), "no manifest.json: not a paperless-ngx export folder")
    try:
        return [inside(export, path, str(path.relative_to(export)))
                for path in (export / "manifest.json", *sorted(export.rglob("*-manifest.json")))]
    except OutsideError as exc:
        raise InputFileError(str(export), f"unusable manifest: {exc}") from None


def _elements(paths: list[Path]) -> Iterator[Any]:
    for path in paths:
        try:
            yield from iter_json_array(path)
        except JsonStreamError as exc:
            raise InputFileError(str(path), str(exc)) from None


def _model(element: Any) -> str | None:
    """The Django model an element names, or None for anything that is not an element."""
    model = element.get("model") if isinstance(element, dict) else None
    return model if isinstance(model, str) else None


def _is_id(value: Any) -> bool:
    """True for a Django primary key as paperless exports it: an integer."""
    return isinstance(value, int) and not isinstance(value, bool)


def _check(fields: dict, **kinds: tuple[type, ...]) -> None:
    """Raise ValueError naming the first field of ``fields`` whose value has the wrong type."""
    for name, allowed in kinds.items():
        value = fields.get(name)
        if value is not None and (not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed)):
            raise ValueError(f"field {name!r} has an unexpected value {value!r:.60}")


def _lookup_fields(element: dict) -> dict:
    """The checked ``fields`` of a lookup element (name, note, custom field value); ValueError if odd."""
    model, pk, fields = element["model"], element.get("pk"), element.get("fields")
    if not _is_id(pk):
        raise ValueError(f"pk {pk!r:.60} is not an integer")
    if not isinstance(fields, dict):
        raise ValueError("'fields' is not an object")
    if model in _LOOKUPS:
        _check(fields, name=(str,))
    elif model == "documents.note":
        _check(fields, note=(str,))
    for key in _LINKS.get(model, ()):
        if not _is_id(fields.get(key)):
            raise ValueError(f"field {key!r} is not an integer: {fields.get(key)!r:.60}")
    return fields


class _Lookups:
    """Names of correspondents, tags, types, custom fields and each document's field values."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="akte-paperless-")
        self.db = sqlite3.connect(Path(self._dir.name) / "lookups.sqlite")
        self.db.executescript(
            "CREATE TABLE names (model TEXT, pk INTEGER, name TEXT, PRIMARY KEY (model, pk));"
            "CREATE TABLE fields (document INTEGER, field INTEGER, value TEXT);"
            "CREATE INDEX fields_doc ON fields(document);"
            "CREATE TABLE notes (document INTEGER, note TEXT);"
            "CREATE INDEX notes_doc ON notes(document);"
        )

    def load(self, elements: Iterator[Any], failures: list[Failed]) -> int:
        documents = 0
        for el in elements:
            model = _model(el)
            if model == "documents.document":
                documents += 1
            if model not in _LOOKUPS and model not in _LINKS:
                continue
            try:
                fields = _lookup_fields(el)
            except ValueError as exc:
                failures.append(Failed("manifest.json", f"paperless {model} {el.get('pk')!r:.40}", str(exc)))
                continue
            if model in _LOOKUPS:
                self.db.execute("INSERT OR REPLACE INTO names VALUES (?,?,?)", (model, el["pk"], fields.get("name")))
            elif model == "documents.customfieldinstance":
                value = next((v for k, v in fields.items() if k.startswith("value_") and v not in (None, "", [])), None)
                if value is not None:
                    self.db.execute("INSERT INTO fields VALUES (?,?,?)",
                                    (fields.get("document"), fields.get("field"), json.dumps(value, ensure_ascii=False)))
            elif isinstance(fields.get("note"), str):
                self.db.execute("INSERT INTO notes VALUES (?,?)", (fields.get("document"), fields["note"]))
        self.db.commit()
        return documents

    def name(self, model: str, pk) -> str | None:
        row = self.db.execute("SELECT name FROM names WHERE model = ? AND pk = ?", (model, pk)).fetchone()
        return row[0] if row else None

    def custom_fields(self, document) -> list[tuple[str, str]]:
        rows = self.db.execute(
            "SELECT n.name, f.value FROM fields f LEFT JOIN names n"
            " ON n.model = 'documents.customfield' AND n.pk = f.field WHERE f.document = ? ORDER BY f.rowid",
            (document,),
        ).fetchall()
        out = []
        for name, value in rows:
            decoded = json.loads(value)
            out.append((name or "custom field", decoded if isinstance(decoded, str) else json.dumps(decoded)))
        return out

    def notes(self, document) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT note FROM notes WHERE document = ? ORDER BY rowid", (document,))]

    def close(self) -> None:
        self.db.close()
        self._dir.cleanup()


def count_documents(export: Path) -> int:
    """How many documents the export holds (one streamed pass)."""
    return sum(1 for el in _elements(_manifests(export)) if _model(el) == "documents.document")


def iter_paperless_items(
    export: Path, taxonomy: tuple[str, ...], failures: list[Failed]
) -> Iterator[tuple[Path, ImportMeta]]:
    """Items for ``import-paperless``.

    Every value of the manifest is checked before it is used: a document with odd types,
    or whose file names leave the export (``..``, absolute, a symlink pointing out), is
    missing or is no regular file, goes to ``failures`` with the reason; nothing outside
    the export is read.

    Raises:
        InputFileError: no manifest, or a manifest that is not a JSON array in UTF-8.
    """
    export = export.absolute()
    manifests = _manifests(export)
    lookups = _Lookups()
    try:
        lookups.load(_elements(manifests), failures)
        for el in _elements(manifests):
            if not isinstance(el, dict):
                failures.append(Failed("manifest.json", "paperless manifest", f"element is not an object: {el!r:.60}"))
                continue
            if _model(el) != "documents.document":
                continue
            origin = f"paperless document {el.get('pk')!r:.40}"
            try:
                fields = _document_fields(el)
                original, archive = _document_files(export, el)
            except ValueError as exc:
                title = el["fields"].get("title") if isinstance(el.get("fields"), dict) else None
                failures.append(Failed(str(title or el.get(FILE_KEY) or "?"), origin, str(exc)))
                continue
            yield original, _meta(el["pk"], fields, archive, origin, lookups, taxonomy)
    finally:
        lookups.close()


def _document_fields(el: dict) -> dict:
    """The checked ``fields`` of a document element; ValueError with the reason."""
    pk, fields = el.get("pk"), el.get("fields")
    if not _is_id(pk):
        raise ValueError(f"pk {pk!r:.60} is not an integer")
    if not isinstance(fields, dict):
        raise ValueError(f"'fields' is not an object: {fields!r:.60}")
    _check(fields, title=(str,), content=(str,), created=(str,), original_filename=(str,), checksum=(str,),
           archive_checksum=(str,), archive_serial_number=(int, str), correspondent=(int,), document_type=(int,),
           tags=(list,))
    if any(not _is_id(tag) for tag in fields.get("tags") or ()):
        raise ValueError(f"field 'tags' holds something other than tag ids: {fields['tags']!r:.60}")
    for key in ("checksum", "archive_checksum"):
        if fields.get(key) and not _HEX_DIGEST.match(fields[key]):
            raise ValueError(f"field {key!r} is not an MD5 or SHA-256 hex digest: {fields[key]!r:.80}")
    if fields.get("created"):
        try:
            date.fromisoformat(fields["created"][:10])
        except ValueError:
            raise ValueError(f"field 'created' is not a date: {fields['created']!r:.60}") from None
    return fields


def _document_files(export: Path, el: dict) -> tuple[Path, Path | None]:
    """(original, archive PDF or None), both confined to ``export``; ValueError with the reason."""
    if el.get(FILE_KEY) in (None, ""):
        raise ValueError(f"no {FILE_KEY} in the manifest")
    try:
        original = confined_file(export, el[FILE_KEY])
    except MissingFileError:
        raise ValueError(f"original file {el[FILE_KEY]} missing from the export") from None
    except OutsideError as exc:
        raise ValueError(f"{FILE_KEY}: {exc}") from None
    if el.get(ARCHIVE_KEY) is None:
        return original, None
    try:
        return original, confined_file(export, el[ARCHIVE_KEY])
    except MissingFileError:
        raise ValueError(f"archive file {el[ARCHIVE_KEY]} missing from the export") from None
    except OutsideError as exc:
        raise ValueError(f"{ARCHIVE_KEY}: {exc}") from None


def _meta(pk, fields: dict, archive: Path | None, origin: str, lookups: _Lookups, taxonomy) -> ImportMeta:
    type_name = lookups.name("documents.documenttype", fields.get("document_type"))
    extra: list[tuple[str, str]] = [("paperless_id", str(pk))]
    if type_name:
        extra.append(("paperless_document_type", type_name))
    correspondent = lookups.name("documents.correspondent", fields.get("correspondent"))
    if correspondent:
        extra.append(("correspondent", correspondent))
    # One pair per tag: a tag name may itself hold a comma (archive.recordfields reads both forms).
    extra.extend(("tag", t) for t in (lookups.name("documents.tag", t) for t in fields.get("tags") or ()) if t)
    if fields.get("archive_serial_number") is not None:
        extra.append(("paperless_asn", str(fields["archive_serial_number"])))
    if fields.get("original_filename"):
        extra.append(("original_filename", str(fields["original_filename"])))
    reference = None
    for name, value in lookups.custom_fields(pk):
        if reference is None and fold(name).strip() in _REFERENCE_FIELDS:
            reference = value
        else:
            extra.append((name, value))
    for note in lookups.notes(pk):
        extra.append(("note", note))
    created = (fields.get("created") or "")[:10] or None
    return ImportMeta(
        origin=origin,
        title=fields.get("title") or None,
        doc_type=map_type(type_name, taxonomy),
        reference=reference,
        doc_date=created,
        extra=tuple(extra),
        text=fields.get("content"),
        archival_path=str(archive) if archive else None,
        checksum=fields.get("checksum"),
        archival_checksum=fields.get("archive_checksum") if archive else None,
    )
