"""Index layout and query translation for the Elasticsearch backend.

The minimal Elasticsearch distribution has no ``analysis-common`` module (no ``german``
analyzer, no ``asciifolding``), and the embedded backend must find exactly the same words.
So German text is analysed in Python (:func:`.base.index_document`) and indexed with the
server's built-in ``whitespace`` analyzer: ``body``, ``parts`` and ``title_terms`` arrive
as space-separated stems. Queries are built from the same :class:`.query.ParsedQuery` as
the FTS5 expression in :mod:`.sqlite_match`, clause for clause.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import replace
from typing import Any

from ..errors import ConfigError
from .analysis import ANALYSIS_VERSION
from .base import SearchQuery
from .fuzzy import EXPAND_BELOW, MAX_EDITS, MIN_LENGTH, PREFIX
from .query import ParsedQuery, Term
from .recordfields import META_WEIGHTS

# Bump when the mappings below change: existing indexes then need `reindex`.
MAPPING_VERSION = 3

# Field boosts mirroring the FTS5 bm25 column weights in sqlite.py (body, parts, title).
# The metadata fields (META_WEIGHTS) hold words and identifier tokens alike, as in sqlite.py.
BOOSTS = {"body": 1.0, "parts": 0.4, "title_terms": 2.0, **META_WEIGHTS}
IDENT_BOOSTS = {"idents": 1.0, "ident_exact": 3.0}
PHRASE_FIELDS = ("body", "title_terms", *META_WEIGHTS)  # parts carry no word order, as in sqlite_match.py
TIER = 1000.0  # score added per clause matched exactly; far above any BM25 score here

_STEMS = {"type": "text", "analyzer": "whitespace"}
_KEYWORD = {"type": "keyword"}
_STORED_ONLY = {"type": "text", "index": False}

MAPPINGS: dict[str, Any] = {
    # strict: a field the code does not know is a bug to surface, not a mapping to guess.
    "dynamic": "strict",
    "_meta": {"mapping_version": MAPPING_VERSION, "analysis_version": ANALYSIS_VERSION},
    "properties": {
        "id": _KEYWORD,  # sort tie-breaker: sorting on _id needs fielddata, disabled in 8.x
        "title": _STORED_ONLY,
        "title_terms": _STEMS,
        "body": _STEMS,
        "parts": {**_STEMS, "index_options": "freqs"},  # never used in phrases
        "idents": {**_STEMS, "index_options": "freqs"},  # identifier tokens, compact
        "ident_exact": {**_STEMS, "index_options": "freqs"},  # … and as written
        "text": _STORED_ONLY,  # page text for snippets; searching goes through the stems
        "doc_type": _KEYWORD,
        "needs_review": {"type": "boolean"},
        "reference": _KEYWORD,
        # Dates stay ISO strings in keyword fields: range filters then compare exactly as
        # SQLite's text comparison does, and a malformed extracted date cannot reject a record.
        "doc_date": _KEYWORD,
        "date": _KEYWORD,
        "year": _KEYWORD,  # date[:4]; the minimal node has no scripting to derive it
        "ingested_at": _KEYWORD,
        "page_count": {"type": "integer"},
        "analysis_version": {"type": "integer"},
        **{f: _STEMS for f in META_WEIGHTS},
        "keys": _KEYWORD,  # filter keys of the metadata fields (recordfields)
        "correspondent": _KEYWORD,  # as shown, for counts
        "tags": _KEYWORD,
        "meta": _STORED_ONLY,  # the fields a snippet may name (JSON)
    },
}

SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    # One replica where a second node exists, none on a single node (stays green).
    "auto_expand_replicas": "0-1",
}


def index_template(prefix: str) -> dict[str, Any]:
    """Body of the index template that every versioned records index of ``prefix`` uses.

    The alias is deliberately not part of the template: it is moved between versions
    explicitly, so that it never points at two indexes at once.
    """
    return {
        "index_patterns": [f"{prefix}-records-v*"],
        "template": {"settings": SETTINGS, "mappings": MAPPINGS},
        "priority": 200,
        "_meta": {"managed_by": "aktenarchiv", "mapping_version": MAPPING_VERSION},
    }


def es_document(doc: dict[str, Any]) -> dict[str, Any]:
    """The ``_source`` for an :func:`.base.index_document` dict (adds the ``year``; of the
    metadata keys, only the keys themselves)."""
    return {**doc, "year": doc["date"][:4], "keys": [key for _, key, _ in doc["keys"]]}


def _term_query(term: Term) -> list[dict[str, Any]]:
    if term.is_identifier:
        values = {"idents": term.stems[0], "ident_exact": term.exact}
        return [
            {"term": {f: {"value": values[f], "boost": b}}} for f, b in IDENT_BOOSTS.items()
        ] + [
            {"term": {f: {"value": v, "boost": b}}}
            for f, b in META_WEIGHTS.items() for v in (term.stems[0], term.exact)
        ]
    if term.is_phrase:
        phrase = " ".join(term.stems)
        return [
            {"match_phrase": {f: {"query": phrase, "boost": BOOSTS[f]}}} for f in PHRASE_FIELDS
        ]
    return [
        {"term": {f: {"value": w, "boost": b}}}
        for f, b in BOOSTS.items() for w in (term.stems[0], *term.variants)
    ]


def _any_of(terms: tuple[Term, ...]) -> dict[str, Any]:
    should = [q for term in terms for q in _term_query(term)]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def filters(query: SearchQuery, keys: list[str]) -> list[dict[str, Any]]:
    """Filter clauses for the structured fields of a query and the metadata keys a hit must
    have (:func:`.base.resolve_filters`); no effect on scores."""
    out: list[dict[str, Any]] = [{"term": {"keys": key}} for key in dict.fromkeys(keys)]
    if query.doc_type is not None:
        out.append({"term": {"doc_type": query.doc_type}})
    for field, low, high in (
        ("date", query.date_from, query.date_to),
        ("doc_date", query.doc_date_from, query.doc_date_to),
    ):
        bounds = {k: v for k, v in (("gte", low), ("lte", high)) if v is not None}
        if bounds:
            out.append({"range": {field: bounds}})
    if query.needs_review is not None:
        out.append({"term": {"needs_review": query.needs_review}})
    if query.doc_types is not None:
        out.append(_doc_types_filter(query.doc_types))
    return out


def _doc_types_filter(doc_types: tuple[str, ...]) -> dict[str, Any]:
    # "" stands for unclassified records, which carry no doc_type in the index.
    allowed: list[dict[str, Any]] = []
    if any(doc_types):
        allowed.append({"terms": {"doc_type": [t for t in doc_types if t]}})
    if "" in doc_types:
        allowed.append({"bool": {"must_not": {"exists": {"field": "doc_type"}}}})
    if not allowed:
        return {"match_none": {}}
    return {"bool": {"should": allowed, "minimum_should_match": 1}}


def build_query(query: SearchQuery, parsed: ParsedQuery | None, keys: list[str]) -> dict[str, Any]:
    """The Elasticsearch query for a search (``parsed``) or a listing (``parsed`` None).

    Each must-clause is a ``bool.should`` over its alternatives, each alternative a
    ``should`` over the fields it may match in: the same shape as :func:`.sqlite_match.fts_expression`.
    """
    bool_query: dict[str, Any] = {"filter": filters(query, keys)}
    if parsed is not None:
        bool_query["must"] = [_any_of(clause) for clause in parsed.must]
        exact = [
            tuple(replace(t, variants=()) for t in clause)
            for clause in parsed.must if any(t.variants for t in clause)
        ]
        if exact:
            # One tier per clause matched exactly: approximate-only hits rank below (as sqlite.py).
            bool_query["should"] = [
                {"constant_score": {"filter": _any_of(c), "boost": TIER}} for c in exact
            ]
        if parsed.must_not:
            bool_query["must_not"] = [_any_of((term,)) for term in parsed.must_not]
    return {"bool": bool_query}


def suggest_body(words: list[str]) -> dict[str, Any]:
    """Term-suggester request for the indexed words near each query word (rules in :mod:`.fuzzy`).

    ``max_term_freq`` keeps words found in :data:`.fuzzy.EXPAND_BELOW` documents or more
    from being expanded, as SQLite's vocabulary lookup does.
    """
    return {
        f"w{n}": {
            "text": word,
            "term": {
                "field": "body", "suggest_mode": "always", "max_edits": MAX_EDITS,
                "prefix_length": PREFIX, "min_word_length": MIN_LENGTH,
                "max_term_freq": EXPAND_BELOW - 1, "size": 100, "max_inspections": 20,
                "accuracy": 0.1, "sort": "score", "string_distance": "internal",
            },
        }
        for n, word in enumerate(words)
    }


def sort_for(parsed: ParsedQuery | None) -> list[dict[str, str]]:
    """Ranked by score for searches, newest first for listings; ``id`` breaks ties."""
    if parsed is None:
        return [{"ingested_at": "desc"}, {"id": "asc"}]
    return [{"_score": "desc"}, {"id": "asc"}]


def encode_cursor(sort_values: list[Any], seen: int, pit: str | None = None) -> str:
    """Opaque cursor: the last hit's sort values (for ``search_after``), hits seen so far,
    and the point in time the following pages read from (None on the first page's cursor)."""
    data: dict[str, Any] = {"after": sort_values, "seen": seen}
    if pit:
        data["pit"] = pit
    raw = json.dumps(data, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _sort_value(value: Any) -> bool:
    return isinstance(value, str) or type(value) is int or (type(value) is float and math.isfinite(value))


def decode_cursor(cursor: str) -> tuple[list[Any], int, str | None]:
    """Inverse of :func:`encode_cursor`; a foreign or damaged cursor is a usage error."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        pit, after, seen = data.get("pit"), data["after"], data["seen"]
        if pit is not None and not isinstance(pit, str):
            raise TypeError("pit")
        # Only what encode_cursor writes: sort values (text, whole or finite numbers) and a count.
        if not isinstance(after, list) or not all(_sort_value(v) for v in after):
            raise TypeError("after")
        if type(seen) is not int or seen < 0:
            raise TypeError("seen")
        return after, seen, pit
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"invalid search cursor {cursor!r} (not from this backend?)") from exc
