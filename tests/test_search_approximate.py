"""OCR-tolerant matching on both backends: misread words found below exact hits, marked «~…»."""

from __future__ import annotations

from pathlib import Path

import pytest
from aktenarchiv.archive import sqlite_vocab
from aktenarchiv.archive.base import SearchBackend, SearchQuery
from aktenarchiv.archive.fuzzy import ocr_variants
from aktenarchiv.archive.sqlite import SqliteBackend
from backend_corpus import make_record

pytest_plugins = ("es_fixtures", "backend_fixtures")

TEXTS = {
    "clean_bg": "Die Baugenehmigung für den Anbau wird erteilt.",
    "garbled_bg": "Die Baugenehrnigung wurde am Montag erteilt.",  # rn for m
    "clean_ws": "Hiermit lege ich Widerspruch ein.",
    "garbled_ws": "Widersprnch gegen den Bescheld der Stadt",  # n for u, l for i
    "kuendigung": "Kiindigung der Wohnung zum Monatsende",  # ii for ü
    "mlete": "Die Mlete wird monatlich gezahlt.",  # short word: never approximated
    "beschied": "Er beschied den Antrag abschlägig.",  # a real word, not an OCR slip
    "rechnnng": "Rechnnng über Streusalz",
    **{f"rechnung{n}": f"Rechnung Nummer {n} über Streusalz" for n in range(10)},
}
RECORDS = {
    key: make_record(key, "Schreiben", (text,), f"2024-02-{n + 1:02d}T00:00:00Z")
    for n, (key, text) in enumerate(TEXTS.items())
}
KEY = {r.id: k for k, r in RECORDS.items()}


@pytest.fixture
def ocr_backend(backend: SearchBackend) -> SearchBackend:
    """A backend holding the records with OCR errors."""
    assert backend.index(RECORDS.values()).errors == {}
    return backend


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Baugenehmigung", ["clean_bg", "garbled_bg"]),  # exact hit first
        ("Widerspruch", ["clean_ws", "garbled_ws"]),
        ("Bescheid", ["garbled_ws"]),
        ("Kündigung", ["kuendigung"]),
        ("Widerspruch Bescheid", ["garbled_ws"]),
        ("Miete", []),  # short words only match exactly
        ("Beschied", ["beschied"]),  # a transposition is no OCR confusion: Bescheld stays out
        ("Rechnung", {f"rechnung{n}" for n in range(10)}),  # ten exact hits: no expansion
    ],
)
def test_ocr_misreadings_found_below_exact_hits(
    ocr_backend: SearchBackend, query: str, expected: list[str] | set[str]
) -> None:
    """A list is the expected ranking; a set, the expected hits in any order."""
    page = ocr_backend.search(SearchQuery(text=query, limit=50))
    found = [KEY[h.id] for h in page.hits]
    assert (set(found) if isinstance(expected, set) else found) == expected
    assert page.total == len(found)
    counts = ocr_backend.counts(SearchQuery(text=query))
    assert sum(counts["year"].values()) == len(found)


def test_approximate_matches_are_marked(ocr_backend: SearchBackend) -> None:
    hits = {KEY[h.id]: h for h in ocr_backend.search(SearchQuery(text="Baugenehmigung")).hits}
    assert "«Baugenehmigung»" in hits["clean_bg"].snippet
    assert "«~Baugenehrnigung»" in hits["garbled_bg"].snippet
    assert hits["clean_bg"].score > 0 and hits["garbled_bg"].score > 0


def test_variants_follow_ocr_confusions() -> None:
    assert ocr_variants("baugenehm", ["baugenehrn", "baugenah", "bauantrag"]) == ("baugenehrn",)
    assert ocr_variants("bescheid", ["bescheld", "beschied", "bescheidxy"]) == ("bescheld",)
    assert ocr_variants("bescheid", ["bescheide"]) == ("bescheide",)  # long: one other edit
    assert ocr_variants("gebuhr", ["gebiihr", "gebuhren"]) == ("gebiihr",)


def test_sqlite_word_list_matches_fts5_vocabulary_and_older_indexes_still_work(tmp_path: Path) -> None:
    """SQLite looks for OCR variants in its own word list (no posting lists read): it holds
    exactly FTS5's body words, and an index filled before it existed answers the same, from
    FTS5's vocabulary, until optimize() has listed its words."""
    backend = SqliteBackend(tmp_path / "index.sqlite")
    backend.index([*RECORDS.values(), make_record("odd", "x", ("Straße 5.5-1690/24, Müller_Bau § 12a",),
                                                  "2024-03-01T00:00:00Z")])
    db = backend.db
    vocabulary = {t for (t,) in db.execute("SELECT term FROM docs_vocab WHERE col = 'body'")}
    assert sqlite_vocab.is_complete(db)
    assert {t for (t,) in db.execute("SELECT term FROM body_terms")} == vocabulary
    answer = [KEY.get(h.id) for h in backend.search(SearchQuery(text="Widerspruch Bescheid OR Rechnung")).hits]
    with db:  # as an index built before the word list: empty and not complete
        db.execute("DELETE FROM body_terms")
        db.execute("DELETE FROM index_state")
    assert [KEY.get(h.id) for h in backend.search(SearchQuery(text="Widerspruch Bescheid OR Rechnung")).hits] == answer
    backend.optimize()
    assert sqlite_vocab.is_complete(db)
    assert {t for (t,) in db.execute("SELECT term FROM body_terms")} == vocabulary
    assert [KEY.get(h.id) for h in backend.search(SearchQuery(text="Widerspruch Bescheid OR Rechnung")).hits] == answer
    assert "garbled_ws" in answer  # found approximately
    backend.close()
