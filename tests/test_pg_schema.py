"""The PostgreSQL schema (issue 13: docs/scale-out.md §2.2, step 4): the same tables, columns,
keys, indexes and views as a fresh SQLite archive, and a migrate that is safe to run twice, at
once, or on someone else's database."""

from __future__ import annotations

import itertools
import re
import sqlite3
import threading
from pathlib import Path

import pytest

from tgscope.store import pg_schema
from tgscope.store.pg_schema import (
    BASELINE,
    BASELINE_VERSION,
    PG_ONLY_INDEXES,
    PG_ONLY_TABLES,
    migrate,
)
from tgscope.store.schema import SCHEMA_VERSION
from tgscope.store.sqlite import SQLiteStore

from .pg import PgServer, running_server

psycopg = pytest.importorskip("psycopg")

_databases = itertools.count(1)
#: SQLite's declared types and what they became
_TYPES = {"INTEGER": "bigint", "TEXT": "text", "REAL": "double precision", "BLOB": "bytea"}
_ON_DELETE = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}


@pytest.fixture(scope="module")
def server():
    with running_server() as running:
        yield running


@pytest.fixture
def dsn(server: PgServer) -> str:
    """A new, empty database of its own."""
    name = f"t{next(_databases)}"
    with connect(server.dsn) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return f"{server.dsn.rsplit('/', 1)[0]}/{name}"


@pytest.fixture
def db(dsn: str):
    with connect(dsn) as connection:
        yield connection


def connect(dsn: str):
    return psycopg.connect(dsn, autocommit=True, connect_timeout=10)


# -- what each engine says its schema is ---------------------------------------------------


def sqlite_archive(folder: Path) -> sqlite3.Connection:
    SQLiteStore(folder / "a.db").close()
    return sqlite3.connect(folder / "a.db")


def sqlite_relations(db: sqlite3.Connection, kind: str) -> list[str]:
    query = "SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' ORDER BY 1"
    return [name for (name,) in db.execute(query, (kind,))]


def sqlite_columns(db: sqlite3.Connection, table: str) -> list[tuple]:
    """(name, type, not null, default) in order; a primary key is never null on PostgreSQL,
    while SQLite calls an INTEGER PRIMARY KEY, or a rowid table's TEXT one, nullable."""
    return [
        (name, _TYPES[kind], bool(notnull or pk), default)
        for _, name, kind, notnull, default, pk in db.execute(f"PRAGMA table_info({table})")
    ]


def pg_relations(db, kind: str) -> list[str]:
    query = (
        "SELECT table_name FROM information_schema.tables"
        f" WHERE table_schema = current_schema() AND table_type = '{kind}' ORDER BY 1"
    )
    return [name for (name,) in db.execute(query)]


def pg_columns(db, table: str) -> list[tuple]:
    rows = db.execute(
        "SELECT column_name, data_type, collation_name, is_nullable, column_default"
        " FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = %s ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    for name, kind, collation, _, _ in rows:
        assert kind != "text" or collation == "C", f"{table}.{name} is not COLLATE C"
    return [
        (name, kind, nullable == "NO", None if default is None else default.removesuffix("::text"))
        for name, kind, _, nullable, default in rows
    ]


def sqlite_indexes(db: sqlite3.Connection) -> set[tuple]:
    """(name, table, unique, WHERE clause) of the indexes made by name."""
    found = set()
    for name, table, sql in db.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ):
        where = re.search(r"\bWHERE\b(.*)", sql, re.S)
        found.add((name, table, "UNIQUE INDEX" in sql, where and bare(where[1])))
    return found


def bare(clause: str) -> str:
    """A WHERE clause without its brackets and spaces: PostgreSQL adds brackets."""
    return re.sub(r"[()\s]", "", clause)


def pg_indexes(db) -> set[tuple]:
    """The same on PostgreSQL, leaving out those that serve a constraint (``*_pkey``...)."""
    rows = db.execute(
        "SELECT i.relname, t.relname, x.indisunique, pg_get_expr(x.indpred, x.indrelid)"
        " FROM pg_index x"
        " JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
        " WHERE t.relnamespace = current_schema()::regnamespace"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)"
    ).fetchall()
    return {
        (name, table, unique, where and bare(where))
        for name, table, unique, where in rows
        if table not in PG_ONLY_TABLES and name not in PG_ONLY_INDEXES
    }


def sqlite_keys(db: sqlite3.Connection) -> set[tuple]:
    """(table, columns) of every primary key and UNIQUE constraint."""
    keys = set()
    for table in sqlite_relations(db, "table"):
        info = sorted(db.execute(f"PRAGMA table_info({table})"), key=lambda row: row[5])
        if primary := tuple(row[1] for row in info if row[5]):
            keys.add((table, primary))
        for _, name, _, origin, _ in db.execute(f"PRAGMA index_list({table})"):
            if origin == "u":
                columns = db.execute(f"PRAGMA index_info({name})").fetchall()
                keys.add((table, tuple(column for _, _, column in columns)))
    return keys


def pg_keys(db) -> set[tuple]:
    """The same on PostgreSQL; an index standing for a SQLite key counts as one, its
    ``md5(column)`` as the column."""
    rows = db.execute(
        "SELECT conrelid::regclass::text, array_agg(a.attname ORDER BY k.ord) FROM pg_constraint"
        " CROSS JOIN unnest(conkey) WITH ORDINALITY AS k(num, ord)"
        " JOIN pg_attribute a ON a.attrelid = conrelid AND a.attnum = k.num"
        " WHERE contype IN ('p', 'u') AND connamespace = current_schema()::regnamespace"
        " GROUP BY oid, conrelid"
    ).fetchall()
    keys = {(table, tuple(columns)) for table, columns in rows if table not in PG_ONLY_TABLES}
    for name in PG_ONLY_INDEXES:
        table, columns = db.execute(
            "SELECT indrelid::regclass::text, array_agg(pg_get_indexdef(indexrelid, k, true)"
            " ORDER BY k) FROM pg_index CROSS JOIN generate_series(1, indnkeyatts) AS k"
            " WHERE indexrelid = %s::regclass GROUP BY indexrelid, indrelid",
            (name,),
        ).fetchone()
        keys.add((table, tuple(re.sub(r"^md5\((\w+)\)$", r"\1", column) for column in columns)))
    return keys


def sqlite_foreign_keys(db: sqlite3.Connection) -> set[tuple]:
    """(table, columns, referenced table, its columns, on delete)."""
    found: dict[tuple, list] = {}
    for table in sqlite_relations(db, "table"):
        for number, _, parent, column, to, _, on_delete, _ in db.execute(
            f"PRAGMA foreign_key_list({table})"
        ):
            found.setdefault((table, number, parent, on_delete), []).append((column, to))
    return {
        (table, tuple(c for c, _ in pairs), parent, tuple(t for _, t in pairs), on_delete)
        for (table, _, parent, on_delete), pairs in found.items()
    }


def pg_foreign_keys(db) -> set[tuple]:
    rows = db.execute(
        "SELECT conrelid::regclass::text, confrelid::regclass::text, confdeltype,"
        " array(SELECT attname FROM unnest(conkey) WITH ORDINALITY AS k(num, ord)"
        "  JOIN pg_attribute ON attrelid = conrelid AND attnum = num ORDER BY ord),"
        " array(SELECT attname FROM unnest(confkey) WITH ORDINALITY AS k(num, ord)"
        "  JOIN pg_attribute ON attrelid = confrelid AND attnum = num ORDER BY ord)"
        " FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
    ).fetchall()
    return {
        (table, tuple(columns), parent, tuple(to), _ON_DELETE[action])
        for table, parent, action, columns, to in rows
        if table not in PG_ONLY_TABLES
    }


# -- parity --------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_tables_and_their_columns_are_sqlites_in_the_same_order(db, tmp_path):
    lite = sqlite_archive(tmp_path)
    migrate(db)
    tables = sqlite_relations(lite, "table")
    assert [t for t in pg_relations(db, "BASE TABLE") if t not in PG_ONLY_TABLES] == tables
    for table in tables:  # names, order, types, nullability, defaults ('x'::text read as 'x')
        assert pg_columns(db, table) == sqlite_columns(lite, table), table


@pytest.mark.slow
def test_the_keys_foreign_keys_and_indexes_are_sqlites(db, tmp_path):
    lite = sqlite_archive(tmp_path)
    migrate(db)
    assert pg_keys(db) == sqlite_keys(lite)
    assert pg_foreign_keys(db) == sqlite_foreign_keys(lite)
    assert pg_indexes(db) == sqlite_indexes(lite)
    (search,) = db.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'post_words_gin'"
    ).fetchone()
    assert search.endswith("ON public.post_words USING gin (words)")


@pytest.mark.slow
def test_the_views_are_sqlites_and_show_the_same_rows(db, tmp_path):
    lite = sqlite_archive(tmp_path)
    migrate(db)
    views = sqlite_relations(lite, "view")
    assert (
        pg_relations(db, "VIEW")
        == views
        == sorted(["posts_overview", "hashtag_counts", "channel_summary", "forwards"])
    )
    for statement in _SAMPLE:
        lite.execute(statement)
        db.execute(statement)
    for view in views:
        names = [column[0] for column in pg_columns(db, view)]
        assert names == [row[1] for row in lite.execute(f"PRAGMA table_info({view})")], view
        query = f"SELECT * FROM {view}"
        assert typed(db.execute(query)) == typed(lite.execute(query)), view


def typed(rows) -> list[list[tuple]]:
    """Rows with each value's type, in a set order: 12 and Decimal(12) differ."""
    return sorted(([(type(value).__name__, value) for value in row] for row in rows), key=repr)


# rows for the views: two channels, forwards, reactions, hashtags written out of their order
_SAMPLE = [
    "INSERT INTO channels (pk, username, title, subscribers) VALUES (1, 'a', 'A', 10),"
    " (2, 'b', NULL, NULL)",
    "INSERT INTO posts (pk, key, channel_pk, message_id, date, text, seq, forwarded_from_title,"
    " forwarded_from_channel) VALUES (1, 'a/1', 1, 1, '2024-01-02', 'Лавров', 1, 'X', 'x'),"
    " (2, 'a/2', 1, 2, '2024-01-01', '', 1, 'X', 'x'), (3, 'b/1', 2, 1, NULL, 'z', 2, NULL,"
    " NULL), (4, 'dump:1', NULL, NULL, '2023-05-05', 'y', 2, 'Y', NULL)",
    "INSERT INTO reactions (post_pk, position, emoji, count) VALUES (1, 0, '👍', 5),"
    " (1, 1, '🔥', 7), (3, 0, '👍', 1)",
    "INSERT INTO hashtags (post_pk, position, tag, folded) VALUES (1, 1, 'Китай', 'китай'),"
    " (1, 0, 'МИД', 'мид'), (2, 0, 'МИД', 'мид'), (3, 0, 'z', 'z')",
]


# -- migrate -------------------------------------------------------------------------------


def test_the_baseline_is_version_11_for_good():
    """A new SQLite migration needs its PostgreSQL counterpart in MIGRATIONS_AFTER_BASELINE."""
    assert BASELINE_VERSION == 11
    assert BASELINE_VERSION + len(pg_schema.MIGRATIONS_AFTER_BASELINE) == SCHEMA_VERSION
    assert all(";" not in statement for statement in BASELINE)  # one statement an item


@pytest.mark.slow
def test_an_empty_database_becomes_an_archive_once(db):
    assert migrate(db) == 0
    meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
    assert re.fullmatch("[0-9a-f]{32}", meta["archive_id"])
    assert meta == {"archive_id": meta["archive_id"], "schema_version": str(SCHEMA_VERSION)}
    assert migrate(db) == SCHEMA_VERSION  # nothing to do
    assert dict(db.execute("SELECT name, value FROM meta").fetchall()) == meta
    assert db.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


@pytest.mark.slow
def test_two_processes_migrating_at_once_migrate_once(dsn):
    start, had, errors = threading.Barrier(2), [], []

    def run() -> None:
        with connect(dsn) as db:
            start.wait()
            try:
                had.append(migrate(db))
            except Exception as error:  # reported below
                errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and sorted(had) == [0, SCHEMA_VERSION]
    with connect(dsn) as db:
        assert db.execute("SELECT count(*) FROM meta").fetchone() == (2,)
        assert db.execute("SELECT count(*) FROM pg_class WHERE relname = 'posts'").fetchone() == (
            1,
        )


@pytest.mark.slow
@pytest.mark.parametrize(
    "theirs",
    [
        "CREATE TABLE foo (x int)",
        "CREATE VIEW foo AS SELECT 1 AS x",
        "CREATE TABLE meta (k int)",
        "CREATE TABLE meta (name text, value text)",  # no schema_version
    ],
)
def test_someone_elses_database_is_refused_and_left_as_it_is(db, theirs):
    db.execute(theirs)
    before = pg_relations(db, "BASE TABLE") + pg_relations(db, "VIEW")
    with pytest.raises(RuntimeError) as refused:
        migrate(db)
    assert str(refused.value) == (
        "a PostgreSQL database that is not a tgscope archive; it was left as it is"
    )
    assert pg_relations(db, "BASE TABLE") + pg_relations(db, "VIEW") == before
    assert db.execute("SELECT count(*) FROM pg_sequences").fetchone() == (0,)
    assert db.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


@pytest.mark.slow
def test_a_foreign_tables_rows_are_untouched(db):
    db.execute("CREATE TABLE foo (x int)")
    db.execute("INSERT INTO foo VALUES (1), (2)")
    with pytest.raises(RuntimeError, match="not a tgscope archive"):
        migrate(db)
    assert db.execute("SELECT x FROM foo ORDER BY x").fetchall() == [(1,), (2,)]


@pytest.mark.slow
def test_a_newer_archive_is_refused(db):
    migrate(db)
    db.execute(f"UPDATE meta SET value = '{SCHEMA_VERSION + 1}' WHERE name = 'schema_version'")
    with pytest.raises(RuntimeError) as refused:
        migrate(db)
    assert str(refused.value) == (
        f"archive schema version {SCHEMA_VERSION + 1} is newer than this tgscope ({SCHEMA_VERSION})"
    )


@pytest.mark.slow
def test_later_migrations_run_from_the_stored_version_up(db, monkeypatch):
    migrate(db)  # at the baseline
    later = ["CREATE TABLE later (x bigint)", "ALTER TABLE later ADD COLUMN y bigint"]
    monkeypatch.setattr(pg_schema, "MIGRATIONS_AFTER_BASELINE", later)
    monkeypatch.setattr(pg_schema, "SCHEMA_VERSION", BASELINE_VERSION + 2)
    db.execute(f"UPDATE meta SET value = '{BASELINE_VERSION + 1}' WHERE name = 'schema_version'")
    db.execute("CREATE TABLE later (x bigint)")  # as migration 12 left it
    assert migrate(db) == BASELINE_VERSION + 1
    assert [c[0] for c in pg_columns(db, "later")] == ["x", "y"]
    version = "SELECT value FROM meta WHERE name = 'schema_version'"
    assert db.execute(version).fetchone() == (str(BASELINE_VERSION + 2),)


@pytest.mark.slow
def test_an_empty_database_gets_the_baseline_then_the_later_migrations(db, monkeypatch):
    monkeypatch.setattr(pg_schema, "MIGRATIONS_AFTER_BASELINE", ["CREATE TABLE later (x bigint)"])
    monkeypatch.setattr(pg_schema, "SCHEMA_VERSION", BASELINE_VERSION + 1)
    assert migrate(db) == 0
    assert "later" in pg_relations(db, "BASE TABLE")
    version = "SELECT value FROM meta WHERE name = 'schema_version'"
    assert db.execute(version).fetchone() == (str(BASELINE_VERSION + 1),)


@pytest.mark.slow
def test_a_failed_migration_leaves_nothing_behind(db, monkeypatch):
    monkeypatch.setattr(pg_schema, "MIGRATIONS_AFTER_BASELINE", ["CREATE TABLE posts (x int)"])
    monkeypatch.setattr(pg_schema, "SCHEMA_VERSION", BASELINE_VERSION + 1)
    with pytest.raises(psycopg.errors.DuplicateTable):
        migrate(db)
    assert pg_relations(db, "BASE TABLE") == []  # the baseline was rolled back with it
    assert db.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


@pytest.mark.slow
def test_the_schema_named_by_the_search_path_is_the_archive(dsn):
    with connect(dsn) as db:
        db.execute("CREATE SCHEMA tg")
    with connect(f"{dsn}?options=-csearch_path%3Dtg") as db:
        assert migrate(db) == 0
        assert "posts" in pg_relations(db, "BASE TABLE")
    with connect(dsn) as db:  # public
        assert pg_relations(db, "BASE TABLE") == []
    missing = pytest.raises(RuntimeError, match="search_path names no schema")
    with connect(f"{dsn}?options=-csearch_path%3Dnone") as db, missing:
        migrate(db)


# -- keys ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_rows_get_pks_where_the_store_leaves_them_out(db):
    migrate(db)
    identity = "SELECT table_name FROM information_schema.columns WHERE is_identity = 'YES'"
    assert sorted(t for (t,) in db.execute(identity)) == sorted(
        ["channels", "sources", "observations", "raw_pages", "events"]
    )
    (post,) = db.execute("SELECT nextval('posts_pk_seq')").fetchone()
    assert db.execute("SELECT nextval('posts_pk_seq')").fetchone() == (post + 1,)
    (channel,) = db.execute(
        "INSERT INTO channels (username) VALUES ('a'), ('b') RETURNING pk"
    ).fetchall()[-1]
    db.execute(f"INSERT INTO posts (pk, key, channel_pk, seq) VALUES ({post}, 'b/1', {channel}, 1)")
    (source,) = db.execute(
        "INSERT INTO sources (kind, ref, sha256, observed_at, imported_at)"
        " VALUES ('web', 'u', 'h', 't', 't') RETURNING pk"
    ).fetchone()
    pks = [
        db.execute(
            "INSERT INTO observations (post_pk, source_pk, observed_at)"
            f" VALUES ({post}, {source}, 't') RETURNING pk"
        ).fetchone(),
        db.execute(
            "INSERT INTO raw_pages (url, fetched_at, sha256, content)"
            " VALUES ('u', 't', 'h', '\\x00ff'::bytea) RETURNING pk"
        ).fetchone(),
        db.execute(
            "INSERT INTO events (post_pk, position, type, modality, mode, record)"
            f" VALUES ({post}, 0, 'CONSULT', 'factual', '[]', '{{}}') RETURNING pk"
        ).fetchone(),
    ]
    assert channel == 2 and source == 1 and pks == [(1,), (1,), (1,)]
    db.execute("INSERT INTO post_words VALUES (%s, '''лавров'':1'::tsvector)", (post,))
    db.execute(f"DELETE FROM observations; DELETE FROM events; DELETE FROM posts WHERE pk = {post}")
    assert db.execute("SELECT count(*) FROM post_words").fetchone() == (0,)  # cascades


@pytest.mark.slow
def test_an_earlier_text_too_long_for_a_btree_entry_is_kept_once(db):
    migrate(db)
    db.execute("INSERT INTO posts (pk, key, seq) VALUES (1, 'k', 1)")
    text = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(4096))  # compresses badly
    insert = (
        "INSERT INTO post_versions (post_pk, replaced_at, text) VALUES (1, 't', %s)"
        " ON CONFLICT DO NOTHING"
    )
    assert db.execute(insert, (text,)).rowcount == 1
    assert db.execute(insert, (text,)).rowcount == 0
    assert db.execute(insert, (text + ".",)).rowcount == 1
    assert db.execute("SELECT count(*) FROM post_versions").fetchone() == (2,)
