"""The archive: the store of record plus its search index, and the jobs run on them.

:class:`Archive` is the public Python API the CLI is a thin layer over::

    with Archive.open("tgscope.db") as archive:
        report = archive.import_paths(["dump.txt"], channel="mfarussia")
        for result in archive.search("Лавров", limit=5).results:
            print(result.post.key, result.snippet)
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from .clean import normalize_channel
from .errors import OptionError, ParseError, SourceError, StoreError, TgscopeError
from .record import Channel, Post
from .search import IndexBusy, SearchIndex
from .sources import SOURCES, ReadContext, detect_format
from .store import PostFilter, SourceInfo, Stats, Store
from .store.sqlite import SQLiteStore

DEFAULT_DB = "tgscope.db"
_BATCH = 1000
_HASH_CHUNK = 1 << 20
_READ_CHUNK = 1 << 20

Progress = Callable[[int], None]  # called with the number of bytes just read


@dataclass(slots=True)
class FileReport:
    """What importing one file did."""

    path: str
    format: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    channels: int = 0
    merged: int = 0  # copies without ids (text dumps) merged into posts with ids
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # why the file was not imported (then nothing of it was)

    @property
    def posts(self) -> int:
        return self.added + self.updated + self.unchanged

    def summary(self) -> str:
        if self.error:
            return self.error
        merged = f"; {self.merged} copies without ids merged into posts" if self.merged else ""
        return (
            f"{self.path} ({self.format}): {self.posts} post(s): {self.added} added, "
            f"{self.updated} updated, {self.unchanged} unchanged{merged}"
        )


@dataclass(slots=True)
class ImportReport:
    files: list[FileReport] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(report, name) for report in self.files)

    @property
    def failures(self) -> list[FileReport]:
        return [report for report in self.files if report.error]

    def summary(self) -> str:
        failed = f", {len(self.failures)} file(s) failed" if self.failures else ""
        return (
            f"{len(self.files)} file(s), {self.total('posts')} post(s): "
            f"{self.total('added')} added, {self.total('updated')} updated, "
            f"{self.total('unchanged')} unchanged{failed}"
        )


@dataclass(frozen=True, slots=True)
class SearchResult:
    post: Post
    score: float | None
    snippet: str  # HTML with <b> around matched words


@dataclass(frozen=True, slots=True)
class SearchResults:
    total: int
    results: list[SearchResult]
    undated_left_out: int = 0  # posts without a date that a date filter could not match


class Archive:
    """A tgscope archive: ``<db>`` (SQLite, the record) and ``<db>.index/`` (search)."""

    def __init__(self, store: Store, path: Path):
        self.store = store
        self.path = path
        self.index_path = path.with_name(path.name + ".index")
        self._index: SearchIndex | None = None

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *, create: bool = True) -> Archive:
        """Open the archive at ``path``, ``$TGSCOPE_DB`` or ./tgscope.db.

        A new archive is created unless ``create`` is false (commands that only read).
        """
        db = Path(path or os.environ.get("TGSCOPE_DB") or DEFAULT_DB)
        if db.is_dir():
            raise StoreError(f"{db}: is a directory, not an archive file")
        if not create and not db.exists():
            raise StoreError(f"{db}: no archive here yet (create one with tgscope import)")
        return cls(SQLiteStore(db), db)

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._index is not None:
            self._index.rollback()
        self.store.close()

    @property
    def index(self) -> SearchIndex:
        """The search index, brought up to date with the store (for writing)."""
        index = self._open_index()
        index.catch_up(self.store)
        return index

    def _open_index(self) -> SearchIndex:
        if self._index is None:
            self._index = SearchIndex(self.index_path)
        return self._index

    def _index_for_reading(self) -> SearchIndex:
        """The search index; while another process writes to it, what it holds so far."""
        index = self._open_index()
        with contextlib.suppress(IndexBusy):
            index.catch_up(self.store)
        return index

    # -- importing ------------------------------------------------------------------------

    def import_paths(
        self,
        paths: list[str | os.PathLike],
        *,
        format: str | None = None,
        channel: str | None = None,
        progress: Progress | None = None,
        on_file: Callable[[FileReport], None] | None = None,
        options: dict[str, object] | None = None,
    ) -> ImportReport:
        """Import files (folders: every file inside, in name order), each in its own transaction.

        A file that fails is rolled back and recorded in ``report.failures``; the others are
        still imported.  ``on_file`` is called with each file's report as it completes.
        ``options`` are format-specific: ``timezone`` (Desktop exports without UTC times),
        ``chat`` (one chat of a whole-account export), ``mapping`` (CSV/JSONL columns).
        """
        try:
            channel = normalize_channel(channel)
        except ValueError as error:
            raise OptionError(f"--channel: {error}") from error
        report = ImportReport()
        for raw in paths:
            try:
                files = expand_path(raw)
            except SourceError as error:
                files, failed = [], FileReport(str(raw), format or "?", error=str(error))
                report.files.append(failed)
                if on_file:
                    on_file(failed)
            for path in files:
                try:
                    done = self.import_file(
                        path, format=format, channel=channel, progress=progress, options=options
                    )
                except SourceError as error:
                    done = FileReport(str(path), format or "?", error=str(error))
                report.files.append(done)
                if on_file:
                    on_file(done)
        return report

    def import_file(
        self,
        path: str | os.PathLike,
        *,
        format: str | None = None,
        channel: str | None = None,
        progress: Progress | None = None,
        options: dict[str, object] | None = None,
    ) -> FileReport:
        """Import one file whole or not at all; importing it again changes nothing."""
        path = Path(path)
        head, digest, observed_at = _inspect(path)
        name = format or detect_format(head, path=str(path))
        if name not in SOURCES:
            raise SourceError(f"{path}: unknown format {name!r} (known: {', '.join(SOURCES)})")
        report = FileReport(str(path), name)
        source = SourceInfo(name, str(path.resolve()), digest, observed_at)
        context = ReadContext(
            path=str(path),
            text=lambda: _read_text(path, progress),
            binary=lambda: _open_binary(path, progress),
            warn=report.warnings.append,
            channel=channel,
            known_channel=self.store.find_channel,
            options=options or {},
        )
        return self.ingest(SOURCES[name](context), source, report)

    def ingest(
        self,
        items: Iterable[Post | Channel],
        source: SourceInfo,
        report: FileReport | None = None,
        *,
        before_commit: Callable[[Store], None] | None = None,
    ) -> FileReport:
        """Save what one source gave, in one transaction, and index it.

        Every source ends here, so the same path handles files, pages and API results.
        ``before_commit`` writes more in the same transaction (a collector's cursor, say).
        """
        report = report or FileReport(source.ref, source.kind)
        index = self._open_index()
        try:
            with self.store.transaction() as seq:
                # under the archive's write lock, so no other writer commits in between
                index.catch_up(self.store)
                source_pk = self.store.add_source(source)
                for batch in _batches(items, _BATCH):
                    self._save_batch(batch, source_pk, report, index)
                if before_commit is not None:
                    before_commit(self.store)
            index.commit(seq)
        except BaseException:
            index.rollback()
            raise
        return report

    def _save_batch(
        self, batch: list[Post | Channel], source_pk: int, report: FileReport, index: SearchIndex
    ) -> None:
        posts = [item for item in batch if isinstance(item, Post)]
        for item in batch:
            if isinstance(item, Channel) and item.username:
                self.store.save_channel(item)
                report.channels += 1
        result = self.store.save_posts(posts, source_pk)
        report.added += result.added
        report.updated += result.updated
        report.unchanged += result.unchanged
        report.merged += result.merged
        index.stage(result.changed)

    # -- reading --------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        channel: str | None = None,
        since: str | None = None,
        until: str | None = None,
        hashtag: str | None = None,
        limit: int = 10,
        order: str = "relevance",
    ) -> SearchResults:
        """Posts matching ``query`` (any word form, English and Russian) and the filters."""
        filters = PostFilter(channel=channel, since=since, until=until, hashtag=hashtag)
        hits = self._index_for_reading().search(query, filters, limit=limit, order=order)
        posts = self.store.load_posts([hit.pk for hit in hits.hits])
        results = [
            SearchResult(posts[hit.pk], hit.score, hit.snippet)
            for hit in hits.hits
            if hit.pk in posts
        ]
        undated = 0
        if (since or until) and len(results) < limit:
            undated = self.store.count_undated(filters)
        return SearchResults(hits.total, results, undated)

    def get(self, key: str) -> Post | None:
        return self.store.get_post(key)

    def provenance(self, key: str) -> list[dict]:
        """Who said what about a post: per kind of source, its observations (``kind``,
        ``ref``, ``observed_at``), its own version of the post and the fields it gave."""
        return self.store.provenance(key)

    def posts(
        self, filters: PostFilter | None = None, *, query: str | None = None
    ) -> Iterator[Post]:
        """Posts in archive order (by date); with ``query``, only those the search finds."""
        filters = filters or PostFilter()
        only = self._index_for_reading().matching_pks(query, filters) if query else None
        return self.store.iter_posts(filters, only)

    def stats(self, filters: PostFilter | None = None) -> Stats:
        return self.store.stats(filters or PostFilter())

    def reindex(self) -> int:
        """Rebuild the search index from the archive; return the number of posts indexed."""
        return self._open_index().catch_up(self.store, rebuild=True)


def expand_path(raw: str | os.PathLike) -> list[Path]:
    """A file as given, or the files inside a folder (not hidden ones), by name."""
    path = Path(raw)
    if not path.is_dir():
        return [path]
    inside = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not inside:
        raise SourceError(f"{path}: folder has no files to import")
    return inside


def _inspect(path: Path) -> tuple[bytes, str, str]:
    """The file's first bytes, SHA-256 and modification time; clear errors when unreadable."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
            digest.update(head)
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
            modified = os.fstat(handle.fileno()).st_mtime
    except FileNotFoundError as error:
        raise SourceError(f"{path}: no such file") from error
    except IsADirectoryError as error:
        raise SourceError(f"{path}: is a directory") from error
    except OSError as error:
        raise SourceError(f"{path}: cannot read: {error.strerror or error}") from error
    if not head.strip():
        raise ParseError("file is empty", path=str(path))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ParseError("UTF-16 text: save it as UTF-8 and import it again", path=str(path))
    if b"\x00" in head:
        raise ParseError("binary data, not a text file", path=str(path))
    observed = datetime.fromtimestamp(modified, UTC).isoformat(timespec="seconds")
    return head, digest.hexdigest(), observed


def _read_text(path: Path, progress: Progress | None) -> Iterator[str]:
    """Decode the file in large chunks of whole lines, naming the line of any bad byte."""
    carry, offset = b"", 0  # offset: where ``data`` starts in the file
    with path.open("rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            if progress:
                progress(len(chunk))
            data = carry + chunk
            cut = data.rfind(b"\n") + 1 if len(chunk) == _READ_CHUNK else len(data)
            data, carry = data[:cut], data[cut:]
            yield _decode(data, path, offset)
            offset += len(data)
    if carry:
        yield _decode(carry, path, offset)


@contextlib.contextmanager
def _open_binary(path: Path, progress: Progress | None) -> Iterator[BinaryIO]:
    """The file's bytes; every read is counted towards the progress display."""
    with path.open("rb") as handle:
        yield _CountingReader(handle, progress) if progress else handle  # type: ignore[misc]


class _CountingReader(io.RawIOBase):
    """A binary file that reports how many bytes each read took (for progress bars)."""

    def __init__(self, handle: BinaryIO, progress: Progress):
        self.handle, self.progress = handle, progress

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.progress(len(data))
        return data

    def readinto(self, buffer) -> int:  # type: ignore[override]
        count = self.handle.readinto(buffer)
        self.progress(count or 0)
        return count or 0

    def tell(self) -> int:
        return self.handle.tell()


def _decode(data: bytes, path: Path, offset: int) -> str:
    """``data`` as text; a ParseError naming the line and column of a NUL or non-UTF-8 byte."""
    bad = data.find(b"\x00")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        bad, reason = error.start, "not UTF-8 text"
    else:
        if bad < 0:
            return text.removeprefix("\ufeff") if offset == 0 else text
        reason = "binary data (NUL byte)"
    line_start = data.rfind(b"\n", 0, bad) + 1
    column = len(data[line_start:bad].decode("utf-8", "replace")) + 1
    raise ParseError(
        f"{reason} (byte 0x{data[bad]:02x} at column {column})",
        path=str(path),
        line=_line_number(path, offset + bad),
    )


def _line_number(path: Path, position: int) -> int:
    """The line holding byte ``position`` of the file (counted only when reporting an error)."""
    lines = 1
    with path.open("rb") as handle:
        while position > 0 and (chunk := handle.read(min(_READ_CHUNK, position))):
            lines += chunk.count(b"\n")
            position -= len(chunk)
    return lines


def _batches(items, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


__all__ = [
    "Archive",
    "FileReport",
    "ImportReport",
    "SearchResult",
    "SearchResults",
    "TgscopeError",
]
