"""What differs between engines is in ``store/dialect.py`` and nowhere else in the store
(docs/scale-out.md, step 2): the helpers take it from their connection."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from tgscope.errors import StoreError
from tgscope.store.bind import insert_rows
from tgscope.store.dbapi import SQLiteConnection, dialect_of
from tgscope.store.derived import derived_write
from tgscope.store.dialect import SQLITE, Dialect
from tgscope.store.events import EventTables
from tgscope.store.media import MediaTables
from tgscope.store.reader import PostReader
from tgscope.store.sqlite import SQLiteStore

from .helpers import lines_matching, post, source

ROOT = Path(__file__).resolve().parent.parent / "src" / "tgscope"
STORE = ROOT / "store"
#: the migrations are SQLite's DDL, kept as shipped; PostgreSQL's baseline is beside them
SKIPPED = {"dialect.py", "schema.py", "pg_schema.py"}
ENGINE_FORMS = {
    "BEGIN IMMEDIATE": re.compile(r"BEGIN\s+IMMEDIATE"),
    "a raw BEGIN": re.compile(r"""["']BEGIN\b"""),
    "INDEXED BY": re.compile(r"INDEXED\s+BY"),
    "randomblob": re.compile(r"randomblob"),
    "unixepoch": re.compile(r"unixepoch\("),
    "json_group_array": re.compile(r"json_group_array"),
    "date modifiers": re.compile(r"'weekday \d'"),
    "printf": re.compile(r"printf\("),
}
#: the modules where the engine itself is named: its dialect, its connection, its store, and
#: the copy's plan of the tables (read from the SQLite schema, which PostgreSQL's mirrors)
SQLITE_MODULES = {"dialect.py", "dbapi.py", "schema.py", "sqlite.py", "copying.py"}


@pytest.mark.parametrize("form", ENGINE_FORMS)
def test_engine_specific_sql_is_left_to_the_dialect(form):
    assert lines_matching(STORE, ENGINE_FORMS[form], skipped=SKIPPED) == []


def test_sqlite3_is_imported_only_where_the_engine_is_named():
    imports = re.compile(r"^\s*(?:import sqlite3|from sqlite3 import)", re.MULTILINE)
    found = [path.name for path in STORE.glob("*.py") if imports.search(path.read_text())]
    assert sorted(found) == sorted(SQLITE_MODULES & {p.name for p in STORE.glob("*.py")})


def test_the_stores_connection_says_its_dialect_and_a_plain_one_is_sqlites(tmp_path):
    store = SQLiteStore(tmp_path / "a.db")
    assert isinstance(store.db, SQLiteConnection)
    assert dialect_of(store.db) is SQLITE
    store.close()
    plain = sqlite3.connect(tmp_path / "a.db")
    assert dialect_of(plain) is SQLITE
    plain.close()


@pytest.mark.parametrize(
    ("expression", "value", "expected"),
    [
        (SQLITE.epoch("?"), "2024-03-07T10:00:00+00:00", 1709805600),
        (SQLITE.epoch("?"), "not a date", None),
        (SQLITE.week_start("?"), "2024-03-07T10:00:00+00:00", "2024-03-04"),
        (SQLITE.week_start("?"), "2024-03-04T00:00:00+00:00", "2024-03-04"),
        (SQLITE.week_start("?"), "2024-03-10T23:59:00+00:00", "2024-03-04"),
        (SQLITE.quarter_hour("?"), "2024-03-07T10:37:00+00:00", "2024-03-07T10:30"),
        (SQLITE.quarter_hour("?"), "2024-03-07T10:07:00+00:00", "2024-03-07T10:00"),
    ],
)
def test_sqlite_expressions(expression, value, expected):
    db = sqlite3.connect(":memory:")
    sql = expression.replace("?", ":v")  # quarter_hour names its value twice
    assert db.execute(f"SELECT {sql}", {"v": value}).fetchone() == (expected,)


def test_sqlite_json_list_random_id_and_like():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (x TEXT)")
    db.executemany("INSERT INTO t (x) VALUES (?)", [("a",), ("b",)])
    assert db.execute(f"SELECT {SQLITE.json_list('x')} FROM t").fetchone() == ('["a","b"]',)
    (one,), (two,) = (db.execute(f"SELECT {SQLITE.random_id}").fetchone() for _ in range(2))
    assert re.fullmatch("[0-9a-f]{32}", one) and one != two
    assert db.execute(f"SELECT 'HTTPS://T.ME/x' {SQLITE.like_ci} '%t.me/%'").fetchone() == (1,)


# -- the helpers take their connection's dialect ------------------------------------------


def connect(path: Path, dialect: Dialect) -> tuple[sqlite3.Connection, list[str]]:
    """A connection to ``path`` saying ``dialect``, and the statements it runs."""

    class Connection(SQLiteConnection):
        pass

    Connection.dialect = dialect
    db = sqlite3.connect(path, isolation_level=None, factory=Connection)
    statements: list[str] = []
    db.set_trace_callback(statements.append)
    return db, statements


@pytest.fixture
def archive(tmp_path) -> Path:
    store = SQLiteStore(tmp_path / "a.db")
    with store.transaction():
        store.save_posts([post("c/1", "one", channel="c")], store.add_source(source()))
    store.close()
    return tmp_path / "a.db"


OTHER = replace(
    SQLITE,
    begin_write="BEGIN EXCLUSIVE",
    begin_read="BEGIN DEFERRED",
    indexed_by_template="{0} NOT INDEXED",
    omit_nulls=False,
)


def test_derived_and_media_writes_begin_as_the_dialect_says(archive):
    db, statements = connect(archive, OTHER)
    with derived_write(db) as seq:
        assert seq == 1
    with MediaTables(db).saving():
        pass
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN EXCLUSIVE"] * 2
    db.close()


def test_the_readers_snapshot_and_the_events_hint_come_from_the_dialect(archive):
    db, statements = connect(archive, OTHER)
    reader = PostReader(db)
    assert reader.get("c/1") is not None
    assert EventTables(db).written_since(0) == EventTables(db).written_since(-1) == [1]
    assert EventTables(db).written_after(0)
    assert "BEGIN DEFERRED" in statements
    assert "SELECT pk FROM posts NOT INDEXED WHERE seq > -1" in statements
    db.close()


def test_an_engine_binding_nulls_quickly_inserts_every_column(archive):
    db, statements = connect(archive, OTHER)
    db.execute("CREATE TABLE t (a TEXT, b TEXT DEFAULT 'b')")
    insert_rows(db, "t", ("a", "b"), [("x", None), (None, "y")])
    assert db.execute("SELECT a, b FROM t").fetchall() == [("x", None), (None, "y")]
    assert [s for s in statements if s.startswith("INSERT")] == [
        "INSERT INTO t (a, b) VALUES ('x', NULL)",
        "INSERT INTO t (a, b) VALUES (NULL, 'y')",
    ]
    db.close()


def test_a_locked_archive_refuses_a_derived_write_naming_its_file(archive):
    holder = sqlite3.connect(archive, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    db = sqlite3.connect(archive, isolation_level=None, timeout=0, factory=SQLiteConnection)
    locked = re.escape(f"{archive}: the archive is locked")
    with pytest.raises(StoreError, match=locked), derived_write(db):
        pass
    holder.execute("ROLLBACK")
    holder.close()
    db.close()


# -- the archive and the CLI leave the engine to the store ---------------------------------


def test_neither_the_archive_nor_the_cli_imports_sqlite3():
    imports = re.compile(r"^\s*(?:import sqlite3|from sqlite3 import)", re.MULTILINE)
    paths = [ROOT / "archive.py", *sorted((ROOT / "cli").glob("*.py"))]
    assert [path.name for path in paths if imports.search(path.read_text())] == []


def test_sources_are_counted_by_the_store_and_by_file_without_creating_one(tmp_path):
    from tgscope.archive import Archive

    store = SQLiteStore(tmp_path / "a.db")
    first = source("test://a")
    with store.transaction():
        store.add_source(first)
        store.add_source(source("test://b", "1" * 64))
    assert store.count_sources() == 2
    assert store.count_sources("test://a", "") == 1
    assert store.count_sources("test://a", "9999") == 0
    assert Archive.count_sources(tmp_path / "a.db") == 2
    assert Archive.count_sources(tmp_path / "a.db", "test://b", "") == 1
    store.close()
    assert Archive.count_sources(tmp_path / "none.db") is None
    assert not (tmp_path / "none.db").exists()


def test_index_docs_stop_at_the_bound_given(tmp_path):
    store = SQLiteStore(tmp_path / "a.db")
    for number in (1, 2, 3):
        with store.transaction():
            source_pk = store.add_source(source())
            store.save_posts([post(f"c/{number}", f"text {number}", channel="c")], source_pk)
    with store.transaction() as seq:
        store.db.execute("INSERT INTO removed_posts (pk, seq) VALUES (9, ?)", (seq,))

    def keys(after, upto=None):
        return [(doc.pk, doc.gone) for doc in store.iter_index_docs(after, upto)]

    assert keys(0) == [(9, True), (1, False), (2, False), (3, False)]
    assert keys(0, 2) == [(1, False), (2, False)]
    assert keys(1, 3) == [(2, False), (3, False)]
    assert keys(3, 4) == keys(3) == [(9, True)]
    store.close()
