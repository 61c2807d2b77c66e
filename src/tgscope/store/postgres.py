"""The PostgreSQL backend: one archive in a database that many collectors write at once.

The helpers and the saving of posts are :class:`~tgscope.store.base.SQLStore`'s, the same as
on SQLite; what differs is how writers agree (docs/scale-out.md §2.3-2.4):

- **Sequence numbers.** A write transaction's number is its transaction id, and
  :meth:`PostgresStore.last_seq` is the *horizon*: one less than the oldest transaction still
  running.  Every row with a number up to it is committed and visible, and none can appear
  later, so a reader that catches up to the horizon never skips a row another writer was
  still committing (a counter would: B may commit number 6 before A commits 5).
- **New posts** take their pks from the ``posts_pk_seq`` sequence.
- **One writer per channel at a time.** Saving posts first takes a transaction-scoped
  advisory lock on each of their channels, in name order: two collectors on one channel
  take turns page by page, each seeing what the other committed, while different channels
  are written side by side.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..errors import StoreError
from ..record import Post
from . import SaveResult
from .base import SQLStore
from .dialect import POSTGRES
from .pg_schema import NOT_AN_ARCHIVE, migrate
from .pgdb import PgConnection

if TYPE_CHECKING:
    from ..search.pg import PgTextSearch

#: the advisory lock key of the posts without a channel (text dumps of no channel)
NO_CHANNEL = "tgscope.channel:"


class PostgresStore(SQLStore):
    """The archive in a PostgreSQL database (``postgresql://user@host/dbname``)."""

    def __init__(self, url: str, *, create: bool = True):
        db = PgConnection(url)
        self._url = url  # for more connections; never shown (``location`` is)
        self.location = db.location
        try:
            if not create and not is_archive(db):
                if holds_tables(db):
                    raise RuntimeError(NOT_AN_ARCHIVE)
                raise StoreError(
                    f"{db.location}: no archive here yet (create one with tgscope migrate or"
                    " tgscope import)"
                )
            self.migrated_from = migrate(db)  # the version the database had
        except RuntimeError as error:
            db.close()
            raise StoreError(f"{db.location}: {error}") from error
        except BaseException:
            db.close()
            raise
        super().__init__(db)
        self._text: PgTextSearch | None = None

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[int]:
        """One write transaction, yielding its sequence number (its transaction id)."""
        self.db.execute(POSTGRES.begin_write)
        try:
            self._forget()  # another writer may have changed anything since the last one
            (self._seq,) = self.db.execute(
                "SELECT CAST(CAST(pg_current_xact_id() AS text) AS bigint)"
            ).fetchone()
            yield self._seq
            self.db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        finally:
            self._seq = None

    def _rollback(self) -> None:
        if self.db.in_transaction:
            with contextlib.suppress(StoreError):  # the connection is gone: nothing to roll back
                self.db.execute("ROLLBACK")
        self._forget()

    def _forget(self) -> None:
        self.channels.forget()
        self.fingerprints.forget()
        self.writer.forget()
        self.sources.forget()

    def another_connection(self) -> PgConnection:
        return PgConnection(self._url)

    def last_seq(self) -> int:
        """The horizon: every write numbered up to it has ended (see the module's docstring)."""
        (horizon,) = self.db.execute(POSTGRES.last_write_query).fetchone()
        return horizon

    # -- writing --------------------------------------------------------------------------

    def save_posts(self, posts: list[Post], source_pk: int) -> SaveResult:
        """As on SQLite, holding the posts' channels; their words are written with them."""
        self._lock_channels(posts)
        result = super().save_posts(posts, source_pk)
        self.text_search().write(result.changed)
        return result

    def _lock_channels(self, posts: list[Post]) -> None:
        """Wait for, then hold until commit, each channel of ``posts`` (in name order, so two
        writers never wait for each other in a circle)."""
        names = sorted({(post.channel or "").lower() for post in posts})
        for name in names:
            self.db.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (NO_CHANNEL + name,))

    def _new_pks(self, count: int) -> Iterable[int]:
        if count <= 0:
            return ()
        rows = self.db.execute(
            "SELECT nextval('posts_pk_seq') FROM generate_series(1, ?)", (count,)
        ).fetchall()
        return [pk for (pk,) in rows]

    def text_search(self) -> PgTextSearch:
        """Search over the ``post_words`` table, written with the posts."""
        if self._text is None:
            from ..search.pg import PgTextSearch

            self._text = PgTextSearch(self.db)
        return self._text


def holds_tables(db: PgConnection) -> bool:
    """Whether the database's schema holds tables or views (someone else's, if no archive)."""
    query = "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() LIMIT 1"
    return db.execute(query).fetchone() is not None


def is_archive(db: PgConnection) -> bool:
    """Whether the database holds an archive already (its schema version is recorded)."""
    (meta,) = db.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()
    if not meta:
        return False
    return db.execute("SELECT 1 FROM meta WHERE name = 'schema_version'").fetchone() is not None
