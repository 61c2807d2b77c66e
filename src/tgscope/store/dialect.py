"""What differs between the engines the store runs on, in one small value.

The store's SQL is written in forms both SQLite and PostgreSQL take (docs/scale-out.md, step
1); the few pieces that cannot be are here: how to begin a transaction, a few expressions, a
query-planner hint.  A helper asks its connection for its dialect (:func:`tgscope.store.dbapi.
dialect_of`) and builds those pieces from it.  Expressions are templates: ``{0}`` is the SQL
expression they apply to.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Dialect:
    """One engine's forms of the statements and expressions that differ."""

    name: str
    #: a write transaction that takes the writers' lock at once (so the archive's last write,
    #: read inside it, stays the last until it commits)
    begin_write: str
    #: a read transaction: the queries inside see one state of the archive
    begin_read: str
    #: run after ``begin_write`` by the derived tables' writers (near copies, events, media)
    #: so that they take turns ("" when beginning the write took the lock already)
    derived_lock: str
    #: a query for the archive's last write: every write numbered up to it is committed
    last_write_query: str
    #: what beginning a write raises when another process holds the writers' lock
    busy_errors: tuple[type[BaseException], ...]
    #: a query giving the archive's file or database name, for messages
    location_query: str
    #: an expression: 32 random lowercase hex digits (an archive's id)
    random_id: str
    #: ``{0}`` as seconds since 1970 (NULL for text that is no date)
    epoch_template: str
    #: the Monday (``YYYY-MM-DD``) of the week of the ISO date ``{0}``
    week_start_template: str
    #: the ISO date-time ``{0}`` cut to its quarter hour: ``YYYY-MM-DDTHH:MM``
    quarter_hour_template: str
    #: a JSON list (text) of ``{0}`` over the rows a subquery selects
    json_list_template: str
    #: the operator matching a ``LIKE`` pattern whatever the ASCII case
    like_ci: str
    #: ``{0}`` (a table) read through index ``{1}`` (the planner's own choice elsewhere)
    indexed_by_template: str
    #: whether inserts leave NULLs out instead of binding them (see store.bind)
    omit_nulls: bool
    #: an expression: the database's clock now, in seconds since 1970 (a float)
    now_epoch: str
    #: the larger of two values (a scalar function)
    greatest: str
    #: what a queue's ``SELECT … LIMIT 1`` adds to take a row no other worker holds ("" where
    #: the write transaction is the whole database's lock)
    skip_locked: str

    def epoch(self, value: str) -> str:
        return self.epoch_template.format(value)

    def week_start(self, date: str) -> str:
        return self.week_start_template.format(date)

    def quarter_hour(self, date: str) -> str:
        return self.quarter_hour_template.format(date)

    def json_list(self, value: str) -> str:
        return self.json_list_template.format(value)

    def indexed_by(self, table: str, index: str) -> str:
        return self.indexed_by_template.format(table, index)


SQLITE = Dialect(
    name="sqlite",
    begin_write="BEGIN IMMEDIATE",
    begin_read="BEGIN",
    derived_lock="",
    last_write_query="SELECT value FROM meta WHERE name = 'seq'",
    busy_errors=(sqlite3.OperationalError,),
    location_query="SELECT file FROM pragma_database_list WHERE name = 'main'",
    random_id="lower(hex(randomblob(16)))",
    epoch_template="unixepoch({0})",
    week_start_template="date(substr({0}, 1, 10), '-6 days', 'weekday 1')",
    # the minutes are text: SQLite's integer affinity makes '07' / 15 an integer division
    quarter_hour_template="substr({0}, 1, 14) || printf('%02d', substr({0}, 15, 2) / 15 * 15)",
    json_list_template="json_group_array({0})",
    like_ci="LIKE",  # SQLite's LIKE ignores ASCII case
    indexed_by_template="{0} INDEXED BY {1}",
    omit_nulls=True,
    now_epoch="((julianday('now') - 2440587.5) * 86400.0)",
    greatest="max",
    skip_locked="",
)

POSTGRES = Dialect(
    name="postgresql",
    begin_write="BEGIN",
    begin_read="BEGIN ISOLATION LEVEL REPEATABLE READ",
    derived_lock="SELECT pg_advisory_xact_lock(hashtext('tgscope.derived'))",
    # the horizon: one less than the oldest transaction still running (store/postgres.py)
    last_write_query=(
        "SELECT CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS text) AS bigint) - 1"
    ),
    busy_errors=(),  # writers wait for each other's rows, they are never turned away
    location_query="SELECT current_database()",
    random_id="md5(random()::text || clock_timestamp()::text)",
    # the archive's dates are ISO texts tgscope wrote; the session's time zone is UTC
    epoch_template="CAST(floor(extract(epoch FROM CAST({0} AS timestamptz))) AS bigint)",
    week_start_template=(
        "to_char(date_trunc('week', CAST(substr({0}, 1, 10) AS date)), 'YYYY-MM-DD')"
    ),
    quarter_hour_template=(
        "substr({0}, 1, 14) || lpad(CAST(CAST(substr({0}, 15, 2) AS integer) / 15 * 15 AS text),"
        " 2, '0')"
    ),
    json_list_template="coalesce(json_agg({0})::text, '[]')",
    like_ci="ILIKE",  # under COLLATE "C" it folds ASCII only, like SQLite's LIKE
    indexed_by_template="{0}",
    omit_nulls=False,
    now_epoch="CAST(extract(epoch FROM clock_timestamp()) AS double precision)",
    greatest="greatest",
    skip_locked=" FOR UPDATE SKIP LOCKED",
)
