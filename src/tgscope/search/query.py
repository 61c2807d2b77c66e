"""The query language (words, "phrases", ``OR``, ``-word``) read into tokens, and what a
search answers: the part of search that neither tantivy nor PostgreSQL shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import QueryError
from ..words import MAX_WORD, WORD, query_tokens

_QUERY_PART = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_OR, _AND = "OR", "AND"


@dataclass(frozen=True, slots=True)
class Hit:
    pk: int
    score: float | None


@dataclass(frozen=True, slots=True)
class Hits:
    total: int
    hits: list[Hit]
    terms: frozenset[str] = field(default_factory=frozenset)  # tokens to highlight: snippet()


@dataclass(frozen=True, slots=True)
class Clause:
    """A word or a "phrase" of the query, as tokens: each word any of its alternatives."""

    words: tuple[tuple[str, ...], ...]
    excluded: bool = False


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """All of ``groups`` must match; a group matches when any of its clauses does (``OR``)."""

    groups: tuple[tuple[Clause, ...], ...]

    @property
    def terms(self) -> frozenset[str]:
        return frozenset(
            token
            for group in self.groups
            for clause in group
            if not clause.excluded
            for choices in clause.words
            for token in choices
        )


def parse_query(query: str) -> ParsedQuery:
    """Read the user's query: words (all must match), ``"a phrase"``, ``OR`` between two words
    or phrases (either may match) and ``-excluded``.  Anything else is text, so ``Lavrov's``,
    ``G20:`` or ``12:00`` search for what they say instead of being read as syntax.

    Raises :class:`QueryError` for a query with nothing to search for: only exclusions, or
    only punctuation and operators (``(``, ``*``, ``OR OR``), which would otherwise match all.
    """
    groups: list[list[Clause]] = []
    joined = False  # the previous part was OR: the next clause joins the last group
    for match in _QUERY_PART.finditer(query):
        part = _read_part(match)
        if isinstance(part, str):  # OR, AND
            joined = part == _OR and bool(groups)
            continue
        if part is None:
            continue
        if joined:
            groups[-1].append(part)
        else:
            groups.append([part])
        joined = False
    if not groups:
        raise QueryError(
            f"query {query!r} has no words to search for: punctuation, emoji and operators alone"
            " match nothing (an empty query lists every post)"
        )
    if all(len(group) == 1 and group[0].excluded for group in groups):
        raise QueryError(f"query {query!r} only excludes: add a word to search for")
    return ParsedQuery(tuple(map(tuple, groups)))


def _read_part(match: re.Match[str]) -> Clause | str | None:
    """One part of the query: a clause, an operator, or None (nothing to search for)."""
    minus, phrase, word = match.groups()
    if word in (_OR, _AND):
        return word
    if word is not None:
        minus, phrase = ("-", word[1:]) if word.startswith("-") else ("", word)
    tokens = tuple(query_tokens(w) for w in WORD.findall(phrase) if len(w) <= MAX_WORD)
    return Clause(tokens, excluded=bool(minus)) if tokens else None
