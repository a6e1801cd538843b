"""One test suite for every search backend: same records, same queries, same answers.

Each test runs against the embedded SQLite backend and against a real Elasticsearch node
(marker ``es``; see ``es_fixtures.py`` for how the node is found).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aktenarchiv.archive.base import SearchBackend, SearchQuery
from aktenarchiv.archive.elastic import ElasticBackend
from aktenarchiv.archive.sqlite import SqliteBackend
from aktenarchiv.config import ElasticSettings
from aktenarchiv.errors import ArchiveUnavailableError
from backend_corpus import CORPUS, ID, KEY, keys, make_record

pytest_plugins = ("es_fixtures", "backend_fixtures")


@pytest.fixture
def filled(backend: SearchBackend) -> SearchBackend:
    """A backend holding the whole corpus."""
    report = backend.index(CORPUS.values())
    assert report.errors == {}
    assert report.indexed == len(CORPUS)
    return backend


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Mueller", {"bauantrag", "gebuehren"}),  # folding: ü = ue, both ways
        ("Müller", {"bauantrag", "gebuehren"}),
        ("Strasse", {"rechnung", "bauantrag"}),  # ß = ss; Hauptstraße by its part
        ("Anträge", {"bauantrag", "protokoll"}),  # stemming: Anträge = Antrag
        ("Antrag", {"bauantrag", "protokoll"}),
        ("Bescheid", {"gebuehren", "widerspruch"}),  # compound part of Gebührenbescheid
        ("Genehmigung", {"bauantrag", "gebuehren"}),  # … of Baugenehmigung
        ("Vertrag", {"mietvertrag"}),
        ("Bauantrag", {"bauantrag"}),  # a compound query does not match every Antrag
        ('"Antrag auf Erteilung"', {"bauantrag"}),
        ('"Erteilung auf Antrag"', set()),
        ("Rechnung OR Protokoll", {"rechnung", "protokoll"}),
        ("Gebührenbescheid -Widerspruch", {"gebuehren"}),
        ('Antrag -"Sitzung des Gemeinderats"', {"bauantrag"}),
        ("Rathaus Miete", {"mietvertrag"}),  # words on different pages
        ("Müßig", {"schreiben"}),
    ],
)
def test_german_matching(filled: SearchBackend, query: str, expected: set[str]) -> None:
    assert set(keys(filled, query)) == expected


@pytest.mark.parametrize(
    ("query", "top"),
    [
        ("Gebührenbescheid", "widerspruch"),  # in the title, weighted above the body
        ("Müller", "bauantrag"),  # in title and body
        ("Antrag", "bauantrag"),
    ],
)
def test_ranking_top_hit(filled: SearchBackend, query: str, top: str) -> None:
    assert keys(filled, query)[0] == top


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"doc_type": "bescheid"}, {"gebuehren"}),
        ({"reference": "63.2-4711/24"}, {"bauantrag", "gebuehren", "widerspruch"}),
        (
            {"date_from": "2024-01-01", "date_to": "2024-05-10"},
            {"bauantrag", "gebuehren", "schreiben"},
        ),
        ({"doc_date_from": "2023-01-01", "doc_date_to": "2023-12-31"}, {"rechnung", "protokoll"}),
        ({"needs_review": True}, {"schreiben"}),
    ],
)
def test_filters(filled: SearchBackend, filters: dict, expected: set[str]) -> None:
    assert set(keys(filled, None, **filters)) == expected


def test_filters_combine_with_text(filled: SearchBackend) -> None:
    assert keys(filled, "Gebührenbescheid", doc_type="widerspruch") == ["widerspruch"]
    assert keys(filled, "Müller", date_to="2024-04-01") == ["bauantrag"]


def test_listing_newest_first(filled: SearchBackend) -> None:
    expected = sorted(CORPUS, key=lambda k: CORPUS[k].ingested_at, reverse=True)
    assert keys(filled) == expected
    page = filled.search(SearchQuery(limit=3))
    assert page.total == len(CORPUS)
    assert [h.score for h in page.hits] == [0.0, 0.0, 0.0]
    assert page.hits[0].date == "2024-06-01"


@pytest.mark.parametrize("text", [None, "Antrag OR Bescheid OR Rechnung OR Miete OR Herren"])
def test_paging_with_cursors(filled: SearchBackend, text: str | None) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = filled.search(SearchQuery(text=text, limit=2, cursor=cursor))
        seen.extend(h.id for h in page.hits)
        cursor = page.cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == page.total
    assert [KEY[i] for i in seen] == keys(filled, text)


def test_counts(filled: SearchBackend) -> None:
    assert filled.counts(SearchQuery()) == {
        "doc_type": {
            "": 1, "antrag": 1, "bescheid": 1, "protokoll": 1,
            "rechnung": 1, "vertrag": 1, "widerspruch": 1,
        },
        "year": {"2024": 4, "2023": 2, "2022": 1},
        "correspondent": {}, "tag": {},
    }
    assert filled.counts(SearchQuery(text="Gebührenbescheid OR Müller")) == {
        "doc_type": {"antrag": 1, "bescheid": 1, "widerspruch": 1},
        "year": {"2024": 3},
        "correspondent": {}, "tag": {},
    }


def test_snippets_mark_matches(filled: SearchBackend) -> None:
    hit = filled.search(SearchQuery(text="Mueller")).hits
    by_key = {KEY[h.id]: h for h in hit}
    assert "«Müller»" in by_key["bauantrag"].snippet
    assert "«Mueller»" in by_key["gebuehren"].snippet
    miete = filled.search(SearchQuery(text="Kündigung")).hits[0]
    assert miete.page == 2 and "«Kündigung»" in miete.snippet


def test_upsert_keeps_one_document(filled: SearchBackend) -> None:
    old = CORPUS["rechnung"]
    changed = make_record(
        "rechnung", "Rechnung Winterdienst", ("Rechnung über den Winterdienst am Rathaus.",),
        old.ingested_at, "rechnung", "20.1-0815/23", "2023-11-15",
    )
    assert filled.index([changed]).indexed == 1
    assert filled.ids() == set(ID.values())
    assert keys(filled, "Winterdienst") == ["rechnung"]
    assert keys(filled, "Straße") == ["bauantrag"]


def test_delete(filled: SearchBackend) -> None:
    filled.delete([ID["gebuehren"], "0" * 64])  # an unknown id is ignored
    assert filled.ids() == set(ID.values()) - {ID["gebuehren"]}
    assert set(keys(filled, "Mueller")) == {"bauantrag"}
    assert filled.counts(SearchQuery(doc_type="bescheid"))["doc_type"] == {}


def test_empty_backend(backend: SearchBackend) -> None:
    assert backend.ids() == set()
    page = backend.search(SearchQuery(text="Antrag"))
    assert page.hits == () and page.total == 0 and page.cursor is None


@pytest.mark.es
def test_backends_agree(tmp_path: Path, make_es_backend) -> None:
    """Same corpus, same queries: same hits in the same order on both backends."""
    sqlite = SqliteBackend(tmp_path / "index.sqlite")
    elastic = make_es_backend()
    for b in (sqlite, elastic):
        b.index(CORPUS.values())
    queries = ("Antrag", "Gebührenbescheid", "Müller OR Rechnung", "Rathaus", "Bescheid -Fehler")
    for text in queries:
        assert keys(sqlite, text) == keys(elastic, text), text
    sqlite.close()


def test_unreachable_elasticsearch_is_archive_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    url = "http://akte:geheim@127.0.0.1:9"
    settings = ElasticSettings(url=url, api_key="schluessel", timeout=2)
    with pytest.raises(ArchiveUnavailableError) as info:
        ElasticBackend(settings)
    assert "http://127.0.0.1:9 is unreachable" in info.value.message
    assert info.value.exit_code == 5
    for secret in ("geheim", "schluessel"):
        assert secret not in str(info.value) and secret not in caplog.text


def test_doc_types_allow_list_bounds_hits_counts_and_cursors(filled: SearchBackend) -> None:
    # The need-to-know scope of the web archive: "" admits unclassified records.
    scope = ("antrag", "widerspruch", "")
    assert set(keys(filled, doc_types=scope)) == {"bauantrag", "widerspruch", "schreiben"}
    found = keys(filled, "Müller OR Gebührenbescheid OR Müßig", doc_types=scope)
    assert set(found) == {"bauantrag", "widerspruch", "schreiben"}  # gebuehren (bescheid) is out
    assert filled.counts(SearchQuery(doc_types=("bescheid", "vertrag"))) == {
        "doc_type": {"bescheid": 1, "vertrag": 1}, "year": {"2024": 1, "2022": 1},
        "correspondent": {}, "tag": {},
    }
    assert keys(filled, doc_types=()) == []
    assert keys(filled, doc_type="rechnung", doc_types=("antrag",)) == []
    seen, cursor = [], None
    while True:
        page = filled.search(SearchQuery(limit=1, cursor=cursor, doc_types=("vertrag", "protokoll")))
        seen += [KEY[h.id] for h in page.hits]
        if not (cursor := page.cursor):
            break
    assert seen == ["protokoll", "mietvertrag"] and page.total == 2


@pytest.mark.parametrize(
    "request_",
    [
        {},
        {"text": "Antrag OR Müller OR Bescheid OR Miete"},
        {"text": "Antrag OR Müller OR Bescheid", "doc_types": ("antrag", "bescheid", "")},  # the web's scope
        {"text": "Antrag OR Müller OR Bescheid", "doc_types": ("antrag", "widerspruch")},
        {"doc_types": ("antrag", "widerspruch", "")},
        {"text": "Müller OR Vertrag OR Protokoll", "date_from": "2024-01-01", "date_to": "2024-12-31"},
        {"text": "Müller OR Vertrag OR Protokoll", "date_from": "2023-06-15", "date_to": "2024-12-31"},
        {"text": "Müller OR Bescheid", "doc_type": "bescheid", "needs_review": False},
        {"text": '"Antrag auf Erteilung" OR Gebührenbescheid', "doc_date_from": "2020-01-01"},
        {"text": "Baugenehrnigung"},  # approximate: the OCR variant is found
        {"text": "Antrag OR Müller OR Bescheid", "limit": 1},
        {"doc_types": ()},
    ],
)
def test_search_with_counts_is_search_and_counts(filled: SearchBackend, request_: dict) -> None:
    """The web page's single call answers as the two calls do, and its counts are those of
    the hits themselves (every hit paged through and tallied by type and year)."""
    query = SearchQuery(**request_)
    page, counts = filled.search_with_counts(query)
    assert (page, counts) == (filled.search(query), filled.counts(query))
    hits, cursor = [], None
    while True:
        more = filled.search(SearchQuery(**{**request_, "limit": 3, "cursor": cursor}))
        hits += more.hits
        if not (cursor := more.cursor):
            break
    by_type: dict[str, int] = {}
    by_year: dict[str, int] = {}
    for hit in hits:
        by_type[hit.doc_type or ""] = by_type.get(hit.doc_type or "", 0) + 1
        by_year[hit.date[:4]] = by_year.get(hit.date[:4], 0) + 1
    assert counts["doc_type"] == by_type and counts["year"] == by_year
    assert list(counts["doc_type"].values()) == sorted(by_type.values(), reverse=True)
    assert page.total == len(hits)
