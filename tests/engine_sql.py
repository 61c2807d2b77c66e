"""SQL run on an archive's own engine, outside tgscope: what the storage tests check the
tables with, on a SQLite file or a PostgreSQL database alike (the ``archive_db`` fixture)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

_TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
    "postgres": "SELECT table_name FROM information_schema.tables"
    " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
}


def is_postgres(where: str | os.PathLike) -> bool:
    """Whether ``where`` (an ``archive_db`` value) is a PostgreSQL URL."""
    return os.fspath(where).startswith(("postgresql://", "postgres://"))


def rows(where: str | os.PathLike, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple]:
    """The rows of ``sql`` (``?`` marks; committed), on its own connection to the archive."""
    if is_postgres(where):
        import psycopg

        with psycopg.connect(os.fspath(where), autocommit=True) as pg:
            cursor = pg.execute(sql.replace("?", "%s"), parameters or None)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
    db = sqlite3.connect(where)
    try:
        with db:
            return db.execute(sql, parameters).fetchall()
    finally:
        db.close()


def table_counts(where: str | os.PathLike) -> dict[str, int]:
    """The number of rows of every table of the archive."""
    names = rows(where, _TABLES["postgres" if is_postgres(where) else "sqlite"])
    return {name: rows(where, f"SELECT count(*) FROM {name}")[0][0] for (name,) in names}


def more_archives(archive_db: str, tmp_path: Path, request: Any) -> Callable[[str], str]:
    """For a test that needs several archives on ``archive_db``'s engine: ``make(name)``
    gives a new, empty one (a file in ``tmp_path``, or a database copied from the tests'
    migrated template with an id of its own, dropped after the test, as ``pg_url`` does)."""
    if not is_postgres(archive_db):
        return lambda name: str(tmp_path / f"{name}.db")
    make = request.getfixturevalue("pg_url_factory")
    return lambda name: make()
