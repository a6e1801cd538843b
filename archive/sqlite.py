"""The embedded search backend: SQLite with an FTS5 index, no server needed.

Text arrives already analysed (:func:`.base.index_document`), so FTS5's plain
``unicode61`` tokenizer only splits on spaces; ranking is FTS5's BM25 with the title
weighted above the body and compound parts below it.
"""

from __future__ import annotations

import os
import sqlite3
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import ArchiveUnavailableError, StorageFullError, storage_error
from ..fsio import fsync_dir
from ..models import ArchiveRecord, SearchHit, SearchPage
from .base import BulkReport, ReindexReport, SearchQuery, index_document
from .query import ParsedQuery, Term, make_snippet, parse_query

_SCHEMA = """
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
    page_count INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_ingested ON docs(ingested_at DESC, id);
CREATE INDEX IF NOT EXISTS docs_type ON docs(doc_type);
CREATE INDEX IF NOT EXISTS docs_reference ON docs(reference);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    body, parts, title_terms, tokenize = 'unicode61 remove_diacritics 0'
);
"""
# bm25 weights in column order: body, parts, title_terms
_BM25 = "bm25(docs_fts, 1.0, 0.4, 2.0)"


def _quote(stem: str) -> str:
    return '"' + stem.replace('"', '""') + '"'


def _fts_term(term: Term) -> str:
    if term.is_phrase:
        return "{body title_terms} : " + _quote(" ".join(term.stems))
    return "{body parts title_terms} : " + _quote(term.stems[0])


def fts_expression(parsed: ParsedQuery) -> str:
    """FTS5 MATCH expression for a parsed query."""
    clauses = ["(" + " OR ".join(_fts_term(t) for t in clause) + ")" for clause in parsed.must]
    expr = " AND ".join(clauses)
    for term in parsed.must_not:
        expr = f"({expr}) NOT ({_fts_term(term)})"
    return expr


class SqliteBackend:
    """Search backend in one SQLite file (``<archive>/index.sqlite``)."""

    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._connect()

    def _connect(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            full = self._full(exc)
            if isinstance(full, StorageFullError):
                raise full from None
            raise ArchiveUnavailableError(f"search index {self.path}: {exc}") from exc

    def _full(self, exc: BaseException) -> ArchiveUnavailableError:
        return storage_error(self.path.parent, f"search index {self.path.name}", exc)

    def index(self, records: Iterable[ArchiveRecord]) -> BulkReport:
        """Upsert records (one transaction per call); a full disk raises StorageFullError."""
        count, errors = 0, {}
        try:
            with self.db:
                for record in records:
                    try:
                        self._upsert(index_document(record))
                        count += 1
                    except sqlite3.Error as exc:
                        if exc.sqlite_errorcode == sqlite3.SQLITE_FULL:
                            raise
                        errors[record.id] = str(exc)
        except sqlite3.Error as exc:
            raise self._full(exc) from None
        return BulkReport(count, errors)

    def _upsert(self, doc: dict[str, Any]) -> None:
        row = self.db.execute("SELECT rowid FROM docs WHERE id = ?", (doc["id"],)).fetchone()
        if row:
            self.db.execute("DELETE FROM docs_fts WHERE rowid = ?", row)
            self.db.execute("DELETE FROM docs WHERE rowid = ?", row)
        cur = self.db.execute(
            "INSERT INTO docs (id, title, doc_type, needs_review, reference, doc_date, date,"
            " ingested_at, page_count, text) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                doc["id"], doc["title"], doc["doc_type"], int(doc["needs_review"]),
                doc["reference"], doc["doc_date"], doc["date"], doc["ingested_at"],
                doc["page_count"], doc["text"],
            ),
        )
        self.db.execute(
            "INSERT INTO docs_fts (rowid, body, parts, title_terms) VALUES (?,?,?,?)",
            (cur.lastrowid, doc["body"], doc["parts"], doc["title_terms"]),
        )

    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents by id."""
        with self.db:
            for id_ in ids:
                row = self.db.execute("SELECT rowid FROM docs WHERE id = ?", (id_,)).fetchone()
                if row:
                    self.db.execute("DELETE FROM docs_fts WHERE rowid = ?", row)
                    self.db.execute("DELETE FROM docs WHERE rowid = ?", row)

    @staticmethod
    def _filters(query: SearchQuery) -> tuple[list[str], list[Any]]:
        where, args = [], []
        for column, op, value in (
            ("doc_type", "=", query.doc_type),
            ("date", ">=", query.date_from),
            ("date", "<=", query.date_to),
            ("reference", "=", query.reference),
            ("doc_date", ">=", query.doc_date_from),
            ("doc_date", "<=", query.doc_date_to),
        ):
            if value is not None:
                where.append(f"d.{column} {op} ?")
                args.append(value)
        if query.needs_review is not None:
            where.append("d.needs_review = ?")
            args.append(int(query.needs_review))
        if query.doc_types is not None:
            where.append(f"coalesce(d.doc_type, '') IN ({','.join('?' * len(query.doc_types))})")
            args.extend(query.doc_types)
        return where, args

    def _base(self, query: SearchQuery) -> tuple[str, list[Any], ParsedQuery | None]:
        where, args = self._filters(query)
        parsed = None
        if query.text:
            parsed = parse_query(query.text)
            source = "docs_fts JOIN docs d ON d.rowid = docs_fts.rowid"
            where.insert(0, "docs_fts MATCH ?")
            args.insert(0, fts_expression(parsed))
        else:
            source = "docs d"
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        return source + clause, args, parsed

    def search(self, query: SearchQuery) -> SearchPage:
        """Ranked hits (or newest records without text); cursor = offset of the next page."""
        source, args, parsed = self._base(query)
        offset = int(query.cursor or 0)
        score = f"-{_BM25}" if parsed else "0.0"
        order = "score DESC, d.id" if parsed else "d.ingested_at DESC, d.id"
        try:
            total = self.db.execute(f"SELECT count(*) FROM {source}", args).fetchone()[0]
            rows = self.db.execute(
                f"SELECT d.id, d.title, d.doc_type, d.date, {score} AS score, d.text FROM {source}"
                f" ORDER BY {order} LIMIT ? OFFSET ?",
                [*args, query.limit, offset],
            ).fetchall()
        except sqlite3.Error as exc:
            raise ArchiveUnavailableError(f"search index {self.path}: {exc}") from exc
        hits = []
        for id_, title, doc_type, date, sc, text in rows:
            snippet, page = make_snippet(text, parsed)
            hits.append(SearchHit(id_, title, doc_type, date, float(f"{float(sc):.4g}"), snippet, page))
        nxt = offset + len(rows)
        return SearchPage(tuple(hits), total, str(nxt) if nxt < total else None)

    def counts(self, query: SearchQuery) -> dict[str, dict[str, int]]:
        """Counts per document type and per year (of the record date)."""
        source, args, _ = self._base(query)
        result: dict[str, dict[str, int]] = {}
        for name, expr in (("doc_type", "coalesce(d.doc_type, '')"), ("year", "substr(d.date, 1, 4)")):
            rows = self.db.execute(
                f"SELECT {expr}, count(*) FROM {source} GROUP BY 1 ORDER BY 2 DESC, 1", args
            ).fetchall()
            result[name] = {key: n for key, n in rows}
        return result

    def ids(self) -> set[str]:
        """Every indexed id."""
        return {row[0] for row in self.db.execute("SELECT id FROM docs")}

    def reindex_into_new_version(
        self, records: Iterable[ArchiveRecord], progress: Callable[[int], None] | None = None
    ) -> ReindexReport:
        """Rebuild the index in ``<index>.rebuild`` from ``records``, then rename it into place.

        Searches keep using the old file until the rename, which is atomic. Resumable: an
        interrupted rebuild leaves its file behind and the next call skips the ids it holds.
        """
        target = self.path.with_name(self.path.name + ".rebuild")
        resumed = target.exists()
        fresh = SqliteBackend(target)
        done = fresh.ids()
        indexed, errors = 0, {}
        todo = iter(records)
        while batch := list(islice(todo, 500)):
            new = [r for r in batch if r.id not in done]
            report = fresh.index(new)
            indexed += report.indexed
            errors.update(report.errors)
            if progress:
                progress(len(batch))
        if errors:
            fresh.close()
            return ReindexReport(str(target), BulkReport(indexed, errors), switched=False, resumed=resumed)
        # Leave no write-ahead log beside the file that is renamed into place.
        fresh.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        fresh.db.execute("PRAGMA journal_mode=DELETE")
        fresh.close()
        self.db.close()
        for suffix in ("-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
        os.replace(target, self.path)
        fsync_dir(self.path.parent)
        self._connect()
        return ReindexReport(str(self.path), BulkReport(indexed, errors), switched=True, resumed=resumed)

    def close(self) -> None:
        """Close the database."""
        self.db.close()
