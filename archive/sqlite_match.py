"""The FTS5 MATCH expression of a parsed query, for the embedded backend.

Plain words match in the word columns (the ``scope`` of :func:`.sqlite_rank.word_scope`),
phrases in the columns that keep word order, identifiers by their compact and their
written form; :func:`fts_phrases` lists the parts whose BM25 the score sums
(:mod:`.sqlite_rank`).
"""

from __future__ import annotations

from .query import ParsedQuery, Term
from .recordfields import META_WEIGHTS
from .sqlite_rank import WORD_SCOPE

# The metadata columns (recordfields); their bm25 weights are in sqlite_rank.WEIGHTS.
_META = " ".join(META_WEIGHTS)


def fts_quote(stem: str) -> str:
    """``stem`` as one FTS5 string (its double quotes doubled): never an operator or a column."""
    return '"' + stem.replace('"', '""') + '"'


def _identifier_parts(term: Term) -> list[str]:
    # An identifier as written compact, exactly, and in the metadata columns.
    compact, exact = fts_quote(term.stems[0]), fts_quote(term.exact or "")
    return [f"idents : {compact}", f"ident_exact : {exact}", f"{{{_META}}} : ({compact} OR {exact})"]


def _fts_term(term: Term, scope: str) -> str:
    if term.is_identifier:
        return "(" + " OR ".join(_identifier_parts(term)) + ")"
    if term.is_phrase:
        return f"{{body title_terms {_META}}} : " + fts_quote(" ".join(term.stems))
    words = " OR ".join(fts_quote(s) for s in (term.stems[0], *term.variants))
    return f"{scope}({words})"


def fts_clause(clause: tuple[Term, ...], scope: str) -> str:
    """One must-clause of a parsed query as FTS5: its alternatives ORed."""
    return "(" + " OR ".join(_fts_term(t, scope) for t in clause) + ")"


def fts_phrases(parsed: ParsedQuery, scope: str = WORD_SCOPE) -> list[str]:
    """Each FTS5 phrase of :func:`fts_expression` whose BM25 the score sums, as an expression."""
    out = []
    for term in (t for clause in parsed.must for t in clause):
        if term.is_identifier:
            out += _identifier_parts(term)
        elif term.is_phrase:
            out.append(_fts_term(term, scope))
        else:
            out += [scope + fts_quote(w) for w in (term.stems[0], *term.variants)]
    return out


def fts_expression(parsed: ParsedQuery, scope: str = WORD_SCOPE) -> str:
    """FTS5 MATCH expression for a parsed query (approximate forms included); ``scope`` is
    the column filter for plain words (:func:`word_scope`)."""
    expr = " AND ".join(fts_clause(clause, scope) for clause in parsed.must)
    if parsed.must_not:
        # One NOT of the excluded terms ORed: a NOT per term nests, and FTS5's parser stack
        # overflows at about a hundred of them ("fts5: parser stack overflow").
        expr = f"({expr}) NOT ({' OR '.join(_fts_term(t, scope) for t in parsed.must_not)})"
    return expr
