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
import sqlite3
import tempfile
from pathlib import Path
from typing import Iterator

from ..archive.analysis import fold
from ..errors import InputFileError
from ..models import ImportMeta
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
    main = export / "manifest.json"
    if not main.is_file():
        raise InputFileError(str(export), "no manifest.json: not a paperless-ngx export folder")
    return [main, *sorted(export.rglob("*-manifest.json"))]


def _elements(paths: list[Path]) -> Iterator[dict]:
    for path in paths:
        try:
            for element in iter_json_array(path):
                if isinstance(element, dict):
                    yield element
        except JsonStreamError as exc:
            raise InputFileError(str(path), str(exc)) from None


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

    def load(self, elements: Iterator[dict]) -> int:
        documents = 0
        for el in elements:
            model, fields = el.get("model"), el.get("fields") or {}
            if model in _LOOKUPS:
                self.db.execute("INSERT OR REPLACE INTO names VALUES (?,?,?)", (model, el.get("pk"), fields.get("name")))
            elif model == "documents.customfieldinstance":
                value = next((v for k, v in fields.items() if k.startswith("value_") and v not in (None, "", [])), None)
                if value is not None:
                    self.db.execute("INSERT INTO fields VALUES (?,?,?)",
                                    (fields.get("document"), fields.get("field"), json.dumps(value, ensure_ascii=False)))
            elif model == "documents.note":
                self.db.execute("INSERT INTO notes VALUES (?,?)", (fields.get("document"), fields.get("note")))
            elif model == "documents.document":
                documents += 1
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
    return sum(1 for el in _elements(_manifests(export)) if el.get("model") == "documents.document")


def iter_paperless_items(
    export: Path, taxonomy: tuple[str, ...], failures: list[Failed]
) -> Iterator[tuple[Path, ImportMeta]]:
    """Items for ``import-paperless``; documents whose files are missing go to ``failures``."""
    export = export.absolute()
    manifests = _manifests(export)
    lookups = _Lookups()
    try:
        lookups.load(_elements(manifests))
        for el in _elements(manifests):
            if el.get("model") != "documents.document":
                continue
            pk, fields = el.get("pk"), el.get("fields") or {}
            origin = f"paperless document {pk}"
            name = el.get(FILE_KEY)
            if not name:
                failures.append(Failed(str(fields.get("title") or pk), origin, f"no {FILE_KEY} in the manifest"))
                continue
            original = export / name
            if not original.is_file():
                failures.append(Failed(str(original), origin, "original file missing from the export"))
                continue
            archive = export / el[ARCHIVE_KEY] if el.get(ARCHIVE_KEY) else None
            if archive is not None and not archive.is_file():
                failures.append(Failed(str(original), origin, f"archive file {el[ARCHIVE_KEY]} missing from the export"))
                continue
            yield original, _meta(pk, fields, archive, origin, lookups, taxonomy)
    finally:
        lookups.close()


def _meta(pk, fields: dict, archive: Path | None, origin: str, lookups: _Lookups, taxonomy) -> ImportMeta:
    type_name = lookups.name("documents.documenttype", fields.get("document_type"))
    extra: list[tuple[str, str]] = [("paperless_id", str(pk))]
    if type_name:
        extra.append(("paperless_document_type", type_name))
    correspondent = lookups.name("documents.correspondent", fields.get("correspondent"))
    if correspondent:
        extra.append(("correspondent", correspondent))
    tags = [t for t in (lookups.name("documents.tag", t) for t in fields.get("tags") or ()) if t]
    if tags:
        extra.append(("tags", ", ".join(tags)))
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
    created = str(fields.get("created") or "")[:10] or None
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
