"""Normal forms of German text and dates, shared by ingest, classify and archive.

Two umlaut foldings, because they answer two different questions:

- :func:`fold` spells umlauts out (``Müller`` → ``mueller``, ``Straße`` → ``strasse``) and
  drops other accents. That is how Germans write without umlauts, so the search index and
  the matching of column and type names use it: ``Mueller`` finds ``Müller``.
- :func:`fold_ocr` reduces umlauts to their base letter (``Gebührenbescheid`` →
  ``gebuhrenbescheid``). That is what OCR leaves when it loses the dots, so the classifier
  (its model's features, the office's keyword rules, the field extractors) uses it. The
  shipped model was trained on this form: changing it means retraining.

One two-digit-year rule, :func:`expand_year`, for dates in document text and in metadata
files alike.

This module imports nothing of the package.
"""

from __future__ import annotations

import unicodedata
from datetime import date

_SPELL_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
_BASE_LETTER = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})

YEAR_WINDOW_AHEAD = 10  # two-digit years reach this many years past today, no further


def fold(word: str) -> str:
    """Lower-case, spell umlauts and ß out, drop other accents: ``Müßig`` → ``muessig``."""
    word = word.lower().translate(_SPELL_OUT)
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold_ocr(text: str) -> str:
    """Lower-case, umlauts reduced to their base letter, ß as ss: ``Gebühr`` → ``gebuhr``.

    Other accents are kept. See the module docstring for when to use which folding.
    """
    return text.lower().translate(_BASE_LETTER)


def expand_year(year: int, today: date | None = None) -> int:
    """The full year of a year written with two digits (0–99).

    The century is chosen so that the year falls in the hundred years that end ten years
    after today: in 2026, ``36`` → 2036 and ``37`` → 1937. Records rarely carry dates
    further in the future than that, while birthdays and old files reach far back. The
    window slides with the calendar, so the rule never needs an update.

    Raises:
        ValueError: ``year`` has more than two digits.
    """
    if not 0 <= year < 100:
        raise ValueError(f"not a two-digit year: {year}")
    pivot = ((today or date.today()).year + YEAR_WINDOW_AHEAD) % 100
    return 2000 + year if year <= pivot else 1900 + year


def shown(text: str) -> str:
    """``text`` safe to print, encode as UTF-8 and store: undecodable bytes of a file name
    (kept by Python as surrogates) and control characters appear escaped, e.g.
    ``scan\\xff.png``; a name cannot move the cursor or clear the terminal."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8").translate(_CONTROL)
    return raw.decode("utf-8", "backslashreplace").translate(_CONTROL)


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(32), 127)}
