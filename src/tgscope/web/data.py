"""The archive as the web app reads it: read-only, one connection per thread.

Nothing here writes: the SQLite file is opened with ``mode=ro`` and the search index with
:meth:`SearchIndex.read_only` (an archive in PostgreSQL is read in read-only transactions, and
searched through its own ``post_words``), so a sync or an import may write to the same
archive while it is served; each request reads the latest committed state.  Aggregates that
scan the whole archive are cached, and made again in the background when the archive's
sequence number moves on.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import StoreError
from ..record import Post
from ..search import SearchIndex
from ..store import TextSearch
from ..store.dbapi import Connection
from ..store.pgdb import is_url, redacted
from ..store.provenance import SourceVersions
from ..store.reader import PostReader
from ..store.schema import SCHEMA_VERSION
from ..store.views import ArchiveViews

if TYPE_CHECKING:
    from ..media.files import MediaStore
    from ..search.pg import PgTextSearch
    from ..search.query import Hits
    from ..store import PostFilter
    from ..store.pgdb import PgPool

T = TypeVar("T")
_CACHED = 512  # values kept, least recently used dropped first (the overview's never)
log = logging.getLogger("tgscope.web")


class Reader:
    """What one thread reads through: its connection's posts, views and provenance."""

    def __init__(self, db: Connection):
        self.db = db
        self.posts = PostReader(db)
        self.views = ArchiveViews(db)
        self.versions = SourceVersions(db, self.posts)

    @contextmanager
    def snapshot(self) -> Iterator[Reader]:
        """One read transaction: every query of a page sees the same state of the file."""
        with self.posts.snapshot():
            yield self


class WebArchive:
    """The archive at ``path`` (a file or a ``postgresql://`` URL), read by many threads."""

    def __init__(self, path: str | os.PathLike):
        target = os.fspath(path)
        #: the archive's file; None for an archive in PostgreSQL (``url`` then)
        self.path = None if is_url(target) else Path(target)
        self.url = target if self.path is None else None
        self.location = str(self.path) if self.path is not None else redacted(target)
        kept = os.environ.get("TGSCOPE_INDEX")  # a tantivy index kept beside PostgreSQL's
        self.index_path = (
            self.path.with_name(self.path.name + ".index")
            if self.path is not None
            else (Path(kept) if kept else None)
        )
        self._local = threading.local()
        self._cache: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()  # key: (seq, value)
        self._locks: dict[Hashable, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._refreshing: set[Hashable] = set()
        self._refresher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tgscope-cache")
        self._index: SearchIndex | None = None
        self._index_lock = threading.Lock()
        #: an archive in PostgreSQL is read through a pool of read-only connections
        self._pool: PgPool | None = None
        if self.url is not None:
            from ..store.pgdb import PgPool

            self._pool = PgPool(self.url, read_only=True)
        with self.read() as reader:  # fail now, with one line, if it cannot be read
            _check_schema(reader.db, self.location)

    @property
    def name(self) -> str:
        """The archive's short name (its file's, or its database's), for titles."""
        if self.path is not None:
            return self.path.name
        return self.location.rsplit("/", 1)[-1].split("?", 1)[0]

    def media_files(self) -> MediaStore:
        """The folder of the media files (:meth:`MediaStore.of_archive`)."""
        from ..media.files import MediaStore

        return MediaStore.of_archive(self.path, self.location)

    @contextmanager
    def read(self) -> Iterator[Reader]:
        """A reader in one read transaction: this thread's own on a file, a pooled
        connection's on PostgreSQL (given back at the end of the block)."""
        if self._pool is not None:
            with self._pool.connection() as db, Reader(db).snapshot() as pooled:
                yield pooled
            return
        reader = getattr(self._local, "reader", None)
        if reader is None:
            assert self.path is not None
            reader = Reader(_connect(self.path))
            self._local.reader = reader
        with reader.snapshot():
            yield reader

    def close(self) -> None:
        """Stop the background thread, and a PostgreSQL archive's pool (a file's connections
        close with their threads)."""
        self._refresher.shutdown(wait=False, cancel_futures=True)
        if self._pool is not None:
            self._pool.close()

    def warm_up(self) -> None:
        """Make the overview's aggregates in the background, before anyone asks for them."""

        def make() -> None:
            try:
                with self.read() as reader:
                    for key, query in OVERVIEW.items():
                        self.cached(key, reader, query)
            except Exception:  # the first request makes them instead
                log.exception("warming up")

        self._refresher.submit(make)

    @contextmanager
    def streaming(self) -> Iterator[Reader]:
        """A reader of its own, for a response streamed over many threads' turns."""
        if self._pool is not None:
            with self.read() as reader:  # a pooled connection, held until the stream ends
                yield reader
            return
        assert self.path is not None
        db = _connect(self.path, shared=True)
        try:
            with Reader(db).snapshot() as reader:
                yield reader
        finally:
            db.close()

    @property
    def index(self) -> SearchIndex | TextSearch:
        """The search index, opened read-only on first use (StoreError when there is none);
        for an archive in PostgreSQL, its own search, each call on a pooled connection."""
        if self._pool is not None and self.index_path is None:
            return PooledSearch(self._pool)
        assert self.index_path is not None
        with self._index_lock:
            if self._index is None:
                self._index = SearchIndex.read_only(self.index_path)
            else:
                self._index.refresh()
            return self._index

    def cached(self, key: Hashable, reader: Reader, make: Callable[[ArchiveViews], T]) -> T:
        """``make(views)``, or what it gave before while the archive has not changed since.

        After a write the old value is still served, at once, while a background thread
        makes the new one (the overview's aggregates take seconds on a million posts: a
        sync in progress must not make every request wait for them).  Only the first
        request for a key waits, and concurrent first requests compute it once."""
        seq = reader.views.last_seq()
        entry = self._recall(key)
        if entry is not None:
            if entry[0] != seq:
                self._refresh_later(key, make)
            return entry[1]
        lock = self._lock_for(key)
        try:
            with lock:
                entry = self._recall(key)
                if entry is None:
                    entry = (seq, make(reader.views))
                    if entry[1] is not None:  # a miss (an unknown channel) is asked again
                        self._store(key, entry)
        finally:
            with self._locks_lock:  # waiters hold the lock object; the next miss makes anew
                if self._locks.get(key) is lock:
                    del self._locks[key]
        return entry[1]

    def _lock_for(self, key: Hashable) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(key, threading.Lock())

    def _recall(self, key: Hashable) -> tuple[int, Any] | None:
        with self._locks_lock:
            entry = self._cache.get(key)
            if entry is not None:
                self._cache.move_to_end(key)  # least recently used goes first
            return entry

    def _store(self, key: Hashable, entry: tuple[int, Any]) -> None:
        with self._locks_lock:
            self._cache[key] = entry
            self._cache.move_to_end(key)
            while len(self._cache) > _CACHED:  # charts per channel, hashtags, searches...
                oldest = next(key for key in self._cache if key not in OVERVIEW)
                del self._cache[oldest]

    def _refresh_later(self, key: Hashable, make: Callable[[ArchiveViews], Any]) -> None:
        with self._locks_lock:
            if key in self._refreshing:
                return
            self._refreshing.add(key)

        def refresh() -> None:
            try:
                with self.read() as reader:
                    self._store(key, (reader.views.last_seq(), make(reader.views)))
            except Exception:  # the stale value stays; the next request tries again
                log.exception("refreshing %r", key)
            finally:
                with self._locks_lock:
                    self._refreshing.discard(key)

        self._refresher.submit(refresh)

    def reply_quotes(self, reader: Reader, posts: Iterable[Post]) -> dict[str, str]:
        """The start of the posts these reply to, by key (those the archive holds)."""
        keys = set()
        for post in posts:
            if post.reply_to is None or post.reply_to.get("id") is None:
                continue
            channel = post.reply_to.get("channel") or post.channel
            if channel:
                keys.add(f"{channel}/{post.reply_to['id']}")
        return reader.views.excerpts(keys) if keys else {}

    def load(self, reader: Reader, pks: list[int]) -> list[Post]:
        """Whole records, in the order of ``pks`` (those gone meanwhile left out)."""
        loaded = reader.posts.load(pks)
        return [loaded[pk] for pk in pks if pk in loaded]


#: the overview's aggregates: made at start, kept up to date in the background
OVERVIEW: dict[Hashable, Callable[[ArchiveViews], Any]] = {
    "channels": ArchiveViews.channel_rows,
    "totals": ArchiveViews.totals,
    "weekly": lambda views: views.weekly_posts(),
    ("engagement", "UTC"): lambda views: _reach(views),
}


def _reach(views: ArchiveViews) -> dict[str, dict]:
    from .channels import reach_by_channel

    return reach_by_channel(views, "UTC")


def _connect(path: Path, *, shared: bool = False) -> sqlite3.Connection:
    """A read-only connection; ``shared``: used by several threads, one at a time."""
    try:
        db = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro",
            uri=True,
            timeout=5,
            isolation_level=None,
            check_same_thread=not shared,
        )
        db.execute("PRAGMA query_only = ON")
        db.execute("PRAGMA cache_size = -32768")
    except sqlite3.Error as error:
        raise StoreError(f"{path}: cannot open archive for reading: {error}") from error
    return db


class PooledSearch:
    """PostgreSQL's own search (:class:`~tgscope.search.pg.PgTextSearch`), each call on a
    connection of the pool, given back when it returns."""

    def __init__(self, pool: PgPool):
        self.pool = pool

    def search(self, query: str, filters: PostFilter, **options: Any) -> Hits:
        with self.pool.connection() as db:
            return _searcher(db).search(query, filters, **options)

    def channel_counts(self, query: str, filters: PostFilter, *, size: int = 50) -> dict[str, int]:
        with self.pool.connection() as db:
            return _searcher(db).channel_counts(query, filters, size=size)

    def matching_pks(self, query: str, filters: PostFilter) -> set[int]:
        with self.pool.connection() as db:
            return _searcher(db).matching_pks(query, filters)


def _searcher(db: Connection) -> PgTextSearch:
    from ..search.pg import PgTextSearch

    return PgTextSearch(db)


def _check_schema(db: Connection, path: str) -> None:
    try:
        if isinstance(db, sqlite3.Connection):
            (version,) = db.execute("PRAGMA user_version").fetchone()
        else:
            row = db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
        db.execute("SELECT 1 FROM posts LIMIT 1").fetchall()
    except sqlite3.Error as error:
        raise StoreError(f"{path}: cannot read archive: {error}") from error
    except StoreError as error:  # PostgreSQL's: it names the database already
        raise StoreError(f"cannot read archive: {error}") from error
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"{path}: archive schema version {version}, this tgscope reads {SCHEMA_VERSION}"
            " (open it once with a command that writes, such as tgscope reindex)"
        )
