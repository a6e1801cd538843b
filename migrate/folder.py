"""Items from a legacy file share: a tree of scans/PDFs plus an optional metadata file.

The metadata file (CSV or a JSON array of objects) maps rows to files by a path column
and to our fields by column name, in German or English (``Aktenzeichen``/``reference``,
``Datum``/``date``, ``Typ``/``type``, ``Titel``/``title``); every other column is kept
as an extra field. Rows that cannot be used are reported, never silently dropped; files
without a row are imported without metadata.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterator

from ..archive.confine import OutsideError, confined_file, inside, printable
from ..errors import ConfigError, InputFileError
from ..ingest.discover import discover
from ..models import ImportMeta
from ..textnorm import expand_year, fold
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
            year = expand_year(year)
        return date(year, month, day).isoformat()
    return date.fromisoformat(value).isoformat()


_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def detect_encoding(path: Path, given: str | None = None) -> str:
    """The text encoding of a metadata file: ``given``, else by its BOM, else UTF-8, else cp1252.

    cp1252 is what Excel writes as "CSV" on German Windows. The whole file is decoded once,
    so a wrong encoding is reported before any row is imported.

    Raises:
        ConfigError: ``given`` is not an encoding Python knows.
        InputFileError: the file does not decode (with the byte offset).
    """
    if given:
        try:
            codecs.lookup(given)
        except LookupError:
            raise ConfigError(f"--encoding {given!r}: unknown encoding (e.g. utf-8, cp1252, latin-1)") from None
        candidates = [given]
    else:
        with open(path, "rb") as fh:
            head = fh.read(4)
        candidates = [enc for bom, enc in _BOMS if head.startswith(bom)][:1] or ["utf-8", "cp1252"]
    problem = ""
    for encoding in candidates:
        problem = _decode_problem(path, encoding)
        if not problem:
            return encoding
    if given:
        raise InputFileError(str(path), f"not readable as {given}: {problem}")
    raise InputFileError(str(path), f"neither UTF-8 nor Windows-1252 text ({problem}); give the encoding with --encoding")


def _decode_problem(path: Path, encoding: str) -> str:
    """Why ``path`` does not decode as ``encoding`` ("" when it does)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 16)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return f"byte {offset + max(0, exc.start)}: {exc.reason}"
            if not chunk:
                return ""
            offset += len(chunk)


def iter_rows(metadata: Path, encoding: str = "utf-8") -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, row) from a CSV (``,``, ``;`` or tab) or JSON array file, streamed.

    Raises:
        InputFileError: the file is not a readable table (no header, broken CSV or JSON).
    """
    if metadata.suffix.lower() == ".json":
        try:
            for number, row in enumerate(iter_json_array(metadata, encoding), start=1):
                yield number, row if isinstance(row, dict) else {"__invalid__": row}
        except JsonStreamError as exc:
            raise InputFileError(str(metadata), str(exc)) from None
        return
    if encoding.replace("_", "-").lower() == "utf-8":
        encoding = "utf-8-sig"  # Excel's "CSV UTF-8" starts with a BOM
    with open(metadata, encoding=encoding, newline="") as fh:
        sample = fh.read(8192)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.DictReader(fh, dialect=dialect)
        try:
            if not reader.fieldnames:
                raise InputFileError(str(metadata), "the metadata file has no header row")
            for row in reader:
                yield reader.line_num, row
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputFileError(str(metadata), f"unreadable CSV near line {reader.line_num}: {exc}") from None


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
    src: Path, metadata: Path | None, taxonomy: tuple[str, ...], failures: list[Failed],
    encoding: str | None = None,
) -> Iterator[tuple[Path, ImportMeta | None]]:
    """Items for ``import-folder``: rows of the metadata file first, then unlisted files.

    Bad rows, and paths that leave ``src`` (``..``, absolute, a symlink pointing out) or are
    not regular files, are appended to ``failures`` and skipped: nothing outside ``src`` is
    read. The folder and the whole metadata file are checked here, before the first item.

    Raises:
        InputFileError: ``src`` is not a folder, or the metadata file is missing or unreadable.
        ConfigError: ``encoding`` is unknown.
    """
    src = src.absolute()
    if not src.is_dir():
        raise InputFileError(str(src), "not a folder")
    if metadata is not None:
        if not metadata.is_file():
            raise InputFileError(str(metadata), "not a regular file" if metadata.exists() else "metadata file not found")
        encoding = detect_encoding(metadata, encoding)
        for _ in iter_rows(metadata, encoding):
            pass
    return _folder_items(src, metadata, encoding or "utf-8", taxonomy, failures)


def _folder_items(src: Path, metadata: Path | None, encoding: str, taxonomy: tuple[str, ...],
                  failures: list[Failed]) -> Iterator[tuple[Path, ImportMeta | None]]:
    listed: set[Path] = set()
    for number, row in iter_rows(metadata, encoding) if metadata is not None else ():
        origin = f"{metadata.name} row {number}"
        rel = str(row.get("path") or row.get("Pfad") or "?")
        try:
            rel, meta = meta_from_row(row, origin, taxonomy)
            path = confined_file(src, rel)
        except ValueError as exc:  # OutsideError is one
            failures.append(Failed(rel, origin, str(exc)))
            continue
        if path in listed:
            failures.append(Failed(rel, origin, "file listed twice in the metadata; first row kept"))
            continue
        listed.add(path)
        yield path, meta
    skip = {metadata.resolve()} if metadata is not None else set()
    for path in discover([src]):
        name = printable(path.relative_to(src))
        try:
            real = inside(src, path, name)
        except OutsideError as exc:
            failures.append(Failed(str(path), f"{name} (no metadata row)", str(exc)))
            continue
        if real not in listed and real not in skip:
            yield real, ImportMeta(origin=f"{name} (no metadata row)")
