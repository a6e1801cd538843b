"""The indexed words an OCR-tolerant search looks among (:mod:`.fuzzy`), for the embedded backend.

FTS5's own vocabulary (``fts5vocab``) counts every listed word's documents as it lists it:
the words sharing a query word's first letter cost a read of their whole posting lists,
about 70 ms at 100,000 records and ten times that at a million. So the body's words are
also kept in ``body_terms`` (a plain sorted table, filled as records are indexed), where
the same range costs a few index pages. A deleted record's words stay there: a word that
no longer matches anything is harmless as an approximate form. An index filled before
this table existed lists its words from ``fts5vocab`` until :func:`fill` has run (``akte
reindex`` and the bulk build do it).
"""

from __future__ import annotations

import re
import sqlite3

from .fuzzy import EXPAND_BELOW, MAX_EDITS, PREFIX, eligible, ocr_variants
from .query import ParsedQuery
from .sqlite_match import fts_quote

SCHEMA = """
CREATE TABLE IF NOT EXISTS body_terms (term TEXT PRIMARY KEY) WITHOUT ROWID;
-- Facts about the index file: ('body_terms', 'complete') once body_terms lists every word.
CREATE TABLE IF NOT EXISTS index_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_TOKEN = re.compile(r"[\w./-]+")  # as FTS5's unicode61 tokenizer with tokenchars './-_' splits


def mark_complete(db: sqlite3.Connection) -> None:
    """Record that ``body_terms`` lists every indexed body word (a new, empty index)."""
    db.execute("INSERT OR REPLACE INTO index_state (key, value) VALUES ('body_terms', 'complete')")


def is_complete(db: sqlite3.Connection) -> bool:
    """True when ``body_terms`` can stand in for FTS5's vocabulary."""
    return db.execute("SELECT 1 FROM index_state WHERE key = 'body_terms' AND value = 'complete'").fetchone() is not None


def words(body: str) -> set[str]:
    """The words FTS5 makes of a document's analysed ``body`` column."""
    return set(_TOKEN.findall(body.lower()))


def add_terms(db: sqlite3.Connection, terms: set[str]) -> None:
    """Add words to the list (once per indexed batch: most words recur in every batch)."""
    db.executemany("INSERT OR IGNORE INTO body_terms (term) VALUES (?)", ((t,) for t in terms))


def fill(db: sqlite3.Connection) -> None:
    """List every body word of the index in ``body_terms`` (once; one pass over FTS5's vocabulary)."""
    if not is_complete(db):
        with db:
            db.execute("INSERT OR IGNORE INTO body_terms (term) SELECT term FROM docs_vocab WHERE col = 'body'")
            mark_complete(db)


def with_variants(db: sqlite3.Connection, parsed: ParsedQuery) -> ParsedQuery:
    """``parsed`` with each rare long word's indexed OCR misreadings attached (:mod:`.fuzzy`)."""
    listed = is_complete(db)
    variants: dict[str, tuple[str, ...]] = {}
    for word in sorted(w for w in parsed.words() if eligible(w)):
        # Counting stops at EXPAND_BELOW: a common word's whole posting list is not read.
        found_in = db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM docs_fts WHERE docs_fts MATCH ? LIMIT ?)",
            ("body : " + fts_quote(word), EXPAND_BELOW),
        ).fetchone()[0]
        if found_in >= EXPAND_BELOW:
            continue
        head = word[:PREFIX]
        source = "body_terms WHERE" if listed else "docs_vocab WHERE col = 'body' AND"
        candidates = db.execute(
            f"SELECT term FROM {source} term >= ? AND term < ? AND length(term) BETWEEN ? AND ?",
            (head, head[:-1] + chr(ord(head[-1]) + 1), len(word) - MAX_EDITS, len(word) + MAX_EDITS),
        )
        found = ocr_variants(word, (c for (c,) in candidates))
        if found:
            variants[word] = found
    return parsed.with_variants(variants) if variants else parsed
