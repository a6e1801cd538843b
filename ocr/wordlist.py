"""How much of a recognised text is real German: the share of dictionary words.

A page read the wrong way up still yields "words" with middling confidence; almost none
of them are German. The word list is Hunspell's ``de_DE.dic`` (Debian: ``hunspell-de-de``),
whose entries are stems with affix flags; instead of applying the affix rules, a word
counts as known when it, or it without a common inflection ending, is a stem. That is
good enough to tell a readable page from garbage, which is all it is used for.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

HUNSPELL_DE = Path("/usr/share/hunspell/de_DE.dic")
_ENDINGS = ("ern", "en", "em", "er", "es", "e", "n", "s", "t", "st", "te", "ten", "ung", "ungen")
_WORD = re.compile(r"[A-Za-zÄÖÜäöüß]{3,}")


@lru_cache(maxsize=2)
def load_stems(path: Path = HUNSPELL_DE) -> frozenset[str]:
    """Lower-cased stems of a Hunspell ``.dic`` file; empty when it is not installed."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return frozenset()
    stems = set()
    for line in lines[1:]:  # the first line is the entry count
        if line[:1].isspace() or not line:
            continue
        stem = line.split("/", 1)[0].strip().lower()
        if len(stem) >= 2:
            stems.add(stem)
    return frozenset(stems)


def is_known(word: str, stems: frozenset[str]) -> bool:
    """True when ``word`` or ``word`` minus a common ending is a dictionary stem."""
    low = word.lower()
    if low in stems:
        return True
    return any(low.endswith(end) and low[: -len(end)] in stems for end in _ENDINGS if len(low) - len(end) >= 3)


def dictionary_share(text: str, stems: frozenset[str] | None = None) -> float:
    """Share (0–1) of the words of three or more letters that are in the dictionary."""
    stems = load_stems() if stems is None else stems
    words = _WORD.findall(text)
    if not words or not stems:
        return 0.0
    return sum(is_known(w, stems) for w in words) / len(words)
