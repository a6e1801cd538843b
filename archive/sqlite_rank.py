"""Ranking for the embedded backend: bounded BM25 work, and common words that still count.

FTS5 computes BM25 for every row a statement emits (about 1 µs each, mostly reading
positions and the row's length), so ranking all 750,000 records that contain ``Antrag``
in a million would take most of a second. The ranking pass therefore reads matches from
the most recently indexed backwards and stops after :data:`RANK_WINDOW`:

* a query with at most that many matches is ranked exactly, and counted by the same pass;
* a broader one is ranked among its :data:`RANK_WINDOW` most recently indexed matches,
  counted by a separate ``count(*)``, and pages beyond the window list the older matches,
  most recent first (every match is still shown exactly once while paging).

FTS5's BM25 uses the Robertson–Spärck Jones IDF ``log((N - n + 0.5) / (n + 0.5))``, which
is zero or negative for a word in half of the records or more; FTS5 then floors it to
1e-6, so such a word adds nothing to a multi-word query ("Antrag Müller" ranks by Müller
and document length alone) and its scores are shown as 0.000001. Here a word's IDF is at
least half of Lucene's (:func:`_idf`): a query of common words alone is rescaled, and
where rarer words come with them, the common words' part is found by a second pass over
the same rows, so their term frequency and field weight count as in Elasticsearch. A
query ranked in a window leaves that pass out (its cost grows with the index) and keeps
FTS5's weights within the window.

Filters on the document type, review flag and years are also tokens of the ``facets``
column (:func:`facet_tokens`), so that FTS5 intersects them with the words instead of
joining every match with the records table (:mod:`.sqlite_facets`).
"""

from __future__ import annotations

import heapq
import math
import sqlite3
from dataclasses import dataclass
from typing import Any, Sequence

from .recordfields import META_WEIGHTS

RANK_WINDOW = 5_000  # matches ranked by BM25 at most (see the module docstring)
LUCENE_SHARE = 0.5  # no word's IDF is below this share of Lucene's (FTS5 floors at 1e-6)
FTS5_FLOOR = 1e-6  # what FTS5's bm25() puts in place of an IDF <= 0
_SAMPLE = 2_000  # newest records in which a word's share of the records is estimated
_COMMON_SHARE = 0.3  # a word in fewer of the sampled records keeps FTS5's IDF (see _idf)
_NEAR_HALF = 0.05  # a share this close to 1/2 is counted exactly: FTS5's IDF flips there
TIE_SLACK = 20  # rows ranked beyond a page, so that ties at its end are broken by id
YEARS_MAX = 60  # a date range over more years is checked in SQL only

# bm25 weights in column order: body, parts, title_terms, idents, ident_exact, the metadata
# fields (a hit on a reference or a correspondent ranks above the same words in the text),
# facets. Facets weigh nothing: a filter must not change the ranking.
WEIGHTS = (1.0, 0.4, 2.0, 1.0, 3.0, *META_WEIGHTS.values(), 0.0)
BM25 = f"bm25(docs_fts, {', '.join(map(str, WEIGHTS))})"
_K1, _B = 1.2, 0.75  # the constants of FTS5's bm25()
# A one-word or one-phrase query with at most this many matches is scored here, as bm25()
# would: bm25() first reads every match of the phrase to count them (its IDF), which for a
# phrase of common words ("Sehr geehrte Damen") is a second full scan.
FEW = 50
_WEIGHTED = [c for c, weight in enumerate(WEIGHTS) if weight]
_MARKED = ", ".join(f"highlight(docs_fts, {c}, char(1), '')" for c in _WEIGHTED)

Row = tuple[int, float, int]  # (rowid, score, tier)

_WORD_COLUMNS = frozenset({"body", "parts", "title_terms", *META_WEIGHTS})
# The columns a plain word is looked for in.
WORD_SCOPE = "{body parts title_terms " + " ".join(META_WEIGHTS) + "} : "
# Identifier tokens all carry a digit, and facet tokens do too but for "type" + the hex of
# a label (letters a-f and digits, no German word); a query word with a digit is an
# identifier. So a plain word can only match the word columns anyway.
_DIGIT_COLUMNS = frozenset({"idents", "ident_exact", "facets"})


def word_scope(columns: set[str]) -> str:
    """Column filter for plain words in an FTS5 table with ``columns``: none where only
    digit columns lie beside the word columns (FTS5 then reads no positions to match a
    word: counting and ranking take half the time), else :data:`WORD_SCOPE`."""
    return "" if columns - _WORD_COLUMNS <= _DIGIT_COLUMNS else WORD_SCOPE


def type_token(doc_type: str) -> str:
    """The ``facets`` token of a document type (hex keeps any label one token under FTS5's
    unicode61 tokenizer, and exact)."""
    return "type" + doc_type.encode().hex()


def facet_tokens(doc: dict[str, Any]) -> str:
    """The ``facets`` column of an :func:`.base.index_document` dict."""
    tokens = [f"review{int(bool(doc['needs_review']))}", f"year{doc['date'][:4]}"]
    if doc["doc_type"]:
        tokens.append(type_token(doc["doc_type"]))
    if doc["doc_date"]:
        tokens.append(f"docyear{doc['doc_date'][:4]}")
    return " ".join(tokens)


def year_tokens(prefix: str, low: str | None, high: str | None) -> str | None:
    """FTS5 alternatives of the ``facets`` year tokens (``prefix`` + year) that dates between
    ``low`` and ``high`` have, or None where they would not narrow (or a bound is malformed)."""
    if low is None and high is None:
        return None
    try:
        first, last = int((low or "0001")[:4]), int((high or "9999")[:4])
    except ValueError:
        return None  # a malformed bound is left to the SQL comparison
    if last < first:
        return f'"{prefix}0000"'  # no record can match: keep it a valid, empty match
    if last - first > YEARS_MAX:
        return None
    return "(" + " OR ".join(f'"{prefix}{y:04d}"' for y in range(first, last + 1)) + ")"


@dataclass(frozen=True, slots=True)
class Ranked:
    """One page of ranked hits as ``(rowid, record id, score)``, and the number of matches."""

    hits: list[tuple[int, str, float]]
    total: int


class Ranker:
    """Ranks the matches of FTS5 statements on one connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._rows_cached: tuple[tuple[int, int], int] | None = None

    def rank(
        self, source: str, args: list[Any], tier: tuple[str, list[Any]],
        phrases: Sequence[str], page: tuple[int, int], filtered: bool, total: int | None = None,
    ) -> Ranked:
        """The hits at ``page`` = (offset, limit), by tier, then score, then record id.

        ``source`` is the FROM/WHERE part of a statement over ``docs_fts`` and ``args`` its
        parameters; ``tier`` SQL (with its parameters) ranking exact hits above approximate
        ones; ``phrases`` the FTS5 phrases whose BM25 the score sums (for :func:`_idf`);
        ``filtered`` whether ``source`` narrows the matches by more than the phrases;
        ``total`` the number of matches when the caller has counted them already.
        """
        offset, limit = page
        tier_sql, tier_args = tier
        select = f"SELECT docs_fts.rowid, -{BM25}, {tier_sql} FROM {source}"
        window = None
        if tier_sql == "0" and len(phrases) == 1 and not filtered:
            found = self.db.execute(
                f"SELECT docs_fts.rowid, {_MARKED} FROM {source} ORDER BY docs_fts.rowid DESC LIMIT ?",
                [*args, FEW + 1],
            ).fetchall()
            if len(found) <= FEW:
                window = self._scored_here(found)
        if window is None:
            window = self.db.execute(
                f"{select} ORDER BY docs_fts.rowid DESC LIMIT ?", [*tier_args, *args, RANK_WINDOW + 1]
            ).fetchall()
        exact = len(window) <= RANK_WINDOW
        window = window[:RANK_WINDOW]
        if exact:
            total = len(window)
        elif total is None:
            total = self.db.execute(f"SELECT count(*) FROM {source}", args).fetchone()[0]
        known = total if len(phrases) == 1 and not filtered else None
        scale, added = self._idf_floor(window, (source, args), phrases, known, exact)
        if added:
            window = [(rowid, score + added.get(rowid, 0.0), tier) for rowid, score, tier in window]
        # Rows beyond the page too, so that ties at its end are broken by id.
        best = heapq.nsmallest(offset + limit + TIE_SLACK, window, key=lambda r: (-r[2], -r[1]))
        ids = self._ids(best)
        hits = sorted(best, key=lambda r: (-r[2], -r[1], ids[r[0]]))[offset : offset + limit]
        if not exact and offset + limit > RANK_WINDOW:
            # Beyond the window: the older matches, most recently indexed first.
            rest = self.db.execute(
                f"{select} AND docs_fts.rowid < ? ORDER BY docs_fts.rowid DESC LIMIT ? OFFSET ?",
                [*tier_args, *args, window[-1][0], limit - len(hits), max(0, offset - RANK_WINDOW)],
            ).fetchall()
            ids.update(self._ids(rest))
            hits += rest
        # A common factor (see _idf_floor) changes no order: applied to the page alone.
        return Ranked([(r[0], ids[r[0]], r[1] * scale) for r in hits], total)

    def _ids(self, rows: list[Row]) -> dict[int, str]:
        marks = ",".join("?" * len(rows))
        return dict(self.db.execute(f"SELECT rowid, id FROM docs WHERE rowid IN ({marks})", [r[0] for r in rows]))

    # ---- FTS5's statistics, and the IDF floor -----------------------------------------

    def _totals(self) -> tuple[int, int]:
        """FTS5's row count and token count (all columns), from its averages record."""
        version = (self.db.execute("PRAGMA data_version").fetchone()[0], self.db.total_changes)
        if self._rows_cached is None or self._rows_cached[0] != version:
            row = self.db.execute("SELECT block FROM docs_fts_data WHERE id = 1").fetchone()
            numbers = _varints(row[0]) if row and row[0] else [0]
            self._rows_cached = (version, (numbers[0], sum(numbers[1:])))
        return self._rows_cached[1]

    def _record_count(self) -> int:
        return self._totals()[0]

    def _scored_here(self, found: list[tuple[Any, ...]]) -> list[Row]:
        """What ``bm25()`` gives the rows of a one-phrase query (all its matches: ``found``
        as rowid and the phrase's instances marked in each weighted column), from the
        instances and the rows' sizes, without the scan bm25() makes for its IDF."""
        if not found:
            return []
        records, tokens = self._totals()
        idf, _ = _idf(records, len(found))
        average = tokens / max(records, 1)
        marks = ",".join("?" * len(found))
        sizes = {
            rowid: sum(_varints(size)) for rowid, size in self.db.execute(
                f"SELECT id, sz FROM docs_fts_docsize WHERE id IN ({marks})", [r[0] for r in found]
            )
        }
        scored = []
        for rowid, *texts in found:
            freq = sum(WEIGHTS[c] * (text or "").count("\x01") for c, text in zip(_WEIGHTED, texts))
            norm = _K1 * (1 - _B + _B * sizes[rowid] / average)
            scored.append((rowid, idf * freq * (_K1 + 1) / (freq + norm), 0))
        return scored

    def _matches(self, phrase: str, records: int) -> int | None:
        """Records matching ``phrase`` (estimated from the newest ones, counted where the
        estimate is not precise enough), or None when the newest records show it is rare."""
        newest = self.db.execute("SELECT max(rowid) FROM docs").fetchone()[0] or 0
        floor = newest - _SAMPLE
        sampled = self.db.execute("SELECT count(*) FROM docs WHERE rowid > ?", (floor,)).fetchone()[0]
        found = self.db.execute(
            "SELECT count(*) FROM docs_fts WHERE docs_fts MATCH ? AND rowid > ?", (phrase, floor)
        ).fetchone()[0]
        if not sampled or found < _COMMON_SHARE * sampled:
            return None
        if sampled < records and abs(found / sampled - 0.5) > _NEAR_HALF:
            return round(found / sampled * records)
        return self.db.execute(
            "SELECT count(*) FROM docs_fts WHERE docs_fts MATCH ?", (phrase,)
        ).fetchone()[0]

    def _idf_floor(
        self, rows: list[Row], statement: tuple[str, list[Any]], phrases: Sequence[str],
        known: int | None, second_pass: bool,
    ) -> tuple[float, dict[int, float] | None]:
        """How to weight the common phrases by the IDF of :func:`_idf` instead of FTS5's:
        a factor for every score, or what to add to each row's score.

        ``rows`` are every match of ``statement`` (source, args) in their rowid range. The
        common phrases' part of the score is scaled by the ratio of their mean IDFs: exact
        for one common phrase, several are weighted alike (their IDFs differ little). When
        the query has rarer words too, that part is found by a second pass over the rows
        (``second_pass``; its cost grows with the index, so a query ranked in a window
        leaves it out and keeps FTS5's weights there).
        """
        if not rows:
            return 1.0, None
        records = self._record_count()
        common, fts5, wanted = [], 0.0, 0.0
        for phrase in phrases:
            hits = known if known is not None else self._matches(phrase, records)
            if hits is not None:
                idf, better = _idf(records, hits)
                if better > idf:
                    common.append(phrase)
                    fts5, wanted = fts5 + idf, wanted + better
        if not common:
            return 1.0, None
        factor = wanted / fts5 - 1.0
        if len(common) == len(phrases):
            return 1.0 + factor, None  # the score is the common phrases' BM25 alone
        if not second_pass:
            return 1.0, None
        parts = self._phrase_parts(rows, statement, common)
        return 1.0, {rowid: part * factor for rowid, part in parts.items()}

    def _phrase_parts(
        self, rows: list[Row], statement: tuple[str, list[Any]], phrases: list[str]
    ) -> dict[int, float]:
        """The part of each row's score that ``phrases`` make. FTS5 has no per-phrase BM25,
        so the same rows are scored again with the phrases added once more to the
        expression (a phrase counts as often as it appears); the difference is their part."""
        source, args = statement
        score = {rowid: value for rowid, value, _ in rows}
        again = self.db.execute(
            f"SELECT docs_fts.rowid, -{BM25} FROM {source} AND docs_fts.rowid BETWEEN ? AND ?",
            [" AND ".join([f"({args[0]})", *(f"({p})" for p in phrases)]), *args[1:],
             min(score), max(score)],
        )
        return {rowid: value - score[rowid] for rowid, value in again if rowid in score}

def _idf(records: int, matches: int) -> tuple[float, float]:
    """FTS5's IDF for a phrase in ``matches`` of ``records`` rows, and the one ranking uses.

    FTS5: ``log((N - n + 0.5) / (n + 0.5))``, floored to 1e-6. Used: the same, but at least
    :data:`LUCENE_SHARE` of Lucene's ``log(1 + (N - n + 0.5) / (n + 0.5))``: both fall as a
    word gets commoner and meet for a word in 38 % of the records, so the weight stays
    continuous; a word in every record still weighs almost nothing, as in Elasticsearch.
    """
    odds = (records - matches + 0.5) / (matches + 0.5)
    fts5 = math.log(odds) if odds > 1 else FTS5_FLOOR
    return fts5, max(fts5, LUCENE_SHARE * math.log1p(odds))


def _varints(blob: bytes) -> list[int]:
    """The SQLite varints (as FTS5 writes its sizes and totals) in ``blob``."""
    out, i = [], 0
    while i < len(blob):
        value = 0
        for n in range(9):
            byte = blob[i]
            i += 1
            if n == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        out.append(value)
    return out
