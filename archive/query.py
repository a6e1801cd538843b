"""The query language clerks type, parsed once for every backend, and snippet highlighting.

Syntax: words are ANDed (``Bauantrag Müller``); ``"Antrag auf Erteilung"`` is a phrase;
``A OR B`` accepts either; ``-word`` or ``-"a phrase"`` excludes. Words go through the same
German analysis as indexed text (:mod:`.analysis`), so folding, stemming and compound parts
behave identically in SQLite and Elasticsearch. Words with digits are identifiers
(:mod:`.identifiers`); neighbouring ones are one identifier (``DE89 3704``). Snippets are cut here too, from the stored
page text, so both backends highlight the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..errors import ConfigError
from .analysis import analyze_query_word, index_forms, words
from .identifiers import identifier_spans, query_identifiers

MARK_OPEN, MARK_CLOSE = "«", "»"
APPROX = "~"  # after MARK_OPEN: the word matched approximately ("«~Bescheld»")
_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')


@dataclass(frozen=True, slots=True)
class Term:
    """One query word (one stem), a phrase (several stems in order), or an identifier.

    An identifier has its compact form as its one stem and ``exact`` as written. A word may
    carry ``variants``: indexed words OCR plausibly made from it (:mod:`.fuzzy`).
    """

    stems: tuple[str, ...]
    exact: str | None = None
    variants: tuple[str, ...] = ()

    @property
    def is_phrase(self) -> bool:
        """True for a phrase of more than one stem."""
        return len(self.stems) > 1

    @property
    def is_identifier(self) -> bool:
        """True for an identifier (matched in the identifier fields only)."""
        return self.exact is not None


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """``must``: each clause is a tuple of alternatives; ``must_not``: excluded terms."""

    must: tuple[tuple[Term, ...], ...]
    must_not: tuple[Term, ...]

    @property
    def stems(self) -> frozenset[str]:
        """Every word stem a document is asked to contain (for highlighting)."""
        return frozenset(
            s for clause in self.must for term in clause if not term.is_identifier for s in term.stems
        )

    @property
    def variants(self) -> frozenset[str]:
        """Every approximate form a document may contain instead of a word (for highlighting)."""
        return frozenset(v for clause in self.must for term in clause for v in term.variants)

    def words(self) -> frozenset[str]:
        """The single-word stems of the must-clauses (candidates for approximate matching)."""
        return frozenset(
            term.stems[0] for clause in self.must for term in clause
            if not term.is_identifier and not term.is_phrase
        )

    def with_variants(self, variants: dict[str, tuple[str, ...]]) -> ParsedQuery:
        """This query with approximate forms attached to its single words."""
        must = tuple(
            tuple(
                replace(t, variants=variants.get(t.stems[0], ()))
                if not t.is_identifier and not t.is_phrase else t
                for t in clause
            )
            for clause in self.must
        )
        return ParsedQuery(must, self.must_not)

    @property
    def is_approximate(self) -> bool:
        """True when some word has approximate forms."""
        return any(term.variants for clause in self.must for term in clause)

    @property
    def identifiers(self) -> frozenset[str]:
        """Compact forms of the identifiers a document is asked to contain (for highlighting)."""
        return frozenset(
            term.stems[0] for clause in self.must for term in clause if term.is_identifier
        )


def _terms(text: str, phrase: bool) -> list[Term]:
    if not phrase and any(c.isdigit() for c in text):
        return [Term((compact,), exact) for compact, exact in query_identifiers(text)]
    stems = [s for w in words(text) for s in analyze_query_word(w.group())]
    return [Term(tuple(stems))] if stems else []


def _tokens(query: str) -> list[tuple[bool, str, bool]]:
    """``(negated, text, is_phrase)`` per query token; "OR" stays a token of its own.

    Neighbouring words with digits become one token: ``DE89 3704`` is one IBAN, and OCR or
    a clerk may have split a reference (``49.3-560 1/20``).
    """
    out: list[tuple[bool, str, bool]] = []
    for m in _TOKEN.finditer(query):
        negate, phrase, word = bool(m.group(1)), m.group(2), m.group(3)
        if phrase is not None:
            out.append((negate, phrase, True))
            continue
        if word.startswith("-") and len(word) > 1:
            negate, word = True, word[1:]
        prev = out[-1] if out else None
        if (
            prev and not negate and not prev[2] and prev[1] != "OR"
            and any(c.isdigit() for c in prev[1]) and any(c.isdigit() for c in word)
        ):
            out[-1] = (prev[0], f"{prev[1]} {word}", False)
        else:
            out.append((negate, word, False))
    return out


def parse_query(query: str) -> ParsedQuery:
    """Parse a clerk's query; raises ConfigError for a query with no positive word."""
    must: list[list[Term]] = []
    must_not: list[Term] = []
    join_next = False
    for negate, text, is_phrase in _tokens(query):
        if text == "OR" and not is_phrase:
            join_next = bool(must)
            continue
        terms = _terms(text, is_phrase)
        if not terms:
            continue
        if negate:
            must_not.extend(terms)
        elif join_next:
            must[-1].append(terms[0])
            must.extend([t] for t in terms[1:])
        else:
            must.extend([t] for t in terms)
        join_next = False
    if not must:
        raise ConfigError(f"search query {query!r} has no word to look for")
    return ParsedQuery(tuple(tuple(c) for c in must), tuple(must_not))


def make_snippet(text: str, parsed: ParsedQuery | None, width: int = 24) -> tuple[str, int | None]:
    """The best window of about ``width`` words with matches marked «…», and its page.

    ``text`` is the document's text with pages separated by form feeds.
    """
    pages = text.split("\f")
    wanted = parsed.stems if parsed else frozenset()
    approx = (parsed.variants - wanted) if parsed else frozenset()
    idents = parsed.identifiers if parsed else frozenset()
    best: tuple[int, int, int, list, list[int]] | None = None  # (score, page, start, words, marks)
    kinds: dict[str, int] = {}  # mark of each distinct word: pages repeat their words
    for number, page_text in enumerate(pages, start=1):
        found = words(page_text)
        if not found:
            continue
        spans = identifier_spans(page_text, idents) if idents else []
        marks = [_mark(w, wanted, approx, spans, kinds) for w in found]
        for start in _window_starts(marks, width):
            window = marks[start : start + width]
            score = sum(window)
            if best is None or score > best[0]:
                best = (score, number, start, found, marks)
        if best is None:
            best = (0, number, 0, found, marks)
    if best is None:
        return "", None
    score, number, start, found, marks = best
    page_text = pages[number - 1]
    end = min(len(found), start + width)
    pieces, cursor = [], found[start].start()
    for w, marked in zip(found[start:end], marks[start:end]):
        pieces.append(page_text[cursor : w.start()])
        prefix = MARK_OPEN + (APPROX if marked == _APPROXIMATE else "")
        pieces.append(f"{prefix}{w.group()}{MARK_CLOSE}" if marked else w.group())
        cursor = w.end()
    snippet = " ".join("".join(pieces).split())
    if start > 0:
        snippet = "… " + snippet
    if end < len(found):
        snippet += " …"
    return snippet, number


_EXACT, _APPROXIMATE = 2, 1


def _mark(
    word: re.Match[str], wanted: frozenset[str], approx: frozenset[str],
    spans: list[tuple[int, int]], kinds: dict[str, int],
) -> int:
    # 2: the word matches exactly; 1: approximately; 0: not at all (counts as a bool too).
    text = word.group()
    kind = kinds.get(text)
    if kind is None:
        forms = index_forms(text) if wanted or approx else frozenset()
        kind = kinds[text] = _EXACT if forms & wanted else _APPROXIMATE if forms & approx else 0
    if kind != _EXACT and spans:
        start, end = word.span()
        if any(a < end and start < b for a, b in spans):
            return _EXACT
    return kind


def _window_starts(marks: list[int], width: int) -> list[int]:
    # Windows that begin a few words before each match; the first window if none matches.
    hits = [i for i, m in enumerate(marks) if m]
    if not hits:
        return [0]
    return sorted({max(0, min(i - 3, len(marks) - width)) for i in hits})
