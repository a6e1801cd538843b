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
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..errors import ArchiveUnavailableError, ConfigError, StorageFullError, storage_error
from ..fsio import fsync_dir
from ..models import ArchiveRecord, SearchHit, SearchPage
from ..states import BackendName
from . import sqlite_vocab
from .base import BulkReport, ReindexReport, SearchQuery, index_document, resolve_filters
from .query import ParsedQuery, parse_query
from .recordfields import META_WEIGHTS, hit_snippet
from .sqlite_facets import FacetCounter, FtsFilter, fts_filter, grouped_counts, key_counts
from .sqlite_match import fts_clause, fts_expression, fts_phrases
from .sqlite_rank import Ranker, facet_tokens, word_scope
from .sqlite_schema import SCHEMA, USER_VERSION


def _offset(cursor: str | None) -> int:
    """The offset a cursor of :meth:`SqliteBackend.search` holds; a forged one is a usage error
    (SQLite takes no integer beyond 64 bits, and a negative offset would page backwards)."""
    if not cursor:
        return 0
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 12):
        raise ConfigError(f"invalid search cursor {cursor[:40]!r} (not from this backend?)")
    return int(cursor)


_JOINED = "docs_fts CROSS JOIN docs d ON d.rowid = docs_fts.rowid WHERE docs_fts MATCH ?"


def _one_word(parsed: ParsedQuery | None) -> bool:
    """True for no words or a single plain word (no phrase, identifier, variant or exclusion)."""
    if parsed is None:
        return True
    if len(parsed.must) != 1 or len(parsed.must[0]) != 1 or parsed.must_not:
        return False
    term = parsed.must[0][0]
    return not (term.is_phrase or term.is_identifier or term.variants)


@dataclass(frozen=True, slots=True)
class _Plan:
    """A query made SQL: ``source`` is the FROM/WHERE part over ``docs_fts`` (text) or ``docs
    d`` (listing) with its ``args``; ``index_only`` when the full-text index answers every
    filter, ``filtered`` when the filters narrow the words' matches."""

    source: str
    args: list[Any]
    parsed: ParsedQuery | None
    words: str | None  # the words' FTS5 expression, filters apart
    fts: FtsFilter
    index_only: bool
    filtered: bool


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
            if existed and version != USER_VERSION and not self.db.execute(
                "SELECT 1 FROM docs LIMIT 1"
            ).fetchone():
                # Nothing indexed yet: take the current layout right away.
                self.db.executescript(
                    "DROP TABLE IF EXISTS docs_vocab; DROP TABLE IF EXISTS doc_text; DROP TABLE IF EXISTS doc_keys;"
                    " DROP TABLE docs_fts; DROP TABLE docs;"
                )
                existed = None
            if not existed or version == USER_VERSION:
                # An index of older code keeps its tables untouched until `akte reindex`
                # replaces the file (this layout's indexes need columns it lacks).
                self.db.executescript(SCHEMA + sqlite_vocab.SCHEMA)
            if not existed:
                with self.db:
                    sqlite_vocab.mark_complete(self.db)  # empty: every word is listed as it comes
                self.db.execute(f"PRAGMA user_version = {USER_VERSION}")
                version = USER_VERSION
            self.current = version == USER_VERSION
            self.ranker = Ranker(self.db)
            self.scope = word_scope({row[1] for row in self.db.execute("PRAGMA table_info(docs_fts)")})
        except (OSError, sqlite3.Error) as exc:
            full = self._full(exc)
            if isinstance(full, StorageFullError):
                raise full from None
            raise ArchiveUnavailableError(f"search index {self.path}: {exc}") from exc

    def _full(self, exc: BaseException) -> ArchiveUnavailableError:
        return storage_error(self.path.parent, f"search index {self.path.name}", exc)

    @contextmanager
    def _reading(self) -> Iterator[None]:
        # Every read of a search, planning included: a locked or damaged file is the
        # index being unavailable, not a bug.
        try:
            yield
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise  # our own mistake (a binding, a closed connection): a bug, not the file
        except sqlite3.Error as exc:
            raise ArchiveUnavailableError(f"search index {self.path}: {exc}") from exc

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
        count, errors, terms = 0, {}, set()
        try:
            with self.db:
                for doc in docs:
                    try:
                        self._upsert(doc)
                        terms |= sqlite_vocab.words(doc["body"])
                        count += 1
                    except sqlite3.Error as exc:
                        if exc.sqlite_errorcode == sqlite3.SQLITE_FULL:
                            raise
                        errors[doc["id"]] = str(exc)
                sqlite_vocab.add_terms(self.db, terms)
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
    def _filters(query: SearchQuery, keys: list[str], handled: frozenset[str] = frozenset()
                 ) -> tuple[list[str], list[Any]]:
        """SQL conditions on ``docs d`` for the filters, but those in ``handled`` (see
        :class:`.sqlite_facets.FtsFilter`)."""
        where, args = [], []
        for key in dict.fromkeys(keys):
            where.append("d.rowid IN (SELECT rowid FROM doc_keys WHERE key = ?)")
            args.append(key)
        for column, op, value, name in (
            ("doc_type", "=", query.doc_type, "doc_type"),
            ("date", ">=", query.date_from, "date"),
            ("date", "<=", query.date_to, "date"),
            ("doc_date", ">=", query.doc_date_from, "doc_date"),
            ("doc_date", "<=", query.doc_date_to, "doc_date"),
        ):
            if value is not None and name not in handled:
                where.append(f"d.{column} {op} ?")
                args.append(value)
        if query.needs_review is not None and "needs_review" not in handled:
            where.append("d.needs_review = ?")
            args.append(int(query.needs_review))
        if query.doc_types is not None and "doc_types" not in handled:
            where.append(f"coalesce(d.doc_type, '') IN ({','.join('?' * len(query.doc_types))})")
            args.extend(query.doc_types)
        return where, args

    def _base(self, query: SearchQuery) -> _Plan:
        self._require_current()
        query, keys = resolve_filters(query)
        fts = fts_filter(self.db, query)
        residual, residual_args = self._filters(query, keys, fts.handled)
        parsed = words = None
        if query.text:
            parsed = sqlite_vocab.with_variants(self.db, parse_query(query.text))
            words = fts_expression(parsed, self.scope)
            if residual:
                # CROSS JOIN: the full-text match drives; SQLite would otherwise walk a filter's
                # index and run the match once per record it finds.
                source = f"{_JOINED} AND " + " AND ".join(residual)
            else:  # the index alone answers: no record is read to filter
                source = "docs_fts WHERE docs_fts MATCH ?"
            args = [fts.apply(words), *residual_args]
        else:
            where, args = self._filters(query, keys)
            source = "docs d" + ((" WHERE " + " AND ".join(where)) if where else "")
        filtered = bool(residual or fts.must or fts.scope or fts.exclude)
        return _Plan(source, args, parsed, words, fts, not residual, filtered)

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
        return sql, [fts_clause(c, self.scope) for c in exact]

    def search(self, query: SearchQuery) -> SearchPage:
        """Ranked hits (or newest records without text); cursor = offset of the next page.

        Ranking reads the full-text index only (joining the records table only to filter
        what the index cannot), in a bounded window (:mod:`.sqlite_rank`); ties are broken by
        id, as in Elasticsearch, and titles and page text are read for the page's hits alone.
        """
        with self._reading():
            return self._search(self._base(query), query, None)

    def counts(self, query: SearchQuery) -> dict[str, dict[str, int]]:
        """Counts per document type, per year (of the record date), per correspondent and tag."""
        with self._reading():
            return self._counts(self._base(query))

    def search_with_counts(self, query: SearchQuery) -> tuple[SearchPage, dict[str, dict[str, int]]]:
        """``search(query)`` and ``counts(query)`` in one call: the query is parsed and its
        approximate words looked up once, and the counting gives the ranking its total."""
        with self._reading():
            plan = self._base(query)
            counts = self._counts(plan)
            return self._search(plan, query, sum(counts["doc_type"].values())), counts

    def _search(self, plan: _Plan, query: SearchQuery, total: int | None) -> SearchPage:
        offset = _offset(query.cursor)
        if plan.parsed:
            ranked = self.ranker.rank(
                plan.source, plan.args, self._tier(plan.parsed), fts_phrases(plan.parsed, self.scope),
                (offset, query.limit), plan.filtered, total,
            )
            rows, total = ranked.hits, ranked.total
        else:
            if total is None:
                total = self.db.execute(f"SELECT count(*) FROM {plan.source}", plan.args).fetchone()[0]
            rows = self.db.execute(
                f"SELECT d.rowid, d.id, 0.0 FROM {plan.source} ORDER BY d.ingested_at DESC, d.id"
                " LIMIT ? OFFSET ?", [*plan.args, query.limit, offset],
            ).fetchall()
        marks = ",".join("?" * len(rows))
        details = {
            r[0]: r[1:] for r in self.db.execute(
                "SELECT d.rowid, title, doc_type, date, text, meta FROM docs d JOIN doc_text t"
                f" ON t.rowid = d.rowid WHERE d.rowid IN ({marks})",
                [r[0] for r in rows],
            )
        }
        hits = []
        for rowid, id_, sc in rows:
            title, doc_type, date, text, meta = details[rowid]
            snippet, page = hit_snippet(text, meta, plan.parsed)
            hits.append(SearchHit(id_, title, doc_type, date, float(f"{float(sc):.4g}"), snippet, page))
        nxt = offset + len(rows)
        return SearchPage(tuple(hits), total, str(nxt) if nxt < total else None)

    def _counts(self, plan: _Plan) -> dict[str, dict[str, int]]:
        """Type and year counts, then correspondents and tags.

        Where the full-text index answers the whole query and the words are one plain word
        (or none), by one FTS5 count per type and year (:mod:`.sqlite_facets`): FTS5 then
        skips along two posting lists. A phrase, several words or alternatives cost a full
        evaluation per count, so they are evaluated once and their matches grouped.
        """
        if plan.index_only and _one_word(plan.parsed):
            result = FacetCounter(self.db).counts(plan.words, plan.fts)
            everything = plan.fts.apply(plan.words)
            rowids = ("SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?", [everything]) if everything \
                else ("SELECT rowid FROM docs", [])
        else:
            source = _JOINED if plan.index_only else plan.source
            result = grouped_counts(self.db, source, plan.args)
            rowids = (f"SELECT d.rowid FROM {source}", plan.args)
        return {**result, **key_counts(self.db, *rowids)}

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
        read one posting list per word, not one per segment); list its words for approximate
        matching where an older build did not (:mod:`.sqlite_vocab`)."""
        with self.db:
            self.db.execute("INSERT INTO docs_fts(docs_fts) VALUES ('optimize')")
        sqlite_vocab.fill(self.db)

    def close(self) -> None:
        """Close the database."""
        self.db.close()
