"""Filters and facet counts of the embedded backend, answered by the full-text index.

The ``facets`` column holds a token per document type, review flag, record year and
document year (:func:`.sqlite_rank.facet_tokens`). A filter that these tokens express
exactly — a type, the review flag, whole years, a need-to-know allow-list of types — is
put into the MATCH expression and not checked again in SQL, so a search with such filters
reads the full-text index alone. Facet counts then come from one ``count(*)`` per type and
per year (``<words> AND facets : <token>``): FTS5 intersects two posting lists without
reading positions, about ten times cheaper per match than joining every match with the
records table and grouping it (a sort of all matches). Filters the tokens cannot express
(part of a year, field keys) fall back to one such grouping pass.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from .base import SearchQuery
from .recordfields import CORRESPONDENT, TAG
from .sqlite_match import fts_quote
from .sqlite_rank import YEARS_MAX, type_token, year_tokens

_COUNT = "SELECT count(*) FROM docs_fts WHERE docs_fts MATCH ?"
# The field kinds counted; their filter keys start with "<kind>:" (recordfields).
KEY_KINDS = (CORRESPONDENT, TAG)


@dataclass(frozen=True, slots=True)
class FtsFilter:
    """The part of a query's filters the ``facets`` tokens express exactly.

    ``must`` are FTS5 expressions every match needs; the need-to-know allow-list is either
    ``scope`` (types a match needs one of) or ``exclude`` (types it must not have, where
    unclassified records are allowed); ``handled`` names the :class:`.base.SearchQuery`
    filters they cover (not checked in SQL); ``years`` the record years a match can have
    and ``types`` its types (None: any).
    """

    must: tuple[str, ...]
    handled: frozenset[str]
    scope: str | None = None
    exclude: str | None = None
    years: tuple[int, int] | None = None
    types: frozenset[str] | None = None  # "" stands for unclassified

    def apply(self, expression: str | None, *extra: str, in_scope: bool = False) -> str | None:
        """``expression`` (the words, or None) narrowed by these filters and ``extra`` tokens
        (``in_scope``: one of them is an allowed type, so the allow-list adds nothing); None
        when nothing positive is left to match (a NOT needs a left side in FTS5)."""
        scoped = () if in_scope or not self.scope else (self.scope,)
        parts = [f"({expression})"] if expression else []
        parts += [f"facets : {m}" for m in (*self.must, *scoped, *extra)]
        if not parts:
            return None
        joined = " AND ".join(parts)
        return f"({joined}) NOT facets : {self.exclude}" if self.exclude and not in_scope else joined


def _quoted(tokens: list[str]) -> str:
    return "(" + " OR ".join(fts_quote(t) for t in tokens) + ")"


def _year(bound: str) -> bool:
    """True when the bound starts with four ASCII digits (``isdigit`` alone takes ``²`` and ``١``)."""
    return bound[:4].isascii() and bound[:4].isdigit()


def _whole_years(low: str | None, high: str | None) -> tuple[int, int] | None:
    """The year span of date bounds that are whole years (``YYYY-01-01``..``YYYY-12-31``)."""
    if low is None or high is None or len(low) != 10 or len(high) != 10:
        return None
    if not (low.endswith("-01-01") and high.endswith("-12-31") and _year(low) and _year(high)):
        return None
    first, last = int(low[:4]), int(high[:4])
    return (first, last) if 0 <= last - first <= YEARS_MAX else None


def indexed_types(db: sqlite3.Connection) -> list[str]:
    """The document types in the index (each found by one step along ``docs_type_newest``)."""
    found: list[str] = []
    while (row := db.execute("SELECT min(doc_type) FROM docs WHERE doc_type > ?", (found[-1] if found else "",)
                             ).fetchone()) and row[0] is not None:
        found.append(row[0])
    return found


def fts_filter(db: sqlite3.Connection, query: SearchQuery) -> FtsFilter:
    """What of ``query``'s filters the ``facets`` tokens take over exactly."""
    must, handled, scope, exclude, types = [], set(), None, None, None
    if query.doc_type is not None:
        must.append(f'"{type_token(query.doc_type)}"')
        handled.add("doc_type")
        types = frozenset({query.doc_type})
    if query.needs_review is not None:
        must.append(f'"review{int(query.needs_review)}"')
        handled.add("needs_review")
    for prefix, low, high in (("year", query.date_from, query.date_to),
                              ("docyear", query.doc_date_from, query.doc_date_to)):
        tokens = year_tokens(prefix, low, high)
        if tokens:  # narrows the matches; exact (nothing left for SQL) for whole record years
            must.append(tokens)
    years = _whole_years(query.date_from, query.date_to)
    if years:
        handled.add("date")
    if query.doc_types:  # () admits nothing: left to SQL
        allowed = set(query.doc_types)
        if "" in allowed:
            outside = [t for t in indexed_types(db) if t not in allowed]
            exclude = _quoted([type_token(t) for t in outside]) if outside else None
        else:
            scope = _quoted([type_token(t) for t in sorted(allowed)])
        handled.add("doc_types")
        types = frozenset(allowed) if types is None else types & allowed
    return FtsFilter(tuple(must), frozenset(handled), scope, exclude, years, types)


class FacetCounter:
    """Counts per type and year of the matches of an FTS5 expression, by one ``count(*)`` each."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def _count(self, expression: str) -> int:
        return self.db.execute(_COUNT, (expression,)).fetchone()[0]

    def _year_span(self, within: tuple[int, int] | None) -> range:
        low = self.db.execute("SELECT min(date) FROM docs").fetchone()[0]
        high = self.db.execute("SELECT max(date) FROM docs").fetchone()[0]
        if low is None or not (low[:4].isdigit() and high[:4].isdigit()):
            return range(0)
        first, last = int(low[:4]), int(high[:4])
        if within:
            first, last = max(first, within[0]), min(last, within[1])
        return range(first, last + 1)

    def counts(self, words: str | None, where: FtsFilter) -> dict[str, dict[str, int]]:
        """``doc_type`` and ``year`` counts of the records matching ``words`` (an FTS5
        expression, or None for all records) under ``where``.

        Every record has a year token, so the years add up to the total; a type probe
        leaves the allow-list out (the type is in it), and unclassified records are the
        total less the typed ones.
        """
        years = {}
        for year in self._year_span(where.years):
            expression = where.apply(words, f'"year{year:04d}"')
            n = self._count(expression) if expression else 0
            if n:
                years[f"{year:04d}"] = n
        types = {}
        for name in indexed_types(self.db):
            if where.types is not None and name not in where.types:
                continue
            expression = where.apply(words, f'"{type_token(name)}"', in_scope=True)
            n = self._count(expression) if expression else 0
            if n:
                types[name] = n
        unclassified = sum(years.values()) - sum(types.values())
        if unclassified > 0:
            types[""] = unclassified
        return {"doc_type": _ordered(types), "year": _ordered(years)}


def _ordered(counts: dict[str, int]) -> dict[str, int]:
    """Largest first, then by key (the order both backends give)."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def grouped_counts(db: sqlite3.Connection, source: str, args: list[Any]) -> dict[str, dict[str, int]]:
    """``doc_type`` and ``year`` counts in one grouping pass over ``source`` (joined with
    ``docs d``), for filters the tokens cannot express."""
    types: dict[str, int] = {}
    years: dict[str, int] = {}
    for name, year, n in db.execute(
        f"SELECT coalesce(d.doc_type, ''), substr(d.date, 1, 4), count(*) FROM {source} GROUP BY 1, 2", args
    ):
        types[name] = types.get(name, 0) + n
        years[year] = years.get(year, 0) + n
    return {"doc_type": _ordered(types), "year": _ordered(years)}


def key_counts(db: sqlite3.Connection, rowids: str, args: list[Any]) -> dict[str, dict[str, int]]:
    """Counts per correspondent and per tag of the records that the statement ``rowids``
    selects; a kind no record has costs one index probe, not a pass over the matches."""
    result = {}
    for kind in KEY_KINDS:
        low, high = f"{kind}:", f"{kind};"
        if db.execute("SELECT 1 FROM doc_keys WHERE key >= ? AND key < ? LIMIT 1", (low, high)).fetchone():
            rows = db.execute(
                "SELECT k.shown, count(*) FROM doc_keys k WHERE k.kind = ? AND k.key >= ? AND k.key < ?"
                f" AND k.rowid IN ({rowids}) GROUP BY 1 ORDER BY 2 DESC, 1",
                [kind, low, high, *args],
            ).fetchall()
            result[kind] = dict(rows)
        else:
            result[kind] = {}
    return result
