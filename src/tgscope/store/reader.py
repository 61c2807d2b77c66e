"""Reading records back: whole posts, listings by filter, stats and history."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from ..dates import day_bounds
from ..record import Post, Reaction, reaction_label
from . import IndexDoc, Observation, PostFilter, Stats
from .dbapi import Connection, dialect_of, streamed
from .posts import BATCH

_POST_ROW = (
    "SELECT posts.pk, posts.key, channels.username, channels.title, posts.message_id,"
    " posts.date, posts.text, posts.entities, posts.views, posts.forwarded_from_title,"
    " posts.forwarded_from_channel, posts.forwarded_from_id, posts.reply_to_channel,"
    " posts.reply_to_id, posts.link_preview, posts.author, posts.edited, posts.service,"
    " posts.album_id, posts.forwards, posts.replies, posts.via_bot, posts.buttons"
    " FROM posts LEFT JOIN channels ON channels.pk = posts.channel_pk WHERE posts.pk IN ({})"
)
# The record's lists, one query each for any number of posts, in order.  (One query with
# the lists as JSON arrays built by SQLite measured no faster for ten posts, and 20% slower
# for an export's batches of 500.)
_LISTS = {
    "reactions": "SELECT post_pk, emoji, custom_emoji_id, paid, count FROM reactions",
    "media": "SELECT post_pk, item FROM media",
    "hashtags": "SELECT post_pk, tag FROM hashtags",
    "mentions": "SELECT post_pk, username FROM mentions",
    "links": "SELECT post_pk, url FROM links",
}
_LIST_QUERIES = {
    **{
        name: f"{rows} WHERE post_pk IN ({{}}) ORDER BY post_pk, position"
        for name, rows in _LISTS.items()
    },
    "sources": "SELECT observations.post_pk, sources.kind, sources.ref, observations.observed_at"
    " FROM observations JOIN sources ON sources.pk = observations.source_pk"
    " WHERE observations.post_pk IN ({}) ORDER BY 1, 4, 2, 3",
}


class PostReader:
    """Posts as records, and the listings, counts and histories the archive answers."""

    def __init__(self, db: Connection):
        self.db = db
        self.dialect = dialect_of(db)

    def pk(self, key: str) -> int | None:
        row = self.db.execute("SELECT pk FROM posts WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def get(self, key: str) -> Post | None:
        with self.snapshot():
            pk = self.pk(key)
            return self.load([pk])[pk] if pk is not None else None

    def load(self, pks: list[int], *, sources: bool = True) -> dict[int, Post]:
        """Whole records for these posts, keyed by pk (seven queries a batch of 500, read
        from one snapshot of the file: a writer in between cannot tear a record).  Without
        ``sources`` their observations are not listed (a post seen again only needs its
        content, and a post synced often has many)."""
        posts: dict[int, Post] = {}
        with self.snapshot():
            for start in range(0, len(pks), BATCH):
                posts.update(self._load_batch(pks[start : start + BATCH], sources=sources))
        return posts

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction for the queries inside (unless one is open already)."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute(self.dialect.begin_read)
        try:
            yield
        finally:
            if self.db.in_transaction:
                self.db.execute("COMMIT")

    def _load_batch(self, pks: list[int], *, sources: bool) -> dict[int, Post]:
        marks = ",".join("?" * len(pks))
        lists: dict[str, dict[int, list]] = {}
        for name, query in _LIST_QUERIES.items():
            decode = _DECODERS[name]
            found: dict[int, list] = defaultdict(list)
            lists[name] = found
            if name == "sources" and not sources:
                continue
            for row in self.db.execute(query.format(marks), pks):
                found[row[0]].append(decode(row))
        rows = self.db.execute(_POST_ROW.format(marks), pks)
        return {row[0]: _row_to_post(row, lists) for row in rows}

    def iter_posts(self, filters: PostFilter, only: set[int] | None = None) -> Iterator[Post]:
        """Matching posts in archive order (by date, then the order they were imported);
        ``only``: just these posts (those a search found)."""
        where, params = filter_sql(filters)
        pks = [
            row[0]
            for row in self.db.execute(
                f"SELECT posts.pk FROM posts {where}"
                " ORDER BY posts.date IS NULL, posts.date, posts.pk",
                params,
            )
            if only is None or row[0] in only
        ]
        for start in range(0, len(pks), BATCH):
            chunk = pks[start : start + BATCH]
            loaded = self.load(chunk)
            yield from (loaded[pk] for pk in chunk)

    def iter_index_docs(self, after_seq: int, upto: int | None = None) -> Iterable[IndexDoc]:
        """What the search index needs of each post written after ``after_seq`` (and up to
        ``upto``, when given): first the posts removed since (merged into another), then those
        written (a pk used again after a removal is added back after it is dropped)."""
        bound, args = ("", (after_seq,)) if upto is None else (" AND seq <= ?", (after_seq, upto))
        removed = self.db.execute(f"SELECT pk FROM removed_posts WHERE seq > ?{bound}", args)
        for (pk,) in removed.fetchall():
            yield IndexDoc(pk, "", None, None, [], gone=True)
        tags, types = (self.dialect.json_list("tag"), self.dialect.json_list("type"))
        cursor = streamed(
            self.db,
            "SELECT posts.pk, posts.text, channels.username, posts.date,"
            f" (SELECT {tags} FROM hashtags WHERE post_pk = posts.pk),"
            f" (SELECT {types} FROM media WHERE post_pk = posts.pk),"
            f" {_FORWARDED}"
            " FROM posts LEFT JOIN channels ON channels.pk = posts.channel_pk"
            f" WHERE posts.seq > ?{bound.replace('seq', 'posts.seq')} ORDER BY posts.pk",
            args,
        )
        for pk, text, channel, date, tags, media, forwarded in cursor:
            yield IndexDoc(
                pk,
                text,
                channel,
                date,
                json.loads(tags),
                media=tuple(json.loads(media)),
                forwarded=bool(forwarded),
            )

    def count_undated(self, filters: PostFilter) -> int:
        """Posts in the channel/hashtag scope of ``filters`` that have no date."""
        scope = PostFilter(
            channel=filters.channel,
            hashtag=filters.hashtag,
            media=filters.media,
            forwarded=filters.forwarded,
        )
        where, params = filter_sql(scope)
        where = f"{where} AND posts.date IS NULL" if where else "WHERE posts.date IS NULL"
        (count,) = self.db.execute(f"SELECT count(*) FROM posts {where}", params).fetchone()
        return count

    def history(self, key: str) -> list[Observation]:
        """Every observation of the post, oldest first: when, by which source, what counts."""
        return [
            Observation(at, kind, ref, views, forwards, replies, json.loads(reactions))
            for at, kind, ref, views, forwards, replies, reactions in self.db.execute(
                "SELECT observations.observed_at, sources.kind, sources.ref, observations.views,"
                " observations.forwards, observations.replies, observations.reactions"
                " FROM observations JOIN sources ON sources.pk = observations.source_pk"
                " WHERE observations.post_pk = (SELECT pk FROM posts WHERE key = ?)"
                " ORDER BY observations.observed_at, sources.kind, sources.ref",
                (key,),
            )
        ]

    def stats(self, filters: PostFilter) -> Stats:
        where, params = filter_sql(filters)
        scope = f"SELECT posts.pk FROM posts {where}"
        total, first, last, undated = self.db.execute(
            f"SELECT count(*), min(date), max(date), count(*) - count(date) FROM posts"
            f" WHERE pk IN ({scope})",
            params,
        ).fetchone()
        channels = self.db.execute(
            "SELECT channels.username, channels.title, count(*) FROM posts"
            " LEFT JOIN channels ON channels.pk = posts.channel_pk"
            f" WHERE posts.pk IN ({scope})"
            " GROUP BY posts.channel_pk, channels.username, channels.title ORDER BY 3 DESC",
            params,
        ).fetchall()
        hashtags = self.db.execute(
            f"SELECT tag, count(*) FROM hashtags WHERE post_pk IN ({scope})"
            " GROUP BY tag ORDER BY 2 DESC, 1 LIMIT 10",
            params,
        ).fetchall()
        (sources,) = self.db.execute(
            f"SELECT count(DISTINCT source_pk) FROM observations WHERE post_pk IN ({scope})", params
        ).fetchone()
        reactions = self._reaction_totals(scope, params)
        return Stats(total, channels, first, last, undated or 0, hashtags, reactions, sources)

    def _reaction_totals(self, scope: str, params: list[Any]) -> list[tuple[str, int]]:
        """Each reaction's total over the posts in scope, labelled as ``show`` labels it."""
        totals: dict[str, int] = {}
        for emoji, custom_id, paid, count in self.db.execute(
            "SELECT emoji, custom_emoji_id, paid, CAST(sum(count) AS BIGINT) FROM reactions"
            f" WHERE post_pk IN ({scope}) GROUP BY 1, 2, 3",
            params,
        ):
            label = reaction_label(_reaction(emoji, custom_id, paid, count))
            totals[label] = totals.get(label, 0) + count
        return sorted(totals.items(), key=lambda item: -item[1])


_FORWARDED = (
    "(posts.forwarded_from_title IS NOT NULL OR posts.forwarded_from_channel IS NOT NULL"
    " OR posts.forwarded_from_id IS NOT NULL)"
)


def and_also(where: str) -> str:
    """``AND <conditions>`` of a :func:`filter_sql` ``WHERE ...`` clause (empty for none), to
    add to a query's own conditions."""
    return f" AND {where.removeprefix('WHERE ')}" if where else ""


def filter_sql(filters: PostFilter) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (empty for no filter) and its parameters, over ``posts``."""
    clauses, params = [], []
    if filters.channel:
        clauses.append("posts.channel_pk = (SELECT pk FROM channels WHERE username = ?)")
        params.append(filters.channel)
    since, until = day_bounds(filters.since, filters.until)
    if since:
        clauses.append("posts.date >= ?")
        params.append(since)
    if until:
        clauses.append("posts.date < ?")
        params.append(until)
    if filters.hashtag:
        clauses.append("posts.pk IN (SELECT post_pk FROM hashtags WHERE folded = ?)")
        params.append(filters.hashtag)
    if filters.media == "any":
        clauses.append("EXISTS (SELECT 1 FROM media WHERE post_pk = posts.pk)")
    elif filters.media == "none":
        clauses.append("NOT EXISTS (SELECT 1 FROM media WHERE post_pk = posts.pk)")
    elif filters.media:
        clauses.append("EXISTS (SELECT 1 FROM media WHERE post_pk = posts.pk AND type = ?)")
        params.append(filters.media)
    if filters.forwarded is not None:
        clauses.append(_FORWARDED if filters.forwarded else f"NOT {_FORWARDED}")
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def _reaction(emoji: str | None, custom_id: str | None, paid: int, count: int) -> Reaction:
    if paid:
        return {"paid": True, "count": count}
    if custom_id is not None:
        return {"custom_emoji_id": custom_id, "count": count}
    return {"emoji": emoji or "", "count": count}


_DECODERS: dict[str, Callable[[tuple], Any]] = {
    "reactions": lambda row: _reaction(*row[1:]),
    "media": lambda row: json.loads(row[1]),
    "hashtags": itemgetter(1),
    "mentions": itemgetter(1),
    "links": itemgetter(1),
    "sources": lambda row: {"kind": row[1], "ref": row[2], "observed_at": row[3]},
}


def _row_to_post(row: tuple, lists: dict[str, dict[int, list]]) -> Post:
    (
        pk,
        key,
        channel,
        title,
        message_id,
        date,
        text,
        entities,
        views,
        fwd_title,
        fwd_channel,
        fwd_id,
        reply_channel,
        reply_id,
        link_preview,
        author,
        edited,
        service,
        album_id,
        forwards,
        replies,
        via_bot,
        buttons,
    ) = row
    forward = (
        {"title": fwd_title or None, "channel": fwd_channel, "id": fwd_id}
        if fwd_title is not None or fwd_channel or fwd_id is not None
        else None
    )
    return Post(
        key=key,
        channel=channel,
        channel_title=title,
        id=message_id,
        date=date,
        text=text,
        entities=json.loads(entities) if entities != "[]" else [],
        views=views,
        forwards=forwards,
        replies=replies,
        reactions=lists["reactions"].get(pk, []),
        forwarded_from=forward,  # type: ignore[arg-type]
        reply_to={"channel": reply_channel, "id": reply_id} if reply_id is not None else None,
        media=lists["media"].get(pk, []),
        link_preview=json.loads(link_preview) if link_preview else None,
        buttons=json.loads(buttons) if buttons else [],
        hashtags=lists["hashtags"].get(pk, []),
        mentions=lists["mentions"].get(pk, []),
        links=lists["links"].get(pk, []),
        author=author,
        via_bot=via_bot,
        edited=bool(edited),
        service=service,
        album_id=album_id,
        sources=lists["sources"].get(pk, []),
    )
