"""The connection the store's helpers are written against.

The helpers use a small part of DB-API 2: ``execute`` and ``executemany`` with ``?`` marks,
and ``in_transaction``; what differs between engines they take from the connection's
:class:`~tgscope.store.dialect.Dialect`.  A SQLite connection is :class:`SQLiteConnection`
(``sqlite3.connect(..., factory=SQLiteConnection)``), or a plain ``sqlite3.Connection``, such
as the web app's read-only one: a connection without a dialect is SQLite's.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from ..errors import StoreError
from .dialect import SQLITE, Dialect

#: what a connection raises of its own beside tgscope's errors: sqlite3's (PostgreSQL's
#: connection is to turn its errors into StoreError and RecordRejected itself)
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.DatabaseError,)
#: those of them that are a record the archive refused (a constraint, a value out of range)
REJECTED_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, sqlite3.DataError)


class Cursor(Protocol):
    """The rows of one statement."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the store's helpers call on the archive's connection."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...

    def close(self) -> None: ...


class SQLiteConnection(sqlite3.Connection):
    """A sqlite3 connection that says its dialect."""

    dialect = SQLITE


def dialect_of(db: Connection) -> Dialect:
    """The dialect of ``db``'s engine (SQLite's when it does not say)."""
    return getattr(db, "dialect", SQLITE)


def streamed(db: Connection, sql: str, parameters: Any = (), /) -> Iterable[Any]:
    """The rows of a query that may be large, without holding them all: SQLite's cursor
    reads as it goes; PostgreSQL's connection reads through a server-side cursor."""
    stream = getattr(db, "stream", None)
    return stream(sql, parameters) if stream is not None else db.execute(sql, parameters)


def roll_back(db: Connection) -> None:
    """End the running transaction after an error, quietly: a lost connection has ended it
    already, and the error that is being raised says why (a second one would hide it)."""
    if db.in_transaction:
        with contextlib.suppress(*DATABASE_ERRORS, StoreError):
            db.execute("ROLLBACK")
