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
