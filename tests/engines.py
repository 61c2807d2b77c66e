"""Tests on both engines (issue 13): reading an archive's rows through its own store, and
more archives on the engine a test runs on, beside ``archive_db`` or for a whole module."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tgscope.archive import Archive
from tgscope.store.pgdb import is_url

from .conftest import TEMPLATE

#: the ``params`` of a fixture that makes an archive on each engine (as ``archive_db``)
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.pg)]


def rows(target: str | Path, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    """The rows of ``sql`` (``?`` marks) on a connection of its own to the archive at
    ``target``, a SQLite file or a PostgreSQL URL."""
    with Archive.open(target, create=False) as archive:
        return archive.store.db.execute(sql, params).fetchall()


def execute(target: str | Path, sql: str, params: Sequence[Any] = ()) -> None:
    """Run a statement that returns no rows, on a connection of its own, committed."""
    with Archive.open(target, create=False) as archive:
        archive.store.db.execute(sql, params)


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
    """A new archive database (a copy of the migrated template, its own archive id) on the
    server at ``base`` (a URL without the database), dropped afterwards."""
    import psycopg

    name = "x" + uuid.uuid4().hex[:12]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
    with psycopg.connect(f"{base}/{name}", autocommit=True) as db:
        db.execute("UPDATE meta SET value = md5(random()::text) WHERE name = 'archive_id'")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def nowhere(target: str) -> str:
    """Where no archive is, on the engine of ``target``: a file beside it that does not
    exist, or a database the server does not have."""
    if is_url(target):
        return target.rsplit("/", 1)[0] + "/no_such_archive"
    return str(Path(target).with_name("none.db"))
