"""Full-text search: a tantivy index beside the SQLite file, or the words in PostgreSQL.

Word forms: tantivy's Python binding takes no tokenizer written in Python, so each post's
text is turned into tokens here (:mod:`tgscope.words`: Russian by dictionary lemma, names
apart, the rest by Snowball) and indexed, joined by spaces, in the ``words`` field, which
tantivy only splits at spaces.  Queries pass through the same functions, and snippets are cut
here from the archive's text, highlighting every word whose token the query matched.

- :mod:`.query`: the query language (:func:`parse_query`) and what a search answers
  (:class:`Hits`), whichever engine runs it;
- :mod:`.index`: :class:`SearchIndex`, the tantivy index in ``<archive>.index/``;
- :mod:`.pg`: :class:`PgTextSearch`, the same tokens in a PostgreSQL archive's
  ``post_words`` table, searched with ``tsquery`` (docs/scale-out.md §2.6).
"""

from __future__ import annotations

from ..store import TextSearch
from .index import (
    _STATE,
    INDEX_FORMAT,
    TOKENIZER,
    IndexBusy,
    SearchIndex,
    _empty_index_folder,
    _is_index_folder,
    build_schema,
    clause_query,
    make_document,
    tantivy_query,
    words_analyzer,
)
from .pg import PgTextSearch, to_tsquery_text, tsvector_literal
from .query import Clause, Hit, Hits, ParsedQuery, parse_query

__all__ = [
    "INDEX_FORMAT",
    "TOKENIZER",
    "_STATE",
    "Clause",
    "Hit",
    "Hits",
    "IndexBusy",
    "ParsedQuery",
    "PgTextSearch",
    "SearchIndex",
    "TextSearch",
    "_empty_index_folder",
    "_is_index_folder",
    "build_schema",
    "clause_query",
    "make_document",
    "parse_query",
    "tantivy_query",
    "to_tsquery_text",
    "tsvector_literal",
    "words_analyzer",
]
