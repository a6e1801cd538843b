"""Field extraction: dates, Aktenzeichen, IBANs, amounts, and the document date."""

from __future__ import annotations

import random

import pytest
from aktenarchiv.classify.extract import (
    extract_fields,
    find_amounts,
    find_dates,
    find_ibans,
    find_references,
    iban_valid,
)
from aktenarchiv.classify.synthetic.corpus import generate_corpus, iban_with_check
from aktenarchiv.models import PageText


def _values(fields):
    return [f.value for f in fields]


@pytest.mark.parametrize(
    "text, iso",
    [
        ("Datum: 05.03.2024", "2024-03-05"),
        ("am 5.3.24 eingegangen", "2024-03-05"),
        ("Musterstadt, 5. März 2024", "2024-03-05"),
        ("den 05. Mrz. 2024", "2024-03-05"),
        ("vom 5. Marz 2024", "2024-03-05"),  # umlaut lost by OCR
        ("erstellt 2024-03-05", "2024-03-05"),
        ("geboren 27.11.46", "1946-11-27"),
        ("Gesendet: Montag, 4.3.24 14:30 Uhr", "2024-03-04"),
        ("Frist: 29.02.2024", "2024-02-29"),  # leap day exists in 2024
    ],
)
def test_dates_in_german_formats(text, iso):
    assert _values(find_dates(text)) == [iso]


@pytest.mark.parametrize(
    "text",
    [
        "31.02.2024",  # no 31 February
        "29.02.2023",  # not a leap year
        "12.13.2024",  # month 13
        "31. April 2024",
        "2024-02-30",
        "05.03.20 24",  # OCR broke the year: must not become 2020
        "Betrag 1.234,56 €",  # thousands separator, not a date
        "Version 1.2.3",
        "01.01.1850",  # outside the plausible range
    ],
)
def test_impossible_or_ambiguous_dates_rejected(text):
    assert find_dates(text) == []


def test_date_positions_point_at_the_raw_text():
    text = "Ihr Schreiben vom 12.02.2024 und unser Bescheid"
    (field,) = find_dates(text, page=2)
    assert text[field.start:field.end] == field.raw == "12.02.2024"
    assert field.page == 2


def test_document_date_prefers_label_and_place_line():
    text = ("Ihre Nachricht vom 01.02.2024\nAz.: 63.2-4711/24\n\nbitte zahlen Sie bis zum 30.04.2024\n"
            "Musterstadt, den 5. März 2024")
    _, doc_date, reference = extract_fields([PageText(1, text, "ocr", 90.0)])
    assert doc_date == "2024-03-05"
    assert reference == "63.2-4711/24"


def test_document_date_not_taken_from_deadline_or_birthday():
    text = "Stadt Musterstadt\nGeburtsdatum: 12.05.1980\nDie Frist endet am 30.04.2024.\n"
    _, doc_date, _ = extract_fields([PageText(1, text, "ocr", 90.0)])
    assert doc_date is None  # a missing date is better than a wrong one


def test_document_date_fallback_is_a_date_opening_a_header_line():
    text = "Stadt Musterstadt\nOrdnungsamt\n05.03.2024\n\nSehr geehrte Frau Weber,\nTermin am 12.04.2024"
    _, doc_date, _ = extract_fields([PageText(1, text, "ocr", 90.0)])
    assert doc_date == "2024-03-05"


@pytest.mark.parametrize(
    "text, ref",
    [
        ("Az.: 63.2-4711/24", "63.2-4711/24"),
        ("Aktenzeichen: 32-2024-0815", "32-2024-0815"),
        ("Unser Zeichen II/3-123.45", "II/3-123.45"),
        ("Geschäftszeichen: 10.97-47.", "10.97-47"),
        ("Gz. 66-2025-3786, bitte angeben", "66-2025-3786"),
        ("Geschäftszeicben: III/8-797.79", "III/8-797.79"),  # one OCR slip in the label
        ("Aktenz eichen: 51-9962/21", "51-9962/21"),  # label broken apart by OCR
        ("G z.: 32-2023-2590", "32-2023-2590"),
    ],
)
def test_aktenzeichen_after_labels(text, ref):
    assert _values(find_references(text)) == [ref]


@pytest.mark.parametrize(
    "text",
    [
        "Ihr Zeichen: 4711/24",
        "Ihr Geschäftszeichen: 12-3456/24",  # the sender's numbering, not ours
        "Kassenzeichen: 677468",  # a payment number, two edits from "Aktenzeichen"
        "Az.: folgt",
        "Aktenzeichen: Bauamt",
        "Telefon 0815-4711",
        "Az. 11.20-188Eingang",  # OCR glued a word to the number
    ],
)
def test_no_reference_without_our_label_or_digits(text):
    assert find_references(text) == []


def test_iban_with_and_without_spaces():
    text = "IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX oder DE89370400440532013000."
    fields = find_ibans(text)
    assert _values(fields) == ["DE89370400440532013000"] * 2
    assert fields[0].raw == "DE89 3704 0044 0532 0130 00"  # "BIC" is not swallowed


def test_foreign_iban_accepted():
    iban = iban_with_check("AT", "1904300234573201")
    assert iban_valid(iban)
    assert _values(find_ibans(f"Konto {iban[:4]} {iban[4:8]} {iban[8:12]} {iban[12:16]} {iban[16:]}")) == [iban]


@pytest.mark.parametrize(
    "text",
    [
        "IBAN DE88 3704 0044 0532 0130 00",  # check digits wrong
        "IBAN DE89 3704 0044 0532 0130 01",  # one digit off
        "IBAN DE89 3704 0044 0532 0130",  # too short for Germany
        "USt-IdNr. DE644237942",
    ],
)
def test_invalid_iban_rejected(text):
    assert find_ibans(text) == []


def test_generated_ibans_pass_the_checksum():
    rng = random.Random(5)
    for _ in range(200):
        assert iban_valid(iban_with_check("DE", f"{rng.randrange(10**18):018d}"))


@pytest.mark.parametrize(
    "text, value",
    [
        ("Rechnungsbetrag 1.234,56 €", "1234.56 EUR"),
        ("EUR 1.234,56", "1234.56 EUR"),
        ("1234,56 EUR", "1234.56 EUR"),
        ("Gebühr 85,00 Euro", "85.00 EUR"),
        ("EUR 5,00 €", "5.00 EUR"),
    ],
)
def test_amounts(text, value):
    assert _values(find_amounts(text)) == [value]


def test_bare_numbers_are_not_amounts():
    assert find_amounts("Fläche 1.234,56 m² und 12,50 Prozent") == []


def test_precision_on_held_out_generated_documents():
    """Against the generator's ground truth: every extracted value must be one it wrote."""
    wrong = {"date": 0, "iban": 0, "aktenzeichen": 0}
    found = dict.fromkeys(wrong, 0)
    truth_key = {"date": "dates", "iban": "ibans", "aktenzeichen": "references"}
    doc_dates = correct_doc_dates = 0
    for text, truth in generate_corpus(150, seed=11, held_out=True):
        fields, doc_date, _ = extract_fields([PageText(1, text, "ocr", 90.0)])
        for f in fields:
            if f.kind in wrong:
                found[f.kind] += 1
                wrong[f.kind] += f.value not in getattr(truth, truth_key[f.kind])
        if doc_date:
            doc_dates += 1
            correct_doc_dates += doc_date == truth.doc_date
    for kind in wrong:
        assert found[kind] > 20
        assert 1 - wrong[kind] / found[kind] >= 0.98, (kind, wrong[kind], found[kind])
    assert correct_doc_dates / doc_dates >= 0.98
