"""Writing derived tables (the near-copy index, the events): one transaction beside the
archive's own writes, which does not advance the archive's sequence number."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..errors import StoreError
from .dbapi import Connection, dialect_of, roll_back


@contextmanager
def derived_write(db: Connection) -> Iterator[int]:
    """One write transaction, yielding the archive's last write (read under the lock: no
    other writer commits in between); rolled back whole on any error."""
    dialect = dialect_of(db)
    try:
        db.execute(dialect.begin_write)
    except dialect.busy_errors as error:
        (path,) = db.execute(dialect.location_query).fetchone()
        raise StoreError(
            f"{path}: the archive is locked by another process (try again when it has"
            f" finished): {error}"
        ) from error
    try:
        if dialect.derived_lock:
            db.execute(dialect.derived_lock)
        row = db.execute(dialect.last_write_query).fetchone()
        yield int(row[0]) if row else 0
        db.execute("COMMIT")
    except BaseException:
        roll_back(db)
        raise


def read_state(db: Connection, table: str) -> dict[str, str]:
    """A derived table's ``name -> value`` state (the last write it holds, its settings)."""
    return dict(db.execute(f"SELECT name, value FROM {table}"))


def save_state(db: Connection, table: str, values: Mapping[str, Any]) -> None:
    db.executemany(
        f"INSERT INTO {table} (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        [(name, str(value)) for name, value in values.items()],
    )
