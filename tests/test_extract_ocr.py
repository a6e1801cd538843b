"""Extraction from OCR output as Tesseract really produced it on drawn pages (bench_extract.py).

Each string below is (or follows the pattern of) a line Tesseract read from a degraded page:
references split by a space or with letters for digits, Roman numerals read as digits,
labels glued to the word before, weekdays broken apart.
"""

from __future__ import annotations

import pytest
from aktenarchiv.classify.extract import extract_fields, find_dates, find_ibans, find_references
from aktenarchiv.models import PageText


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("Aktenzeichen: 49.3-560 1/20", "49.3-5601/20"),  # a space inside the case number
        ("Az.: 49.3- 5601/20", "49.3-5601/20"),  # … after a separator
        ("Az.: 49.3 -5601/20", "49.3-5601/20"),  # … before one
        ("Aktenzeichen: 63.2-47O1/2O", "63.2-4701/20"),  # O for 0
        ("Gz.: 63.2-47l1/24", "63.2-4711/24"),  # l for 1
        ("Gz.: Il/6-709.15", "II/6-709.15"),  # Roman numeral, one I read as l
        ("Geschäftszeichen: 11/9-706.42", "II/9-706.42"),  # … read as digits
        ("Az.: 63.2-4711 05.03.2024", "63.2-4711"),  # a date after it is not part of it
        ("Az.: 32-2024-0815 12345 Musterstadt", "32-2024-0815"),  # nor a postcode
    ],
)
def test_references_survive_ocr(text: str, ref: str) -> None:
    (field,) = find_references(text)
    assert field.value == ref
    assert text[field.start:field.end] == field.raw  # the raw text, as OCR read it


def test_no_reference_from_spaced_numbers() -> None:
    assert [f.value for f in find_references("Az.: 1 - 2")] == []


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Datum: O5.O3.2O24", "2024-03-05"),
        ("Datum: l5.03.2024", "2024-03-15"),
        ("Musterstadt, 5 . März2024", "2024-03-05"),
        ("05.03.24", "2024-03-05"),
        ("2024-03-05", "2024-03-05"),
        ("5. März 2024", "2024-03-05"),
    ],
)
def test_dates_survive_ocr(text: str, iso: str) -> None:
    (field,) = find_dates(text)
    assert field.value == iso and text[field.start:field.end] == field.raw


def test_iban_with_letter_o_for_a_check_digit() -> None:
    (field,) = find_ibans("IBAN DEO6 1005 0000 2861 5575 64 - BIC SOLADESIXXX")
    assert field.value == "DE06100500002861557564"
    assert find_ibans("IBAN DEO7 1005 0000 2861 5575 64") == []  # repaired, still wrong: refused


@pytest.mark.parametrize(
    "header",
    [
        "von: Stadt Bad SalzdorfDa tum: 17.3.2021 Seiten: 2",  # label glued and split
        "Gesendef: Mo ntag, 17.3.21 10:45 Uhr",  # weekday split
        "‚Gesendct Dienst a g, 17. März 2021 12:30 Uhr",
        "Gesendet: Fr ei,tag, 17.3.2021 1:1 Uhr",
    ],
)
def test_letter_date_found_in_garbled_headers(header: str) -> None:
    text = f"FAX an: Björn Becker\n{header}\nIhr Schreiben vom 02.03.2021\nFrist: 30.04.2021"
    _, doc_date, _ = extract_fields([PageText(1, text, "ocr", 90.0)])
    assert doc_date == "2021-03-17"


def test_quoted_date_is_not_the_letter_date() -> None:
    text = "Stadt Musterstadt\nWiderspruch gegen Ihren Bescheid vom 12.02.2024\nMusterstadt, 20.03.2024"
    _, doc_date, _ = extract_fields([PageText(1, text, "ocr", 90.0)])
    assert doc_date == "2024-03-20"
