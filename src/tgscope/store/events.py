"""The events tables (``events``, ``event_parties``, ``events_state``; schema version 10).

SQL only: what an event is and when the tables are brought up to date is
:mod:`tgscope.events.index`'s to say.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from .dbapi import Connection, dialect_of
from .derived import derived_write, read_state, save_state

_BATCH = 500


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events to list; every field narrows (None: any)."""

    channel: str | None = None
    since: str | None = None  # YYYY-MM-DD: events that may have happened on or after it
    until: str | None = None
    type: str | None = None
    actor: str | None = None  # a person's name (any part) or a state's alpha-3
    country: str | None = None  # alpha-3 of any party
    dyad: tuple[str, str] | None = None  # two states, both among the parties
    mode: str | None = None
    modality: str | None = None
    post: str | None = None  # one post's key


class EventTables:
    """Rows of the events tables, on the archive's connection."""

    def __init__(self, db: Connection):
        self.db = db
        self.dialect = dialect_of(db)

    def writing(self) -> AbstractContextManager[int]:
        """One write transaction, yielding the archive's last write (read under the lock)."""
        return derived_write(self.db)

    def state(self) -> dict[str, str]:
        return read_state(self.db, "events_state")

    def save_state(self, values: dict[str, Any]) -> None:
        save_state(self.db, "events_state", values)

    def forget_cursor(self) -> None:
        self.db.execute("DELETE FROM events_state WHERE name = 'cursor'")

    def forget_target(self) -> None:
        """Drop the target of a pass that has ended (the last write it was to reach)."""
        self.db.execute("DELETE FROM events_state WHERE name = 'target'")

    def clear(self) -> None:
        for table in ("event_parties", "events", "events_state"):
            self.db.execute(f"DELETE FROM {table}")

    # -- what changed ---------------------------------------------------------------------

    def removed_since(self, seq: int) -> list[int]:
        return [
            pk for (pk,) in self.db.execute("SELECT pk FROM removed_posts WHERE seq > ?", (seq,))
        ]

    def written_since(self, seq: int, upto: int | None = None) -> list[int]:
        """The posts written after ``seq`` (all of them for 0), by pk; only those up to
        ``upto`` when given (the last write :meth:`writing` gave: on PostgreSQL a later
        write may commit before an older one, so it waits for the next catch-up)."""
        bound, args = ("", ()) if upto is None else (" AND seq <= ?", (upto,))
        if seq == 0:
            where = " WHERE seq <= ?" if upto is not None else ""
            query = f"SELECT pk FROM posts{where} ORDER BY pk"
            return [pk for (pk,) in self.db.execute(query, args)]
        posts = self.dialect.indexed_by("posts", "posts_seq")
        rows = self.db.execute(f"SELECT pk FROM {posts} WHERE seq > ?{bound}", (seq, *args))
        return sorted(pk for (pk,) in rows)

    def written_after(self, seq: int) -> bool:
        """Whether a post was written or removed after ``seq`` (an import that changed
        nothing advances the archive's counter, not the posts')."""
        for table in (self.dialect.indexed_by("posts", "posts_seq"), "removed_posts"):
            if self.db.execute(f"SELECT 1 FROM {table} WHERE seq > ? LIMIT 1", (seq,)).fetchone():
                return True
        return False

    def posts(self, pks: list[int]) -> list[tuple[int, str, str, str | None, int | None]]:
        """``(pk, key, text, date, channel_pk)`` of these posts (not deleted ones), by pk."""
        found = []
        for part in _parts(pks):
            found += self.db.execute(
                "SELECT pk, key, text, date, channel_pk FROM posts"
                f" WHERE pk IN ({','.join('?' * len(part))})",
                part,
            ).fetchall()
        found.sort()
        return found

    # -- writing --------------------------------------------------------------------------

    def drop_posts(self, pks: Iterable[int]) -> None:
        for part in _parts(list(pks)):
            marks = ",".join("?" * len(part))
            self.db.execute(
                "DELETE FROM event_parties WHERE event_pk IN"
                f" (SELECT pk FROM events WHERE post_pk IN ({marks}))",
                part,
            )
            self.db.execute(f"DELETE FROM events WHERE post_pk IN ({marks})", part)

    def save(self, post_pk: int, events: list[Any]) -> None:
        """Write a post's events (:class:`tgscope.events.model.Event`, with its ``partial``)."""
        for position, event in enumerate(events):
            partial = f"{event.partial[0]:02d}-{event.partial[1]:02d}" if event.partial else None
            ((event_pk,),) = self.db.execute(
                "INSERT INTO events (post_pk, position, type, modality, mode, date, date_min,"
                " date_max, partial, own_min, own_max, occasion, place_country, record)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING pk",
                (
                    post_pk,
                    position,
                    event.type,
                    event.modality,
                    json.dumps(event.mode),
                    event.date,
                    event.date_min,
                    event.date_max,
                    partial,
                    event.date_min,
                    event.date_max,
                    event.occasion,
                    event.place["country"] if event.place else None,
                    _record(event),
                ),
            ).fetchall()
            rows = [
                (event_pk, side, party["name"], party["country"], party.get("org"))
                for side, parties in (("actor", event.actors), ("recipient", event.recipients))
                for party in parties
            ]
            self.db.executemany(
                "INSERT INTO event_parties (event_pk, side, name, country, org)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    # -- undated posts ----------------------------------------------------------------------

    def channel_pks(self) -> list[int]:
        return [pk for (pk,) in self.db.execute("SELECT pk FROM channels")]

    def channels_with_undated(self, channel_pks: Iterable[int | None]) -> list[int]:
        found = []
        for channel_pk in {pk for pk in channel_pks if pk is not None}:
            row = self.db.execute(
                "SELECT 1 FROM events JOIN posts ON posts.pk = events.post_pk"
                " WHERE posts.channel_pk = ? AND posts.date IS NULL LIMIT 1",
                (channel_pk,),
            ).fetchone()
            if row:
                found.append(channel_pk)
        return found

    def source_timelines(self, channel_pk: int) -> list[list[tuple[int, str | None, str | None]]]:
        """For each file that gave the channel posts without a date (a dump), the channel's
        posts of that file in the order they were imported: ``(post_pk, post date, the first
        day of a factual event it tells)``.  A dump's post has no date, but its dateline or
        resolved "January 9" has; posts of other files are not in its order."""
        sources = [
            source_pk
            for (source_pk,) in self.db.execute(
                "SELECT DISTINCT observations.source_pk FROM posts"
                " JOIN observations ON observations.post_pk = posts.pk"
                " WHERE posts.channel_pk = ? AND posts.date IS NULL",
                (channel_pk,),
            )
        ]
        return [
            list(
                self.db.execute(
                    "SELECT posts.pk, posts.date, (SELECT min(date) FROM events"
                    "  WHERE events.post_pk = posts.pk AND events.modality = 'factual')"
                    " FROM observations JOIN posts ON posts.pk = observations.post_pk"
                    " WHERE observations.source_pk = ? AND posts.channel_pk = ?"
                    " ORDER BY posts.pk",
                    (source_pk, channel_pk),
                )
            )
            for source_pk in sources
        ]

    def timeline_of(self, pks: list[int]) -> list[tuple[int, str | None, str | None]]:
        """``(post_pk, post date, the first day of a factual event it tells)``, by pk."""
        found = []
        for part in _parts(pks):
            found += self.db.execute(
                "SELECT posts.pk, posts.date, (SELECT min(date) FROM events"
                "  WHERE events.post_pk = posts.pk AND events.modality = 'factual')"
                f" FROM posts WHERE posts.pk IN ({','.join('?' * len(part))})",
                part,
            ).fetchall()
        found.sort()
        return found

    def undated_events(
        self, post_pk: int
    ) -> list[tuple[int, str | None, str | None, str | None, str]]:
        """``(pk, partial, own_min, own_max, modality)`` of a post's events."""
        return list(
            self.db.execute(
                "SELECT pk, partial, own_min, own_max, modality FROM events WHERE post_pk = ?",
                (post_pk,),
            )
        )

    def set_dates(self, event_pk: int, day: str | None, low: str | None, high: str | None) -> None:
        (record,) = self.db.execute(
            "SELECT record FROM events WHERE pk = ?", (event_pk,)
        ).fetchone()
        data = json.loads(record)
        data["date"], data["date_min"], data["date_max"] = day, low, high
        self.db.execute(
            "UPDATE events SET date = ?, date_min = ?, date_max = ?, record = ? WHERE pk = ?",
            (day, low, high, json.dumps(data, ensure_ascii=False), event_pk),
        )

    # -- reading --------------------------------------------------------------------------

    def select(
        self, filters: EventFilter, *, limit: int | None = None, offset: int = 0
    ) -> Iterator[dict[str, Any]]:
        """The events as record dicts, by date (undated last), then post and position."""
        sql, args = _query(filters, like_ci=self.dialect.like_ci)
        known = "coalesce(events.date, events.date_max, events.date_min)"
        sql += f" ORDER BY {known} IS NULL, {known}, events.post_pk, events.position"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        for key, record in self.db.execute(sql, args):
            yield {"post": key, **json.loads(record)}

    def count(self, filters: EventFilter) -> int:
        sql, args = _query(filters, columns="count(*)", like_ci=self.dialect.like_ci)
        return self.db.execute(sql, args).fetchone()[0]


def _record(event: Any) -> str:
    data = event.to_dict()
    del data["post"]  # the key is the post's: a merged post's events follow it
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _query(
    filters: EventFilter, columns: str = "posts.key, events.record", *, like_ci: str
) -> tuple[str, list[Any]]:
    sql = f"SELECT {columns} FROM events JOIN posts ON posts.pk = events.post_pk"
    where: list[str] = []
    args: list[Any] = []
    if filters.channel:
        sql += " JOIN channels ON channels.pk = posts.channel_pk"
        where.append("lower(channels.username) = lower(?)")  # ASCII only, as NOCASE
        args.append(filters.channel.lstrip("@"))
    if filters.post:
        where.append("posts.key = ?")
        args.append(filters.post)
    if filters.type:
        where.append("events.type = ?")
        args.append(filters.type.upper())
    if filters.modality:
        where.append("events.modality = ?")
        args.append(filters.modality)
    if filters.mode:
        where.append("events.mode LIKE ?")
        args.append(f'%"{filters.mode}"%')
    if filters.since:
        where.append("coalesce(events.date, events.date_max, '9999') >= ?")  # may have been
        args.append(filters.since)
    if filters.until:
        where.append("coalesce(events.date, events.date_min, '0000') <= ?")
        args.append(filters.until)
    for country in (filters.country, *(filters.dyad or ())):
        if country:
            where.append(
                "events.pk IN (SELECT event_pk FROM event_parties WHERE country = ? OR org = ?)"
            )
            args += [country.upper(), country.upper()]
    if filters.actor:
        where.append(
            "events.pk IN (SELECT event_pk FROM event_parties WHERE side = 'actor' AND"
            f" (name {like_ci} ? ESCAPE '\\' OR country = ? OR org = ?))"
        )
        literal = re.sub(r"([\\%_])", r"\\\1", filters.actor)  # a name, not a pattern
        args += [f"%{literal}%", filters.actor.upper(), filters.actor.upper()]
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql, args


def _parts(items: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]
