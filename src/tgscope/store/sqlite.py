"""The SQLite backend: a plain WAL-mode file that opens in Datasette as it is.

:class:`SQLiteStore` holds the connection and the transaction; each table family has its
own small helper with a public API (channels, posts written and read, sources and
observations, each kind's version of a post, copies without ids, the collectors' state),
and :class:`~tgscope.store.base.SQLStore`, the part every engine shares, composes them
behind the :class:`~tgscope.store.Store` protocol.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import RecordRejected, StoreError
from .base import SQLStore, sources_query
from .dbapi import SQLiteConnection
from .dialect import SQLITE
from .schema import migrate


class SQLiteStore(SQLStore):
    """The archive of record in one SQLite file (WAL mode)."""

    def __init__(self, path: str | Path, *, timeout: float = 5.0):
        self.path = Path(path)
        try:
            # shared across threads only under the caller's lock (see collect.web_sync)
            db = sqlite3.connect(
                self.path,
                timeout=timeout,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=512,  # one INSERT for each pattern of NULLs in rows (see bind)
                factory=SQLiteConnection,
            )
            _refuse_another_database(db, self.path)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA cache_size = -65536")  # 64 MB: big imports spill less
            db.execute("PRAGMA foreign_keys = ON")
            self.migrated_from = migrate(db)  # the version the file had
        except (sqlite3.DatabaseError, RuntimeError) as error:
            raise StoreError(f"{self.path}: cannot open archive: {_describe(error)}") from error
        super().__init__(db)
        # the file's data_version when this connection last began a transaction (None: the
        # caches are not to be trusted), and the last sequence number written
        self._version: int | None = None
        self._last_seq = 0

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[int]:
        """One write transaction, yielding its sequence number; rolled back whole on any error."""
        try:
            self.db.execute(SQLITE.begin_write)
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

    def another_connection(self) -> SQLiteConnection:
        return sqlite3.connect(
            self.path, timeout=30, isolation_level=None, factory=SQLiteConnection
        )

    def last_seq(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE name = 'seq'").fetchone()
        return int(row[0]) if row else 0


def sources_in(path: Path, ref: str | None = None, since: str = "") -> int | None:
    """:meth:`SQLiteStore.count_sources` of the file at ``path``, read only (never creating
    it); None when that cannot be told (locked, or no archive)."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute(*sources_query(ref, since)).fetchone()[0]
        finally:
            db.close()
    except (sqlite3.Error, OSError, ValueError):
        return None


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
