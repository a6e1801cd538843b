"""Elasticsearch-only behaviour: bulk error reports, index versions, alias switch, resume.

The shared behaviour of both backends is in ``test_backends.py``.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from itertools import islice, product

import pytest
from aktenarchiv.archive.base import SearchQuery, index_document
from aktenarchiv.archive.elastic import ElasticBackend, redact_url
from aktenarchiv.archive.elastic_schema import decode_cursor, encode_cursor, es_document
from aktenarchiv.config import ElasticSettings
from aktenarchiv.errors import ConfigError
from backend_corpus import CORPUS, ID, keys
from elasticsearch import BadRequestError, Elasticsearch

pytest_plugins = ("es_fixtures",)

RECORDS = list(CORPUS.values())


def aliased(client: Elasticsearch, alias: str) -> list[str]:
    """The indexes an alias points at."""
    return sorted(client.indices.get_alias(name=alias))


@pytest.mark.es
def test_layout_template_alias_and_strict_mappings(make_es_backend, es_client) -> None:
    backend = make_es_backend()
    assert aliased(es_client, backend.alias) == [f"{backend.alias}-v1"]
    assert es_client.indices.exists_index_template(name=backend.alias)
    mapping = es_client.indices.get_mapping(index=backend.alias)[f"{backend.alias}-v1"]
    assert mapping["mappings"]["dynamic"] == "strict"
    assert backend.is_current()
    make_es_backend()  # a second process opening the same index changes nothing
    assert aliased(es_client, backend.alias) == [f"{backend.alias}-v1"]


@pytest.mark.es
def test_bulk_reports_per_item_errors_and_carries_on(make_es_backend) -> None:
    backend = make_es_backend()
    # A keyword longer than Lucene's 32 766-byte term limit is rejected by the node.
    broken = replace(
        CORPUS["rechnung"],
        classification=replace(CORPUS["rechnung"].classification, reference="X" * 40_000),
    )
    others = [r for r in RECORDS if r.id != broken.id]
    report = backend.index([broken, *others])
    assert report.indexed == len(others)
    assert list(report.errors) == [broken.id]
    reason = report.errors[broken.id]
    assert reason.startswith("document_parsing_exception") and "[reference]" in reason
    assert len(reason) <= 300
    assert backend.ids() == {r.id for r in others}


@pytest.mark.es
def test_reindex_switches_alias_atomically(make_es_backend, es_client) -> None:
    backend = make_es_backend()
    backend.index(RECORDS)
    kept = [r for r in RECORDS if r.doc_type != "bescheid"]
    ticks: list[int] = []
    report = backend.reindex_into_new_version(kept, progress=ticks.append)
    assert report.switched and not report.resumed
    assert report.index == f"{backend.alias}-v2"
    assert report.deleted == (f"{backend.alias}-v1",)
    assert report.bulk.indexed == len(kept) == len(ticks)
    assert aliased(es_client, backend.alias) == [report.index]
    assert not es_client.indices.exists(index=f"{backend.alias}-v1")
    assert backend.ids() == {r.id for r in kept}
    assert set(keys(backend, "Mueller")) == {"bauantrag"}
    backend.index([CORPUS["gebuehren"]])  # writes go through the alias to the new version
    assert es_client.count(index=report.index)["count"] == len(RECORDS)


@pytest.mark.es
def test_interrupted_reindex_resumes(make_es_backend, es_client) -> None:
    backend = make_es_backend()
    backend.index(RECORDS)

    def interrupted():
        yield from RECORDS[:3]
        raise KeyboardInterrupt  # e.g. Ctrl-C while reading the archive store

    with pytest.raises(KeyboardInterrupt):
        backend.reindex_into_new_version(interrupted())
    # The old version still serves everything; the new one exists but is not aliased.
    assert aliased(es_client, backend.alias) == [f"{backend.alias}-v1"]
    assert backend.ids() == set(ID.values())
    new = f"{backend.alias}-v2"
    assert es_client.indices.exists(index=new)
    # Pretend the interrupted run got two records across before it stopped.
    for record in RECORDS[:2]:
        es_client.index(index=new, id=record.id, document=es_document(index_document(record)))

    ticks: list[int] = []
    report = backend.reindex_into_new_version(RECORDS, progress=ticks.append)
    assert report.resumed and report.switched and report.index == new
    assert report.bulk.indexed == len(RECORDS) - 2  # the two already there were skipped
    assert len(ticks) == len(RECORDS)
    assert aliased(es_client, backend.alias) == [new]
    assert backend.ids() == set(ID.values())
    assert backend.search(SearchQuery(text="Antrag")).total == 2


@pytest.mark.es
def test_reindex_does_not_resume_into_stale_mappings(make_es_backend, es_client) -> None:
    backend = make_es_backend()
    backend.index(RECORDS)
    # A leftover of an interrupted rebuild by older code (its mapping version 0).
    stale = f"{backend.alias}-v2"
    es_client.indices.create(index=stale, mappings={"_meta": {"mapping_version": 0}})
    report = backend.reindex_into_new_version(RECORDS)
    assert report.switched and not report.resumed and report.index == stale
    assert backend.is_current()
    assert backend.ids() == set(ID.values())


def test_cursor_round_trip_and_rejects_garbage() -> None:
    assert decode_cursor(encode_cursor([1.25, "abc"], 20)) == ([1.25, "abc"], 20, None)
    assert decode_cursor(encode_cursor([1.25], 5, "pit-id")) == ([1.25], 5, "pit-id")
    with pytest.raises(ConfigError):
        decode_cursor("nicht-von-uns")
    with pytest.raises(ConfigError):
        decode_cursor("10")  # an SQLite offset cursor
    # Forged: JSON that json.loads accepts but encode_cursor never writes.
    for raw in ('{"after":[1],"seen":Infinity}', '{"after":[NaN],"seen":1}', '{"after":[1],"seen":-1}',
                '{"after":"x","seen":1}', '{"after":[[1]],"seen":1}', '{"after":[1],"seen":1.5}',
                '{"after":[1],"seen":true}', '[1]'):
        with pytest.raises(ConfigError):
            decode_cursor(base64.urlsafe_b64encode(raw.encode()).decode())


@pytest.mark.es
def test_deep_pages_read_from_one_point_in_time(make_es_backend) -> None:
    """Records indexed between pages neither appear nor shift the pages after the second."""
    from backend_corpus import make_record

    backend = make_es_backend()
    backend.index(RECORDS)
    first = backend.search(SearchQuery(limit=2))
    second = backend.search(SearchQuery(limit=2, cursor=first.cursor))  # opens the snapshot
    late = make_record("spaet", "Nachzügler", ("Ein später Brief.",), "2030-01-01T00:00:00Z")
    backend.index([late])
    seen = [h.id for h in (*first.hits, *second.hits)]
    page = second
    while page.cursor:
        page = backend.search(SearchQuery(limit=2, cursor=page.cursor))
        assert page.total == len(RECORDS)  # the snapshot's count, not the live one
        seen.extend(h.id for h in page.hits)
    assert sorted(seen) == sorted(ID.values()) and late.id not in seen
    assert backend.search(SearchQuery(limit=50)).total == len(RECORDS) + 1  # a new search sees it


@pytest.mark.es
def test_a_forged_cursor_is_a_usage_error(make_es_backend) -> None:
    backend = make_es_backend()
    backend.index(RECORDS)
    after, seen, _ = decode_cursor(backend.search(SearchQuery(text="die", limit=1)).cursor)
    snapshot = decode_cursor(backend.search(SearchQuery(text="die", limit=1, cursor=encode_cursor(after, seen))).cursor)[2]
    for forged in (
        encode_cursor(after[:1], seen),  # search_after has 1 value(s) but sort has 2
        encode_cursor(["abc", after[1]], seen),  # failed to parse search_after value
        encode_cursor(after, seen, snapshot[:-8]),  # EOFException reading the point-in-time id
        encode_cursor(after, seen, base64.urlsafe_b64encode(b"\0" * 60).decode()),  # not all bytes were read
    ):
        with pytest.raises(ConfigError, match="invalid search cursor"):
            backend.search(SearchQuery(text="die", limit=1, cursor=forged))


@pytest.mark.es
@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        ({"limit": 20_000}, "Result window is too large"),  # above index.max_result_window
        # About 10 term queries per word: far above the node's clause limit (8192 at 512 MB heap).
        ({"text": " ".join(map("".join, islice(product("bcdfghklmpqvwxz", repeat=4), 3000)))},
         "too many clauses|maxClauseCount"),
    ],
)
def test_a_bad_request_on_a_later_page_keeps_its_own_reason(make_es_backend, request_, reason) -> None:
    """Only the cursor's faults are reported as an invalid cursor: a request the node refuses
    for another reason fails on a later page as it does on the first."""
    backend = make_es_backend()
    backend.index(RECORDS)
    cursor = backend.search(SearchQuery(text="die", limit=1)).cursor
    for page in (None, cursor):
        with pytest.raises(BadRequestError, match=reason):
            backend.search(SearchQuery(**{"text": "die", "limit": 1, **request_, "cursor": page}))


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@es.example:9243/base", "https://es.example:9243/base"),
        ("http://127.0.0.1:9200", "http://127.0.0.1:9200"),
        ("u:geheim@host:9200", "host:9200"),
        # Up to the last '@': the password may hold '@' and '/' unencoded, so an '@' in a path
        # costs some of the shown URL rather than risking part of a password.
        ("http://u:ge@heim@host:9200/x@y", "http://y"),
        ("http://u:pa/ss@host:9200", "http://host:9200"),
        ("http://[::1]:9200", "http://[::1]:9200"),
    ],
)
def test_redact_url_drops_credentials(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize("url", ["u:geheim@host:9200", "http://u:geheim@host:kein-port"])
def test_malformed_url_is_a_config_error_without_secrets(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        ElasticBackend(ElasticSettings(url=url))
    assert "geheim" not in str(info.value)
