"""The engagement analysis's queries: the dated posts of each channel with their counts, and
every observation of their views, as plain rows for :mod:`tgscope.analysis.engagement`.

Dates come back as epoch seconds (the dialect's ``epoch``), which NumPy takes as they are.
"""

from __future__ import annotations

from typing import Any

from .dbapi import Connection, dialect_of
from .reader import and_also

_DATED = "posts.channel_pk IS NOT NULL AND posts.date IS NOT NULL"


class EngagementQueries:
    """Rows for the engagement analysis, over one connection."""

    def __init__(self, db: Connection):
        self.db = db
        self.epoch = dialect_of(db).epoch

    def posts(self, where: str, params: list[Any]) -> list[tuple]:
        """Each dated post in a channel that ``where`` keeps: (channel pk, epoch seconds,
        views or -1, reactions in all or 0, first date, last date)."""
        date = self.epoch("posts.date")
        return self.db.execute(
            f"SELECT posts.channel_pk, {date}, coalesce(posts.views, -1),"
            " coalesce((SELECT CAST(sum(count) AS BIGINT) FROM reactions"
            " WHERE post_pk = posts.pk), 0)"
            f" FROM posts WHERE {_DATED}{and_also(where)} AND {date} IS NOT NULL",
            params,
        ).fetchall()

    def date_range(self, where: str, params: list[Any]) -> dict[int, tuple[str, str]]:
        """The first and last date of each channel's posts that ``where`` keeps."""
        rows = self.db.execute(
            "SELECT posts.channel_pk, min(posts.date), max(posts.date) FROM posts"
            f" WHERE {_DATED}{and_also(where)} GROUP BY posts.channel_pk",
            params,
        )
        return {pk: (first, last) for pk, first, last in rows}

    def observed_views(self, where: str, params: list[Any]) -> list[tuple]:
        """Each observation with a view count of the posts ``where`` keeps: (post pk,
        channel pk, seconds after the post's date, views), by post and then age."""
        seen, date = (self.epoch("observations.observed_at"), self.epoch("posts.date"))
        return self.db.execute(
            "SELECT posts.pk, posts.channel_pk,"
            f" {seen} - {date}, observations.views"
            " FROM observations JOIN posts ON posts.pk = observations.post_pk"
            f" WHERE {_DATED}{and_also(where)} AND observations.views IS NOT NULL"
            f" AND {seen} IS NOT NULL"
            f" AND {date} IS NOT NULL"
            " ORDER BY posts.pk, 3",
            params,
        ).fetchall()

    def keys(self, pks: list[int]) -> dict[int, str]:
        """The keys of these posts."""
        found: dict[int, str] = {}
        for start in range(0, len(pks), 500):
            batch = pks[start : start + 500]
            marks = ",".join("?" * len(batch))
            found.update(self.db.execute(f"SELECT pk, key FROM posts WHERE pk IN ({marks})", batch))
        return found
