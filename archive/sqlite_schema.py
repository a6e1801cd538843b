"""The tables of the embedded search index, and the version its file records.

``PRAGMA user_version`` holds :data:`USER_VERSION`: the text analysis and this layout the
file was built with (:class:`.sqlite.SqliteBackend` answers no searches from an older one).
"""

from __future__ import annotations

from .analysis import ANALYSIS_VERSION

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY,
    id TEXT UNIQUE NOT NULL,
    title TEXT NOT NULL,
    doc_type TEXT,
    needs_review INTEGER NOT NULL DEFAULT 0,
    reference TEXT,
    doc_date TEXT,
    date TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    page_count INTEGER NOT NULL
);
-- Page text apart from the narrow rows that filters read for every match; meta: the fields
-- a snippet may name (JSON, from recordfields).
CREATE TABLE IF NOT EXISTS doc_text (rowid INTEGER PRIMARY KEY, text TEXT NOT NULL, meta TEXT NOT NULL);
-- Filter keys of the metadata fields (recordfields), with the value as shown for counts.
CREATE TABLE IF NOT EXISTS doc_keys (rowid INTEGER NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
                                     shown TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS doc_keys_key ON doc_keys(key, rowid);
CREATE INDEX IF NOT EXISTS doc_keys_rowid ON doc_keys(rowid);
CREATE INDEX IF NOT EXISTS docs_ingested ON docs(ingested_at DESC, id);
DROP INDEX IF EXISTS docs_type; -- replaced: docs_type_newest lists a type without sorting it
CREATE INDEX IF NOT EXISTS docs_type_newest ON docs(doc_type, ingested_at DESC, id);
CREATE INDEX IF NOT EXISTS docs_reference ON docs(reference);
-- The years a facet count probes: min(date) and max(date) without a scan.
CREATE INDEX IF NOT EXISTS docs_date ON docs(date);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    body, parts, title_terms, idents, ident_exact,
    ref_terms, corr_terms, tag_terms, field_terms, note_terms, file_terms, facets,
    tokenize = "unicode61 remove_diacritics 0 tokenchars './-_'"
);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_vocab USING fts5vocab(docs_fts, col);
"""
SCHEMA_VERSION = 5  # the tables above; with ANALYSIS_VERSION it makes PRAGMA user_version
USER_VERSION = ANALYSIS_VERSION * 1000 + SCHEMA_VERSION
