"""The SQLite backend: a plain WAL-mode file that opens in Datasette as it is.

:class:`SQLiteStore` holds the connection and the transaction; each table family has its
own small helper with a public API (channels, posts written and read, sources and
observations, each kind's version of a post, copies without ids, the collectors' state),
and the store composes them behind the :class:`~tgscope.store.Store` protocol.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import RecordRejected, StoreError
from ..record import Channel, Post
from . import IndexDoc, Observation, PostFilter, SaveResult, SourceInfo, Stats, SyncState
from .channels import ChannelTable
from .collector import CollectorState
from .copies import Copies, index_doc
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
from .schema import migrate


class SQLiteStore:
    """The archive of record in one SQLite file (WAL mode)."""

    def __init__(self, path: str | Path, *, timeout: float = 5.0):
        self.path = Path(path)
        try:
            # shared across threads only under the caller's lock (see collect.web_sync)
            self.db = sqlite3.connect(
                self.path,
                timeout=timeout,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=512,  # one INSERT for each pattern of NULLs in rows (see bind)
            )
            _refuse_another_database(self.db, self.path)
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA cache_size = -65536")  # 64 MB: big imports spill less
            self.db.execute("PRAGMA foreign_keys = ON")
            migrate(self.db)
        except (sqlite3.DatabaseError, RuntimeError) as error:
            raise StoreError(f"{self.path}: cannot open archive: {_describe(error)}") from error
        db = self.db
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
        self._seq: int | None = None
        # the file's data_version when this connection last began a transaction (None: the
        # caches are not to be trusted), and the last sequence number written
        self._version: int | None = None
        self._last_seq = 0

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[int]:
        """One write transaction, yielding its sequence number; rolled back whole on any error."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise StoreError(f"{self.path}: {_describe(error)}") from error
        try:
            self._seq = self._next_seq()
            yield self._seq
            self.db.execute(
                "INSERT INTO meta (name, value) VALUES ('seq', ?) ON CONFLICT (name) DO UPDATE"
                " SET value = excluded.value",
                (str(self._seq),),
            )
            self.db.execute("COMMIT")
            self._last_seq = self._seq
        except (sqlite3.IntegrityError, sqlite3.DataError) as error:
            self._rollback()
            raise RecordRejected(f"the archive refused a record: {error}") from error
        except sqlite3.Error as error:
            self._rollback()
            raise StoreError(f"{self.path}: {_describe(error)}") from error
        except BaseException:
            self._rollback()
            raise
        finally:
            self._seq = None

    def _next_seq(self) -> int:
        """The sequence number of the transaction just begun.  What the helpers cache of
        the tables (channel pks, which channels are fingerprinted...) is kept from one
        transaction to the next unless another connection wrote in between, which SQLite's
        ``data_version`` tells (it does not change for this connection's own writes); so a
        sync's pages do not each read their channel again."""
        (version,) = self.db.execute("PRAGMA data_version").fetchone()
        if version != self._version:
            self._forget()
            self._version, self._last_seq = version, self.last_seq()
        else:
            self.fingerprints.refresh()
        return self._last_seq + 1

    def _rollback(self) -> None:
        if self.db.in_transaction:  # SQLite may have rolled back already (a full disk, say)
            self.db.execute("ROLLBACK")
        self._forget()

    def _forget(self) -> None:
        self._version = None
        self.channels.forget()
        self.fingerprints.forget()
        self.writer.forget()
        self.sources.forget()

    def archive_id(self) -> str:
        """A random id made with the archive: ties the search index to this very file."""
        query = "SELECT value FROM meta WHERE name = 'archive_id'"
        row = self.db.execute(query).fetchone()
        if row is None:  # lost (an archive edited by hand): a new id makes the index rebuild
            self.db.execute(
                "INSERT INTO meta (name, value) VALUES ('archive_id', lower(hex(randomblob(16))))"
                " ON CONFLICT (name) DO NOTHING"
            )
            row = self.db.execute(query).fetchone()
        return row[0]

    def last_seq(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE name = 'seq'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.db.close()

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
        next_pk = self.writer.next_pk() if len(existing) < len(posts) else 0
        added: list[tuple[int, Post]] = []
        added_now: set[str] = set()
        seen_again: dict[int, Post] = {}
        for post in posts:
            pk = existing.get(post.key)
            if post.key in added_now or pk in seen_again:  # twice in one batch: keep the first
                result.unchanged += 1
            elif pk is None:
                added_now.add(post.key)
                added.append((next_pk, post))
                result.added += 1
                result.changed.append(index_doc(next_pk, post, new=True))
                next_pk += 1
            else:
                seen_again[pk] = post
        return added, seen_again

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

    def iter_index_docs(self, after_seq: int) -> Iterable[IndexDoc]:
        return self.reader.iter_index_docs(after_seq)

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


def _describe(error: BaseException) -> str:
    text = str(error)
    if "locked" in text or "busy" in text:
        return "the archive is locked by another process (try again when it has finished)"
    if "not a database" in text or "malformed" in text:
        return "not a tgscope archive or the file is corrupt"
    return text


def _refuse_another_database(db: sqlite3.Connection, path: object) -> None:
    """A SQLite file that holds tables but no schema version is someone else's database:
    opening it as an archive would add tgscope's tables to it (and WAL mode), so refuse."""
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version == 0 and db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
        raise StoreError(
            f"{path}: a SQLite database that is not a tgscope archive; it was left as it is"
        )
