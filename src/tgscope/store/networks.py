"""The network analysis's queries: who forwarded, mentioned or linked whom, and what the
archive knows of each channel.

Each method reads and returns plain rows; :mod:`tgscope.analysis.network` aggregates them
into edges.  The spreading posts are filtered by a ``WHERE`` over ``posts`` (dates only, from
:func:`~tgscope.store.reader.filter_sql`); which channel's edges to keep is decided on the
edges, since a channel may be either end.
"""

from __future__ import annotations

from typing import Any

from .dbapi import Connection, dialect_of
from .reader import and_also

#: a forwarding post: who it names as the original's author (username or title)
_FORWARDED = "(posts.forwarded_from_title IS NOT NULL OR posts.forwarded_from_channel IS NOT NULL)"


class NetworkQueries:
    """Rows for the forwards, mentions and links networks, over one connection."""

    def __init__(self, db: Connection):
        self.db = db
        self.dialect = dialect_of(db)

    def channels(self) -> dict[int, tuple[str, str | None]]:
        """Every archived channel: pk -> (username, title)."""
        rows = self.db.execute("SELECT pk, username, title FROM channels")
        return {pk: (username, title) for pk, username, title in rows}

    def posts_per_channel(self, where: str, params: list[Any]) -> dict[int, int]:
        """Posts of each channel (pk) that ``where`` keeps."""
        rows = self.db.execute(
            "SELECT channel_pk, count(*) FROM posts"
            f" WHERE posts.channel_pk IS NOT NULL{and_also(where)} GROUP BY channel_pk",
            params,
        )
        return dict(rows.fetchall())

    def forwards(self, where: str, params: list[Any]) -> list[tuple]:
        """Each forward in a channel: (original's username or None, original's title or None,
        forwarding channel pk, date, delay in seconds after the original when the archive
        holds it, else None)."""
        delay = f"{self.dialect.epoch('posts.date')} - {self.dialect.epoch('original.date')}"
        return self.db.execute(
            "SELECT lower(posts.forwarded_from_channel), posts.forwarded_from_title,"
            f" posts.channel_pk, posts.date, {delay}"
            " FROM posts"
            " LEFT JOIN channels AS author ON author.username = lower(posts.forwarded_from_channel)"
            " LEFT JOIN posts AS original ON original.channel_pk = author.pk"
            "  AND original.message_id = posts.forwarded_from_id"
            f" WHERE posts.channel_pk IS NOT NULL AND {_FORWARDED}{and_also(where)}",
            params,
        ).fetchall()

    def forward_totals(self, where: str, params: list[Any]) -> list[tuple]:
        """Forwards counted by (original's username or None, its title or None, forwarding
        channel pk): the totals, without the per-post rows of :meth:`forwards`."""
        return self.db.execute(
            "SELECT lower(posts.forwarded_from_channel), posts.forwarded_from_title,"
            " posts.channel_pk, count(*) FROM posts"
            f" WHERE posts.channel_pk IS NOT NULL AND {_FORWARDED}{and_also(where)}"
            " GROUP BY 1, 2, 3",
            params,
        ).fetchall()

    def mentions(self, where: str, params: list[Any]) -> list[tuple]:
        """Each (mentioned username, mentioning post's channel pk, its date), once a post."""
        return self.db.execute(
            "SELECT DISTINCT posts.pk, lower(mentions.username), posts.channel_pk, posts.date"
            " FROM mentions JOIN posts ON posts.pk = mentions.post_pk"
            f" WHERE posts.channel_pk IS NOT NULL{and_also(where)}",
            params,
        ).fetchall()

    def telegram_links(self, where: str, params: list[Any]) -> list[tuple]:
        """Each link to t.me or telegram.me: (post pk, url, channel pk, date).  ``LIKE`` keeps
        a superset (it ignores ASCII case); the caller parses the URLs."""
        like = self.dialect.like_ci
        return self.db.execute(
            "SELECT posts.pk, links.url, posts.channel_pk, posts.date"
            " FROM links JOIN posts ON posts.pk = links.post_pk"
            f" WHERE (links.url {like} '%t.me/%' OR links.url {like} '%telegram.me/%')"
            f" AND posts.channel_pk IS NOT NULL{and_also(where)}",
            params,
        ).fetchall()
