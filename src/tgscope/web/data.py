"""The archive as the web app reads it: read-only, one SQLite connection per thread.

Nothing here writes: the SQLite file is opened with ``mode=ro`` and the search index with
:meth:`SearchIndex.read_only`, so a sync or an import may write to the same archive while it
is served; each request reads the latest committed state.  Aggregates that scan the whole
archive are cached until the archive's sequence number moves on.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from ..errors import StoreError
from ..record import Post
from ..search import SearchIndex
from ..store.provenance import SourceVersions
from ..store.reader import PostReader
from ..store.schema import SCHEMA_VERSION
from ..store.views import ArchiveViews

T = TypeVar("T")
_FRESH_FOR = 5.0  # seconds an aggregate is served while the archive is being written to


class Reader:
    """What one thread reads through: its connection's posts, views and provenance."""

    def __init__(self, db: sqlite3.Connection):
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
    """The archive at ``path``, opened for reading by many threads."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.index_path = self.path.with_name(self.path.name + ".index")
        self._local = threading.local()
        self._cache: dict[Any, tuple[int, float, Any]] = {}
        self._index: SearchIndex | None = None
        self._index_lock = threading.Lock()
        with self.read() as reader:  # fail now, with one line, if it cannot be read
            _check_schema(reader.db, self.path)

    @contextmanager
    def read(self) -> Iterator[Reader]:
        """This thread's reader, in one read transaction."""
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = Reader(_connect(self.path))
            self._local.reader = reader
        with reader.snapshot():
            yield reader

    @contextmanager
    def streaming(self) -> Iterator[Reader]:
        """A reader of its own, for a response streamed over many threads' turns."""
        db = _connect(self.path, shared=True)
        try:
            with Reader(db).snapshot() as reader:
                yield reader
        finally:
            db.close()

    @property
    def index(self) -> SearchIndex:
        """The search index, opened read-only on first use (StoreError when there is none)."""
        with self._index_lock:
            if self._index is None:
                self._index = SearchIndex.read_only(self.index_path)
            return self._index

    def cached(self, key: Any, reader: Reader, make: Callable[[], T]) -> T:
        """``make()``, or what it gave last time if the archive has not changed since (or
        changed less than a few seconds ago: a sync in progress does not make every
        request recompute the archive's aggregates)."""
        seq, now = reader.views.last_seq(), time.monotonic()
        found = self._cache.get(key)
        if found is not None:
            made_seq, made_at, value = found
            if made_seq == seq or now - made_at < _FRESH_FOR:
                return value
        value = make()
        self._cache[key] = (seq, now, value)
        if len(self._cache) > 512:  # charts per channel and time zone: keep it bounded
            self._cache.pop(next(iter(self._cache)))
        return value

    def load(self, reader: Reader, pks: list[int]) -> list[Post]:
        """Whole records, in the order of ``pks`` (those gone meanwhile left out)."""
        loaded = reader.posts.load(pks)
        return [loaded[pk] for pk in pks if pk in loaded]


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


def _check_schema(db: sqlite3.Connection, path: Path) -> None:
    try:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        db.execute("SELECT 1 FROM posts LIMIT 1").fetchall()
    except sqlite3.Error as error:
        raise StoreError(f"{path}: cannot read archive: {error}") from error
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"{path}: archive schema version {version}, this tgscope reads {SCHEMA_VERSION}"
            " (open it once with a command that writes, such as tgscope reindex)"
        )
