"""What a store on a SQL engine does the same on every engine: the helpers, one per family
of tables, composed behind the :class:`~tgscope.store.Store` protocol, and the saving of
posts built on them.

An engine's store (:class:`~tgscope.store.sqlite.SQLiteStore`) opens its connection and
holds its transactions: ``transaction()`` sets ``_seq`` to the write's sequence number for
:meth:`SQLStore.save_posts` while it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..record import Channel, Post
from . import (
    IndexDoc,
    Observation,
    PostFilter,
    SaveResult,
    SourceInfo,
    Stats,
    StoreSearch,
    SyncState,
)
from .channels import ChannelTable
from .collector import CollectorState
from .copies import Copies, index_doc
from .dbapi import Connection, dialect_of
from .engagement import EngagementQueries
from .events import EventTables
from .media import MediaTables
from .merge import same_content
from .nearcopies import NearCopyTables
from .networks import NetworkQueries
from .observations import RESTORED_KIND, ObservationLog, SourceTable, observed_at
from .posts import Fingerprints, PostWriter, scrub
from .provenance import SourceVersions
from .reader import PostReader


class SQLStore:
    """The archive's tables on one connection, whatever its engine."""

    def __init__(self, db: Connection):
        self.db = db
        self.channels = ChannelTable(db)
        self.fingerprints = Fingerprints(db)
        self.writer = PostWriter(db, self.channels, self.fingerprints)
        self.reader = PostReader(db)
        self.sources = SourceTable(db)
        self.observations = ObservationLog(db, self.sources)
        self.versions = SourceVersions(db, self.reader)
        self.copies = Copies(
            db,
            channels=self.channels,
            marks=self.fingerprints,
            writer=self.writer,
            reader=self.reader,
            versions=self.versions,
            observations=self.observations,
        )
        self.collector = CollectorState(db)
        # the analyses' queries (network, engagement)
        self.networks = NetworkQueries(db)
        self.engagement = EngagementQueries(db)
        # the near-copy index (duplicates)
        self.nearcopies = NearCopyTables(db)
        # the diplomatic events (tgscope events)
        self.events = EventTables(db)
        # the media kept as evidence (tgscope media, tgscope images)
        self.media = MediaTables(db)
        self._seq: int | None = None  # the running write's sequence number

    def text_search(self) -> StoreSearch | None:
        """The search the store does itself: none here (a tantivy index beside the archive)."""
        return None

    def count_sources(self, ref: str | None = None, since: str = "") -> int:
        """How many sources the archive records (those of ``ref`` imported at ``since`` or
        later, when given)."""
        return self.db.execute(*sources_query(ref, since)).fetchone()[0]

    def close(self) -> None:
        self.db.close()

    def archive_id(self) -> str:
        """A random id made with the archive: ties a search index to this very archive."""
        query = "SELECT value FROM meta WHERE name = 'archive_id'"
        row = self.db.execute(query).fetchone()
        if row is None:  # lost (an archive edited by hand): a new id makes the index rebuild
            made = dialect_of(self.db).random_id
            self.db.execute(
                f"INSERT INTO meta (name, value) VALUES ('archive_id', {made})"
                " ON CONFLICT (name) DO NOTHING"
            )
            row = self.db.execute(query).fetchone()
        return row[0]

    # -- writing --------------------------------------------------------------------------

    def add_source(self, source: SourceInfo) -> int:
        """The source's row, created on first sight; the same file read again is the same row."""
        return self.sources.add(source)

    def save_channel(self, channel: Channel) -> None:
        self.channels.save(channel)

    def find_channel(self, telegram_id: int | None, title: str | None) -> str | None:
        """The username of the archived channel with this Telegram id, or else the only one
        with this title and no other id; None when there is none or the title is ambiguous."""
        return self.channels.find(telegram_id, title)

    def save_posts(self, posts: list[Post], source_pk: int) -> SaveResult:
        """Upsert posts by key and record that ``source_pk`` saw them; idempotent.

        A post without an id whose text one post of its channel has is merged into that post;
        a post with an id absorbs the copies without ids that say what it says.
        """
        if self._seq is None:
            raise RuntimeError("save_posts needs a transaction")
        seq, result = self._seq, SaveResult()
        posts = [scrub(post) for post in posts]
        source = self.sources.get(source_pk)
        restoring = source.kind == RESTORED_KIND  # put back as it was, not merged anew
        existing = self.writer.existing([post.key for post in posts])
        if not restoring:
            result.merged += self.copies.match(posts, existing, source_pk)
        added, seen_again = self._sort_out(posts, existing, result)
        observations = [
            row
            for pk, post in [*added, *seen_again.items()]
            for row in self.observations.rows(pk, source_pk, source, post)
        ]
        self.writer.insert([self.writer.row(pk, post, seq) for pk, post in added])
        self.writer.insert_parts(added)
        updated = self._update_seen(seen_again, source, seq, result)
        if restoring:
            for pk, post in added:
                self.versions.save(pk, {RESTORED_KIND: (observed_at(source, post), post)})
        self.observations.insert(observations)
        if not restoring:
            self.fingerprints.catch_up()  # rows built before their channel needed them
            self.copies.absorb([*added, *updated], seq, result)
        return result

    def _sort_out(
        self, posts: list[Post], existing: dict[str, int], result: SaveResult
    ) -> tuple[list[tuple[int, Post]], dict[int, Post]]:
        """New posts with the pks they get, and posts archived already, each once."""
        new_pks = iter(self._new_pks(len(posts) - len(existing)))
        added: list[tuple[int, Post]] = []
        added_now: set[str] = set()
        seen_again: dict[int, Post] = {}
        for post in posts:
            pk = existing.get(post.key)
            if post.key in added_now or pk in seen_again:  # twice in one batch: keep the first
                result.unchanged += 1
            elif pk is None:
                added_now.add(post.key)
                new_pk = next(new_pks)
                added.append((new_pk, post))
                result.added += 1
                result.changed.append(index_doc(new_pk, post, new=True))
            else:
                seen_again[pk] = post
        return added, seen_again

    def _new_pks(self, count: int) -> Iterable[int]:
        """Up to ``count`` pks for new posts, in order (the last pk onwards: a single writer)."""
        if count <= 0:
            return ()
        first = self.writer.next_pk()
        return range(first, first + count)

    def _update_seen(
        self,
        seen_again: dict[int, Post],
        source: SourceInfo,
        seq: int,
        result: SaveResult,
    ) -> list[tuple[int, Post]]:
        """Archived posts after this source's observation; those that changed are rewritten
        and returned."""
        olds = self.reader.load(list(seen_again), sources=False)
        latest: dict[int, str] = {}  # when each post was last seen, by any source
        versions = self.versions.of(olds, latest=latest)
        latest.update(self.observations.latest([pk for pk in olds if pk not in latest]))
        updated: list[tuple[int, Post]] = []
        for pk, old in olds.items():
            new = seen_again[pk]
            at = observed_at(source, new)
            if at < latest.get(pk, "") and new.text and new.text != old.text:
                self.writer.keep_version(pk, at, new)  # an older text, imported late
            post = self.versions.observe(pk, old, new, source.kind, at, versions[pk])
            if same_content(post, old):
                result.unchanged += 1
                continue
            if post.text != old.text and old.text:  # an edit: the earlier text is kept
                self.writer.keep_version(pk, at, old)
            result.updated += 1
            result.changed.append(index_doc(pk, post, new=False))
            updated.append((pk, post))
        self.writer.update(updated, seq, olds)
        return updated

    # -- reading --------------------------------------------------------------------------

    def get_post(self, key: str) -> Post | None:
        return self.reader.get(key)

    def load_posts(self, pks: list[int]) -> dict[int, Post]:
        """Whole records for these posts, keyed by pk."""
        return self.reader.load(pks)

    def iter_posts(self, filters: PostFilter, only: set[int] | None = None) -> Iterator[Post]:
        return self.reader.iter_posts(filters, only)

    def iter_index_docs(self, after_seq: int, upto: int | None = None) -> Iterable[IndexDoc]:
        return self.reader.iter_index_docs(after_seq, upto)

    def count_undated(self, filters: PostFilter) -> int:
        return self.reader.count_undated(filters)

    def stats(self, filters: PostFilter) -> Stats:
        return self.reader.stats(filters)

    def provenance(self, key: str) -> list[dict[str, Any]]:
        """Who said what about a post: each kind of source with its observations, its own
        version of the post and the fields of the record it gave."""
        return self.versions.report(key)

    def history(self, key: str) -> list[Observation]:
        """Every observation of the post, oldest first (empty: no such post)."""
        return self.reader.history(key)

    # -- the collectors -------------------------------------------------------------------

    def sync_state(self, channel: str, kind: str = "web") -> SyncState:
        return self.collector.sync_state(channel, kind)

    def save_sync_state(self, channel: str, state: SyncState, kind: str = "web") -> None:
        self.collector.save_sync_state(channel, state, kind)

    def deletion_dates(self, channel: str, ranges: Iterable[tuple[int, int]]) -> dict[int, str]:
        return self.collector.deletion_dates(channel, ranges)

    def save_raw_page(self, url: str, fetched_at: str, sha256: str, content: bytes) -> None:
        self.collector.save_raw_page(url, fetched_at, sha256, content)

    def mark_missing(
        self, channel: str, low: int, high: int, shown: set[int], when: str
    ) -> list[int]:
        return self.collector.mark_missing(channel, low, high, shown, when)


def sources_query(ref: str | None, since: str) -> tuple[str, list[str]]:
    if ref is None:
        return "SELECT count(*) FROM sources", []
    return "SELECT count(*) FROM sources WHERE ref = ? AND imported_at >= ?", [ref, since]
