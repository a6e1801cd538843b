"""Identifiers on both backends: whole, in parts, without separators, split or misread by OCR."""

from __future__ import annotations

import pytest
from aktenarchiv.archive.base import SearchBackend, SearchQuery
from aktenarchiv.archive.identifiers import identifier_tokens, query_identifiers
from backend_corpus import make_record

pytest_plugins = ("es_fixtures", "backend_fixtures")

RECORDS = {
    r.source_name[:-4]: r
    for r in (
        make_record("intact", "Bauantrag", ("Aktenzeichen: 49.3-5601/20\nAntrag auf Baugenehmigung",),
                    "2024-01-01T00:00:00Z"),
        make_record("split", "Bescheid", ("Aktenzeichen: 49.3-560 1/20\nBaugenehmigung erteilt",),
                    "2024-01-02T00:00:00Z", reference="49.3-560"),
        make_record("ref55", "Anhörung", ("Unser Zeichen 55.5-1690/24 vom 3. Mai",),
                    "2024-01-03T00:00:00Z"),
        make_record("iban", "Rechnung", ("Bitte überweisen Sie auf IBAN DE89 3704 0044 0532 0130 00.",),
                    "2024-01-04T00:00:00Z"),
        make_record("iban_glued", "Mahnung", ("Konto: DE89370400440532013000 bei der Sparkasse",),
                    "2024-01-05T00:00:00Z"),
        make_record("invoice", "Rechnung Strom", ("Rechnungsnummer 4711-2024, Kundennummer K-0815",),
                    "2024-01-06T00:00:00Z"),
        make_record("postcode", "Grundstück", ("Hauptstraße 5, 12345 Musterstadt, Flurstück 123/4",),
                    "2024-01-07T00:00:00Z"),
        make_record("ocr_o", "Widerspruch", ("Az. 63.2-47O1/24 (Text mit O statt Null)",),
                    "2024-01-08T00:00:00Z"),
        make_record("imported", "Altakte", ("Kein Zeichen im Text",), "2024-01-09T00:00:00Z",
                    reference="MIG-D3/13336"),
        make_record("spaced", "Ernennung", ("Gz.: 34- 2018-5393, mit Wirkung vom2022-08-27",),
                    "2024-01-10T00:00:00Z"),
    )
}
KEY = {r.id: k for k, r in RECORDS.items()}


@pytest.fixture
def ident_backend(backend: SearchBackend) -> SearchBackend:
    """A backend holding the identifier records."""
    assert backend.index(RECORDS.values()).errors == {}
    return backend


def hits(backend: SearchBackend, text: str) -> list[str]:
    page = backend.search(SearchQuery(text=text, limit=50))
    return [KEY[h.id] for h in page.hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("49.3-5601/20", ["intact", "split"]),  # as written ranks above OCR's split form
        ("5601/20", ["intact", "split"]),  # the case number of it
        ("5601", {"intact", "split"}),
        ("560120", {"intact", "split"}),  # without separators
        ("49.3-560 1/20", ["split", "intact"]),  # typed as OCR read it
        ("1690/24", ["ref55"]),
        ("5.5-1690", ["ref55"]),  # a part across separators, starting inside a group
        ("55.5-1690/24", ["ref55"]),
        ("DE89 3704", {"iban", "iban_glued"}),
        ("DE89370400440532013000", {"iban", "iban_glued"}),
        ("0532 0130", {"iban", "iban_glued"}),
        ("4711", ["invoice"]),
        ("K-0815", ["invoice"]),
        ("0815", ["invoice"]),
        ("12345", ["postcode"]),
        ("123/4", ["postcode"]),
        ("4701/24", ["ocr_o"]),  # OCR read a zero as the letter O
        ("63.2-4701/24", ["ocr_o"]),
        ("MIG-D3/13336", ["imported"]),  # the record's reference, not in its text
        ("MIG-D3", ["imported"]),
        ("34-2018-5393", ["spaced"]),  # OCR's space after a separator
        ("2022-08-27", ["spaced"]),  # a date OCR glued to the word before it
        ("Baugenehmigung 5601", {"intact", "split"}),  # a word and an identifier: both match
        ("5601/21", []),
        ("4711 -Strom", []),
    ],
)
def test_identifiers_found(
    ident_backend: SearchBackend, query: str, expected: list[str] | set[str]
) -> None:
    """A list is the expected ranking; a set, the expected hits in any order."""
    found = hits(ident_backend, query)
    assert (set(found) if isinstance(expected, set) else found) == expected
    assert len(found) == len(set(found))


def test_identifier_snippet_marks_the_split_reference(ident_backend: SearchBackend) -> None:
    page = ident_backend.search(SearchQuery(text="5601/20"))
    snippet = {KEY[h.id]: h.snippet for h in page.hits}["split"]
    assert "«1»/«20»" in snippet and "«3-560»" in snippet


def test_index_and_query_forms_agree() -> None:
    tokens = identifier_tokens("Az.: 49.3-560 1/20").compact.split()
    for query in ("5601/20", "5601", "49.3-5601/20", "3-560"):
        [(compact, _exact)] = query_identifiers(query)
        assert compact in tokens, query
    assert identifier_tokens("Bau-Antrag ohne Nummer") == identifier_tokens("")
