"""Which indexed words are OCR misreadings of a query word (``Baugenehrnigung``, ``Bescheld``).

Both backends ask their index for the words near a query word — SQLite from its vocabulary
(``fts5vocab``), Elasticsearch with its term suggester — under the same rules: only for
words of at least :data:`MIN_LENGTH` letters (stems), only while the word itself is in
fewer than :data:`EXPAND_BELOW` documents, only words sharing its first :data:`PREFIX`
letters and within :data:`MAX_EDITS` plain edits. :func:`ocr_variants` then keeps those
that OCR plausibly made from it: every edit costs 2, an edit OCR typically makes costs 1
(``rn``/``m``, ``l``/``i``/``1``, ``ii``/``ü``, ``c``/``e``, ``u``/``n`` …), and a word may
differ by 1 (shorter than 8 letters) or 2. Both backends thus match the same words, ranked
below exact hits.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable

MIN_LENGTH = 5  # never for short words: too many neighbours
EXPAND_BELOW = 10  # a word in this many documents or more is not expanded
PREFIX = 1  # an OCR misreading of the first letter is not looked for
MAX_EDITS = 2
_LONG = 8  # from this length on, two OCR slips (or one other edit) are accepted

# Pairs (in folded, lower-case text) OCR confuses; each direction costs one slip.
_CONFUSED = (
    ("rn", "m"), ("nn", "m"), ("ri", "n"), ("cl", "d"), ("vv", "w"), ("ii", "u"), ("ii", "ue"),
    ("ue", "u"), ("ae", "a"), ("oe", "o"), ("li", "h"),
    ("l", "i"), ("l", "1"), ("i", "1"), ("i", "j"), ("l", "t"), ("f", "t"), ("c", "e"),
    ("u", "n"), ("h", "b"), ("o", "0"), ("s", "5"), ("g", "q"), ("e", "o"), ("a", "o"),
)
_PAIRS: tuple[tuple[str, str], ...] = tuple({p for a, b in _CONFUSED for p in ((a, b), (b, a))})


def eligible(stem: str) -> bool:
    """True for a query stem that may be matched approximately (long enough, plain word)."""
    return len(stem) >= MIN_LENGTH and stem.isalpha()


def osa_distance(a: str, b: str, limit: int = MAX_EDITS) -> int:
    """Optimal-string-alignment distance (Damerau-Levenshtein as Lucene counts it), capped
    at ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


@lru_cache(maxsize=50_000)
def ocr_cost(a: str, b: str) -> int:
    """Edit cost from ``a`` to ``b``: 1 per OCR confusion, 2 per other edit."""
    inf = 10**6
    dist = [[inf] * (len(b) + 1) for _ in range(len(a) + 1)]
    dist[0][0] = 0
    for i in range(len(a) + 1):
        for j in range(len(b) + 1):
            here = dist[i][j]
            if here >= inf:
                continue
            if i < len(a) and j < len(b):
                step = 0 if a[i] == b[j] else 2
                dist[i + 1][j + 1] = min(dist[i + 1][j + 1], here + step)
            if i < len(a):
                dist[i + 1][j] = min(dist[i + 1][j], here + 2)
            if j < len(b):
                dist[i][j + 1] = min(dist[i][j + 1], here + 2)
            for x, y in _PAIRS:
                if a.startswith(x, i) and b.startswith(y, j):
                    ni, nj = i + len(x), j + len(y)
                    dist[ni][nj] = min(dist[ni][nj], here + 1)
    return dist[len(a)][len(b)]


def ocr_variants(stem: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """The ``candidates`` (indexed words near ``stem``) that OCR plausibly made from it."""
    budget = 2 if len(stem) >= _LONG else 1
    found = {
        c for c in candidates
        if c != stem and c[:PREFIX] == stem[:PREFIX] and osa_distance(stem, c) <= MAX_EDITS
        and ocr_cost(stem, c) <= budget
    }
    return tuple(sorted(found))
