from __future__ import annotations

import asyncio
import sqlite3

import pytest

from tgscope.archive import Archive
from tgscope.errors import StoreError
from tgscope.store.schema import SCHEMA_VERSION, migrate

from .helpers import POSTS, source


def test_new_archive_is_wal_and_at_the_current_version(db_path):
    Archive.open(db_path).close()
    db = sqlite3.connect(db_path)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "channels",
        "posts",
        "reactions",
        "media",
        "hashtags",
        "mentions",
        "links",
        "sources",
        "observations",
    } <= tables


def test_migrate_is_idempotent_and_refuses_newer_files(db_path):
    db = sqlite3.connect(db_path, isolation_level=None)
    assert migrate(db) == 0
    assert migrate(db) == SCHEMA_VERSION
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this tgscope"):
        Archive.open(db_path)


def test_views_answer(db_path, seed_path):
    with Archive.open(db_path) as archive:
        archive.import_paths([seed_path], channel="china_embassy")
        archive.ingest(POSTS, source())
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT * FROM hashtag_counts LIMIT 2").fetchall() == [
        ("RussiaChina", 7),
        ("PhotoOfTheDay", 1),
    ]
    assert db.execute("SELECT * FROM forwards").fetchall() == [
        ("china_embassy", "Russian MFA 🇷🇺", None, 5)
    ]
    summary = db.execute("SELECT username, posts, first_post FROM channel_summary ORDER BY 1")
    assert summary.fetchall() == [
        ("china_embassy", 5, None),
        ("embassy", 4, "2023-01-09T12:00:00+00:00"),
        ("mfarussia", 3, "2023-01-09T10:00:00+00:00"),
    ]
    overview = db.execute(
        "SELECT channel, reactions_total, hashtags FROM posts_overview ORDER BY pk LIMIT 1"
    )
    assert overview.fetchone() == ("china_embassy", 19, "RussiaChina UNGA77 PhotoOfTheDay")


def test_archive_opens_in_datasette(db_path, seed_path):
    datasette_app = pytest.importorskip("datasette.app")
    with Archive.open(db_path) as archive:
        archive.import_paths([seed_path], channel="china_embassy")

    async def browse():
        ds = datasette_app.Datasette([str(db_path)])
        name = db_path.stem
        tables = (await ds.client.get(f"/{name}.json")).json()
        rows = (await ds.client.get(f"/{name}/posts_overview.json?_shape=array")).json()
        post = (await ds.client.get(f"/{name}/posts/1.json?_shape=array")).json()
        return tables, rows, post

    tables, rows, post = asyncio.run(browse())
    names = {table["name"] for table in tables["tables"]}
    assert {"posts", "channels", "reactions", "observations"} <= names
    assert {view["name"] for view in tables["views"]} == {
        "posts_overview",
        "hashtag_counts",
        "channel_summary",
        "forwards",
    }
    assert [row["reactions_total"] for row in rows] == [19, 12, 16, 15, 17]
    assert post[0]["key"] == "china_embassy/dump-3900b635c26c2a27"
