"""Read-only queries behind the web app's pages: channel listings, counts over time, versions.

Each method reads; none writes, so the web app runs them on a connection opened read-only.
Aggregates over the whole archive (the overview's) are the slow ones: the web app caches
them until the archive's sequence number moves on.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from ..record import Entity
from . import PostFilter
from .dbapi import Connection, dialect_of
from .reader import filter_sql


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """One channel as the overview lists it."""

    username: str
    title: str | None
    posts: int
    first_date: str | None
    last_date: str | None
    last_sync: str | None
    median_views: float | None


@dataclass(frozen=True, slots=True)
class Version:
    """An earlier text of an edited post, replaced by a newer one at ``replaced_at``."""

    replaced_at: str
    text: str
    entities: list[Entity]


@dataclass(frozen=True, slots=True)
class PageOfPosts:
    """One page of a channel, newest first, and where the next page starts."""

    pks: list[int]
    next_before: int | None  # the next page: ?before=<id>
    next_copies_before: int | None  # ... or, among posts without ids, ?copies_before=<pk>


class ArchiveViews:
    """The queries of the web app's pages, over one (read-only) connection."""

    def __init__(self, db: Connection):
        self.db = db
        self.dialect = dialect_of(db)

    def last_seq(self) -> int:
        """The archive's last write: a cache made before it is still good."""
        row = self.db.execute(self.dialect.last_write_query).fetchone()
        return int(row[0]) if row else 0

    # -- the overview -----------------------------------------------------------------------

    def channel_rows(self) -> list[ChannelRow]:
        """Every channel with posts: counts, date range, last sync and median views."""
        medians = dict(
            self.db.execute(
                "SELECT channel_pk, CAST(avg(views) AS DOUBLE PRECISION) FROM ("
                " SELECT channel_pk, views,"
                "  row_number() OVER (PARTITION BY channel_pk ORDER BY views) AS n,"
                "  count(*) OVER (PARTITION BY channel_pk) AS total"
                " FROM posts WHERE views IS NOT NULL) AS ranked"
                " WHERE n IN ((total + 1) / 2, (total + 2) / 2) GROUP BY channel_pk"
            ).fetchall()
        )
        rows = self.db.execute(
            "SELECT channels.pk, channels.username, channels.title, count(posts.pk),"
            " min(posts.date), max(posts.date),"
            " (SELECT max(updated_at) FROM sync_state WHERE channel = channels.username)"
            " FROM channels JOIN posts ON posts.channel_pk = channels.pk"
            " GROUP BY channels.pk ORDER BY count(posts.pk) DESC, channels.username"
        ).fetchall()
        return [
            ChannelRow(name, title, posts, first, last, synced, medians.get(pk))
            for pk, name, title, posts, first, last, synced in rows
        ]

    def totals(self) -> dict[str, Any]:
        """Posts, channels, observations and sources in the archive; the date range."""
        posts, first, last = self.db.execute(
            "SELECT count(*), min(date), max(date) FROM posts"
        ).fetchone()
        (channels,) = self.db.execute(
            "SELECT count(DISTINCT channel_pk) FROM posts WHERE channel_pk IS NOT NULL"
        ).fetchone()
        (sources,) = self.db.execute("SELECT count(*) FROM sources").fetchone()
        (observations,) = self.db.execute("SELECT max(pk) FROM observations").fetchone()
        return {
            "posts": posts,
            "channels": channels,
            "sources": sources,
            "observations": observations or 0,
            "first_date": first,
            "last_date": last,
        }

    def weekly_posts(self, filters: PostFilter | None = None) -> dict[str, dict[str, int]]:
        """Posts per week (its Monday) per channel: ``{week: {channel: posts}}``, in order."""
        where, params = filter_sql(filters or PostFilter())
        dated = f"{where} AND posts.date IS NOT NULL" if where else "WHERE posts.date IS NOT NULL"
        weeks: dict[str, dict[str, int]] = {}
        week_start = self.dialect.week_start("posts.date")  # the Monday of its week
        for week, channel, count in self.db.execute(
            f"SELECT {week_start} AS week, channels.username, count(*) FROM posts"
            f" JOIN channels ON channels.pk = posts.channel_pk {dated}"
            " GROUP BY week, posts.channel_pk, channels.username ORDER BY week",
            params,
        ):
            weeks.setdefault(week, {})[channel] = count
        return weeks

    def channel_names(self) -> list[tuple[str, str | None]]:
        """Every channel with posts, by username: (username, title)."""
        return self.db.execute(
            "SELECT username, title FROM channels"
            " WHERE EXISTS (SELECT 1 FROM posts WHERE posts.channel_pk = channels.pk)"
            " ORDER BY username"
        ).fetchall()

    # -- a channel --------------------------------------------------------------------------

    def channel(self, username: str) -> dict[str, Any] | None:
        """The channel's header: title, description, counters, avatar; posts and dates."""
        row = self.db.execute(
            "SELECT pk, username, title, description, verified, subscribers, photos, videos,"
            " links, files, avatar, telegram_id, updated_at FROM channels WHERE username = ?",
            (username,),
        ).fetchone()
        if row is None:
            return None
        names = [
            "pk",
            "username",
            "title",
            "description",
            "verified",
            "subscribers",
            "photos",
            "videos",
            "links",
            "files",
            "avatar",
            "telegram_id",
            "updated_at",
        ]
        header = dict(zip(names, row, strict=True))
        posts, first, last = self.db.execute(
            "SELECT count(*), min(date), max(date) FROM posts WHERE channel_pk = ?",
            (header["pk"],),
        ).fetchone()
        synced = self.db.execute(
            "SELECT max(updated_at) FROM sync_state WHERE channel = ?", (username,)
        ).fetchone()[0]
        header.update(posts=posts, first_date=first, last_date=last, last_sync=synced)
        header["verified"] = None if header["verified"] is None else bool(header["verified"])
        return header

    def channel_page(
        self,
        channel_pk: int,
        *,
        before: int | None = None,
        copies_before: int | None = None,
        limit: int = 20,
    ) -> PageOfPosts:
        """Posts of a channel newest first: those with ids by id, then those without (copies
        from text dumps) newest first; ``before`` and ``copies_before`` are the cursors."""
        pks: list[int] = []
        next_before = None
        if copies_before is None:
            rows = self.db.execute(
                "SELECT pk, message_id FROM posts WHERE channel_pk = ? AND message_id < ?"
                " ORDER BY message_id DESC LIMIT ?",
                (channel_pk, before if before is not None else 2**63 - 1, limit + 1),
            ).fetchall()
            if len(rows) > limit:
                rows = rows[:limit]
                next_before = rows[-1][1]
            pks = [pk for pk, _ in rows]
        left = limit - len(pks)
        if next_before is not None:
            return PageOfPosts(pks, next_before, None)
        if left <= 0:  # the page ends with the last post with an id: copies may follow
            (newest_copy,) = self.db.execute(
                "SELECT max(pk) FROM posts WHERE channel_pk = ? AND message_id IS NULL",
                (channel_pk,),
            ).fetchone()
            return PageOfPosts(pks, None, None if newest_copy is None else newest_copy + 1)
        copies = self.db.execute(
            "SELECT pk FROM posts WHERE channel_pk = ? AND message_id IS NULL AND pk < ?"
            " ORDER BY pk DESC LIMIT ?",
            (channel_pk, copies_before if copies_before is not None else 2**63 - 1, left + 1),
        ).fetchall()
        next_copy = None
        if len(copies) > left:
            copies = copies[:left]
            next_copy = copies[-1][0]
        return PageOfPosts(pks + [pk for (pk,) in copies], None, next_copy)

    def channel_days(self, channel_pk: int) -> list[tuple[str, int, float | None, float | None]]:
        """Per day of a channel: posts, mean views per post, mean reactions per post."""
        return self.db.execute(
            "SELECT substr(date, 1, 10) AS day, count(*), CAST(avg(views) AS DOUBLE PRECISION),"
            " CAST(avg((SELECT sum(count) FROM reactions WHERE post_pk = posts.pk))"
            " AS DOUBLE PRECISION)"
            " FROM posts WHERE channel_pk = ? AND date IS NOT NULL GROUP BY day ORDER BY day",
            (channel_pk,),
        ).fetchall()

    def channel_hours(self, channel_pk: int) -> list[tuple[str, int]]:
        """Posts per UTC hour (``YYYY-MM-DDTHH``): the posting heatmap is made from them in
        any time zone."""
        return self.db.execute(
            f"SELECT {self.dialect.quarter_hour('date')} AS hour, count(*) FROM posts"
            " WHERE channel_pk = ? AND date IS NOT NULL GROUP BY hour",
            (channel_pk,),
        ).fetchall()

    # -- a post -----------------------------------------------------------------------------

    def versions(self, key: str) -> list[Version]:
        """The earlier texts of an edited post, oldest first."""
        return [
            Version(at, text, json.loads(entities))
            for at, text, entities in self.db.execute(
                "SELECT replaced_at, text, entities FROM post_versions"
                " WHERE post_pk = (SELECT pk FROM posts WHERE key = ?)"
                " ORDER BY replaced_at, text",  # the primary key's order, on every engine
                (key,),
            )
        ]

    def excerpts(self, keys: Collection[str], length: int = 120) -> dict[str, str]:
        """The start of each of these posts' texts (those in the archive), by key."""
        found: dict[str, str] = {}
        wanted = list(keys)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(
                self.db.execute(
                    f"SELECT key, substr(text, 1, ?) FROM posts"
                    f" WHERE key IN ({','.join('?' * len(chunk))})",
                    (length, *chunk),
                ).fetchall()
            )
        return found

    def deleted_at(self, key: str) -> str | None:
        row = self.db.execute("SELECT deleted_at FROM posts WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    # -- hashtags ---------------------------------------------------------------------------

    def hashtags(self, limit: int = 100) -> list[tuple[str, str, int, int]]:
        """The most used hashtags: (as most often written, folded, posts, channels)."""
        return self.db.execute(
            "SELECT (SELECT tag FROM hashtags AS h WHERE h.folded = hashtags.folded"
            "  GROUP BY tag ORDER BY count(*) DESC LIMIT 1),"
            " folded, count(*), count(DISTINCT posts.channel_pk)"
            " FROM hashtags JOIN posts ON posts.pk = hashtags.post_pk"
            " GROUP BY folded ORDER BY 3 DESC, 2 LIMIT ?",
            (limit,),
        ).fetchall()

    def hashtag_spelling(self, folded: str) -> str | None:
        """How a hashtag is most often written (``RussiaChina`` for ``russiachina``)."""
        row = self.db.execute(
            "SELECT tag FROM hashtags WHERE folded = ? GROUP BY tag ORDER BY count(*) DESC, tag"
            " LIMIT 1",
            (folded,),
        ).fetchone()
        return row[0] if row else None

    def hashtag_channels(self, folded: str) -> list[tuple[str | None, str | None, int]]:
        """The channels that used a hashtag: username, title, posts."""
        return self.db.execute(
            "SELECT channels.username, channels.title, count(*) FROM hashtags"
            " JOIN posts ON posts.pk = hashtags.post_pk"
            " LEFT JOIN channels ON channels.pk = posts.channel_pk"
            " WHERE hashtags.folded = ?"
            " GROUP BY posts.channel_pk, channels.username, channels.title ORDER BY 3 DESC",
            (folded,),
        ).fetchall()
