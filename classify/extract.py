"""Structured fields from document text: dates, Aktenzeichen, IBANs and amounts.

Every field keeps where it was found (page, character offsets in that page's text) so a
clerk can check it against the scan. Precision matters more than recall here: a wrong
date or reference misfiles a record, a missing one only leaves a field empty. So every
pattern demands context (a label before an Aktenzeichen, a currency beside an amount), dates
must be real calendar days, and IBANs must pass the ISO 7064 mod-97 check.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Iterable

from ..models import Field, PageText
from ..textnorm import expand_year, fold_ocr

# Month names as written in German letters, with abbreviations and the OCR form that loses
# the umlaut ("Marz"). Keys are lower-case without a trailing dot.
_MONTHS = {
    "januar": 1, "jan": 1, "jänner": 1,
    "februar": 2, "feb": 2, "febr": 2,
    "märz": 3, "maerz": 3, "marz": 3, "mär": 3, "mrz": 3,
    "april": 4, "apr": 4,
    "mai": 5,
    "juni": 6, "jun": 6,
    "juli": 7, "jul": 7,
    "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10,
    "november": 11, "nov": 11,
    "dezember": 12, "dez": 12,
}
_MONTH_ALT = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))

# 05.03.2024, 5.3.24, 05. 03. 2024. The look-behind keeps us out of longer numbers
# ("1.234.567"); the look-aheads refuse a year that continues in digits, and a two-digit
# year followed by more digits unless they are a time ("5.3.24 14:30"): OCR broke
# "05.03.20 24" apart, and it must not become 2020.
_NUMERIC_DATE = re.compile(
    r"(?<![\d.])(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}(?!\d)|\d{2}(?!\d|\s\d(?!\d?:\d\d)))(?!\.\d|,\d)"
)
_TEXT_DATE = re.compile(
    rf"(?<![\d.])(\d{{1,2}}) ?\.\s*({_MONTH_ALT})\.?\s*(\d{{4}})(?!\d)", re.IGNORECASE
)
_ISO_DATE = re.compile(r"(?<![\d\-./])(\d{4})-(\d{2})-(\d{2})(?![\d\-])")

# A date right after these words is not the document's own date (a deadline, a birthday,
# the date of the letter being answered).
_NOT_DOC_DATE = re.compile(
    r"\b(vom|bis|ab|seit|frist|geboren|geb|geburtsdatum|geburtstag|am|zum|dem|fällig|faellig|spätestens|"
    r"gültig|zahlbar|leistungszeitraum|beginn|ende|eingang|eingegangen|stichtag|stand|nachricht vom)"
    r"\s*[:.]?\s*$",
    re.IGNORECASE,
)
# Without a label, only a date that starts a line near the top (letterhead, information
# block) is taken as the document date; any word in front of it ("Lieferdatum", "Termin")
# or a place deep in the body makes it more likely a deadline, a birthday or an event.
_HEADER_LINES = 15
# A date standing after "Datum:" or after a place at the start of a line
# ("Musterstadt, 5. März 2024", "Musterstadt, den 05.03.2024") is the document date.
_DATE_LABELS = ("datum", "date", "gesendet", "erstellt", "ausgestellt")
_WEEKDAYS = {"montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag", "am", "den"}
_PLACE_PREFIX = re.compile(r"^\s*[A-ZÄÖÜ][\wäöüß.\- ]{1,40},\s*(\S{1,4}\s+)?$")  # "den", OCR "d.en"

# A file reference has the shape of a plan code and a case number ("63.2-4711/24",
# "32-2024-0815", "II/3-123.45") or is a long number; it only counts after a label that
# introduces *our* reference. "Ihr Zeichen" (the other side's numbering) is refused on purpose.
_REF_SHAPE = re.compile(r"(?<![\w./\-])(?P<ref>[A-Z0-9][A-Za-z0-9]*(?:[./\-][A-Za-z0-9]+)+|\d{4,})(?![\w/\-]|\.\w)")
# Long labels, with how many OCR slips (edits) each may carry and still count. One slip,
# not two: "Kassenzeichen" (a payment number) is two edits from "Aktenzeichen".
_REF_LABELS = {"aktenzeichen": 1, "unserzeichen": 1, "geschaftszeichen": 1, "unseraz": 1}
# Short labels must be whole words: "Az.", "Az:", "Gz.", OCR's "G z." and "Gesch.-Z.".
_REF_SHORT = re.compile(r"(?:^|[^A-Za-zÄÖÜäöüß])(?:a\s?z|g\s?z|gesch\.?-?\s?z)[\s.,:;|']*$", re.IGNORECASE)
_THEIRS = ("ihr", "ihre", "ihres")

# Country code, check digits, then groups of four (spaces optional) and a short tail.
# OCR may read a check digit 0 as O ("DEO6"): the checksum decides (see find_ibans).
_IBAN = re.compile(r"(?<![A-Z0-9])([A-Z]{2}[\dO]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)(?![A-Z0-9])")
_IBAN_DIGITS = str.maketrans({"O": "0", "I": "1"})
_IBAN_LENGTH = {
    "AT": 20, "BE": 16, "CH": 21, "CZ": 24, "DE": 22, "DK": 18, "ES": 24, "FI": 18, "FR": 27,
    "GB": 22, "IE": 22, "IT": 27, "LI": 21, "LU": 20, "NL": 18, "NO": 15, "PL": 28, "PT": 25,
    "SE": 24, "SI": 19, "SK": 24,
}

# An amount needs a currency on one side; a bare "1.234,56" may be an area or a count.
_NUMBER = r"(\d{1,3}(?:\.\d{3})+|\d+),(\d{2})(?!\d)"
_AMOUNT_BEFORE = re.compile(rf"(?:EUR|€)\s?{_NUMBER}")
_AMOUNT_AFTER = re.compile(rf"(?<![\d.,]){_NUMBER}\s?(?:€|EUR\b|Euro\b)")


def _year(raw: str) -> int:
    """Four-digit year of a date as written (two digits: :func:`~aktenarchiv.textnorm.expand_year`)."""
    return expand_year(int(raw)) if len(raw) == 2 else int(raw)


def _valid_date(year: int, month: int, day: int) -> str | None:
    """ISO form of a real calendar day in a plausible range, else None."""
    if not 1900 <= year <= 2100:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:  # 31.02., 29.02. outside leap years, month 13 …
        return None


# OCR reads a 0 as O/o and a 1 as l/I/| beside other digits ("2O24", "l5.03."); the same
# number of characters, so offsets into the raw text stay valid.
_OCR_DIGIT = re.compile(r"(?<=\d)[OolI|](?=[\d.,/\-]|$)|(?<=[\d./\-])[OolI|](?=\d)|[OolI|](?=\d[\d.,/\-])")
_AS_DIGIT = {"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"}


def digits_repaired(text: str) -> str:
    """``text`` with OCR's letters for digits replaced inside numbers (same length)."""
    return _OCR_DIGIT.sub(lambda m: _AS_DIGIT[m.group()], text)


def find_dates(text: str, page: int = 1) -> list[Field]:
    """Every valid date in one page's text, in reading order.

    OCR's letters for digits are read as digits (``O5.O3.2O24``); ``Field.raw`` keeps the raw text.
    """
    raw, text = text, digits_repaired(text)
    found: list[Field] = []
    for match in _NUMERIC_DATE.finditer(text):
        day, month, year = match.groups()
        iso = _valid_date(_year(year), int(month), int(day))
        if iso:
            found.append(Field("date", iso, raw[match.start():match.end()], page, match.start(), match.end()))
    for match in _TEXT_DATE.finditer(text):
        day, month, year = match.groups()
        iso = _valid_date(int(year), _MONTHS[month.lower()], int(day))
        if iso:
            found.append(Field("date", iso, raw[match.start():match.end()], page, match.start(), match.end()))
    for match in _ISO_DATE.finditer(text):
        year, month, day = match.groups()
        iso = _valid_date(int(year), int(month), int(day))
        if iso:
            found.append(Field("date", iso, raw[match.start():match.end()], page, match.start(), match.end()))
    return sorted(found, key=lambda f: f.start)


def iban_valid(compact: str) -> bool:
    """ISO 13616 check: known length for the country and mod 97 == 1."""
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    expected = _IBAN_LENGTH.get(compact[:2])
    if expected is not None and len(compact) != expected:
        return False
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def find_ibans(text: str, page: int = 1) -> list[Field]:
    """IBANs with or without spaces; only those that pass the checksum."""
    found = []
    for match in _IBAN.finditer(text):
        raw = match.group(1)
        # The greedy pattern can swallow a following word ("… 00 BIC"); cut the candidate to
        # the country's length before checking, and map the cut back to raw offsets.
        positions = [i for i, ch in enumerate(raw) if ch != " "]
        compact = raw.replace(" ", "")
        length = _IBAN_LENGTH.get(compact[:2], len(compact))
        if len(compact) < length:
            continue
        compact = compact[:length]
        if not iban_valid(compact):
            # Letters OCR made of digits; only a repair that passes the checksum is taken.
            compact = compact[:2] + compact[2:].translate(_IBAN_DIGITS)
            if not iban_valid(compact):
                continue
        end = match.start() + positions[length - 1] + 1
        found.append(Field("iban", compact, text[match.start():end], page, match.start(), end))
    return found


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (small strings only: labels of a few letters)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _reference_label(before: str) -> bool:
    """Does the line before a reference-shaped token end in one of our reference labels?

    Tolerates OCR slips in long labels ("Geschäftszeicben", "Aktenzeich en") but never a
    label preceded by "Ihr"/"Ihre" (the sender's own numbering).
    """
    if _REF_SHORT.search(before):
        return not fold_ocr(before).rstrip(" .,:;|'").rsplit(None, 2)[-2:-1] in ([w] for w in _THEIRS)
    tail = re.search(r"[A-Za-zÄÖÜäöüß\s.,:;|'\-]{0,30}$", before).group(0)
    letters = re.sub(r"[^a-z]", "", fold_ocr(tail).replace("rn", "m"))
    for label, slips in _REF_LABELS.items():
        # The closest-fitting cut decides where the label starts, so "Ihr" before it is seen.
        fits = sorted((_edits(letters[-size:], label), abs(size - len(label)), size)
                      for size in range(len(label) - slips, min(len(label) + slips, len(letters)) + 1))
        if fits and fits[0][0] <= slips:
            return not letters[:-fits[0][2]].endswith(_THEIRS)
    return False


# OCR puts spaces into references: beside a separator ("49.3- 5601/20") or inside a number
# ("49.3-560 1/20", where the part after the space goes on with a separator). Not before a
# date ("63.2-4711 05.03.2024") and not with spaces on both sides of a separator ("1 - 2").
_SPACE_IN_NUMBER = re.compile(r"(?<=[\d./\-]) (?=[\d./\-])")
_REF_TAIL = re.compile(r"[./\-]\d{1,6}$")
_REF_HEAD = re.compile(r"\d{1,6}[./\-]\d")
_DATE_HEAD = re.compile(r"\d{1,2}\.\d{1,2}\.\d{2}")


def _split_by_ocr(text: str, i: int) -> bool:
    """Is the space at ``text[i]`` one that OCR put into a reference?"""
    before, after = text[max(0, i - 12):i], text[i + 1:i + 13]
    if before[-1:].isdigit() and after[:1] in "./-" and after[1:2].isdigit():
        return True  # "49.3 -5601/20"
    if before[-1:] in "./-" and before[-2:-1].isdigit() and after[:1].isdigit():
        return True  # "49.3- 5601/20"
    return (
        before[-1:].isdigit() and bool(_REF_TAIL.search(before.split()[-1] if before.split() else ""))
        and bool(_REF_HEAD.match(after)) and not _DATE_HEAD.match(after)
    )  # "49.3-560 1/20", but not "63.2-4711 05.03.2024"


# Roman department numbers that OCR read as digits or l ("II/3-123.45" as "11/3-123.45").
_ROMAN_MISREAD = re.compile(r"[1lI|]{1,3}(?=/\d-)")


def _squeezed(text: str) -> tuple[str, list[int]]:
    """``text`` without OCR's spaces inside references, and each kept character's raw offset."""
    keep = [True] * len(text)
    for match in _SPACE_IN_NUMBER.finditer(text):
        if _split_by_ocr(text, match.start()):
            keep[match.start()] = False
    offsets = [i for i, k in enumerate(keep) if k]
    return "".join(text[i] for i in offsets), offsets + [len(text)]


def _reference_value(ref: str) -> str:
    """The reference as printed: digits misread as letters repaired, Roman numerals restored."""
    roman = _ROMAN_MISREAD.match(ref)
    if roman:
        ref = "I" * len(roman.group()) + ref[roman.end():]
    return digits_repaired(ref)


def find_references(text: str, page: int = 1) -> list[Field]:
    """Aktenzeichen that stand after a label such as ``Az.:`` or ``Unser Zeichen``.

    OCR's spaces inside a reference and its letters for digits are repaired in the value;
    ``Field.raw`` and the offsets point at the raw text.
    """
    found = []
    squeezed, offsets = _squeezed(text)
    for match in _REF_SHAPE.finditer(squeezed):
        ref = match.group("ref")
        # A run of letters means OCR glued a word onto the number ("11.20-188Eingang").
        if not any(ch.isdigit() for ch in ref) or not 3 <= len(ref) <= 40 or re.search(r"[A-Za-z]{4}", ref):
            continue
        line_start = squeezed.rfind("\n", 0, match.start()) + 1
        if _reference_label(squeezed[line_start:match.start()]):
            start, end = offsets[match.start()], offsets[match.end() - 1] + 1
            found.append(Field("aktenzeichen", _reference_value(ref), text[start:end], page, start, end))
    return found


def find_amounts(text: str, page: int = 1) -> list[Field]:
    """Money amounts with a currency sign or code; normalised to ``"1234.56 EUR"``."""
    found: dict[int, Field] = {}
    for pattern in (_AMOUNT_BEFORE, _AMOUNT_AFTER):
        for match in pattern.finditer(text):
            whole, cents = match.group(1), match.group(2)
            value = f"{int(whole.replace('.', ''))}.{cents} EUR"
            # Both patterns can see "EUR 5,00 €"; keep one field per number.
            key = match.start(1)
            found.setdefault(key, Field("amount", value, match.group(0), page, match.start(), match.end()))
    return [found[k] for k in sorted(found)]


def _line_before(text: str, start: int) -> str:
    """The part of the line in front of ``start``."""
    return text[text.rfind("\n", 0, start) + 1:start]


def _near(word: str, target: str) -> bool:
    """True when ``word`` is ``target`` or one OCR slip away (one edit, or "rn" for "m")."""
    word = word.replace("rn", "m")
    if word == target:
        return True
    if abs(len(word) - len(target)) > 1 or len(target) < 4:
        return False
    # one substitution, insertion or deletion
    i = 0
    while i < min(len(word), len(target)) and word[i] == target[i]:
        i += 1
    return word[i + 1:] == target[i + 1:] or word[i:] == target[i + 1:] or word[i + 1:] == target[i:]


def _weekday(word: str) -> bool:
    return len(word) == 1 or any(_near(word, d) for d in _WEEKDAYS)


def _labelled(before: str) -> bool:
    """Does the text before a date end in a date label ("Datum:", "Gesendet: Montag,")?

    Whole words only ("Lieferdatum" is not "Datum"), tolerant of one OCR slip per label.
    """
    # A capital inside a word starts a new one: OCR glued "Stadt SalzdorfDatum:" together.
    words = [w.lower() for w in re.findall(r"[A-ZÄÖÜ]?[a-zäöüß]+|[A-ZÄÖÜ]+(?![a-zäöüß])", before)[-6:]]
    # Drop a weekday ("Gesendet: Montag, …"), also when OCR split ("Sonn tag", "Fr ei,tag") or
    # garbled it.
    while words:
        cut = next((k for k in (3, 2, 1) if len(words) >= k and _weekday("".join(words[-k:]))), 0)
        if not cut:
            break
        del words[-cut:]
    if not words:
        return False
    # The label itself may be split by OCR ("Dat um"); never accept a shortened word
    # ("atum" from "Geburtsd atum" is not "Datum").
    candidates = [words[-1]] + ([words[-2] + words[-1]] if len(words) > 1 else [])
    return any(len(w) >= len(label) and _near(w, label) for w in candidates for label in _DATE_LABELS)


def pick_document_date(dates: Iterable[Field], pages_text: dict[int, str]) -> Field | None:
    """The date the document itself carries.

    A date after "Datum:" or after a place at the start of a line wins; otherwise the
    first date that is not obviously another date (a deadline, a birthday, the date of the
    letter being answered). Returns None when nothing qualifies.
    """
    fallback = None
    for field in dates:
        before = _line_before(pages_text[field.page], field.start)
        if _labelled(before) or _PLACE_PREFIX.match(before):
            return field
        text = pages_text[field.page]
        in_header = field.page == 1 and text.count("\n", 0, field.start) < _HEADER_LINES
        if fallback is None and in_header and not re.search(r"\w", before):
            fallback = field
    return fallback


def extract_fields(pages: Iterable[PageText]) -> tuple[tuple[Field, ...], str | None, str | None]:
    """All fields of a document, plus its own date (ISO) and its Aktenzeichen.

    Returns:
        ``(fields, doc_date, reference)``; fields are ordered by page and position.
    """
    fields: list[Field] = []
    texts: dict[int, str] = {}
    for page in pages:
        texts[page.number] = page.text
        for finder in (find_dates, find_references, find_ibans, find_amounts):
            fields.extend(finder(page.text, page.number))
    fields.sort(key=lambda f: (f.page, f.start))
    doc_date = pick_document_date((f for f in fields if f.kind == "date"), texts)
    reference = next((f.value for f in fields if f.kind == "aktenzeichen"), None)
    return tuple(fields), doc_date.value if doc_date else None, reference
