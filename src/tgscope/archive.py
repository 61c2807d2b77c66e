"""The archive: the store of record plus its search index, and the jobs run on them.

:class:`Archive` is the public Python API the CLI is a thin layer over::

    with Archive.open("tgscope.db") as archive:
        report = archive.import_paths(["dump.txt"], channel="mfarussia")
        for result in archive.search("Лавров", limit=5).results:
            print(result.post.key, result.snippet)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .clean import normalize_channel
from .errors import OptionError, RecordRejected, SourceError, StoreError, TgscopeError
from .inputs import Progress, expand_path, inspect_file, open_binary, read_text
from .record import Channel, Post
from .reports import FileReport, ImportReport, SearchResult, SearchResults
from .search import IndexBusy, SearchIndex
from .snippets import snippet
from .store import Observation, PostFilter, SourceInfo, Stats, Store, TextSearch
from .store.dbapi import DATABASE_ERRORS, REJECTED_ERRORS
from .store.events import EventFilter
from .store.pgdb import is_url
from .store.sqlite import SQLiteStore, sources_in

if TYPE_CHECKING:  # the parsers are imported when a file is imported, not for a search
    from .analysis.duplicates import Clusters
    from .analysis.engagement import Engagement
    from .analysis.network import Network
    from .analysis.spread import Spread
    from .events.model import Event
    from .media.files import MediaStore
    from .media.kept import ArchiveMedia
    from .sources import FormatOptions
    from .store.copying import CopyReport

DEFAULT_DB = "tgscope.db"
_BATCH = 1000


class Archive:
    """A tgscope archive: ``<db>`` (SQLite, the record) and ``<db>.index/`` (search)."""

    def __init__(
        self,
        store: Store,
        path: Path | None,
        *,
        location: str | None = None,
        index_path: Path | None = None,
    ):
        self.store = store
        #: the archive's file; None for an archive in a database server (PostgreSQL)
        self.path = path
        #: where the archive is, for messages: its file, or its URL without the password
        self.location = location or str(path)
        if index_path is None and path is not None:
            index_path = path.with_name(path.name + ".index")
        #: the tantivy index: beside a file; for PostgreSQL only where $TGSCOPE_INDEX says
        self.index_path = index_path
        self._index: SearchIndex | None = None
        #: the search the store does itself (PostgreSQL's), when no tantivy index is kept
        self._text = store.text_search() if index_path is None else None

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *, create: bool = True) -> Archive:
        """Open the archive at ``path``: a SQLite file (default ./tgscope.db; the CLI also
        reads ``$TGSCOPE_DB``) or a ``postgresql://user@host/dbname`` URL.

        A new archive is created unless ``create`` is false (commands that only read).
        """
        target = os.fspath(path) if path is not None else DEFAULT_DB
        if is_url(target):
            from .store.postgres import PostgresStore

            store = PostgresStore(target, create=create)
            kept = os.environ.get("TGSCOPE_INDEX")  # a tantivy index beside PostgreSQL's own
            index = Path(kept) if kept else None
            return cls(store, None, location=store.location, index_path=index)
        db = Path(target)
        if db.is_dir():
            raise StoreError(f"{db}: is a directory, not an archive file")
        if not create and not db.exists():
            raise StoreError(f"{db}: no archive here yet (create one with tgscope import)")
        return cls(SQLiteStore(db), db)

    def schema_versions(self) -> tuple[int, int]:
        """The archive's schema version when it was opened (0: created then), and now."""
        from .store.schema import SCHEMA_VERSION

        return self.store.migrated_from, SCHEMA_VERSION

    def media_files(self) -> MediaStore:
        """The folder of the archive's media files (:meth:`MediaStore.of_archive`)."""
        from .media.files import MediaStore

        return MediaStore.of_archive(self.path, self.location)

    @property
    def name(self) -> str:
        """A short name for the archive: its file's, or its database's."""
        if self.path is not None:
            return self.path.name
        return self.location.rsplit("/", 1)[-1].split("?", 1)[0] or self.location

    @staticmethod
    def count_sources(
        path: str | os.PathLike, ref: str | None = None, since: str = ""
    ) -> int | None:
        """How many sources the archive at ``path`` records (those of ``ref`` imported at
        ``since`` or later, when given), read without opening it for writing: None when that
        cannot be told (locked, or no archive)."""
        target = os.fspath(path)
        if not is_url(target):
            return sources_in(Path(target), ref, since)
        try:
            with Archive.open(target, create=False) as archive:
                return archive.store.count_sources(ref, since)
        except TgscopeError:
            return None

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the store; an index write left unfinished is rolled back (``with`` does it)."""
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
        if self.index_path is None:
            raise StoreError(f"{self.location}: the archive searches by itself, without an index")
        if self._index is None:
            self._index = SearchIndex(self.index_path)
        return self._index

    def _index_for_reading(self) -> TextSearch:
        """The search index; while another process writes to it, what it holds so far."""
        if self._text is not None:
            return self._text
        index = self._open_index()
        with contextlib.suppress(IndexBusy):
            index.catch_up(self.store)
        return index

    # -- importing ------------------------------------------------------------------------

    def import_paths(
        self,
        paths: Iterable[str | os.PathLike],
        *,
        format: str | None = None,
        channel: str | None = None,
        timezone: str | None = None,
        chat: int | None = None,
        mapping: str | Mapping[str, str] | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
        markdown: bool = False,
        events: bool = True,
        progress: Progress | None = None,
        on_file: Callable[[FileReport], None] | None = None,
        on_start: Callable[[Path], None] | None = None,
    ) -> ImportReport:
        """Import files (folders: every file inside, in name order), each in its own transaction.

        A file that fails, for whatever reason, is rolled back and recorded in
        ``report.failures`` with a one-line error; the other files are still imported.
        ``on_start`` is called with each file before it is read, ``on_file`` with its report
        when it is done.  The format options (checked before any file is read, an
        :class:`OptionError` naming the one that cannot be): ``channel`` (for files that do
        not name it), ``timezone`` (Desktop exports without UTC times), ``chat`` (one chat of
        a whole-account export), ``mapping`` (``"FIELD=COLUMN,..."`` or a dict: another
        tool's CSV/JSON columns), ``encoding`` (text dumps, CSV and JSON Lines that are not
        UTF-8), ``delimiter`` (CSV; found from the header otherwise), ``markdown`` (texts in
        Telethon's markdown become text and entities).  Then the events table is brought up
        to date with what changed (``events=False`` leaves it for later: :meth:`events` and
        ``serve`` catch it up).
        """
        channel, checked = _checked_options(
            channel,
            timezone=timezone,
            chat=chat,
            mapping=mapping,
            encoding=encoding,
            delimiter=delimiter,
            markdown=markdown,
        )
        report = ImportReport()
        ends = ("", "-wal", "-shm", "-journal", ".index")
        at = self.path
        own = [at.with_name(at.name + end).resolve() for end in ends] if at is not None else []
        for raw in paths:
            try:
                files = expand_path(raw)
            except SourceError as error:
                files = []
                report.add(FileReport(str(raw), format or "?", error=str(error)), on_file)
            if Path(raw).is_dir():  # a folder holding the archive: not its own files
                found = ((p, p.resolve()) for p in files)
                files = [p for p, at in found if not any(at == o or o in at.parents for o in own)]
            for path in files:
                if on_start:
                    on_start(path)
                try:
                    done = self._import_checked(path, format, channel, checked, progress)
                except SourceError as error:
                    done = FileReport(str(path), format or "?", error=str(error))
                except RecordRejected as error:  # the file's records, not the archive
                    done = FileReport(str(path), format or "?", error=f"{path}: {error}")
                except TgscopeError:
                    raise  # the archive (locked, unwritable), not this file
                except DATABASE_ERRORS as error:
                    if not isinstance(error, REJECTED_ERRORS):
                        raise  # the archive, not the file: the next file would fail the same
                    done = FileReport(str(path), format or "?", error=_unexpected(path, error))
                except Exception as error:  # a bug met by one file: the others still import
                    done = FileReport(str(path), format or "?", error=_unexpected(path, error))
                report.add(done, on_file)
        if events and (report.total("added") or report.total("updated")):
            with contextlib.suppress(StoreError):  # another process writes: a later run catches up
                self.update_events()
        return report

    def import_file(
        self,
        path: str | os.PathLike,
        *,
        format: str | None = None,
        channel: str | None = None,
        timezone: str | None = None,
        chat: int | None = None,
        mapping: str | Mapping[str, str] | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
        markdown: bool = False,
        progress: Progress | None = None,
    ) -> FileReport:
        """Import one file whole or not at all; importing it again changes nothing.

        Raises :class:`SourceError` (one line naming the file) when it cannot be read; the
        options are those of :meth:`import_paths`.
        """
        channel, checked = _checked_options(
            channel,
            timezone=timezone,
            chat=chat,
            mapping=mapping,
            encoding=encoding,
            delimiter=delimiter,
            markdown=markdown,
        )
        return self._import_checked(path, format, channel, checked, progress)

    def _import_checked(
        self,
        path: str | os.PathLike,
        format: str | None,
        channel: str | None,
        options: FormatOptions,
        progress: Progress | None,
    ) -> FileReport:
        from .sources import ENCODED_FORMATS, SOURCES, desktop_html, desktop_json, detect_format

        path = Path(path)
        head, digest, observed_at = inspect_file(path, options.encoding)
        name = format or detect_format(head, path=str(path), encoding=options.encoding)
        if name not in SOURCES:
            raise SourceError(f"{path}: unknown format {name!r} (known: {', '.join(SOURCES)})")
        if options.encoding and name not in ENCODED_FORMATS:
            raise SourceError(
                f"{path}: {name} files are always UTF-8; an encoding applies to text dumps,"
                " CSV and JSON Lines only"
            )
        report = FileReport(str(path), name)
        # a name that is not UTF-8 (a file from a cp1251 archive) is kept with its bytes escaped
        ref = os.fsencode(path.resolve()).decode("utf-8", "backslashreplace")
        source = SourceInfo(name, ref, digest, observed_at)
        context = options.context(
            str(path),
            text=lambda: read_text(path, progress, options.encoding),
            binary=lambda: open_binary(path, progress),
            warn=report.warnings.append,
            channel=channel,
            known_channel=self.store.find_channel,
        )
        if name not in (desktop_json.FORMAT, desktop_html.FORMAT):
            return self.ingest(SOURCES[name](context), source, report)
        from .media.intake import ExportMedia  # the files beside a Desktop export, once saved

        exported = ExportMedia(path.parent)
        self.ingest(exported.watch(SOURCES[name](context)), source, report)
        exported.take_in(self, report)  # what fails there is a warning: the posts stay saved
        return report

    def ingest(
        self,
        items: Iterable[Post | Channel],
        source: SourceInfo,
        report: FileReport | None = None,
        *,
        before_commit: Callable[[Store], None] | None = None,
        defer_index: bool = False,
    ) -> FileReport:
        """Save what one source gave, in one transaction, and index it.

        Every source ends here, so the same path handles files, pages and API results.
        ``before_commit`` writes more in the same transaction (a collector's cursor, say).
        With ``defer_index`` only the store is written: many small ingests (a sync's pages)
        then share one index commit, at :meth:`flush_index` or the next ingest that indexes.
        Nothing is at risk meanwhile: the index catches up from the store's sequence numbers
        whenever it is next opened, after a crash too.
        """
        report = report or FileReport(source.ref, source.kind)
        # the store's own search is written with the posts; a tantivy index beside a server
        # follows the horizon (Archive.flush_index, or the next search), never a write's own
        # number, since older writes may still be running
        if defer_index or self.path is None:
            with self.store.transaction():
                source_pk = self.store.add_source(source)
                for batch in _batches(items, _BATCH):
                    self._save_batch(batch, source_pk, report, None)
                if before_commit is not None:
                    before_commit(self.store)
            return report
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

    def flush_index(self) -> int:
        """Index what deferred ingests saved; return how many posts.  While another process
        writes to the index this returns 0: that writer, or the next, catches up instead."""
        if self._text is not None:
            return 0
        with contextlib.suppress(IndexBusy):
            return self._open_index().catch_up(self.store)
        return 0

    def _save_batch(
        self,
        batch: list[Post | Channel],
        source_pk: int,
        report: FileReport,
        index: SearchIndex | None,
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
        if index is not None:  # None: indexed later, from the store (a deferred ingest)
            index.stage(result.changed)

    # -- reading --------------------------------------------------------------------------

    def search(
        self,
        query: str,
        filters: PostFilter | None = None,
        *,
        channel: str | None = None,
        since: str | None = None,
        until: str | None = None,
        hashtag: str | None = None,
        media: str | None = None,
        forwarded: bool | None = None,
        limit: int = 10,
        order: str = "relevance",
    ) -> SearchResults:
        """Posts matching ``query`` and the filters, best first (``order``: ``relevance``,
        ``newest`` or ``oldest``), each with an HTML snippet.

        The query: words, all of which must match in any form (Russian by dictionary lemma,
        a capitalised word as a name: :mod:`tgscope.words`), ``"a phrase"``, ``OR`` between
        two words or phrases, ``-word``; ``""`` matches every post.  Raises
        :class:`~tgscope.errors.QueryError` for a query with nothing to search for.  The
        filters (``channel``, ``since``, ``until``: dates or ISO times, inclusive; ``hashtag``;
        ``media``: a media type, ``any`` or ``none``; ``forwarded``: True or False)
        are keywords or a :class:`PostFilter`, as for :meth:`posts` and :meth:`stats`."""
        filters = _filters(
            filters,
            channel=channel,
            since=since,
            until=until,
            hashtag=hashtag,
            media=media,
            forwarded=forwarded,
        )
        hits = self._index_for_reading().search(query, filters, limit=limit, order=order)
        posts = self.store.load_posts([hit.pk for hit in hits.hits])
        results = [
            SearchResult(post, hit.score, snippet(post.text, hits.terms))
            for hit in hits.hits
            if (post := posts.get(hit.pk)) is not None
        ]
        undated = 0
        if (filters.since or filters.until) and len(results) < limit:
            undated = self.store.count_undated(filters)
        return SearchResults(hits.total, results, undated)

    def get(self, key: str) -> Post | None:
        """The post with this key (``channel/id``, or a dump copy's key), None if none."""
        return self.store.get_post(key)

    def provenance(self, key: str) -> list[dict]:
        """Who said what about a post: per kind of source, its observations (``kind``,
        ``ref``, ``observed_at``), its own version of the post and the fields it gave."""
        return self.store.provenance(key)

    def history(self, key: str) -> list[Observation]:
        """Every observation of a post, oldest first: when and by which source it was seen,
        and the views, forwards, replies and reactions it showed then (empty: no such post)."""
        return self.store.history(key)

    def posts(
        self,
        filters: PostFilter | None = None,
        *,
        query: str | None = None,
        channel: str | None = None,
        since: str | None = None,
        until: str | None = None,
        hashtag: str | None = None,
        media: str | None = None,
        forwarded: bool | None = None,
    ) -> Iterator[Post]:
        """Posts in archive order (by date), streamed; with ``query``, only those the search
        finds.  The filters are those of :meth:`search`, as keywords or a :class:`PostFilter`."""
        filters = _filters(
            filters,
            channel=channel,
            since=since,
            until=until,
            hashtag=hashtag,
            media=media,
            forwarded=forwarded,
        )
        only = self._index_for_reading().matching_pks(query, filters) if query else None
        return self.store.iter_posts(filters, only)

    def stats(
        self,
        filters: PostFilter | None = None,
        *,
        channel: str | None = None,
        since: str | None = None,
        until: str | None = None,
        hashtag: str | None = None,
        media: str | None = None,
        forwarded: bool | None = None,
    ) -> Stats:
        """Posts per channel, date range, top hashtags and reaction totals of the posts the
        filters keep (those of :meth:`search`, as keywords or a :class:`PostFilter`)."""
        filters = _filters(
            filters,
            channel=channel,
            since=since,
            until=until,
            hashtag=hashtag,
            media=media,
            forwarded=forwarded,
        )
        return self.store.stats(filters)

    def reindex(self) -> int:
        """Rebuild the search index from the archive; return the number of posts indexed."""
        if self._text is not None:
            return self._text.rebuild(self.store)
        return self._open_index().catch_up(self.store, rebuild=True)

    # -- analysis -------------------------------------------------------------------------
    # network

    def network(
        self,
        filters: PostFilter | None = None,
        *,
        kind: str = "forwards",
        channel: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Network:
        """Who spread whom: edges ``source → target`` (target forwarded, mentioned or linked
        to source: ``kind``) with counts, first and last dates and forwards' median delays,
        and their nodes; ``.to_arrow()``, ``.to_networkx()``.  ``channel`` keeps the edges
        touching it; ``since``/``until`` select the spreading posts (or a :class:`PostFilter`)."""
        from .analysis.network import network

        filters = _filters(filters, channel=channel, since=since, until=until)
        store: Any = self.store  # the SQLite store's query helpers
        return network(store.networks, filters, kind=kind)

    # spread

    def spread(self, key: str, *, threshold: float = 0.8) -> Spread:
        """The cascade of one post as far as the archive sees it: the original (a forward is
        traced from the post it names), every forward of it and every near-copy (Jaccard of
        at least ``threshold`` with the original's text), in time order with the delay from
        the original, channel, views and relation; ``.to_dict()``, ``.to_arrow()``.  Beyond
        one hop the order comes from time and text (``.caveat``).  Raises
        :class:`OptionError` for a key the archive lacks."""
        from .analysis.duplicates import check_options
        from .analysis.spread import trace

        check_options(threshold, 2)
        post = self.store.get_post(key)
        if post is None:
            raise OptionError(f"{self.location}: no post with key {key!r}")
        store: Any = self.store  # the SQLite store's near-copy tables
        self._near_copies(threshold, rebuild=False)
        return trace(store.nearcopies, store.load_posts, post, threshold=threshold)

    # duplicates

    def duplicates(
        self,
        *,
        threshold: float = 0.8,
        min_size: int = 2,
        channel: str | Iterable[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        rebuild: bool = False,
        dask: str | None = None,
    ) -> Clusters:
        """Copy-paste clusters: posts whose texts are the same or nearly (Jaccard of word
        shingles at least ``threshold``, after normalising), in date order, numbered by their
        first post; ``.to_arrow()``.  The near-copy index is brought up to date with the
        archive first (only posts written since it last was are read).  ``channel`` (one or
        several): clusters with a post there; ``since``/``until``: only posts dated so.  A
        ``threshold`` below the index's floor (0.7) raises
        :class:`~tgscope.analysis.duplicates.ThresholdBelowIndex` unless ``rebuild``, which
        builds the index again for it.  ``dask`` (``local:N`` or a scheduler's
        ``tcp://`` address; an archive in PostgreSQL) builds the index from scratch on that
        Dask cluster.  Definitions: :mod:`tgscope.analysis.duplicates`."""
        from .analysis.duplicates import check_options, find_clusters
        from .dates import day_bounds

        check_options(threshold, min_size)
        day_bounds(since, until)  # a bad date: one line before any work
        names = [channel] if isinstance(channel, str) else list(channel or [])
        store: Any = self.store  # the SQLite store's near-copy tables
        if dask is not None:
            self._near_copies_on_dask(threshold, dask)
        else:
            self._near_copies(threshold, rebuild=rebuild)
        return find_clusters(
            store.nearcopies,
            threshold=threshold,
            min_size=min_size,
            channels=names,
            since=since,
            until=until,
        )

    def update_near_copies(self) -> int:
        """Bring the near-copy index up to date when it has been built (by a first
        :meth:`duplicates` or :meth:`spread`); return how many posts were read (``serve``
        does it before serving, as it does for the search index)."""
        from .analysis.duplicates import NearCopyIndex

        store: Any = self.store
        index = NearCopyIndex(store.nearcopies)
        return index.catch_up() if index.params() is not None else 0

    def _near_copies(self, threshold: float, *, rebuild: bool) -> int:
        """Catch the near-copy index up (rebuilt for ``threshold`` when asked and lower than
        it answers); return how many posts were read."""
        from .analysis.duplicates import DEFAULT_FLOOR, NearCopyIndex, ThresholdBelowIndex

        store: Any = self.store
        index = NearCopyIndex(store.nearcopies)
        held = index.params()
        floor = held.floor if held else DEFAULT_FLOOR
        if rebuild:
            return index.catch_up(floor=min(threshold, DEFAULT_FLOOR), rebuild=True)
        if threshold < floor:
            raise ThresholdBelowIndex(threshold, floor)
        return index.catch_up()

    def _near_copies_on_dask(self, threshold: float, spec: str) -> int:
        """Build the near-copy index from scratch on a Dask cluster."""
        from .analysis.dask_jobs import build_near_copies
        from .analysis.distributed import cluster, require_postgres
        from .analysis.duplicates import DEFAULT_FLOOR

        require_postgres(self)  # before a cluster starts
        with cluster(spec) as client:
            return build_near_copies(self, client, floor=min(threshold, DEFAULT_FLOOR))

    # diplomatic events

    def events(self, filters: EventFilter | None = None, **given: Any) -> list[Event]:
        """The diplomatic events of the archive's posts (the record: docs/events.md), by
        date; filters as :class:`EventFilter` or keywords, checked as ``tgscope events``
        checks them (``channel``, ``since``, ``until``, ``type``, ``actor``, ``country``,
        ``dyad="RUS,CHN"``, ``mode``, ``modality``, ``post``), and ``limit``, ``offset``.
        The events table is brought up to date first."""
        from .events.filters import event_filter
        from .events.index import EventIndex

        page = {name: given.pop(name) for name in ("limit", "offset") if name in given}
        if filters is not None and given:
            raise OptionError("give the filters either as an EventFilter or as keywords, not both")
        chosen = filters or event_filter(**given)
        store: Any = self.store
        index = EventIndex(store.events)
        if index.behind():
            with contextlib.suppress(StoreError):  # another process writes: read as it is
                index.catch_up()
        return list(index.select(chosen, **page))

    def rebuild_events(self, *, dask: str | None = None) -> int:
        """Extract every post's events again (after a change of the rules, say); on a Dask
        cluster with ``dask`` (as for :meth:`duplicates`).  Returns how many events."""
        from .events.index import EventIndex

        store: Any = self.store
        if dask is None:
            index = EventIndex(store.events)
            with index.tables.writing():
                index.tables.clear()
            return index.catch_up().events
        from .analysis.dask_jobs import extract_all_events
        from .analysis.distributed import cluster, require_postgres

        require_postgres(self)
        with cluster(dask) as client:
            return extract_all_events(self, client).events

    def update_events(self) -> int:
        """Extract the events of the posts written since the last time (all of them when
        the dictionaries changed); return how many posts were read.  Import and sync call
        it when they finish."""
        from .events.index import EventIndex

        store: Any = self.store
        index = EventIndex(store.events)
        return index.catch_up().posts if index.behind() else 0

    # copying to another archive

    def copy_to(
        self,
        target: str | os.PathLike,
        *,
        progress: Callable[[str, int], None] | None = None,
    ) -> CopyReport:
        """Copy the whole archive into the empty archive at ``target`` (a file or a
        ``postgresql://`` URL, created when missing), either engine to either: every table
        with its pks, read in one snapshot (collectors may go on writing here) and written
        in one transaction there (interrupted, it leaves ``target`` empty).  A SQLite
        target's search index is built afterwards.  ``progress(table, rows)`` is called
        after each batch.  Returns a :class:`~tgscope.store.copying.CopyReport`; raises
        :class:`StoreError` when ``target`` is not empty.  See :mod:`tgscope.store.copying`."""
        from .store.copying import copy_stores

        source: Any = self.store  # the SQL store's connection is read directly
        with Archive.open(target) as copy:
            written: Any = copy.store
            report = copy_stores(source, written, progress=progress)
            if copy.path is not None:
                copy.reindex()
        return report

    # media kept as evidence

    @property
    def media(self) -> ArchiveMedia:
        """The media files kept beside the archive, what each post carried, and the
        pictures alike across channels (fetched by :func:`tgscope.collect.media.fetch_media`)."""
        from .media.kept import ArchiveMedia

        return ArchiveMedia(self)

    # engagement

    def engagement(
        self,
        filters: PostFilter | None = None,
        *,
        channel: str | None = None,
        since: str | None = None,
        until: str | None = None,
        timezone: str = "UTC",
    ) -> Engagement:
        """Each channel's rhythm and reach: posts per day and week, weekday × hour heatmap
        (in ``timezone``), median and p90 views, reactions per 1,000 views, forwards
        received, its median views curve (1 h, 24 h, 7 days) and outliers; ``.to_arrow()``.
        Definitions: :mod:`tgscope.analysis.engagement`."""
        from .analysis.engagement import engagement

        filters = _filters(filters, channel=channel, since=since, until=until)
        store: Any = self.store  # the SQLite store's query helpers
        return engagement(store.engagement, store.networks, filters, timezone=timezone)


def _filters(filters: PostFilter | None, **given: str | bool | None) -> PostFilter:
    """One :class:`PostFilter` from a filter object and/or keyword filters (both: refused)."""
    keywords: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    if filters is not None and keywords:
        raise OptionError("give the filters either as a PostFilter or as keywords, not both")
    try:
        return filters or PostFilter(**keywords)
    except ValueError as error:
        raise OptionError(str(error)) from error


def _checked_options(channel: str | None, **typed: Any) -> tuple[str | None, FormatOptions]:
    """The channel and format options of an import, checked before any file is read."""
    from .sources import FormatOptions

    try:
        channel = normalize_channel(channel)
    except ValueError as error:
        raise OptionError(f"channel: {error}") from error
    return channel, FormatOptions.checked(**typed)


def _unexpected(path: Path, error: BaseException) -> str:
    """One line for an error no reader foresaw (a bug to report, not the user's fault)."""
    detail = " ".join(str(error).split())
    detail = f": {detail[:200]}" if detail else ""
    if isinstance(error, MemoryError):
        return f"{path}: ran out of memory while reading it"
    return (
        f"{path}: unexpected error while reading ({type(error).__name__}{detail}); please report it"
    )


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
