"""The embedded index file: built by older code, it refuses searches until it is rebuilt."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from aktenarchiv.archive.base import SearchQuery
from aktenarchiv.archive.sqlite import SqliteBackend
from aktenarchiv.errors import ArchiveUnavailableError
from backend_corpus import CORPUS, keys


def test_index_of_older_code_asks_for_reindex_then_rebuilds(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    old = sqlite3.connect(path)  # the layout analysis version 1 wrote, with one record
    old.executescript(
        "CREATE TABLE docs (rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, title TEXT NOT NULL,"
        " doc_type TEXT, needs_review INTEGER NOT NULL DEFAULT 0, reference TEXT, doc_date TEXT,"
        " date TEXT NOT NULL, ingested_at TEXT NOT NULL, page_count INTEGER NOT NULL, text TEXT NOT NULL);"
        "CREATE VIRTUAL TABLE docs_fts USING fts5(body, parts, title_terms);"
        "INSERT INTO docs VALUES (1, 'x', 't', NULL, 0, NULL, NULL, '2024-01-01', '2024-01-01', 1, 'Antrag');"
    )
    old.commit()
    old.close()
    backend = SqliteBackend(path)
    assert not backend.is_current()
    with pytest.raises(ArchiveUnavailableError, match="akte reindex"):
        backend.search(SearchQuery(text="Antrag"))
    report = backend.reindex_into_new_version(CORPUS.values())
    assert report.switched and backend.is_current()
    assert set(keys(backend, "Antrag")) == {"bauantrag", "protokoll"}
    backend.close()


def test_empty_index_of_older_code_is_replaced_at_once(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE docs (rowid INTEGER PRIMARY KEY, id TEXT, text TEXT);"
        "CREATE VIRTUAL TABLE docs_fts USING fts5(body, parts, title_terms);"
    )
    old.close()
    backend = SqliteBackend(path)
    assert backend.is_current()
    assert backend.index(CORPUS.values()).indexed == len(CORPUS)
    backend.close()


def _damaged_index(path: Path) -> None:
    """An index of the corpus whose full-text segments are overwritten: the file opens, its
    tables are listed, but every word lookup reads garbage."""
    backend = SqliteBackend(path)
    backend.index(CORPUS.values())
    backend.close()
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE docs_fts_data SET block = x'00ff00ff' WHERE id > 10")
    db.close()


def test_damaged_index_is_unavailable_in_every_search_call(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    _damaged_index(path)
    backend = SqliteBackend(path)
    # A rare long word is looked up while the query is planned (for OCR variants).
    query = SearchQuery(text="Bauantrag")
    for call in (backend.search, backend.counts, backend.search_with_counts):
        with pytest.raises(ArchiveUnavailableError, match=f"search index {path}: database disk image is malformed"):
            call(query)
    backend.close()


def test_akte_search_on_a_damaged_index_exits_5_naming_the_file(cli, archive_dir: Path) -> None:
    _damaged_index(archive_dir / "index.sqlite")
    for extra in ((), ("--counts",)):
        result = cli("search", "Bauantrag", *extra)
        assert result.exit_code == 5, result.output
        assert f"error: search index {archive_dir / 'index.sqlite'}: database disk image is malformed" in result.stderr
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr
