"""Full-text search in a PostgreSQL archive: the tokens tantivy would index, in ``post_words``.

PostgreSQL's own text-search configurations would change the word forms (``russian`` makes
``Китая`` and ``кит`` one lexeme and ``Байденом``/``Байден`` two, and every configuration drops
the ``_`` that marks a name: docs/scale-out.md §0), so nothing here asks PostgreSQL to parse
words.  Each post's tokens come from :func:`tgscope.words.index_text`, exactly what the tantivy
index holds, and are written as a ``tsvector`` literal with their positions; the query is read
by :func:`~tgscope.search.query.parse_query`, as for tantivy, and written as ``tsquery`` text.
Both are cast (``CAST(? AS tsvector)``), never passed through ``to_tsvector``/``to_tsquery``,
which would parse and stem them again.

The filters are the store's own (:func:`tgscope.store.reader.filter_sql`), so a search means
what a listing or an export with the same filters means.  Relevance is ``ts_rank_cd`` (cover
density), not tantivy's BM25: the same posts match, in another order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import QueryError
from ..store import IndexDoc, PostFilter, Store
from ..store.dbapi import Connection, roll_back
from ..store.reader import filter_sql
from ..words import index_text
from .query import Clause, Hit, Hits, ParsedQuery, parse_query

#: PostgreSQL keeps positions 1 to 16383 (a larger one would be read as 16383) ...
MAX_POSITION = 16383
#: ... and at most 256 positions of one lexeme
MAX_POSITIONS = 256
_BATCH = 1000
_ORDERS = {
    "newest": "posts.date DESC NULLS LAST, posts.pk",
    "oldest": "posts.date ASC NULLS LAST, posts.pk",
}
_UPSERT = (
    "INSERT INTO post_words (post_pk, words) VALUES (?, CAST(? AS tsvector))"
    " ON CONFLICT (post_pk) DO UPDATE SET words = excluded.words"
)
_DELETE = "DELETE FROM post_words WHERE post_pk = ?"


def tsvector_literal(text: str) -> str:
    """A post's tokens as a ``tsvector`` literal with their positions (from 1, as tantivy's
    from 0): ``'лавров':1,5 'встреча':2``.  Positions past :data:`MAX_POSITION` are kept as
    that position, as PostgreSQL would, and a lexeme's positions past the
    :data:`MAX_POSITIONS`-th are dropped; empty text gives ``''``, the empty vector."""
    positions: dict[str, list[int]] = {}
    for number, token in enumerate(index_text(text).split(), 1):
        spots = positions.setdefault(token, [])
        spot = min(number, MAX_POSITION)
        if len(spots) < MAX_POSITIONS and (not spots or spots[-1] != spot):
            spots.append(spot)
    return " ".join(
        f"{_quoted(token)}:{','.join(map(str, spots))}" for token, spots in positions.items()
    )


def to_tsquery_text(parsed: ParsedQuery) -> str:
    """The query as ``tsquery`` text: a word's alternatives ``('a' | 'b')``, a phrase
    ``('a' <-> ('b' | 'c'))``, an excluded clause ``!…``, ``OR`` as ``|``, groups ANDed."""
    return " & ".join(_group(group) for group in parsed.groups)


def _group(group: tuple[Clause, ...]) -> str:
    clauses = [_clause(clause) for clause in group]
    return clauses[0] if len(clauses) == 1 else f"({' | '.join(clauses)})"


def _clause(clause: Clause) -> str:
    words = [_alternatives(choices) for choices in clause.words]
    text = words[0] if len(words) == 1 else f"({' <-> '.join(words)})"
    return f"!{text}" if clause.excluded else text


def _alternatives(choices: tuple[str, ...]) -> str:
    quoted = [_quoted(token) for token in choices]
    return quoted[0] if len(quoted) == 1 else f"({' | '.join(quoted)})"


def _quoted(token: str) -> str:
    """A lexeme as a literal: tokens hold letters, digits and ``_`` only, quoted anyway."""
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


class PgTextSearch:
    """Search over a PostgreSQL archive's ``post_words``: what :class:`SearchIndex` answers,
    from the same tokens, with no index folder."""

    def __init__(self, db: Connection):
        self.db = db

    # -- writing --------------------------------------------------------------------------

    def write(self, docs: Iterable[IndexDoc]) -> int:
        """Store (or replace) the words of each post, drop those of a removed one, in the
        order given (a pk removed and used again comes back); returns how many docs.  Called
        inside the store's write transaction, so the words never lag behind the posts."""
        count = 0
        for statement, rows in _runs(docs):
            self.db.executemany(statement, rows)
            count += len(rows)
        return count

    def rebuild(self, store: Store) -> int:
        """Write every post's words again (``tgscope reindex``); returns how many posts."""
        return self.rebuild_from(doc for doc in store.iter_index_docs(0) if not doc.gone)

    def rebuild_from(self, docs: Iterable[IndexDoc]) -> int:
        """Replace the whole table with the words of ``docs``, in one transaction (its
        own, unless one is running): readers see the old words or the new, never none."""
        own = not self.db.in_transaction
        if own:
            self.db.execute("BEGIN")
        try:
            self.db.execute("DELETE FROM post_words")
            count = self.write(docs)
        except BaseException:
            if own:
                roll_back(self.db)
            raise
        if own:
            self.db.execute("COMMIT")
        return count

    # -- searching ------------------------------------------------------------------------

    def search(
        self,
        query: str,
        filters: PostFilter,
        *,
        limit: int = 10,
        order: str = "relevance",
        offset: int = 0,
    ) -> Hits:
        """Top ``limit`` posts by relevance (``ts_rank_cd``), or by date (``newest`` /
        ``oldest``, undated posts last, ties by pk), from the ``offset``-th on."""
        matched = _Matched(query, filters)
        if order == "relevance":
            score = "ts_rank_cd(post_words.words, query.q)" if matched.parsed else "1.0"
            ordering = "score DESC, posts.pk"
        elif order in _ORDERS:
            score, ordering = "NULL", _ORDERS[order]
        else:
            raise QueryError(f"unknown order {order!r} (relevance, newest or oldest)")
        rows = self.db.execute(
            f"SELECT posts.pk, {score} AS score, count(*) OVER () {matched.sql}"
            f" ORDER BY {ordering} LIMIT ? OFFSET ?",
            [*matched.params, limit, offset],
        ).fetchall()
        total = rows[0][2] if rows else self._count(matched) if offset or limit < 1 else 0
        hits = [Hit(pk, None if score is None else float(score)) for pk, score, _ in rows]
        return Hits(total, hits, matched.terms)

    def channel_counts(self, query: str, filters: PostFilter, *, size: int = 50) -> dict[str, int]:
        """How many posts matching ``query`` and the filters each channel has (the ``size``
        channels with most; ties by name)."""
        matched = _Matched(query, filters)
        rows = self.db.execute(
            f"SELECT channels.username, count(*) AS posts {matched.sql_joining(_CHANNELS)}"
            " GROUP BY channels.username ORDER BY posts DESC, channels.username LIMIT ?",
            [*matched.params, size],
        ).fetchall()
        return {channel: count for channel, count in rows}

    def matching_pks(self, query: str, filters: PostFilter) -> set[int]:
        """Every post matching ``query`` and the filters (for exports), not just the top."""
        matched = _Matched(query, filters)
        return {pk for (pk,) in self.db.execute(f"SELECT posts.pk {matched.sql}", matched.params)}

    def _count(self, matched: _Matched) -> int:
        (count,) = self.db.execute(f"SELECT count(*) {matched.sql}", matched.params).fetchone()
        return count


_CHANNELS = " JOIN channels ON channels.pk = posts.channel_pk"
_WORDS = (
    " JOIN post_words ON post_words.post_pk = posts.pk"
    " CROSS JOIN (SELECT CAST(? AS tsquery) AS q) AS query"
)


class _Matched:
    """``FROM … WHERE …`` selecting the posts a query and filters match, and its parameters
    (the query's words first, then the filters'); no words: every post the filters keep."""

    def __init__(self, query: str, filters: PostFilter):
        self.parsed = parse_query(query) if query.strip() else None
        where, params = filter_sql(filters)  # QueryError for a date that is none, as tantivy
        self.terms = self.parsed.terms if self.parsed else frozenset[str]()
        self.words, self.where, self.params = "", where, list(params)
        if self.parsed is not None:
            match = "post_words.words @@ query.q"
            self.words = _WORDS
            self.where = f"{where} AND {match}" if where else f"WHERE {match}"
            self.params.insert(0, to_tsquery_text(self.parsed))

    @property
    def sql(self) -> str:
        return self.sql_joining("")

    def sql_joining(self, joins: str) -> str:
        """The ``FROM … WHERE …`` with more tables joined (the query's words come first)."""
        return f"FROM posts{self.words}{joins} {self.where}"


def _runs(docs: Iterable[IndexDoc]) -> Iterator[tuple[str, list[Any]]]:
    """Batches of upserts and deletions, in the order of ``docs``."""
    statement, rows = _UPSERT, list[Any]()
    for doc in docs:
        wanted = _DELETE if doc.gone else _UPSERT
        if rows and (wanted != statement or len(rows) >= _BATCH):
            yield statement, rows
            rows = []
        statement = wanted
        rows.append((doc.pk,) if doc.gone else (doc.pk, tsvector_literal(doc.text)))
    if rows:
        yield statement, rows
