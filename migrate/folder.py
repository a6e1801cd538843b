"""Items from a legacy file share: a tree of scans/PDFs plus an optional metadata file.

The metadata file (CSV or a JSON array of objects) maps rows to files by a path column
and to our fields by column name, in German or English (``Aktenzeichen``/``reference``,
``Datum``/``date``, ``Typ``/``type``, ``Titel``/``title``); every other column is kept
as an extra field. Rows that cannot be used are reported, never silently dropped; files
without a row are imported without metadata.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterator

from ..archive.analysis import fold
from ..errors import InputFileError
from ..ingest.discover import discover
from ..models import ImportMeta
from .jsonstream import JsonStreamError, iter_json_array

_COLUMNS = {
    "path": ("path", "pfad", "datei", "dateiname", "file", "filename", "file_name", "dateipfad"),
    "doc_type": ("type", "doc_type", "typ", "dokumenttyp", "dokumentart", "art", "document_type"),
    "reference": ("aktenzeichen", "az", "reference", "ref", "geschaeftszeichen", "file_reference"),
    "doc_date": ("date", "datum", "document_date", "dokumentdatum", "belegdatum"),
    "title": ("title", "titel", "betreff", "subject", "bezeichnung"),
}
_ALIASES = {fold(alias): key for key, aliases in _COLUMNS.items() for alias in aliases}
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})$")


@dataclass(frozen=True, slots=True)
class Failed:
    """An item that could not be turned into an input (bad row, missing file)."""

    path: str
    origin: str
    reason: str


def parse_date(value: str) -> str:
    """ISO date from ``2024-03-05`` or ``5.3.2024``; raises ValueError otherwise."""
    value = value.strip()
    match = _GERMAN_DATE.match(value)
    if match:
        day, month, year = (int(g) for g in match.groups())
        if year < 100:
            year += 2000 if year < 70 else 1900
        return date(year, month, day).isoformat()
    return date.fromisoformat(value).isoformat()


def iter_rows(metadata: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, row) from a CSV (``,`` or ``;``, UTF-8) or JSON array file, streamed."""
    if metadata.suffix.lower() == ".json":
        try:
            for number, row in enumerate(iter_json_array(metadata), start=1):
                yield number, row if isinstance(row, dict) else {"__invalid__": row}
        except JsonStreamError as exc:
            raise InputFileError(str(metadata), str(exc)) from None
        return
    with open(metadata, encoding="utf-8-sig", newline="") as fh:
        sample = fh.read(8192)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.DictReader(fh, dialect=dialect)
        if not reader.fieldnames:
            raise InputFileError(str(metadata), "the metadata file has no header row")
        for row in reader:
            yield reader.line_num, row


def meta_from_row(row: dict[str, Any], origin: str, taxonomy: tuple[str, ...]) -> tuple[str, ImportMeta]:
    """(relative path, metadata) for one row; raises ValueError with the reason."""
    if "__invalid__" in row:
        raise ValueError("row is not an object")
    known: dict[str, str] = {}
    extra: list[tuple[str, str]] = []
    for column, value in row.items():
        if column is None:  # more cells than header columns
            raise ValueError("row has more cells than the header")
        text = "" if value is None else str(value).strip()
        key = _ALIASES.get(fold(column.strip()))
        if key:
            known[key] = text
        elif text:
            extra.append((column.strip(), text))
    path = known.get("path")
    if not path:
        raise ValueError("no file path in this row")
    doc_type = known.get("doc_type") or None
    if doc_type:
        doc_type = fold(doc_type)
        if doc_type not in taxonomy:
            raise ValueError(f"unknown document type {known['doc_type']!r} (known: {', '.join(taxonomy)})")
    doc_date = known.get("doc_date") or None
    if doc_date:
        try:
            doc_date = parse_date(doc_date)
        except ValueError:
            raise ValueError(f"invalid date {known['doc_date']!r} (use 2024-03-05 or 05.03.2024)") from None
    meta = ImportMeta(origin=origin, title=known.get("title") or None, doc_type=doc_type,
                      reference=known.get("reference") or None, doc_date=doc_date, extra=tuple(extra))
    return path, meta


def iter_folder_items(
    src: Path, metadata: Path | None, taxonomy: tuple[str, ...], failures: list[Failed]
) -> Iterator[tuple[Path, ImportMeta | None]]:
    """Items for ``import-folder``: rows of the metadata file first, then unlisted files.

    Bad rows are appended to ``failures`` and skipped.
    """
    src = src.absolute()
    if not src.is_dir():
        raise InputFileError(str(src), "not a folder")
    listed: set[str] = set()
    if metadata is not None:
        if not metadata.is_file():
            raise InputFileError(str(metadata), "metadata file not found")
        for number, row in iter_rows(metadata):
            origin = f"{metadata.name} row {number}"
            try:
                rel, meta = meta_from_row(row, origin, taxonomy)
            except ValueError as exc:
                failures.append(Failed(str(row.get("path") or row.get("Pfad") or "?"), origin, str(exc)))
                continue
            path = (src / rel).absolute()
            key = str(path.resolve())
            if not path.is_relative_to(src):
                failures.append(Failed(rel, origin, "path points outside the source folder"))
                continue
            if key in listed:
                failures.append(Failed(rel, origin, "file listed twice in the metadata; first row kept"))
                continue
            listed.add(key)
            if not path.is_file():
                failures.append(Failed(str(path), origin, "file not found"))
                continue
            yield path, meta
    skip = {str(metadata.resolve())} if metadata is not None else set()
    for path in discover([src]):
        key = str(path.resolve())
        if key not in listed and key not in skip:
            yield path, ImportMeta(origin=f"{path.relative_to(src)} (no metadata row)")
