from __future__ import annotations

import asyncio
import sqlite3

import pytest

from tgscope.archive import Archive
from tgscope.errors import StoreError
from tgscope.store.schema import SCHEMA_VERSION, migrate

from .conftest import FIXTURES
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


# Archives made by tgscope at each earlier schema version (tests/fixtures/schema_v<N>.sql,
# dumped from a file the tgscope of that version wrote: two web observations of an edited
# post, a text dump's copy, sync state with 'api:' channels, a fetched page, a deletion).
EARLIER_VERSIONS = range(1, 8)
FIRST, SECOND = "2023-01-09T10:00:00+00:00", "2023-01-10T10:00:00+00:00"
FIRST_REACTIONS = [
    {"emoji": "👍", "count": 16},
    {"emoji": 'back\\slash"quote', "count": 2},
    {"custom_emoji_id": "5368324170671202286", "count": 2},
    {"paid": True, "count": 5},
    {"emoji": "\\o/", "count": 1},  # written by hand before version 7: invalid JSON then
]
SECOND_REACTIONS = [{"emoji": "👍", "count": 20}, {"emoji": 'back\\slash"quote', "count": 3}]


def _earlier_archive(version: int, path) -> None:
    script = (FIXTURES / f"schema_v{version}.sql").read_text(encoding="utf-8")
    db = sqlite3.connect(path)
    db.executescript(script)
    assert db.execute("PRAGMA user_version").fetchone() == (version,)
    db.close()


def _counts(path) -> dict[str, int]:
    db = sqlite3.connect(path)
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    counts = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}
    db.close()
    return counts


@pytest.mark.parametrize("version", EARLIER_VERSIONS)
def test_an_archive_of_every_earlier_version_upgrades_with_its_rows(version, db_path):
    _earlier_archive(version, db_path)
    before = _counts(db_path)
    with Archive.open(db_path) as archive:
        post = archive.get("mfarussia/1")
        history = archive.history("mfarussia/1")
        everything = archive.store.load_posts(list(range(1, before["posts"] + 1)))
        found = archive.search("Lavrov").total
        api_state = archive.store.sync_state("mfarussia", kind="api")
        web_state = archive.store.sync_state("mfarussia")
    db = sqlite3.connect(db_path)
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    after = _counts(db_path)
    assert {table: after[table] for table in before if table != "sync_state"} == {
        table: count for table, count in before.items() if table != "sync_state"
    }
    assert len(everything) == before["posts"] and found >= 1
    assert post is not None and post.text.startswith("Sergey Lavrov met Wang Yi in Beijing again")
    assert (post.views, post.reactions, post.hashtags, post.mentions, post.links) == (
        250,
        SECOND_REACTIONS,
        ["RussiaChina"],
        ["mfa_china"],
        ["https://mid.ru"],
    )
    assert post.forwarded_from == {"title": "Russian MFA", "channel": "mid_rf", "id": 77}
    assert post.media == [
        {"type": "photo", "url": "https://cdn.example/1.jpg", "width": 800, "height": 600}
    ]
    assert [(o.observed_at, o.kind, o.views, o.reactions) for o in history] == [
        (FIRST, "web", 100, FIRST_REACTIONS),
        (SECOND, "web", 250, SECOND_REACTIONS),
    ]
    assert db.execute(
        "SELECT count(*) FROM observations WHERE NOT json_valid(reactions)"
    ).fetchone() == (0,)
    indexes = {row[1] for row in db.execute("PRAGMA index_list(posts)")}
    assert {"posts_channel_date", "posts_seq"} <= indexes
    states = db.execute("SELECT channel, kind, newest_id FROM sync_state ORDER BY 1, 2").fetchall()
    if version >= 2:  # sync_state came with version 2
        assert states == [("embassy", "api", 9), ("mfarussia", "api", 2), ("mfarussia", "web", 2)]
        assert (api_state.newest_id, web_state.newest_id) == (2, 2)
        held = ((5, None, FIRST),) if version >= 4 else ()  # held: version 4
        assert api_state.held == web_state.held == held
    else:
        assert states == []
    db.close()


@pytest.mark.parametrize("version", EARLIER_VERSIONS)
def test_opening_an_upgraded_archive_again_changes_nothing(version, db_path):
    _earlier_archive(version, db_path)
    Archive.open(db_path).close()
    db = sqlite3.connect(db_path)
    upgraded = list(db.iterdump())
    db.close()
    with Archive.open(db_path) as archive:
        archive.get("mfarussia/1")
    db = sqlite3.connect(db_path)
    assert list(db.iterdump()) == upgraded
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_two_openers_of_an_old_archive_migrate_it_once(db_path):
    import threading
    import time

    _earlier_archive(6, db_path)
    first = sqlite3.connect(db_path, isolation_level=None, timeout=10)
    first.execute("BEGIN IMMEDIATE")  # holds the write lock while the other opener starts
    had, failed = [], []

    def other_opener() -> None:
        try:
            had.append(migrate(sqlite3.connect(db_path, isolation_level=None, timeout=10)))
        except Exception as error:  # reported below
            failed.append(error)

    thread = threading.Thread(target=other_opener)
    thread.start()
    time.sleep(0.3)  # it has read version 6 and waits for the lock
    first.execute("ROLLBACK")
    assert migrate(first) == 6
    thread.join()
    assert (failed, had) == ([], [6])
    assert first.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_another_sqlite_database_is_refused_and_left_alone(tmp_path):
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE foo (x)")
    db.execute("INSERT INTO foo VALUES (1)")
    db.commit()
    db.close()
    before = other.read_bytes()
    with pytest.raises(StoreError, match="not a tgscope archive; it was left as it is"):
        Archive.open(other, create=False)
    assert other.read_bytes() == before
    assert not (tmp_path / "other.db.index").exists()
    assert not (tmp_path / "other.db-wal").exists()
