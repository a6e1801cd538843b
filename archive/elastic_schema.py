"""Index layout and query translation for the Elasticsearch backend.

The minimal Elasticsearch distribution has no ``analysis-common`` module (no ``german``
analyzer, no ``asciifolding``), and the embedded backend must find exactly the same words.
So German text is analysed in Python (:func:`.base.index_document`) and indexed with the
server's built-in ``whitespace`` analyzer: ``body``, ``parts`` and ``title_terms`` arrive
as space-separated stems. Queries are built from the same :class:`.query.ParsedQuery` as
the FTS5 expression in :mod:`.sqlite`, clause for clause.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ..errors import ConfigError
from .analysis import ANALYSIS_VERSION
from .base import SearchQuery
from .query import ParsedQuery, Term

# Bump when the mappings below change: existing indexes then need `reindex`.
MAPPING_VERSION = 1

# Field boosts mirroring the FTS5 bm25 column weights in sqlite.py (body, parts, title).
BOOSTS = {"body": 1.0, "parts": 0.4, "title_terms": 2.0}
PHRASE_FIELDS = ("body", "title_terms")  # parts carry no word order, as in sqlite.py

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
    """The ``_source`` for an :func:`.base.index_document` dict (adds the ``year``)."""
    return {**doc, "year": doc["date"][:4]}


def _term_query(term: Term) -> list[dict[str, Any]]:
    if term.is_phrase:
        phrase = " ".join(term.stems)
        return [
            {"match_phrase": {f: {"query": phrase, "boost": BOOSTS[f]}}} for f in PHRASE_FIELDS
        ]
    return [{"term": {f: {"value": term.stems[0], "boost": b}}} for f, b in BOOSTS.items()]


def _any_of(terms: tuple[Term, ...]) -> dict[str, Any]:
    should = [q for term in terms for q in _term_query(term)]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def filters(query: SearchQuery) -> list[dict[str, Any]]:
    """Filter clauses for the structured fields of a query (no effect on scores)."""
    out: list[dict[str, Any]] = []
    for field, value in (("doc_type", query.doc_type), ("reference", query.reference)):
        if value is not None:
            out.append({"term": {field: value}})
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


def build_query(query: SearchQuery, parsed: ParsedQuery | None) -> dict[str, Any]:
    """The Elasticsearch query for a search (``parsed``) or a listing (``parsed`` None).

    Each must-clause is a ``bool.should`` over its alternatives, each alternative a
    ``should`` over the fields it may match in: the same shape as :func:`.sqlite.fts_expression`.
    """
    bool_query: dict[str, Any] = {"filter": filters(query)}
    if parsed is not None:
        bool_query["must"] = [_any_of(clause) for clause in parsed.must]
        if parsed.must_not:
            bool_query["must_not"] = [_any_of((term,)) for term in parsed.must_not]
    return {"bool": bool_query}


def sort_for(parsed: ParsedQuery | None) -> list[dict[str, str]]:
    """Ranked by score for searches, newest first for listings; ``id`` breaks ties."""
    if parsed is None:
        return [{"ingested_at": "desc"}, {"id": "asc"}]
    return [{"_score": "desc"}, {"id": "asc"}]


def encode_cursor(sort_values: list[Any], seen: int) -> str:
    """Opaque cursor: the last hit's sort values (for ``search_after``) and hits seen so far."""
    raw = json.dumps({"after": sort_values, "seen": seen}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[list[Any], int]:
    """Inverse of :func:`encode_cursor`; a foreign or damaged cursor is a usage error."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        return list(data["after"]), int(data["seen"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"invalid search cursor {cursor!r} (not from this backend?)") from exc
