"""The shared normal forms: two umlaut foldings with their own jobs, one two-digit-year rule."""

from datetime import date

import pytest
from aktenarchiv.classify.extract import find_dates
from aktenarchiv.migrate.folder import parse_date
from aktenarchiv.textnorm import expand_year, fold, fold_ocr


def test_fold_spells_out_umlauts_and_sharp_s():
    assert fold("Müßig") == "muessig"
    assert fold("ÄRGER") == "aerger"
    assert fold("Café") == "cafe"
    assert fold("GROẞ") == "gross"


def test_fold_ocr_keeps_what_ocr_leaves_of_an_umlaut():
    assert fold_ocr("Gebührenbescheid") == fold_ocr("Gebuhrenbescheid") == "gebuhrenbescheid"
    assert fold_ocr("ÄRGER über Straße") == "arger uber strasse"
    assert fold_ocr("Café") == "café"  # only umlauts and ß: the shipped model was trained so


@pytest.mark.parametrize("two, full", [(0, 2000), (36, 2036), (37, 1937), (50, 1950), (99, 1999)])
def test_two_digit_years_end_ten_years_ahead(two, full):
    assert expand_year(two, today=date(2026, 6, 1)) == full


def test_the_window_slides_with_the_calendar():
    assert expand_year(40, today=date(2030, 1, 1)) == 2040
    assert expand_year(41, today=date(2030, 1, 1)) == 1941
    with pytest.raises(ValueError):
        expand_year(2024)


@pytest.mark.parametrize("written", ["05.03.24", "27.11.46", "01.01.69", "31.12.99"])
def test_metadata_files_and_document_text_agree_on_the_century(written):
    """A legacy CSV and a scanned letter read the same two-digit year alike."""
    [found] = find_dates(f"Datum: {written}")
    assert parse_date(written) == found.value
