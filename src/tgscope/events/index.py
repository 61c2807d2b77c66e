"""The archive's ``events`` table, kept in step with the posts like the search index.

:meth:`EventIndex.catch_up` extracts the events of every post written since the last
write it holds (new posts, edited ones, posts merged into others), and all of them again
when the dictionaries or rules changed (:attr:`Lexicon.version`).  Posts without a date
(text dumps) get date bounds from their dated neighbours in the same file, in its order
(:func:`neighbour_bounds`), which a new neighbour can narrow: their channel's bounds are
computed again whenever it receives posts.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass

from ..store.events import EventFilter, EventTables
from .extract import extract_events
from .lexicon import Lexicon, load
from .model import Event
from .when import year_within

_COMMIT_EVERY = 5_000  # posts a transaction at most: a long first run keeps what it did
_COMMIT_SECONDS = 0.5  # … and at most about this long, so that other writers hardly wait
_BATCH = 100  # posts read from the store at once


@dataclass(frozen=True, slots=True)
class CatchUp:
    posts: int  # posts read
    events: int  # events written
    rebuilt: bool  # the dictionaries changed: every post was read again


class EventIndex:
    def __init__(self, tables: EventTables, lexicon: Lexicon | None = None):
        self.tables = tables
        self.lexicon = lexicon or load()

    def behind(self) -> bool:
        """Whether posts were written since the last catch-up (or the dictionaries changed)."""
        state = self.tables.state()
        if state.get("version") != self.lexicon.version:
            return True
        return self.tables.written_after(int(state.get("seq", 0)))

    def catch_up(self) -> CatchUp:
        """Extract the events of the posts written since the last catch-up, in short
        transactions (at most :data:`_COMMIT_EVERY` posts or :data:`_COMMIT_SECONDS`): other
        writers wait little, an interrupted run keeps what it did, and the next one goes on
        from there (``cursor``)."""
        posts = events = 0
        with self.tables.writing() as target:
            state = self.tables.state()  # read under the lock: no other run in between
            rebuilt = state.get("version") != self.lexicon.version
            if rebuilt:
                self.tables.clear()
                state = {}
            done = int(state.get("seq", 0))
            resuming = state.get("target") is not None
            cursor = int(state.get("cursor", 0)) if resuming else 0
            if resuming:
                target = int(state["target"])
            self.tables.drop_posts(self.tables.removed_since(done))
            pending = [pk for pk in self.tables.written_since(done, target) if pk > cursor]
            self.tables.forget_cursor()
            self.tables.save_state({"version": self.lexicon.version, "target": target})
        # resumed: the channels the stopped run wrote to are not known, so all are bounded
        channels: set[int] = set(self.tables.channel_pks()) if resuming else set()
        position = 0
        while position < len(pending):
            with self.tables.writing():
                started = time.monotonic()
                end = min(len(pending), position + _COMMIT_EVERY)
                while position < end and time.monotonic() - started < _COMMIT_SECONDS:
                    chunk = pending[position : min(end, position + _BATCH)]
                    self.tables.drop_posts(chunk)
                    for pk, key, text, day, channel_pk in self.tables.posts(chunk):
                        found = extract_events(key, text, day, self.lexicon)
                        self.tables.save(pk, found)
                        posts += 1
                        events += len(found)
                        if channel_pk is not None:  # it may be a neighbour in a dump
                            channels.add(channel_pk)
                    position += len(chunk)
                self.tables.save_state({"cursor": pending[position - 1]})
        with self.tables.writing():
            self._bound_undated(channels)
            self.tables.forget_cursor()
            self.tables.forget_target()
            self.tables.save_state({"seq": target, "version": self.lexicon.version})
        return CatchUp(posts, events, rebuilt)

    def finish_rebuild(self, target: int, channels: set[int], posts: int, events: int) -> CatchUp:
        """End a full pass whose events another process extracted (a Dask cluster's:
        :mod:`tgscope.analysis.dask_jobs`), inside its transaction: the undated posts of
        ``channels`` bounded, the state at ``target`` as :meth:`catch_up` leaves it."""
        self._bound_undated(channels)
        self.tables.forget_cursor()
        self.tables.forget_target()
        self.tables.save_state({"seq": target, "version": self.lexicon.version})
        return CatchUp(posts, events, rebuilt=True)

    def _bound_undated(self, channels: set[int]) -> None:
        """Twice: a day placed by the first pass ("January 9" between November and March:
        2023) bounds its own neighbours in the second."""
        for channel_pk in self.tables.channels_with_undated(channels):
            for timeline in self.tables.source_timelines(channel_pk):
                first = self._own_days([(pk, day) for pk, day, _ in timeline])
                self._bound(first)  # anchors: only the days the texts give
                self._bound(self._placed(timeline))

    def _placed(
        self, timeline: list[tuple[int, str | None, str | None]]
    ) -> list[tuple[int, str | None, str | None]]:
        """The timeline again, with the days the first pass placed."""
        placed = {pk: day for pk, day, _ in timeline}
        pks = [pk for pk, _, _ in timeline]
        return [(pk, placed[pk], text_day) for pk, _, text_day in self.tables.timeline_of(pks)]

    def _bound(self, timeline: list[tuple[int, str | None, str | None]]) -> None:
        for post_pk, low, high in neighbour_bounds(timeline):
            for event_pk, partial, own_min, own_max, modality in self.tables.undated_events(
                post_pk
            ):
                day, earliest, latest = _within(partial, (own_min, own_max), (low, high), modality)
                self.tables.set_dates(event_pk, day, earliest, latest)

    def _own_days(
        self, timeline: list[tuple[int, str | None]]
    ) -> list[tuple[int, str | None, str | None]]:
        """Each post with its date, or the exact day of a factual event its text gives."""
        own = []
        for post_pk, day in timeline:
            text_day = None
            if day is None:
                days = [
                    own_min
                    for _, partial, own_min, own_max, modality in self.tables.undated_events(
                        post_pk
                    )
                    if modality == "factual" and partial is None and own_min and own_min == own_max
                ]
                text_day = min(days) if days else None
            own.append((post_pk, day, text_day))
        return own

    def select(
        self, filters: EventFilter, *, limit: int | None = None, offset: int = 0
    ) -> Iterator[Event]:
        for data in self.tables.select(filters, limit=limit, offset=offset):
            yield Event.from_dict(data)


def neighbour_bounds(
    timeline: list[tuple[int, str | None, str | None]],
) -> Iterator[tuple[int, str | None, str | None]]:
    """For each post without a date, in archive order, ``(post_pk, low, high)``: when it was
    written, as far as its neighbours tell: between the days of its nearest dated neighbours
    before and after (a post's date, else an exact day its own text gives: a
    ``📍City, Month D, YYYY`` dateline); a post with a dateline of its own, that day.  Dumps
    may run oldest first or newest first; most pairs of consecutive known days tell which."""
    known = [known_day[:10] for _, day, text_day in timeline if (known_day := day or text_day)]
    rising = sum(1 for one, other in itertools.pairwise(known) if one < other)
    falling = sum(1 for one, other in itertools.pairwise(known) if one > other)
    ascending = rising >= falling
    previous: str | None = None
    after: dict[int, str | None] = {}
    following: str | None = None
    for index in range(len(timeline) - 1, -1, -1):
        after[index] = following
        _, day, text_day = timeline[index]
        if day or text_day:
            following = (day or text_day or "")[:10]
    for index, (post_pk, day, text_day) in enumerate(timeline):
        if day is None and text_day:
            yield post_pk, text_day[:10], text_day[:10]
        elif day is None:
            before, later = previous, after[index]
            low, high = (before, later) if ascending else (later, before)
            yield post_pk, low, high
        if day or text_day:
            previous = (day or text_day or "")[:10]


def _within(
    partial: str | None,
    own: tuple[str | None, str | None],
    written: tuple[str | None, str | None],
    modality: str = "factual",
) -> tuple[str | None, str | None, str | None]:
    """The day and bounds of an undated post's event: its own bounds (``own``: its
    officials' terms) narrowed by when the post was written (``written``, from its
    neighbours): news happened then, a memory before it was written, a plan after; a day
    without a year is placed in them when only one year fits."""
    own_min, own_max = own
    low, high = written
    if own_min is not None and own_min == own_max:
        return own_min, own_min, own_max  # the text gives the day
    if modality == "reported":
        low = None
    elif modality in ("future", "negated"):
        high = None
    first = max(filter(None, (own_min, low)), default=None)
    last = min(filter(None, (own_max, high)), default=None)
    if first and last and first > last:  # the neighbours contradict the text: keep the text's
        first, last = own_min, own_max
    if partial:
        month, day = (int(part) for part in partial.split("-"))
        exact = year_within(month, day, first, last)
        if exact:
            return exact, exact, exact
    return None, first, last
