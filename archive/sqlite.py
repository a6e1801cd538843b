"""The embedded search backend: SQLite with an FTS5 index, no server needed.

Text arrives already analysed (:func:`.base.index_document`), so FTS5's plain
``unicode61`` tokenizer only splits on spaces (``./-_`` are token characters, for the
identifier tokens as written); ranking is FTS5's BM25 with the title weighted above the
body and compound parts below it, identifiers as written above their compact forms, in a
bounded window and without FTS5's IDF floor for common words (:mod:`.sqlite_rank`).

The file records the analysis it was built with (``PRAGMA user_version``); an index built
by older code answers no searches until ``akte reindex`` has rebuilt it.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import ArchiveUnavailableError, StorageFullError, storage_error
from ..fsio import fsync_dir
from ..models import ArchiveRecord, SearchHit, SearchPage
from ..states import BackendName
from .analysis import ANALYSIS_VERSION
from .base import BulkReport, ReindexReport, SearchQuery, index_document, resolve_filters
from .fuzzy import EXPAND_BELOW, MAX_EDITS, PREFIX, eligible, ocr_variants
from .query import ParsedQuery, Term, parse_query
from .recordfields import META_WEIGHTS, hit_snippet
from .sqlite_rank import WORD_SCOPE, Ranker, facet_expression, facet_tokens, word_scope

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
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    body, parts, title_terms, idents, ident_exact,
    ref_terms, corr_terms, tag_terms, field_terms, note_terms, file_terms, facets,
    tokenize = "unicode61 remove_diacritics 0 tokenchars './-_'"
);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_vocab USING fts5vocab(docs_fts, col);
"""
_SCHEMA_VERSION = 5  # the tables above; with ANALYSIS_VERSION it makes PRAGMA user_version
_USER_VERSION = ANALYSIS_VERSION * 1000 + _SCHEMA_VERSION
# The metadata columns (recordfields); their bm25 weights are in sqlite_rank.WEIGHTS.
_META = " ".join(META_WEIGHTS)


def _quote(stem: str) -> str:
    return '"' + stem.replace('"', '""') + '"'


def _fts_term(term: Term, scope: str) -> str:
    if term.is_identifier:
        compact, exact = _quote(term.stems[0]), _quote(term.exact or "")
        return f"(idents : {compact} OR ident_exact : {exact} OR {{{_META}}} : ({compact} OR {exact}))"
    if term.is_phrase:
        return f"{{body title_terms {_META}}} : " + _quote(" ".join(term.stems))
    words = " OR ".join(_quote(s) for s in (term.stems[0], *term.variants))
    return f"{scope}({words})"


def _fts_clause(clause: tuple[Term, ...], scope: str) -> str:
    return "(" + " OR ".join(_fts_term(t, scope) for t in clause) + ")"


def fts_phrases(parsed: ParsedQuery, scope: str = WORD_SCOPE) -> list[str]:
    """Each FTS5 phrase of :func:`fts_expression` whose BM25 the score sums, as an expression."""
    out = []
    for term in (t for clause in parsed.must for t in clause):
        if term.is_identifier:
            compact, exact = _quote(term.stems[0]), _quote(term.exact or "")
            out += [f"idents : {compact}", f"ident_exact : {exact}", f"{{{_META}}} : ({compact} OR {exact})"]
        elif term.is_phrase:
            out.append(_fts_term(term, scope))
        else:
            out += [scope + _quote(w) for w in (term.stems[0], *term.variants)]
    return out


def fts_expression(parsed: ParsedQuery, scope: str = WORD_SCOPE) -> str:
    """FTS5 MATCH expression for a parsed query (approximate forms included); ``scope`` is
    the column filter for plain words (:func:`word_scope`)."""
    expr = " AND ".join(_fts_clause(clause, scope) for clause in parsed.must)
    for term in parsed.must_not:
        expr = f"({expr}) NOT ({_fts_term(term, scope)})"
    return expr


class SqliteBackend:
    """Search backend in one SQLite file (``<archive>/index.sqlite``)."""

    name = BackendName.SQLITE

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._connect()

    def _connect(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            # Searches read the index from the OS page cache without copies; hot pages stay cached.
            self.db.execute("PRAGMA mmap_size=1073741824")
            self.db.execute("PRAGMA cache_size=-65536")
            existed = self.db.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'docs'"
            ).fetchone()
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if existed and version != _USER_VERSION and not self.db.execute(
                "SELECT 1 FROM docs LIMIT 1"
            ).fetchone():
                # Nothing indexed yet: take the current layout right away.
                self.db.executescript(
                    "DROP TABLE IF EXISTS docs_vocab; DROP TABLE IF EXISTS doc_text; DROP TABLE IF EXISTS doc_keys;"
                    " DROP TABLE docs_fts; DROP TABLE docs;"
                )
                existed = None
            if not existed or version == _USER_VERSION:
                # An index of older code keeps its tables untouched until `akte reindex`
                # replaces the file (this layout's indexes need columns it lacks).
                self.db.executescript(_SCHEMA)
            if not existed:
                self.db.execute(f"PRAGMA user_version = {_USER_VERSION}")
                version = _USER_VERSION
            self.current = version == _USER_VERSION
            self.ranker = Ranker(self.db)
            self.scope = word_scope({row[1] for row in self.db.execute("PRAGMA table_info(docs_fts)")})
        except (OSError, sqlite3.Error) as exc:
            full = self._full(exc)
            if isinstance(full, StorageFullError):
                raise full from None
            raise ArchiveUnavailableError(f"search index {self.path}: {exc}") from exc

    def _full(self, exc: BaseException) -> ArchiveUnavailableError:
        return storage_error(self.path.parent, f"search index {self.path.name}", exc)

    def is_current(self) -> bool:
        """False when the file was built with an older layout or text analysis."""
        return self.current

    def _require_current(self) -> None:
        if not self.current:
            raise ArchiveUnavailableError(
                f"search index {self.path} was built by an older version of aktenarchiv;"
                " rebuild it with: akte reindex"
            )

    def index(self, records: Iterable[ArchiveRecord]) -> BulkReport:
        """Upsert records (one transaction per call); a full disk raises StorageFullError."""
        return self.index_documents(index_document(record) for record in records)

    def index_documents(self, docs: Iterable[dict[str, Any]]) -> BulkReport:
        """Upsert documents made by :func:`.base.index_document` (maybe in other processes) in
        one transaction; per-document failures are reported, a full disk raises StorageFullError."""
        self._require_current()
        count, errors = 0, {}
        try:
            with self.db:
                for doc in docs:
                    try:
                        self._upsert(doc)
                        count += 1
                    except sqlite3.Error as exc:
                        if exc.sqlite_errorcode == sqlite3.SQLITE_FULL:
                            raise
                        errors[doc["id"]] = str(exc)
        except sqlite3.Error as exc:
            raise self._full(exc) from None
        return BulkReport(count, errors)

    def _upsert(self, doc: dict[str, Any]) -> None:
        self._remove(doc["id"])
        cur = self.db.execute(
            "INSERT INTO docs (id, title, doc_type, needs_review, reference, doc_date, date,"
            " ingested_at, page_count) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                doc["id"], doc["title"], doc["doc_type"], int(doc["needs_review"]),
                doc["reference"], doc["doc_date"], doc["date"], doc["ingested_at"],
                doc["page_count"],
            ),
        )
        rowid = cur.lastrowid
        self.db.execute("INSERT INTO doc_text (rowid, text, meta) VALUES (?,?,?)", (rowid, doc["text"], doc["meta"]))
        self.db.executemany("INSERT INTO doc_keys (rowid, kind, key, shown) VALUES (?,?,?,?)",
                            [(rowid, *k) for k in doc["keys"]])
        columns = ("body", "parts", "title_terms", "idents", "ident_exact", *META_WEIGHTS)
        self.db.execute(
            f"INSERT INTO docs_fts (rowid, {', '.join(columns)}, facets) VALUES (?{',?' * (len(columns) + 1)})",
            (rowid, *(doc[c] for c in columns), facet_tokens(doc)),
        )

    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents by id."""
        with self.db:
            for id_ in ids:
                self._remove(id_)

    def _remove(self, id_: str) -> None:
        row = self.db.execute("SELECT rowid FROM docs WHERE id = ?", (id_,)).fetchone()
        if row:
            for table in ("docs_fts", "doc_text", "doc_keys", "docs"):
                self.db.execute(f"DELETE FROM {table} WHERE rowid = ?", row)

    @staticmethod
    def _filters(query: SearchQuery, keys: list[str]) -> tuple[list[str], list[Any]]:
        where, args = [], []
        for key in dict.fromkeys(keys):
            where.append("d.rowid IN (SELECT rowid FROM doc_keys WHERE key = ?)")
            args.append(key)
        for column, op, value in (
            ("doc_type", "=", query.doc_type),
            ("date", ">=", query.date_from),
            ("date", "<=", query.date_to),
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
        self._require_current()
        query, keys = resolve_filters(query)
        where, args = self._filters(query, keys)
        parsed = None
        if query.text:
            parsed = self._with_variants(parse_query(query.text))
            expression = fts_expression(parsed, self.scope)
            facets = facet_expression(query)
            if facets:
                # FTS5 intersects the filters' tokens with the words; SQL then checks exact bounds.
                expression = f"({expression}) AND {facets}"
            # CROSS JOIN: the full-text match drives; SQLite would otherwise walk a filter's index and
            # run the match once per record it finds.
            source = "docs_fts CROSS JOIN docs d ON d.rowid = docs_fts.rowid"
            where.insert(0, "docs_fts MATCH ?")
            args.insert(0, expression)
        else:
            source = "docs d"
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        return source + clause, args, parsed

    def _with_variants(self, parsed: ParsedQuery) -> ParsedQuery:
        """Attach to each rare long word the indexed words OCR may have made from it."""
        variants: dict[str, tuple[str, ...]] = {}
        for word in sorted(w for w in parsed.words() if eligible(w)):
            # Counting stops at EXPAND_BELOW: a common word's whole posting list is not read.
            found_in = self.db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM docs_fts WHERE docs_fts MATCH ? LIMIT ?)",
                (f"body : {_quote(word)}", EXPAND_BELOW),
            ).fetchone()[0]
            if found_in >= EXPAND_BELOW:
                continue
            head = word[:PREFIX]
            candidates = self.db.execute(
                "SELECT term FROM docs_vocab WHERE col = 'body' AND term >= ? AND term < ?"
                " AND length(term) BETWEEN ? AND ?",
                (head, head[:-1] + chr(ord(head[-1]) + 1),
                 len(word) - MAX_EDITS, len(word) + MAX_EDITS),
            )
            found = ocr_variants(word, (c for (c,) in candidates))
            if found:
                variants[word] = found
        return parsed.with_variants(variants) if variants else parsed

    def _tier(self, parsed: ParsedQuery | None) -> tuple[str, list[Any]]:
        """SQL counting a hit's clauses matched exactly: approximate-only hits rank below."""
        if parsed is None or not parsed.is_approximate:
            return "0", []
        exact = [
            tuple(replace(t, variants=()) for t in clause)
            for clause in parsed.must if any(t.variants for t in clause)
        ]
        sql = " + ".join(
            "(docs_fts.rowid IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?))" for _ in exact
        )
        return sql, [_fts_clause(c, self.scope) for c in exact]

    def search(self, query: SearchQuery) -> SearchPage:
        """Ranked hits (or newest records without text); cursor = offset of the next page.

        Ranking reads the full-text index only (joining the records table only to filter),
        in a bounded window (:mod:`.sqlite_rank`); ties are broken by id, as in
        Elasticsearch, and titles and page text are read for the page's hits alone.
        """
        source, args, parsed = self._base(query)
        offset = int(query.cursor or 0)
        try:
            if parsed:
                filtered = not source.endswith("WHERE docs_fts MATCH ?")  # _base puts the MATCH first
                if not filtered:
                    # Without filters the join with docs adds nothing.
                    source = "docs_fts WHERE docs_fts MATCH ?"
                ranked = self.ranker.rank(
                    source, args, self._tier(parsed), fts_phrases(parsed, self.scope),
                    (offset, query.limit), filtered,
                )
                rows, total = ranked.hits, ranked.total
            else:
                total = self.db.execute(f"SELECT count(*) FROM {source}", args).fetchone()[0]
                rows = self.db.execute(
                    f"SELECT d.rowid, d.id, 0.0 FROM {source} ORDER BY d.ingested_at DESC, d.id"
                    " LIMIT ? OFFSET ?", [*args, query.limit, offset],
                ).fetchall()
            marks = ",".join("?" * len(rows))
            details = {
                r[0]: r[1:] for r in self.db.execute(
                    "SELECT d.rowid, title, doc_type, date, text, meta FROM docs d JOIN doc_text t"
                    f" ON t.rowid = d.rowid WHERE d.rowid IN ({marks})",
                    [r[0] for r in rows],
                )
            }
        except sqlite3.Error as exc:
            raise ArchiveUnavailableError(f"search index {self.path}: {exc}") from exc
        hits = []
        for rowid, id_, sc in rows:
            title, doc_type, date, text, meta = details[rowid]
            snippet, page = hit_snippet(text, meta, parsed)
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
        for kind in ("correspondent", "tag"):
            rows = self.db.execute(
                f"SELECT k.shown, count(*) FROM doc_keys k WHERE k.kind = ? AND k.rowid IN (SELECT d.rowid FROM {source})"
                " GROUP BY 1 ORDER BY 2 DESC, 1", [kind, *args],
            ).fetchall()
            result[kind] = {key: n for key, n in rows}
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
        if not fresh.current:
            # Left by an interrupted rebuild of older code: start over.
            fresh.close()
            for suffix in ("", "-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            fresh, resumed = SqliteBackend(target), False
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
        fresh.optimize()
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

    def optimize(self) -> None:
        """Merge the full-text index's segments into one (after a bulk build: searches then
        read one posting list per word, not one per segment)."""
        with self.db:
            self.db.execute("INSERT INTO docs_fts(docs_fts) VALUES ('optimize')")

    def close(self) -> None:
        """Close the database."""
        self.db.close()
