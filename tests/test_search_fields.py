"""A record's metadata on both backends: reference, correspondent, tags, custom fields, notes
and file names found from the search box, as filters, in snippets and in counts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aktenarchiv.archive.base import SearchBackend, SearchQuery
from aktenarchiv.archive.recordfields import record_fields, split_field_filters, with_fields
from backend_corpus import make_record

pytest_plugins = ("es_fixtures", "backend_fixtures")


def _record(key, title, text, day, reference=None, extra=()):
    return replace(make_record(key, title, (text,), f"2024-02-{day:02d}T09:00:00Z", "korrespondenz", reference),
                   extra=tuple(extra))


RECORDS = {
    r.source_name[:-4]: r
    for r in (
        # A legacy share's row: Aktenzeichen column, German column names.
        _record("altakte", "Altakte Wasser", "Kein Zeichen im Text, nur Wasserleitung.", 1, "MIG-D3/13336",
                [("Korrespondent", "Stadtwerke Beispielstadt"), ("Schlagworte", "Eilt; Wasser"),
                 ("Kassenzeichen", "4711-0815"), ("Bemerkung", "Rückfrage beim Bauherrn")]),
        # A paperless-ngx document: one pair per tag, its notes, the original file name.
        _record("paperless", "Abfallgebühren", "Gebührenbescheid über die Abfallentsorgung.", 2, "70.3-2023/17",
                [("paperless_id", "1"), ("correspondent", "Abfallwirtschaftsbetrieb"), ("tag", "Gebühren"),
                 ("tag", "Eilt"), ("note", "geprüft von Frau Weiß"), ("original_filename", "scan_0815.pdf"),
                 ("Betrag", "EUR123.45")]),
        # The same words in the page text only: ranked below the records holding them as fields.
        _record("text", "Schreiben", "Die Stadtwerke Beispielstadt schreiben wegen der Wasserleitung, eilt.", 3),
        # Imported before tags were kept one per pair.
        _record("older", "Altbestand", "Protokoll ohne Besonderheiten.", 4, None,
                [("correspondent", "stadtwerke  beispielstadt"), ("tags", "Wasser, Archiv")]),
        # Records without these words, so that they are not common terms of the corpus (BM25).
        *(_record(f"filler{n}", f"Vermerk {n}", "Sitzung des Ausschusses für Kultur und Sport.", 10 + n)
          for n in range(6)),
    )
}
KEY = {r.id: k for k, r in RECORDS.items()}


@pytest.fixture
def filled(backend: SearchBackend) -> SearchBackend:
    assert backend.index(RECORDS.values()).errors == {}
    return backend


def found(backend: SearchBackend, text: str | None, **filters) -> list[str]:
    page = backend.search(SearchQuery(text=text, limit=50, **filters))
    assert page.total == len(page.hits)
    return [KEY[h.id] for h in page.hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("MIG-D3/13336", {"altakte"}),  # the whole reference
        ("MIG", {"altakte"}),  # a word of it
        ("13336", {"altakte"}),  # its last group
        ("70.3-2023/17", {"paperless"}),
        ("Abfallwirtschaftsbetrieb", {"paperless"}),  # correspondent
        ("Gebühren", {"paperless"}),  # tag (and compound part of the text's Gebührenbescheid)
        ("Archiv", {"older"}),  # a tag from a comma-joined list
        ("4711-0815", {"altakte"}),  # custom field value
        ("4711", {"altakte"}),
        ("EUR123.45", {"paperless"}),
        ("Rückfrage", {"altakte"}),  # note
        ("Bauherrn", {"altakte"}),
        ("Weiß", {"paperless"}),
        ("scan_0815.pdf", {"paperless"}),  # the source system's file name
        ("scan", {"paperless"}),
        ("altakte", {"altakte"}),  # the name the file arrived with
        ("pdf", set()),  # the extension is no search word
        ("Stadtwerke Beispielstadt", {"altakte", "text", "older"}),
    ],
)
def test_every_field_value_finds_its_record(filled: SearchBackend, query: str, expected: set[str]) -> None:
    assert set(found(filled, query)) == expected


def test_a_field_hit_ranks_above_the_same_words_in_the_text(filled: SearchBackend) -> None:
    assert found(filled, "Stadtwerke Beispielstadt")[-1] == "text"
    assert found(filled, "Wasser")[-1] == "text"
    assert found(filled, "eilt")[-1] == "text"


def test_snippets_name_the_field(filled: SearchBackend) -> None:
    (hit,) = filled.search(SearchQuery(text="MIG")).hits
    assert hit.snippet == "Aktenzeichen: «MIG-D3»/13336"
    (hit,) = filled.search(SearchQuery(text="Kassenzeichen:4711-0815 Wasserleitung")).hits
    assert hit.snippet.startswith("… ") is False and "«Wasserleitung»" in hit.snippet and hit.page == 1
    (hit,) = filled.search(SearchQuery(text="Abfallwirtschaftsbetrieb")).hits
    assert hit.snippet == "Korrespondent: «Abfallwirtschaftsbetrieb»" and hit.page is None
    (hit,) = filled.search(SearchQuery(text="Rückfrage")).hits
    assert hit.snippet == "Notiz: «Rückfrage» beim Bauherrn"
    (hit,) = filled.search(SearchQuery(text="scan")).hits
    assert hit.snippet == "Datei: «scan»_0815.pdf"
    by_key = {KEY[h.id]: h.snippet for h in filled.search(SearchQuery(text="Eilt")).hits}
    assert by_key["altakte"] == "Tag: «Eilt»" and by_key["paperless"] == "Tag: «Eilt»"
    assert "«eilt»" in by_key["text"] and "Tag:" not in by_key["text"]


@pytest.mark.parametrize(
    ("text", "filters", "expected"),
    [
        ("", {"correspondent": "Stadtwerke Beispielstadt"}, {"altakte", "older"}),  # case and spaces aside
        ("", {"correspondent": "STADTWERKE beispielstadt"}, {"altakte", "older"}),
        ("", {"correspondent": "Stadtwerke"}, set()),  # the whole value, not a word of it
        ("", {"tags": ("Eilt",)}, {"altakte", "paperless"}),
        ("", {"tags": ("eilt", "Gebühren")}, {"paperless"}),  # every tag given
        ("", {"tags": ("Wasser",)}, {"altakte", "older"}),
        ("", {"reference": "MIG-D3/13336"}, {"altakte"}),
        ("", {"reference": "mig-d3/13336"}, {"altakte"}),
        ("", {"fields": (("Kassenzeichen", "4711-0815"),)}, {"altakte"}),
        ("Kassenzeichen:4711-0815", {}, {"altakte"}),  # in the query language
        ("kassenzeichen:4711", {}, set()),
        ("Betrag:EUR123.45", {}, {"paperless"}),
        ("paperless_id:1", {}, {"paperless"}),
        ('Korrespondent:"Stadtwerke Beispielstadt"', {}, {"altakte", "older"}),
        ("Tag:Eilt Tag:Wasser", {}, {"altakte"}),
        ("Aktenzeichen:70.3-2023/17", {}, {"paperless"}),
        ("Wasserleitung Tag:Eilt", {}, {"altakte"}),  # words and a filter
        ("Wasserleitung", {"correspondent": "Stadtwerke Beispielstadt"}, {"altakte"}),
        ("Tag:Eilt", {"correspondent": "Abfallwirtschaftsbetrieb"}, {"paperless"}),
        ("Aktenzeichen:MIG-D3/13336", {"reference": "70.3-2023/17"}, set()),  # both must hold
    ],
)
def test_field_filters(filled: SearchBackend, text: str, filters: dict, expected: set[str]) -> None:
    assert set(found(filled, text, **filters)) == expected


def test_counts_per_correspondent_and_tag(filled: SearchBackend) -> None:
    counts = filled.counts(SearchQuery())
    assert counts["correspondent"] == {"Abfallwirtschaftsbetrieb": 1, "Stadtwerke Beispielstadt": 1,
                                       "stadtwerke  beispielstadt": 1}
    assert counts["tag"] == {"Eilt": 2, "Wasser": 2, "Archiv": 1, "Gebühren": 1}
    assert filled.counts(SearchQuery(text="Tag:Eilt"))["tag"] == {"Eilt": 2, "Gebühren": 1, "Wasser": 1}


def test_an_edited_record_is_found_by_its_new_fields_only(filled: SearchBackend) -> None:
    edited = with_fields(RECORDS["text"], reference="AZ-77/2024", correspondent="Landratsamt", tags=("Frist",),
                         custom=(("Kassenzeichen", "5555"),))
    filled.index([edited])
    assert found(filled, "AZ-77/2024") == ["text"]
    assert found(filled, "", correspondent="landratsamt", tags=("frist",)) == ["text"]
    assert found(filled, "Kassenzeichen:5555") == ["text"]
    cleared = with_fields(edited, reference="", correspondent=None, tags=(), custom=(("Kassenzeichen", ""),))
    filled.index([cleared])
    assert found(filled, "Landratsamt OR Frist OR AZ-77/2024 OR 5555") == []
    assert record_fields(cleared).custom == ()


def test_query_filters_are_parsed_apart_from_words() -> None:
    assert split_field_filters('Wasser Kassenzeichen:4711 Korrespondent:"Stadtwerke X" 10:30') == (
        "Wasser 10:30", ["field:kassenzeichen=4711", "correspondent:stadtwerke x"])
    assert split_field_filters("Tag:Eilt") == (None, ["tag:eilt"])
    assert split_field_filters("Az.:63.2-4711/24 https://x") == ("https://x", ["reference:63.2-4711/24"])


@pytest.mark.es
def test_an_elasticsearch_index_of_older_mappings_is_rebuilt_with_the_fields(make_es_backend, es_client) -> None:
    from aktenarchiv.archive.base import index_document
    from aktenarchiv.archive.elastic_schema import MAPPINGS, es_document
    from aktenarchiv.archive.recordfields import META_WEIGHTS

    backend = make_es_backend()
    new_fields = {*META_WEIGHTS, "keys", "correspondent", "tags", "meta"}
    # The index as mapping version 2 made it: without the metadata fields, strict.
    old_mapping = {**MAPPINGS, "_meta": {**MAPPINGS["_meta"], "mapping_version": 2},
                   "properties": {k: v for k, v in MAPPINGS["properties"].items() if k not in new_fields}}
    old = f"{backend.alias}-v2"
    es_client.indices.create(index=old, mappings=old_mapping)
    es_client.indices.update_aliases(actions=[{"remove": {"index": f"{backend.alias}-v1", "alias": backend.alias}},
                                              {"add": {"index": old, "alias": backend.alias}}])
    doc = es_document(index_document(RECORDS["altakte"]))
    es_client.index(index=old, id=doc["id"], document={k: v for k, v in doc.items() if k not in new_fields},
                    refresh=True)
    assert not backend.is_current()
    assert found(backend, "MIG") == []  # the old index does not hold the fields
    report = backend.reindex_into_new_version(RECORDS.values())
    assert report.switched and backend.is_current()
    assert found(backend, "MIG") == ["altakte"]
    assert set(found(backend, "", tags=("Eilt",))) == {"altakte", "paperless"}
