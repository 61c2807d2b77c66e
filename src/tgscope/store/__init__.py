"""The archive's storage layer behind a small interface.

The archive, the search index and the collectors talk to a :class:`Store`;
:class:`~tgscope.store.sqlite.SQLiteStore` is the default (a plain SQLite file, the archive of
record), composed of one small helper per family of tables;
:class:`~tgscope.store.postgres.PostgresStore` keeps an archive in PostgreSQL, for many
collectors at once, behind the same protocol.  The store reads each
source's merge rank (``MERGE_RANK`` in its module) but never its parsers; sources never
import the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol

from ..record import MEDIA_TYPES, Channel, Post, Reaction

if TYPE_CHECKING:
    from ..search.query import Hits
    from .dbapi import Connection


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """One input that was read: its kind (``textdump``, ``web``…), file or URL, and digest."""

    kind: str
    ref: str
    sha256: str
    observed_at: str


@dataclass(frozen=True, slots=True)
class PostFilter:
    """Which posts an export, a listing or stats should cover.  ``None`` means any.

    Channel and hashtag are normalised here, once, for every backend and the index:
    ``@MFARussia`` → ``mfarussia``, ``#РоссияКитай`` → ``россиякитай`` (case-folded).
    """

    channel: str | None = None
    since: str | None = None  # ISO date or datetime, inclusive
    until: str | None = None  # ISO date or datetime, inclusive of that whole day when a date
    hashtag: str | None = None
    media: str | None = None  # a media type (record.MEDIA_TYPES), "any" or "none"
    forwarded: bool | None = None  # True: forwarded posts only; False: none of them

    def __post_init__(self) -> None:
        if self.channel:
            object.__setattr__(self, "channel", self.channel.strip().lstrip("@").lower())
        if self.hashtag:
            object.__setattr__(self, "hashtag", fold_hashtag(self.hashtag.strip().lstrip("#")))
        if self.media is not None:
            media = self.media.strip().lower()
            if media not in MEDIA_FILTERS:
                raise ValueError(f"media: {self.media!r} is not one of {', '.join(MEDIA_FILTERS)}")
            object.__setattr__(self, "media", media)


MEDIA_FILTERS = (*MEDIA_TYPES, "any", "none")


def fold_hashtag(tag: str) -> str:
    """The form hashtags are matched in, whatever their case (``RussiaChina`` = ``russiachina``)."""
    return tag.casefold()


class SyncState(NamedTuple):
    """Where one collector's walk of one channel stands."""

    newest_id: int | None  # the newest post archived: a walk from the top stops there
    cursor: int | None  # an interrupted walk goes on from ?before=cursor ...
    target: int | None  # ... down to this post (None: the channel's first post)
    # history left for later, newest first: (cursor, target, date) walks from ?before=cursor
    # down to post target; date: every post below the cursor is older (None: not known)
    held: tuple[tuple[int, int | None, str | None], ...]


class IndexDoc(NamedTuple):
    """What the search index holds for one post (a tuple: one is made per post imported)."""

    pk: int
    text: str
    channel: str | None
    date: str | None
    hashtags: list[str]
    new: bool = False  # True when the index cannot hold an older version of this post
    gone: bool = False  # True for a post removed (merged into another): only deleted
    media: tuple[str, ...] = ()  # the types of its media
    forwarded: bool = False


@dataclass(slots=True)
class SaveResult:
    """What saving a batch did: counts, and the posts to (re)index: added or updated ones."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0  # posts without ids found to be posts already archived, and merged
    changed: list[IndexDoc] = field(default_factory=list)


@dataclass(slots=True)
class Stats:
    posts: int
    channels: list[tuple[str | None, str | None, int]]  # username, title, posts
    first_date: str | None
    last_date: str | None
    undated: int
    top_hashtags: list[tuple[str, int]]
    reactions: list[tuple[str, int]]  # record.reaction_label (emoji, ⭐, custom:<id>), total
    sources: int


@dataclass(frozen=True, slots=True)
class Observation:
    """What one source showed of a post when it saw it: the counts that change over time.

    ``None`` (or no reactions) where that source did not say; a tgscope export restores its
    listed observations with the counts on the newest one only.
    """

    observed_at: str
    kind: str  # the kind of source (web, api, desktop-json, ...)
    ref: str  # its file, page or channel
    views: int | None
    forwards: int | None
    replies: int | None
    reactions: list[Reaction]


class TextSearch(Protocol):
    """What the archive asks of a full-text search, whichever engine holds the words: the
    tantivy index (:class:`~tgscope.search.index.SearchIndex`) or the store's own
    (:class:`~tgscope.search.pg.PgTextSearch`)."""

    def search(
        self, query: str, filters: PostFilter, *, limit: int = 10, order: str = "relevance",
        offset: int = 0,
    ) -> Hits: ...  # fmt: skip

    def channel_counts(
        self, query: str, filters: PostFilter, *, size: int = 50
    ) -> dict[str, int]: ...

    def matching_pks(self, query: str, filters: PostFilter) -> set[int]: ...


class StoreSearch(TextSearch, Protocol):
    """The search a store keeps itself, which it can also write again whole."""

    def rebuild(self, store: Store) -> int:
        """Write every post's words again; returns how many posts."""


class Store(Protocol):
    """What the archive needs from a storage backend."""

    #: the schema version the archive had when it was opened (0: it was created then)
    migrated_from: int

    def text_search(self) -> StoreSearch | None:
        """The search the store does itself; None: a tantivy index beside the archive does."""

    def another_connection(self) -> Connection:
        """A connection of its own to the same archive, for short transactions beside the
        store's (a worker's queue and politeness budget)."""

    def transaction(self) -> AbstractContextManager[int]:
        """All writes inside happen at once or not at all; yields the write's sequence number."""

    def add_source(self, source: SourceInfo) -> int: ...

    def save_channel(self, channel: Channel) -> None: ...

    def save_posts(self, posts: list[Post], source_pk: int) -> SaveResult: ...

    def get_post(self, key: str) -> Post | None: ...

    def load_posts(self, pks: list[int]) -> dict[int, Post]: ...

    def iter_posts(self, filters: PostFilter, only: set[int] | None = None) -> Iterator[Post]: ...

    def iter_index_docs(self, after_seq: int, upto: int | None = None) -> Iterable[IndexDoc]:
        """The posts written after ``after_seq`` and up to ``upto`` (None: the last write),
        the removed ones first."""

    def last_seq(self) -> int: ...

    def archive_id(self) -> str: ...

    def count_sources(self, ref: str | None = None, since: str = "") -> int:
        """How many sources the archive records (those of ``ref`` imported at ``since`` or
        later, when given)."""

    def count_undated(self, filters: PostFilter) -> int: ...

    def save_raw_page(self, url: str, fetched_at: str, sha256: str, content: bytes) -> None: ...

    def mark_missing(
        self, channel: str, low: int, high: int, shown: set[int], when: str
    ) -> list[int]: ...

    def find_channel(self, telegram_id: int | None, title: str | None) -> str | None: ...

    def provenance(self, key: str) -> list[dict]: ...

    def history(self, key: str) -> list[Observation]:
        """Every observation of the post, oldest first (empty: no such post)."""

    def sync_state(self, channel: str, kind: str = "web") -> SyncState:
        """Where the ``kind`` collector (``web`` or ``api``) stands with ``channel``."""

    def deletion_dates(self, channel: str, ranges: Iterable[tuple[int, int]]) -> dict[int, str]:
        """Archived posts of ``channel`` marked deleted in these id ranges, and since when."""

    def save_sync_state(self, channel: str, state: SyncState, kind: str = "web") -> None: ...

    def stats(self, filters: PostFilter) -> Stats: ...

    def close(self) -> None: ...
