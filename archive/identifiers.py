"""Identifiers as search terms: file references, invoice and customer numbers, IBANs, postcodes.

Clerks type what is printed on the letter in front of them, or part of it: ``5601/20``,
``4711``, ``DE89 3704``, ``5.5-1690``. The page text says ``49.3-5601/20``, or, after OCR,
``49.3-560 1/20`` or ``49.3-56O1/2O``. Word analysis cannot bridge that, so every run of
digit-bearing groups is indexed once more, as identifier tokens made here in Python (both
backends then find exactly the same records):

* ``compact`` tokens: each sub-sequence of a run's groups with the separators and OCR's
  spaces removed, and the OCR letters ``O l I`` read as the digits they stand for
  (``4935601 20``, ``560120``, ``5601``); a sub-sequence may also begin inside its first
  digit group (``551690`` from ``55.5-1690``), which is what ``5.5-1690`` asks for;
* ``exact`` tokens: the same sub-sequences as written (lower case, a space kept as ``_``),
  so a query written exactly as on the page ranks above one that only matches compactly.

A run is a sequence of letter/digit groups joined by one ``.``, ``/`` or ``-``, or by one
space between two groups that both hold digits (``DE89 3704 0044``, ``560 1/20``,
``34- 2018``); only runs holding a digit count. A number OCR glued to the word before it
(``vom2022-08-27``) is also indexed on its own. A query word with a digit is parsed the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

_GROUP = re.compile(r"[^\W_]+")
_DIGIT_WORDS = re.compile(r"\S*\d\S*(?: \S*\d\S*)*")  # words with digits, single-spaced
_SEPARATORS = frozenset("./-")
_MAX_GROUPS = 8  # longest sub-sequence indexed: an IBAN in groups of four, a long reference
_MAX_SUFFIX_GROUPS = 4  # sub-sequences that may start inside their first group
_IBAN_GLUED = re.compile(r"[a-z]{2}\d{2}[a-z0-9]{11,30}")
_OCR_DIGITS = str.maketrans({"o": "0", "l": "1", "i": "1"})


@dataclass(frozen=True, slots=True)
class Run:
    """One identifier as found in a text: its groups, the separator before each, its span."""

    groups: tuple[str, ...]  # lower case, as written
    seps: tuple[str, ...]  # seps[k] joins groups[k-1] and groups[k]; seps[0] == ""
    spans: tuple[tuple[int, int], ...]  # character span of each group in the text


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def runs(text: str) -> Iterator[Run]:
    """The identifier runs of a text, in reading order."""
    # Only stretches of words with digits can hold a run: skip the prose in between fast.
    for stretch in _DIGIT_WORDS.finditer(text):
        yield from _runs_in(text, stretch.start(), stretch.end())


def _runs_in(text: str, start: int, end: int) -> Iterator[Run]:
    groups: list[str] = []
    seps: list[str] = []
    spans: list[tuple[int, int]] = []
    last_end = -1
    for match in _GROUP.finditer(text, start, end):
        group = match.group().lower()
        gap = text[last_end:match.start()] if groups else None
        digits = gap is not None and _has_digit(groups[-1]) and _has_digit(group)
        # OCR's space beside a separator ("34- 2018") joins digit groups as the separator does.
        spaced = digits and len(gap) == 2 and gap.strip() in _SEPARATORS
        joined = gap is not None and (gap in _SEPARATORS or (gap == " " and digits) or spaced)
        if spaced:
            gap = gap.strip()
        if groups and not joined:
            yield from _finish(groups, seps, spans)
            groups, seps, spans = [], [], []
        groups.append(group)
        seps.append(gap if joined else "")
        spans.append(match.span())
        last_end = match.end()
    if groups:
        yield from _finish(groups, seps, spans)


def _finish(groups: list[str], seps: list[str], spans: list[tuple[int, int]]) -> Iterator[Run]:
    if not any(_has_digit(g) for g in groups):
        return
    if len(groups) == 1 and _IBAN_GLUED.fullmatch(groups[0]):
        # An IBAN written without spaces is searched in its printed groups of four.
        start = spans[0][0]
        word = groups[0]
        cuts = range(0, len(word), 4)
        yield Run(
            tuple(word[i:i + 4] for i in cuts),
            tuple("" if i == 0 else " " for i in cuts),
            tuple((start + i, start + min(i + 4, len(word))) for i in cuts),
        )
        return
    yield Run(tuple(groups), tuple(seps), tuple(spans))


def _compact_group(group: str) -> str:
    # Mostly digits: OCR's O, l and I inside it were digits on paper.
    digits = sum(c.isdigit() for c in group)
    return group.translate(_OCR_DIGITS) if digits * 2 >= len(group) else group


def _exact(run: Run, i: int, j: int) -> str:
    out = [run.groups[i]]
    for k in range(i + 1, j):
        out.append("_" if run.seps[k] == " " else run.seps[k])
        out.append(run.groups[k])
    return "".join(out)


def subsequences(run: Run) -> Iterator[tuple[str, str, int, int]]:
    """``(compact, exact, first, last)`` for each indexed sub-sequence of a run.

    ``first``/``last`` are character offsets of the sub-sequence in the run's text.
    """
    compact = [_compact_group(g) for g in run.groups]
    n = len(run.groups)
    for i in range(n):
        for j in range(i + 1, min(n, i + _MAX_GROUPS) + 1):
            joined = "".join(compact[i:j])
            if not _has_digit(joined):
                continue
            yield joined, _exact(run, i, j), run.spans[i][0], run.spans[j - 1][1]
            head = compact[i]
            if j - i > _MAX_SUFFIX_GROUPS:
                continue
            rest = "".join(compact[i + 1:j])
            if j - i >= 2 and head.isdigit():
                cuts = range(1, len(head))
            else:
                # A word OCR glued to a number ("vom2022-08-27"): the number on its own.
                cut = len(head.rstrip("0123456789"))
                cuts = range(cut, cut + 1) if 0 < cut < len(head) else range(0)
            for cut in cuts:
                yield head[cut:] + rest, "", run.spans[i][0] + cut, run.spans[j - 1][1]


@dataclass(frozen=True, slots=True)
class IdentifierTokens:
    """Index form of the identifiers of a text (space-separated tokens, each once)."""

    compact: str
    exact: str


def identifier_tokens(*texts: str) -> IdentifierTokens:
    """The identifier tokens of one or more texts (page text, title, reference …)."""
    compact: dict[str, None] = {}
    exact: dict[str, None] = {}
    for text in texts:
        for run in runs(text):
            for c, e, _, _ in subsequences(run):
                compact[c] = None
                if e:
                    exact[e] = None
    return IdentifierTokens(" ".join(compact), " ".join(exact))


def query_identifiers(text: str) -> list[tuple[str, str]]:
    """``(compact, exact)`` of each identifier a query word (or joined words) holds."""
    out = []
    for run in runs(text):
        n = len(run.groups)
        out.append(("".join(_compact_group(g) for g in run.groups), _exact(run, 0, n)))
    return out


def identifier_spans(text: str, compacts: frozenset[str]) -> list[tuple[int, int]]:
    """Character spans in ``text`` where one of the ``compacts`` identifiers stands."""
    spans = []
    for run in runs(text):
        for c, _, first, last in subsequences(run):
            if c in compacts:
                spans.append((first, last))
    return spans
