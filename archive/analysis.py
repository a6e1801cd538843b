"""German text analysis shared by every backend, so both find exactly the same words.

Each word is folded (:func:`aktenarchiv.textnorm.fold`: lower case, ``ä→ae ö→oe ü→ue ß→ss``,
other accents dropped) and stemmed with Snowball German. Long words are also split into their parts with the German
hunspell word list, so ``Antrag`` finds ``Bauantrag``: the parts go into their own field,
which keeps phrase positions in the main field intact.

The index side emits stems and parts; the query side emits stems only (a query for
``Bauantrag`` should not match every ``Antrag``).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import Stemmer

from ..errors import ConfigError
from ..textnorm import fold

ANALYSIS_VERSION = 2  # bump when the output changes: indexes must then be rebuilt

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)
DICT_CANDIDATES = ("/usr/share/hunspell/de_DE.dic", "/usr/share/hunspell/de_DE_frami.dic")
_MIN_COMPOUND = 7  # shorter words are not split
_MIN_HEAD = 3
_MIN_TAIL = 4
_LINKERS = ("", "s", "es", "n", "en", "e")  # Fugenelemente between compound parts

_stemmer_local = threading.local()
_dictionary: str | None = None  # set by use_dictionary() from settings.search; None: DICT_CANDIDATES


def _stemmer() -> Stemmer.Stemmer:
    # Stemmer objects are not thread-safe; one per thread.
    st = getattr(_stemmer_local, "stemmer", None)
    if st is None:
        st = _stemmer_local.stemmer = Stemmer.Stemmer("german")
    return st


def stem(word: str) -> str:
    """Fold and stem one word; words with digits (references, numbers) are kept as folded."""
    folded = fold(word)
    if any(c.isdigit() for c in folded):
        return folded
    return _stemmer().stemWord(folded)


def use_dictionary(path: str | None) -> None:
    """Split compounds with the word list at ``path`` (``settings.search.decompound_dict``).

    The analysis is the same for every backend of a process, so the backend registry sets
    it when a backend is opened. None means Debian's word list (``DICT_CANDIDATES``).
    """
    global _dictionary
    if path != _dictionary:
        _dictionary = path
        _lexicon.cache_clear()
        split_compound.cache_clear()


def dictionary_path() -> Path:
    """The German word list used to split compounds (see :func:`use_dictionary`)."""
    candidates = (_dictionary,) if _dictionary else DICT_CANDIDATES
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise ConfigError(
        "no German word list for compound splitting found "
        f"(looked for {', '.join(c for c in candidates if c)}); install Debian's hunspell-de-de "
        "(scripts/setup.sh does) or set search.decompound_dict (AKTE_DECOMPOUND_DICT)"
    )


@lru_cache(maxsize=1)
def _lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """Folded dictionary words, and their stems.

    The word list holds base forms only (``genehmigen``, not ``Genehmigung``); comparing
    stems too lets inflected and derived parts count as words.
    """
    words = set()
    with dictionary_path().open(encoding="utf-8", errors="replace") as fh:
        next(fh, None)  # first line: the entry count
        for line in fh:
            entry = line.split("/", 1)[0].strip()
            if len(entry) >= _MIN_HEAD and entry.isalpha():
                words.add(fold(entry))
    stemmer = Stemmer.Stemmer("german")
    stems = {s for s in stemmer.stemWords(sorted(words)) if len(s) >= _MIN_HEAD}
    return frozenset(words), frozenset(stems)


def _is_word(part: str) -> bool:
    words, stems = _lexicon()
    if part in words or (part + "e") in words:  # "Miet|vertrag": Miete without its -e
        return True
    return _stemmer().stemWord(part) in stems


@lru_cache(maxsize=200_000)
def split_compound(folded: str) -> tuple[str, ...]:
    """Split a folded word into known parts, longest tail first; () if it is no compound.

    ``bauantragsformular`` → ``("bau", "antrag", "formular")``.
    """
    if len(folded) < _MIN_COMPOUND or not folded.isalpha():
        return ()
    for cut in range(_MIN_HEAD, len(folded) - _MIN_TAIL + 1):
        tail = folded[cut:]
        if not _is_word(tail):
            continue
        head_full = folded[:cut]
        for linker in _LINKERS:
            if linker and not head_full.endswith(linker):
                continue
            head = head_full[: len(head_full) - len(linker)] if linker else head_full
            if len(head) < _MIN_HEAD:
                continue
            if _is_word(head):
                return (head, tail)
            inner = split_compound(head)
            if inner:
                return (*inner, tail)
    return ()


@dataclass(frozen=True, slots=True)
class Analyzed:
    """Index form of a text: stems in word order, and the stems of compound parts."""

    body: str
    parts: str


def words(text: str) -> list[re.Match[str]]:
    """The words of a text with their positions."""
    return list(_WORD.finditer(text))


def analyze_for_index(text: str) -> Analyzed:
    """Index form of a text (see module docstring)."""
    body: list[str] = []
    parts: list[str] = []
    for match in _WORD.finditer(text):
        stems, part_stems = _word_forms(match.group())
        body.extend(stems)
        parts.extend(part_stems)
    return Analyzed(" ".join(body), " ".join(parts))


@lru_cache(maxsize=100_000)
def _word_forms(word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    # Stems and compound-part stems of one word. Cached: the words of an archive repeat, and
    # stemming plus compound splitting are most of the cost of indexing and of snippets.
    stems, parts = [], []
    for piece in _pieces(word):
        stems.append(stem(piece))
        parts.extend(stem(p) for p in split_compound(fold(piece)))
    return tuple(stems), tuple(parts)


def index_forms(word: str) -> frozenset[str]:
    """Every form under which one word is indexed (its stem and its parts' stems)."""
    return _forms_set(word)


@lru_cache(maxsize=100_000)
def _forms_set(word: str) -> frozenset[str]:
    stems, parts = _word_forms(word)
    return frozenset(stems + parts)


def analyze_query_word(word: str) -> list[str]:
    """Query form of one word: hyphenated words become several stems, in order."""
    return [stem(piece) for piece in _pieces(word)]


def _pieces(word: str) -> list[str]:
    # "Bau-Antrag" and "O'Neil" are indexed as their pieces: both spellings then match.
    return [p for p in re.split(r"[-'’]", word) if p]
