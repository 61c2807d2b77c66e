"""Tests on both engines (issue 13): reading an archive's rows on its own engine, outside
tgscope, and more archives on the engine a test runs on, beside ``archive_db`` or for a whole
module."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tgscope.store.pgdb import is_url

from .conftest import create_database, drop_database

#: the ``params`` of a fixture that makes an archive on each engine (as ``archive_db``)
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.pg)]


def rows(where: str | os.PathLike, sql: str, parameters: Sequence[Any] = ()) -> list[tuple]:
    """The rows of ``sql`` (``?`` marks; committed) on a connection of its own to the
    archive at ``where``, a SQLite file or a PostgreSQL URL, outside tgscope."""
    if is_url(os.fspath(where)):
        import psycopg

        with psycopg.connect(os.fspath(where), autocommit=True) as pg:
            cursor = pg.execute(sql.replace("?", "%s"), tuple(parameters) or None)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
    db = sqlite3.connect(where)
    try:
        with db:
            return db.execute(sql, tuple(parameters)).fetchall()
    finally:
        db.close()


def execute(where: str | os.PathLike, sql: str, parameters: Sequence[Any] = ()) -> None:
    """Run a statement that returns no rows (committed)."""
    rows(where, sql, parameters)


def is_postgres(where: str | os.PathLike) -> bool:
    """Whether ``where`` (an ``archive_db`` value) is a PostgreSQL URL."""
    return is_url(os.fspath(where))


def table_counts(where: str | os.PathLike) -> dict[str, int]:
    """The number of rows of every table of the archive."""
    names = rows(where, _TABLES["postgres" if is_postgres(where) else "sqlite"])
    return {name: rows(where, f"SELECT count(*) FROM {name}")[0][0] for (name,) in names}


def more_archives(archive_db: str, tmp_path: Path, request: Any) -> Callable[[str], str]:
    """For a test that needs several archives on ``archive_db``'s engine: ``make(name)``
    gives a new, empty one (a file beside it, or a database dropped after the test)."""
    return lambda name: sibling(request, archive_db, name)


_TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
    "postgres": "SELECT table_name FROM information_schema.tables"
    " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
}


def sibling(request: pytest.FixtureRequest, target: str, name: str) -> str:
    """Another empty archive on the engine of ``target`` (``archive_db``): a file beside it,
    or a database on the same server, dropped after the test."""
    if not is_url(target):
        return str(Path(target).with_name(f"{name}.db"))
    stack = contextlib.ExitStack()
    request.addfinalizer(stack.close)
    return stack.enter_context(pg_database(target.rsplit("/", 1)[0]))


@contextlib.contextmanager
def engine_archive(
    request: pytest.FixtureRequest, folder: Path, name: str = "archive.db"
) -> Iterator[str]:
    """For a fixture parametrised with :data:`ENGINES`: where its archive goes (a file in
    ``folder``, or a new database that is dropped when the fixture ends)."""
    if request.param == "sqlite":
        yield str(folder / name)
        return
    server = request.getfixturevalue("pg_server")
    with pg_database(server.dsn.rsplit("/", 1)[0]) as url:
        yield url


@contextlib.contextmanager
def pg_database(base: str) -> Iterator[str]:
    """A new archive database on the server at ``base`` (a URL without the database),
    dropped afterwards."""
    url = create_database(base)
    try:
        yield url
    finally:
        drop_database(url)


def nowhere(target: str) -> str:
    """Where no archive is, on the engine of ``target``: a file beside it that does not
    exist, or a database the server does not have."""
    if is_url(target):
        return target.rsplit("/", 1)[0] + "/no_such_archive"
    return str(Path(target).with_name("none.db"))
