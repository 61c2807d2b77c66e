"""Snippets: the words a search matched, in their context, as HTML.

The archive keeps each post's text and the index only its tokens, so a snippet is cut here
from the text, highlighting every word whose token (:func:`tgscope.words.index_token`) the
query matched, whatever its form.
"""

from __future__ import annotations

from .words import MAX_WORD, has_cyrillic, index_token, spotting, words

_SNIPPET_CHARS = 160


def snippet(text: str, terms: frozenset[str]) -> str:
    """HTML: up to 160 characters of ``text`` around the most words whose token is in
    ``terms``, those words in ``<b>…</b>``, the rest escaped."""
    spans = _matched_spans(text, terms) if terms else []
    if not spans:
        return _escape(text[:_SNIPPET_CHARS])
    start, end = _window(text, spans)
    pieces, position = [], start
    for low, high in spans:
        if low >= start and high <= end:
            pieces += [_escape(text[position:low]), "<b>", _escape(text[low:high]), "</b>"]
            position = high
    pieces.append(_escape(text[position:end]))
    return "".join(pieces).strip()


def _matched_spans(text: str, terms: frozenset[str]) -> list[tuple[int, int]]:
    """Where the words whose token is in ``terms`` stand, in order."""
    lowered = text.lower().replace("ё", "е")
    keys = spotting(terms)
    if keys is None or len(lowered) != len(text):  # (İ: a lower case that is longer)
        return _spans_word_by_word(text, terms)
    forms, stems = keys
    found = set()
    for key in (*forms, *stems):  # str.find runs in C: no word of the text is visited
        start = lowered.find(key)
        while start >= 0:
            end = start + len(key)
            if key in stems:  # a stem: the word goes on
                while end < len(text) and lowered[end].isalnum():
                    end += 1
            if _whole(lowered, start, end) and index_token(text[start:end]) in terms:
                found.add((start, end))
            start = lowered.find(key, end)
    return sorted(found)


def _spans_word_by_word(text: str, terms: frozenset[str]) -> list[tuple[int, int]]:
    # a Russian word's token has Russian letters: for a query without any, such words are
    # not looked up (which would load the dictionary for an English search)
    russian = any(has_cyrillic(term) for term in terms)
    found = set()
    for word in set(words(text)):
        if (russian or not has_cyrillic(word)) and index_token(word) in terms:
            start = text.find(word)
            while start >= 0:
                end = start + len(word)
                if _whole(text, start, end):
                    found.add((start, end))
                start = text.find(word, end)
    return sorted(found)


def _whole(text: str, start: int, end: int) -> bool:
    """``text[start:end]`` is a whole word, as :data:`tgscope.words.WORD` splits them."""
    if start and text[start - 1].isalnum():
        return False
    return not text[end : end + 1].isalnum() and end - start <= MAX_WORD


def _window(text: str, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """The stretch of at most 160 characters holding the most matches, with context around
    them, cut between words."""
    if len(text) <= _SNIPPET_CHARS:
        return 0, len(text)
    best, first, last, j = 0, 0, 0, 0
    for i, (low, _) in enumerate(spans):  # the window starting at each match, in one pass
        j = max(j, i)
        while j + 1 < len(spans) and spans[j + 1][1] - low <= _SNIPPET_CHARS:
            j += 1
        if j - i + 1 > best:
            best, first, last = j - i + 1, low, spans[j][1]
    start = max(0, min(first - (_SNIPPET_CHARS - (last - first)) // 2, len(text) - _SNIPPET_CHARS))
    end = min(len(text), start + _SNIPPET_CHARS)
    while start > 0 and start < first and text[start - 1].isalnum():
        start += 1
    while end < len(text) and end > last and text[end].isalnum():
        end -= 1
    return start, end


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
