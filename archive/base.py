"""The search backend interface and the index document (the registry is :mod:`.registry`).

Both backends index the same document built by :func:`index_document` from an
``ArchiveRecord`` (analysed German text in ``body``/``parts``, raw page text for snippets)
and answer the same ``SearchQuery``; the record id (the original's SHA-256) is the
document id, so indexing is an upsert.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Protocol

from ..models import ArchiveRecord, SearchPage
from .analysis import ANALYSIS_VERSION, analyze_for_index
from .identifiers import identifier_tokens
from .recordfields import filter_keys, index_fields, split_field_filters


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search or listing request. ``text`` None lists records, newest first."""

    text: str | None = None
    doc_type: str | None = None
    date_from: str | None = None  # ISO dates, inclusive, on the record date (ingest day)
    date_to: str | None = None
    reference: str | None = None  # Aktenzeichen (case and spacing aside, exact)
    correspondent: str | None = None  # likewise
    tags: tuple[str, ...] = ()  # every one of them
    fields: tuple[tuple[str, str], ...] = ()  # custom fields (name, value), every one of them
    doc_date_from: str | None = None  # ISO dates, inclusive, on the document's own date
    doc_date_to: str | None = None
    needs_review: bool | None = None
    # Need-to-know allow-list of document types ("" = unclassified); None allows all, () none.
    # Part of the backend query, so hits, counts and cursors all obey it.
    doc_types: tuple[str, ...] | None = None
    limit: int = 10
    cursor: str | None = None  # opaque, from SearchPage.cursor


@dataclass(frozen=True, slots=True)
class BulkReport:
    """What an indexing call did; ``errors`` maps record ids to reasons."""

    indexed: int = 0
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReindexReport:
    """Outcome of ``reindex_into_new_version`` (both backends).

    ``switched`` is False when some records failed: searches then still use the old index,
    and the new one is kept so that the next call resumes filling it.
    """

    index: str
    bulk: BulkReport
    switched: bool
    resumed: bool = False
    deleted: tuple[str, ...] = field(default=())


class SearchBackend(Protocol):
    """What every archive search backend does."""

    name: str

    def index(self, records: Iterable[ArchiveRecord]) -> BulkReport:
        """Upsert records by id; per-record failures are reported, not raised."""
        ...

    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents by id (missing ids are ignored)."""
        ...

    def search(self, query: SearchQuery) -> SearchPage:
        """Ranked hits with snippets, or the newest records when ``query.text`` is None."""
        ...

    def counts(self, query: SearchQuery) -> dict[str, dict[str, int]]:
        """Hit counts per ``doc_type``, ``year``, ``correspondent`` and ``tag`` for the query."""
        ...

    def search_with_counts(self, query: SearchQuery) -> tuple[SearchPage, dict[str, dict[str, int]]]:
        """``(search(query), counts(query))`` in one call (the web's search page): cheaper
        than the two calls, the same answer."""
        ...

    def ids(self) -> set[str]:
        """Every indexed record id."""
        ...

    def reindex_into_new_version(
        self, records: Iterable[ArchiveRecord], progress: Callable[[int], None] | None = None
    ) -> ReindexReport:
        """Rebuild the whole index from ``records`` beside the live one, then switch atomically."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def resolve_filters(query: SearchQuery) -> tuple[SearchQuery, list[str]]:
    """The query with typed ``Name:value`` filters taken out of its text, and the filter keys
    (:mod:`.recordfields`) a hit must have: those typed and those of the query's fields."""
    keys = filter_keys(query.reference, query.correspondent, query.tags, query.fields)
    if not query.text:
        return query, keys
    text, typed = split_field_filters(query.text)
    return replace(query, text=text), keys + typed


def index_document(record: ArchiveRecord) -> dict[str, Any]:
    """The document both backends index for a record.

    Every searchable field is a string of space-separated tokens made in Python; a backend
    adds a field by a column (SQLite) or a mapping (Elasticsearch) and a weight.
    """
    text = "\f".join(p.text for p in record.pages)
    analysed = analyze_for_index(text)
    title = analyze_for_index(record.title)
    cls = record.classification
    idents = identifier_tokens(text, record.title, cls.reference or "")
    return {
        "id": record.id,
        "title": record.title,
        "title_terms": f"{title.body} {title.parts}".strip(),
        "body": analysed.body,
        "parts": analysed.parts,
        "idents": idents.compact,
        "ident_exact": idents.exact,
        "text": text,
        "doc_type": cls.doc_type,
        "needs_review": cls.needs_review,
        "reference": cls.reference,
        "doc_date": cls.doc_date,
        "date": record.date,
        "ingested_at": record.ingested_at,
        "page_count": record.page_count,
        "analysis_version": ANALYSIS_VERSION,
        **index_fields(record),
    }
