"""German analysis and query parsing, shared by both backends."""

import pytest
from aktenarchiv.archive.analysis import (
    analyze_for_index,
    dictionary_path,
    index_forms,
    split_compound,
    stem,
    use_dictionary,
)
from aktenarchiv.archive.query import make_snippet, parse_query
from aktenarchiv.archive.registry import open_backend
from aktenarchiv.config import load_settings
from aktenarchiv.errors import ConfigError
from aktenarchiv.textnorm import fold


@pytest.mark.parametrize("a,b", [("Müller", "Mueller"), ("Straße", "Strasse"), ("Anträge", "Antrag"),
                                 ("Rechnungen", "Rechnung"), ("Bescheides", "Bescheid")])
def test_spellings_and_inflections_share_a_stem(a, b):
    assert stem(a) == stem(b)


def test_numbers_and_references_are_not_stemmed():
    assert stem("4711") == "4711"


@pytest.mark.parametrize("word,part", [("Bauantrag", "antrag"), ("Widerspruchsbescheid", "bescheid"),
                                       ("Mietvertrag", "vertrag"), ("Baugenehmigung", "genehmigung")])
def test_compounds_split_into_their_parts(word, part):
    assert part in split_compound(fold(word))
    assert stem(part) in index_forms(word)


def test_short_and_simple_words_are_not_split():
    assert split_compound("antrag") == ()
    assert split_compound("rechnung") == ()


def test_parts_go_to_their_own_field_so_phrases_stay_intact():
    analysed = analyze_for_index("Der Bauantrag wurde gestellt")
    assert analysed.body.split() == ["der", "bauantrag", "wurd", "gestellt"]
    assert set(analysed.parts.split()) == {"bau", "antrag"}


def test_query_syntax():
    q = parse_query('Antrag "Müller Straße" Bescheid OR Vertrag -Rechnung')
    assert [[t.stems for t in clause] for clause in q.must] == [
        [("antrag",)], [("mull", "strass")], [("bescheid",), ("vertrag",)]]
    assert [t.stems for t in q.must_not] == [("rechnung",)]


def test_query_without_words_is_an_error():
    with pytest.raises(ConfigError):
        parse_query('  -nur "" ')


def test_snippet_marks_matches_across_spellings_and_compounds():
    text = "Seite eins\fHerr Mueller stellte einen Bauantrag für die Strasse."
    snippet, page = make_snippet(text, parse_query("Müller Antrag Straße"))
    assert page == 2
    assert "«Mueller»" in snippet and "«Bauantrag»" in snippet and "«Strasse»" in snippet


def test_word_list_comes_from_the_settings(tmp_path):
    """AKTE_DECOMPOUND_DICT (or [search] decompound_dict) reaches the analysis via the settings."""
    words = tmp_path / "mini.dic"
    words.write_text("2\nbau/A\nflumpsel/B\n", encoding="utf-8")
    settings = load_settings(tmp_path / "archiv", environ={"AKTE_DECOMPOUND_DICT": str(words)})
    assert settings.search.decompound_dict == str(words)
    assert split_compound("bauflumpsel") == ()  # not a word of the German list
    try:
        open_backend(settings).close()
        assert dictionary_path() == words
        assert split_compound("bauflumpsel") == ("bau", "flumpsel")
        use_dictionary(str(tmp_path / "fehlt.dic"))
        with pytest.raises(ConfigError, match="fehlt.dic"):
            dictionary_path()
    finally:
        use_dictionary(None)
    assert split_compound("bauflumpsel") == ()
