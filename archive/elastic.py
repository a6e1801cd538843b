"""The Elasticsearch search backend: same interface and same answers as :mod:`.sqlite`.

Layout on the cluster, for an index prefix ``akte``:

* index template ``akte-records`` for ``akte-records-v*`` (mappings in :mod:`.elastic_schema`);
* versioned indexes ``akte-records-v1``, ``akte-records-v2`` … (kept by :mod:`.elastic_cluster`);
* the alias ``akte-records``, pointing at exactly one of them; every read and write goes
  through it, so :meth:`ElasticBackend.reindex_into_new_version` can rebuild the index
  from the archive store and switch the alias atomically while searches go on.

The record id is the document ``_id``, so indexing is an upsert. Secrets from the settings
(API key, password) go to the client only; messages name the URL without credentials.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

from elasticsearch import (
    AuthenticationException,
    AuthorizationException,
    BadRequestError,
    Elasticsearch,
    NotFoundError,
    TransportError,
    helpers,
)

from ..config import ElasticSettings, redact, redact_url
from ..errors import ArchiveUnavailableError, ConfigError
from ..models import ArchiveRecord, SearchHit, SearchPage
from ..states import BackendName
from .base import BulkReport, ReindexReport, SearchQuery, index_document, resolve_filters
from .elastic_cluster import (
    built_by_this_code,
    check_url,
    create_first_index,
    put_template,
    rebuild_target,
    records_alias,
    switch_alias,
)
from .elastic_schema import TIER, build_query, decode_cursor, encode_cursor, es_document, sort_for, suggest_body
from .fuzzy import eligible, ocr_variants
from .query import ParsedQuery, parse_query
from .recordfields import hit_snippet

PIT_KEEP_ALIVE = "5m"  # how long a clerk may take between two result pages
_COUNT_BUCKETS = 10_000  # more doc types or years than this would be a data error
# Hit counts per document type (unclassified as ""), year of the record date, correspondent
# and tag (records without one are not counted there).
_COUNT_AGGS = {
    "doc_type": {"terms": {"field": "doc_type", "missing": "", "size": _COUNT_BUCKETS}},
    "year": {"terms": {"field": "year", "size": _COUNT_BUCKETS}},
    "correspondent": {"terms": {"field": "correspondent", "size": _COUNT_BUCKETS}},
    "tag": {"terms": {"field": "tags", "size": _COUNT_BUCKETS}},
}
_SOURCE = ["id", "title", "doc_type", "date", "text", "meta"]


class ElasticBackend:
    """Search backend on an Elasticsearch 8.x cluster (``AKTE_BACKEND=elasticsearch``)."""

    name = BackendName.ELASTICSEARCH

    def __init__(self, settings: ElasticSettings) -> None:
        """Connect, and create the index template and first index when missing.

        Opening an existing index costs one request and needs read rights only; the template
        is written when the first index is created and by every reindex.

        Raises:
            ConfigError: the URL is malformed.
            ArchiveUnavailableError: the cluster cannot be reached or refuses the credentials.
        """
        self.settings = settings
        self.url = redact_url(settings.url)
        check_url(settings.url)
        self.alias = records_alias(settings.index_prefix)
        auth: dict[str, Any] = {}
        if settings.api_key:
            auth["api_key"] = settings.api_key
        elif settings.username:
            auth["basic_auth"] = (settings.username, settings.password or "")
        if settings.ca_cert:
            auth["ca_certs"] = settings.ca_cert
        try:
            self.client = Elasticsearch(
                settings.url,
                request_timeout=settings.timeout,
                retry_on_timeout=True,
                max_retries=2,
                **auth,
            )
        except ValueError as exc:  # e.g. no scheme; the client quotes the raw URL
            reason = redact(str(exc).replace(settings.url, self.url), settings.secrets())
            raise ConfigError(f"Elasticsearch URL {self.url!r}: {reason}") from None
        with self._guard("connect"):
            if not self.client.indices.exists_alias(name=self.alias):
                put_template(self.client, settings.index_prefix)
                create_first_index(self.client, self.alias)

    def __repr__(self) -> str:
        return f"ElasticBackend(url={self.url!r}, alias={self.alias!r})"

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        # Translate the client's transport and auth failures in one place; other API errors
        # (bad requests) are programming errors and keep their own type.
        try:
            yield
        except (AuthenticationException, AuthorizationException) as exc:
            raise ArchiveUnavailableError(self._redacted(f"refused the credentials ({action}): {exc.message}")) from None
        except TransportError as exc:
            raise ArchiveUnavailableError(self._redacted(f"is unreachable ({action}): {exc.message}")) from None

    def _redacted(self, problem: str) -> str:
        # The client's messages may quote a node URL or header; none of them may carry a secret.
        return redact(f"Elasticsearch at {self.url} {problem}", self.settings.secrets())

    # ---- writing -------------------------------------------------------------------------

    def index(self, records: Iterable[ArchiveRecord]) -> BulkReport:
        """Upsert records by id with ``streaming_bulk``; per-record failures are reported."""
        return self._bulk_index(records, self.alias)

    def index_documents(self, docs: Iterable[dict[str, Any]]) -> BulkReport:
        """Upsert documents already made by :func:`.base.index_document` (analysis done
        elsewhere, e.g. in other processes); per-document failures are reported."""
        return self._bulk_send((es_document(d) for d in docs), self.alias)

    def _bulk_index(
        self,
        records: Iterable[ArchiveRecord],
        target: str,
        progress: Callable[[int], None] | None = None,
    ) -> BulkReport:
        return self._bulk_send((es_document(index_document(r)) for r in records), target, progress)

    def _bulk_send(
        self,
        sources: Iterable[dict[str, Any]],
        target: str,
        progress: Callable[[int], None] | None = None,
    ) -> BulkReport:
        actions = ({"_index": target, "_id": src["id"], "_source": src} for src in sources)
        count, errors = 0, {}
        with self._guard("bulk index"):
            # raise_on_error=False: one rejected document must not stop the chunks after it.
            for ok, item in helpers.streaming_bulk(
                self.client, actions, raise_on_error=False, max_retries=3, chunk_size=1000,
                max_chunk_bytes=20 * 2**20,
            ):
                result = item.get("index", {})
                if ok:
                    count += 1
                else:
                    errors[str(result.get("_id"))] = _reason(result)
                if progress is not None:
                    progress(1)
            self.client.indices.refresh(index=target)
        return BulkReport(count, errors)

    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents by id; ids that are not indexed are ignored."""
        actions = ({"_op_type": "delete", "_index": self.alias, "_id": i} for i in ids)
        with self._guard("delete"):
            results = helpers.streaming_bulk(
                self.client, actions, raise_on_error=False, max_retries=3
            )
            # 404: the id was not indexed, which is what the caller wants anyway.
            failures = [
                item["delete"]
                for ok, item in results
                if not ok and item["delete"].get("status") != 404
            ]
            self.client.indices.refresh(index=self.alias)
        if failures:
            reasons = "; ".join(f"{f.get('_id')}: {_reason(f)}" for f in failures[:5])
            raise ArchiveUnavailableError(f"Elasticsearch at {self.url}: delete failed: {reasons}")

    # ---- reading -------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchPage:
        """Ranked hits with snippets (or the newest records without text), paged by cursor.

        The cursor carries the last hit's sort values for ``search_after``, so paging stays
        cheap however deep it goes. From the second page on, pages read from one point in
        time (opened when the first cursor is used, kept for :data:`PIT_KEEP_ALIVE` between
        pages, closed after the last page), so records indexed meanwhile do not shift them.
        """
        return self._search(query, None)[0]

    def search_with_counts(self, query: SearchQuery) -> tuple[SearchPage, dict[str, dict[str, int]]]:
        """``search(query)`` and ``counts(query)`` in one request (hits and aggregations)."""
        page, resp = self._search(query, _COUNT_AGGS)
        return page, _bucket_counts(resp)

    def _search(self, query: SearchQuery, aggs: dict[str, Any] | None) -> tuple[SearchPage, dict[str, Any]]:
        query, keys = resolve_filters(query)
        parsed = parse_query(query.text) if query.text else None
        after, seen, pit = decode_cursor(query.cursor) if query.cursor else (None, 0, None)
        counted = {"aggs": aggs} if aggs else {}
        with self._guard("search"):
            if query.cursor and pit is None:
                pit = self.client.open_point_in_time(index=self.alias, keep_alive=PIT_KEEP_ALIVE)["id"]
            target = {"pit": {"id": pit, "keep_alive": PIT_KEEP_ALIVE}} if pit else {"index": self.alias}

            def run(parsed: ParsedQuery | None, **extra: Any) -> dict[str, Any]:
                return self._search_or_expired(
                    pit, query=build_query(query, parsed, keys), sort=sort_for(parsed),
                    size=query.limit, search_after=after, track_total_hits=True,
                    source_includes=_SOURCE, **target, **counted, **extra,
                )

            resp, parsed = self._with_variants(parsed, run)
            pit = resp.get("pit_id", pit)
        total = resp["hits"]["total"]["value"]
        raw_hits = resp["hits"]["hits"]
        hits = []
        for h in raw_hits:
            src = h["_source"]
            snippet, page = hit_snippet(src["text"], src.get("meta", "[]"), parsed)
            score = float(h["_score"] or 0.0) if parsed else 0.0
            # Remove the tiers of exactly matched clauses: the score shown is BM25's.
            score = round(score % TIER if parsed and parsed.is_approximate else score, 4)
            hits.append(
                SearchHit(
                    src["id"], src["title"], src.get("doc_type"), src["date"], score, snippet, page
                )
            )
        seen += len(raw_hits)
        cursor = None
        if raw_hits and seen < total:
            cursor = encode_cursor(raw_hits[-1]["sort"], seen, pit)
        elif pit:
            with self._guard("close point in time"):
                self.client.close_point_in_time(id=pit)
        return SearchPage(tuple(hits), total, cursor), resp

    def _search_or_expired(self, snapshot: str | None, **request: Any) -> dict[str, Any]:
        try:
            return self.client.search(**request)
        except NotFoundError:
            if snapshot:
                raise ConfigError(
                    f"the search cursor has expired (more than {PIT_KEEP_ALIVE} between pages);"
                    " search again"
                ) from None
            raise
        except BadRequestError:
            if snapshot and self._accepted_without_cursor(request):
                raise ConfigError("invalid search cursor (not from this search?)") from None
            raise

    def _accepted_without_cursor(self, request: dict[str, Any]) -> bool:
        # Whether the cursor (forged sort values, a foreign point in time) made the request bad.
        # The node's reasons do not say so reliably (a damaged point-in-time id is refused as a
        # Java EOFException): ask the same without the cursor (and without our fixed counts and
        # suggestions, which cost but cannot be bad); other causes keep their error.
        probe = {k: v for k, v in request.items() if k not in ("pit", "search_after", "aggs", "suggest")}
        try:
            self.client.search(index=self.alias, **probe)
        except BadRequestError:
            return False
        return True

    @staticmethod
    def _with_variants(
        parsed: ParsedQuery | None, run: Callable[..., dict[str, Any]]
    ) -> tuple[dict[str, Any], ParsedQuery | None]:
        """Run a search, asking the term suggester in the same request for the indexed words
        near each rare long query word; when OCR variants turn up, run it again with them."""
        words = sorted(w for w in parsed.words() if eligible(w)) if parsed else []
        if not words:
            return run(parsed), parsed
        resp = run(parsed, suggest=suggest_body(words))
        variants = {}
        for n, word in enumerate(words):
            options = [o["text"] for entry in resp["suggest"][f"w{n}"] for o in entry["options"]]
            found = ocr_variants(word, options)
            if found:
                variants[word] = found
        if not variants:
            return resp, parsed
        expanded = parsed.with_variants(variants)
        return run(expanded), expanded

    def counts(self, query: SearchQuery) -> dict[str, dict[str, int]]:
        """Hit counts per document type (unclassified as ``""``), per year of the record date,
        per correspondent and per tag (records without one are not counted there)."""
        query, keys = resolve_filters(query)
        parsed = parse_query(query.text) if query.text else None

        def run(parsed: ParsedQuery | None, **extra: Any) -> dict[str, Any]:
            return self.client.search(
                index=self.alias, query=build_query(query, parsed, keys), size=0, aggs=_COUNT_AGGS, **extra
            )

        with self._guard("counts"):
            resp, _ = self._with_variants(parsed, run)
        return _bucket_counts(resp)

    def ids(self) -> set[str]:
        """Every indexed record id (scrolls through the whole index)."""
        return self._ids_in(self.alias)

    def _ids_in(self, index: str) -> set[str]:
        with self._guard("list ids"):
            hits = helpers.scan(
                self.client, index=index, query={"query": {"match_all": {}}, "_source": False}
            )
            return {h["_id"] for h in hits}

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()

    # ---- rebuilding ----------------------------------------------------------------------

    def is_current(self) -> bool:
        """False when the aliased index was built with older mappings or text analysis.

        Such an index still answers, but may miss words the current analysis would find:
        rebuild it with :meth:`reindex_into_new_version`.
        """
        with self._guard("read mappings"):
            return built_by_this_code(self.client, self.alias)

    def reindex_into_new_version(
        self,
        records: Iterable[ArchiveRecord],
        progress: Callable[[int], None] | None = None,
    ) -> ReindexReport:
        """Rebuild the index from ``records`` in a new version and switch the alias atomically.

        Steps: create ``<prefix>-records-v<N+1>`` (current mappings from the template), bulk
        every record into it, then move the alias in one ``_aliases`` call (remove from all
        versions + add to the new one) and delete the old versions. Searches see the old index
        until the switch and the complete new one after it; writes made meanwhile through the
        alias land in the old index, so re-run ``index`` for records ingested during a rebuild.

        Resumable: an interrupted rebuild leaves a newest version that the alias does not point
        at. The next call reuses it and skips the ids it already holds.

        Args:
            records: every record of the archive store (the source of truth).
            progress: called with 1 per record handled (skipped ones included), e.g. to
                advance a progress bar.

        Returns:
            A :class:`ReindexReport`; ``switched`` is False (alias unchanged, new index kept
            for a resumed run) when some records failed to index.

        Raises:
            ArchiveUnavailableError: the cluster is unreachable (rerun to resume).
        """
        with self._guard("reindex"):
            versions, target, resumed = rebuild_target(self.client, self.settings.index_prefix)
            done = self._ids_in(target) if resumed else set()
        todo = (r for r in records if r.id not in done or _tick(progress))
        report = self._bulk_index(todo, target, progress)
        if report.errors:
            return ReindexReport(target, report, switched=False, resumed=resumed)
        with self._guard("switch alias"):
            old = switch_alias(self.client, self.alias, target, versions)
        return ReindexReport(target, report, switched=True, resumed=resumed, deleted=old)


def _bucket_counts(resp: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The counts of a response with :data:`_COUNT_AGGS`, in SQLite's order (count, then key)."""
    result: dict[str, dict[str, int]] = {}
    for name in _COUNT_AGGS:
        buckets = resp["aggregations"][name]["buckets"]
        ordered = sorted(buckets, key=lambda b: (-b["doc_count"], b["key"]))
        result[name] = {b["key"]: b["doc_count"] for b in ordered}
    return result


def _tick(progress: Callable[[int], None] | None) -> bool:
    # Count a skipped record as handled; returns False so the generator filter drops it.
    if progress is not None:
        progress(1)
    return False


def _reason(result: dict[str, Any], limit: int = 300) -> str:
    # The node quotes offending values in its reasons; cap them so a 40 kB field does not
    # end up in every report and journal line.
    error = result.get("error")
    if isinstance(error, dict):
        reason = f"{error.get('type')}: {error.get('reason')}"
    else:
        reason = str(error or f"status {result.get('status')}")
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"


__all__ = ["ElasticBackend", "ReindexReport", "redact_url"]
