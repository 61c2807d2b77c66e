"""Moving a whole archive to another one, on either engine (``tgscope copy``;
docs/scale-out.md §2.9): SQLite to PostgreSQL and back, or to the same engine.

- **One snapshot, one write.**  The source is read inside one read transaction (SQLite's
  ``BEGIN``, PostgreSQL's ``REPEATABLE READ READ ONLY``), so collectors may go on writing to
  it; the target is written inside one of its own write transactions, so an interrupted copy
  leaves it as empty as it was and can simply be run again.  The target must be empty (no row
  in any table but its ``meta`` and the derived tables' state).
- **Every table, pks kept**, in the order of their foreign keys, with explicit column lists:
  the plan is read from the schema itself (:func:`table_plan`: a fresh SQLite archive in
  memory, whose tables, columns and keys a PostgreSQL archive shares, see ``pg_schema``) and
  each archive's columns are checked against it.  Rows are streamed in pk order, a batch at a
  time: ``COPY`` into PostgreSQL, ``executemany`` into SQLite.
- **Sequence numbers are the target's.**  Every ``seq`` column (the write a row came from)
  gets the copy's own number.  A derived index (near copies, events) is copied, its state
  pointing at that number, when it holds every write the snapshot has; one that was behind
  is left out, to be built from scratch on first use.  ``meta`` keeps the target's own
  ``archive_id`` (a copy is another archive) and its engine's bookkeeping.
- **Afterwards** PostgreSQL's pk sequences are moved past the largest pk, and its search
  words (``post_words``, never copied) are written again from the posts.  A SQLite target's
  tantivy index catches up by itself on first use (``Archive.copy_to`` builds it at once).
- **U+0000**, which old SQLite archives may hold, is refused by PostgreSQL: it becomes U+FFFD
  in text copied there, and the report says how many values changed.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from ..errors import StoreError
from . import Store
from .dbapi import DATABASE_ERRORS, dialect_of, roll_back
from .pgdb import is_url
from .schema import migrate

#: rows read and written at once
BATCH = 5000
#: each derived index: its state table and the tables it fills (copied whole, or not at all)
DERIVED: dict[str, tuple[str, ...]] = {
    "nearcopy_state": ("nearcopy_texts", "nearcopy_posts", "nearcopy_buckets", "nearcopy_pairs"),
    "events_state": ("events", "event_parties"),
}
#: the names a derived index's state gives in words (for the report)
DERIVED_NAMES = {"nearcopy_state": "near-copy index", "events_state": "events"}
#: ``meta`` rows that belong to the archive they are in, never copied
OWN_META = frozenset({"archive_id", "schema_version", "seq"})
#: state rows of a catch-up in progress: numbers of the source's writes, meaningless here
RUN_STATE = frozenset({"cursor", "target"})
#: what PostgreSQL refuses in text, and what stands for it there
NUL, REPLACEMENT = "\x00", "\ufffd"

#: called after each batch with the table and how many of its rows are copied so far
CopyProgress = Callable[[str, int], None]


class CopyStore(Store, Protocol):
    """What a copy needs of an archive's store: the protocol, and its connection."""

    db: Any


@dataclass(frozen=True, slots=True)
class Table:
    """One table of the schema, as the copy reads and writes it."""

    name: str
    columns: tuple[str, ...]
    #: each column's declared SQLite type (INTEGER, TEXT, REAL, BLOB)
    types: tuple[str, ...]
    #: the columns rows are read in order of: the primary key (every column when none)
    order: tuple[str, ...]
    #: the tables its foreign keys refer to
    parents: frozenset[str]

    @property
    def select(self) -> str:
        return f"SELECT {_names(self.columns)} FROM {self.name} ORDER BY {_names(self.order)}"

    @property
    def insert(self) -> str:
        marks = ", ".join("?" * len(self.columns))
        return f"INSERT INTO {self.name} ({_names(self.columns)}) VALUES ({marks})"


@dataclass
class CopyReport:
    """What a copy did."""

    source: str  # where from (a URL without its password)
    target: str
    #: rows copied, by table, in the order copied (derived indexes left out are absent)
    rows: dict[str, int] = field(default_factory=dict)
    #: text values whose U+0000 became U+FFFD (PostgreSQL refuses U+0000)
    replaced_nul: int = 0
    #: the derived indexes that were behind in the source: not copied, built on first use
    behind: list[str] = field(default_factory=list)
    #: posts whose search words were written (a PostgreSQL target); None: not here
    words: int | None = None
    #: media files recorded: the files themselves stay where the source keeps them
    media_files: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def summary(self) -> str:
        """One line: ``copied 17 post(s), 4 source(s), 301 row(s) in 29 table(s) from …``."""
        return (
            f"copied {self.rows.get('posts', 0):,} post(s), {self.rows.get('sources', 0):,}"
            f" source(s), {self.total:,} row(s) in {len(self.rows)} table(s) from {self.source}"
            f" to {self.target} in {self.seconds:.1f} s"
        )

    def notes(self) -> list[str]:
        """What the user should know beside the counts."""
        notes = []
        if self.replaced_nul:
            notes.append(
                f"{self.replaced_nul:,} text value(s) held U+0000, which PostgreSQL refuses:"
                " written with U+FFFD instead"
            )
        for name in self.behind:
            notes.append(f"{name}: behind in the source, not copied; built again on first use")
        if self.media_files:
            notes.append(
                f"{self.media_files:,} media file(s) recorded: the files are not copied (copy"
                " the source's media folder to the target's)"
            )
        return notes


# -- the plan: the schema's tables in the order of their foreign keys ----------------------


@functools.cache
def table_plan() -> tuple[Table, ...]:
    """Every table of an archive (but PostgreSQL's own ``post_words``), parents first,
    read from a fresh SQLite archive in memory (whose schema PostgreSQL's mirrors)."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(db)
        names = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            )
        ]
        return tuple(_in_key_order([_table(db, name) for name in names]))
    finally:
        db.close()


def _table(db: sqlite3.Connection, name: str) -> Table:
    info = db.execute(f"PRAGMA table_info({name})").fetchall()
    columns = tuple(row[1] for row in info)
    key = tuple(row[1] for row in sorted(info, key=lambda row: row[5]) if row[5])
    parents = {row[2] for row in db.execute(f"PRAGMA foreign_key_list({name})")} - {name}
    return Table(
        name=name,
        columns=columns,
        types=tuple(str(row[2]).upper() for row in info),
        order=key or columns,
        parents=frozenset(parents),
    )


def _in_key_order(tables: list[Table]) -> list[Table]:
    """Each table after those it refers to; otherwise in the order they were made."""
    placed: list[Table] = []
    done: set[str] = set()
    waiting = list(tables)
    while waiting:
        ready = next((t for t in waiting if t.parents <= done), None)
        if ready is None:
            raise RuntimeError(f"foreign keys in a circle: {[t.name for t in waiting]}")
        placed.append(ready)
        done.add(ready.name)
        waiting.remove(ready)
    return placed


# -- copying ------------------------------------------------------------------------------


def copy_archive(source: str, target: str, *, progress: CopyProgress | None = None) -> CopyReport:
    """Copy the archive at ``source`` (a SQLite file that exists, or a PostgreSQL URL
    holding an archive) into the empty archive at ``target`` (created when missing)."""
    from_store = open_store(source, create=False)
    try:
        to_store = open_store(target, create=True)
        try:
            return copy_stores(from_store, to_store, progress=progress)
        finally:
            to_store.close()
    finally:
        from_store.close()


def open_store(location: str, *, create: bool) -> CopyStore:
    """The store of the archive at ``location``, as :meth:`Archive.open` opens it."""
    if is_url(location):
        from .postgres import PostgresStore

        return PostgresStore(location, create=create)
    from .sqlite import SQLiteStore

    path = Path(location)
    if path.is_dir():
        raise StoreError(f"{path}: is a directory, not an archive file")
    if not create and not path.exists():
        raise StoreError(f"{path}: no archive here yet (create one with tgscope import)")
    return SQLiteStore(path)


def copy_stores(
    source: CopyStore, target: CopyStore, *, progress: CopyProgress | None = None
) -> CopyReport:
    """Copy every table of ``source`` into ``target``, which must be empty (see the
    module's docstring); all of it or, on any error, nothing."""
    started = time.monotonic()
    report = CopyReport(location_of(source), location_of(target))
    if source.archive_id() == target.archive_id():
        raise StoreError(
            f"{report.target}: the same archive as {report.source}; copy into a new archive"
        )
    plan = table_plan()
    for store, where in ((source, report.source), (target, report.target)):
        _check_columns(store.db, plan, where)
    with target.transaction() as seq:
        _check_empty(target.db, plan, report.target)
        with _snapshot(source.db):  # ended before the search words: the source is read
            behind = _behind(source, report)
            writer = _Writer(source.db, target.db, seq, report, progress)
            for table in plan:
                if table.name not in behind:
                    writer.copy(table)
        _finish(target, plan, report)
    report.media_files = report.rows.get("media_files", 0)
    report.seconds = time.monotonic() - started
    return report


def location_of(store: object) -> str:
    """Where a store's archive is, for messages (a URL without its password)."""
    location = getattr(store, "location", None)
    return str(location if location is not None else getattr(store, "path", "?"))


@contextlib.contextmanager
def _snapshot(db: Any) -> Iterator[None]:
    """One read transaction over the source: every table as it was at one moment."""
    db.execute(dialect_of(db).begin_read)  # one state of the source, whoever writes to it
    try:
        yield
    finally:
        roll_back(db)  # it only read


def _check_columns(db: Any, plan: Iterable[Table], where: str) -> None:
    """Each table's columns in the archive are the plan's, in the same order."""
    for table in plan:
        found = _columns(db, table.name)
        if found != table.columns:
            raise StoreError(
                f"{where}: table {table.name} has the columns {', '.join(found) or 'none'}"
                f" where this tgscope expects {', '.join(table.columns)}"
            )


def _columns(db: Any, table: str) -> tuple[str, ...]:
    if dialect_of(db).name == "sqlite":
        return tuple(row[1] for row in db.execute(f"PRAGMA table_info({table})"))
    rows = db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema ="
        " current_schema() AND table_name = ? ORDER BY ordinal_position",
        (table,),
    )
    return tuple(name for (name,) in rows)


def _behind(source: CopyStore, report: CopyReport) -> set[str]:
    """The tables of the derived indexes that do not hold every write of the snapshot."""
    db = source.db
    written = max(_max_seq(db, "posts"), _max_seq(db, "removed_posts"))
    last = max(source.last_seq(), written)
    left_out: set[str] = set()
    for state_table, tables in DERIVED.items():
        state = dict(db.execute(f"SELECT name, value FROM {state_table}").fetchall())
        if not state:
            continue  # never built: nothing to copy
        held = str(state.get("seq", ""))
        if not (held.isdigit() and written <= int(held) <= last):
            left_out.update((state_table, *tables))
            report.behind.append(DERIVED_NAMES[state_table])
    return left_out


def _max_seq(db: Any, table: str) -> int:
    (value,) = db.execute(f"SELECT max(seq) FROM {table}").fetchone()
    return int(value or 0)


def _check_empty(db: Any, plan: Iterable[Table], where: str) -> None:
    """The target holds nothing (its meta and the derived state aside); its derived state
    describes no posts, so it goes: the copy brings the source's."""
    for table in plan:
        if table.name == "meta" or table.name in DERIVED:
            continue
        if db.execute(f"SELECT 1 FROM {table.name} LIMIT 1").fetchone():
            raise StoreError(f"{where}: not empty; copy into a new archive")
    for state_table in DERIVED:
        db.execute(f"DELETE FROM {state_table}")


class _Writer:
    """Copies a table at a time from the source's connection to the target's."""

    def __init__(
        self,
        source: Any,
        target: Any,
        seq: int,
        report: CopyReport,
        progress: CopyProgress | None,
    ):
        self.source, self.target, self.seq = source, target, seq
        self.report, self.progress = report, progress
        self.from_pg = dialect_of(source).name == "postgresql"
        self.to_pg = dialect_of(target).name == "postgresql"

    def copy(self, table: Table) -> None:
        """Every row of ``table``, a batch at a time, in key order."""
        done = 0
        write = self._writer(table)
        with contextlib.closing(self._read(table)) as rows:
            while batch := list(islice(rows, BATCH)):
                write(self._rows(table, batch))
                done += len(batch)
                if self.progress is not None:
                    self.progress(table.name, done)
        self.report.rows[table.name] = done

    def _read(self, table: Table) -> Generator[Any, None, None]:
        if table.name == "meta":
            query = f"SELECT name, value FROM meta WHERE name NOT IN ({_quoted(OWN_META)})"
            yield from self.source.execute(f"{query} ORDER BY name").fetchall()
        elif self.from_pg:
            yield from self.source.stream(table.select, size=BATCH)
        else:
            yield from _cursor_rows(self.source, table.select, self.report.source, table.name)

    def _writer(self, table: Table) -> Callable[[list[tuple]], None]:
        target, where = self.target, self.report.target
        if table.name == "meta":  # the target's own rows are kept, any other replaced
            statement = f"{table.insert} ON CONFLICT (name) DO UPDATE SET value = excluded.value"
            return functools.partial(_write_many, target, statement, where, table.name)
        if self.to_pg:
            names = tuple(f'"{column}"' for column in table.columns)
            return lambda rows: _write_copy(target, table.name, names, rows, where)
        return functools.partial(_write_many, target, table.insert, where, table.name)

    def _rows(self, table: Table, batch: list[Any]) -> list[tuple]:
        """The batch as the target gets it: the copy's seq, its state, text PostgreSQL takes."""
        if table.name in DERIVED:
            return [self._state(row) for row in batch if row[0] not in RUN_STATE]
        seqs = [at for at, name in enumerate(table.columns) if name == "seq"]
        texts = [at for at, kind in enumerate(table.types) if kind == "TEXT"] if self.to_pg else []
        if not seqs and not texts:
            return [tuple(row) for row in batch]
        out = []
        for row in batch:
            values = list(row)
            for at in seqs:
                values[at] = self.seq
            for at in texts:
                values[at] = self._text(table, at, values[at], values)
            out.append(tuple(values))
        return out

    def _state(self, row: Any) -> tuple:
        name, value = row
        return (name, str(self.seq)) if name == "seq" else (name, value)

    def _text(self, table: Table, at: int, value: Any, row: list[Any]) -> Any:
        """A text value as PostgreSQL takes it (SQLite lets a TEXT column hold bytes,
        which would arrive as their escaped form: refused)."""
        if isinstance(value, str):
            if NUL in value:
                self.report.replaced_nul += 1
                return value.replace(NUL, REPLACEMENT)
            return value
        if isinstance(value, bytes | memoryview):
            key = ", ".join(f"{c}={v!r}" for c, v in zip(table.columns, row, strict=True)
                            if c in table.order)  # fmt: skip
            raise StoreError(
                f"{self.report.source}: {table.name}.{table.columns[at]} holds bytes, not text"
                f" ({key[:200]}); PostgreSQL cannot take it"
            )
        return value


def _cursor_rows(db: Any, sql: str, where: str, table: str) -> Iterator[Any]:
    """A SQLite query's rows as they are read, its errors naming the archive and table."""
    try:
        yield from db.execute(sql)
    except DATABASE_ERRORS as error:
        raise StoreError(f"{where}: reading {table}: {error}") from error


def _write_many(db: Any, statement: str, where: str, table: str, rows: list[tuple]) -> None:
    try:
        db.executemany(statement, rows)
    except DATABASE_ERRORS as error:
        raise StoreError(f"{where}: writing {table}: {error}") from error


def _write_copy(
    db: Any, table: str, columns: tuple[str, ...], rows: list[tuple], where: str
) -> None:
    try:
        db.copy_rows(table, columns, rows)
    except StoreError as error:  # RecordRejected too: a value PostgreSQL refuses
        text = str(error) if str(error).startswith(where) else f"{where}: {error}"
        raise type(error)(f"{text} (writing {table})") from error


def _finish(target: CopyStore, plan: Iterable[Table], report: CopyReport) -> None:
    """PostgreSQL: each pk sequence past the largest pk, and the posts' search words."""
    if dialect_of(target.db).name != "postgresql":
        return
    for table in plan:
        if "pk" in table.columns:
            # NULL (and nothing done) for a pk without a sequence; an empty table starts at 1
            target.db.execute(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'pk'),"
                f" coalesce(max(pk), 1), max(pk) IS NOT NULL) FROM {table.name}"
            )
    search = target.text_search()
    if search is not None:
        report.words = search.rebuild(target)


def _names(columns: Iterable[str]) -> str:
    return ", ".join(f'"{column}"' for column in columns)


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in sorted(values))
