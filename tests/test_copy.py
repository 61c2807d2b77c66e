"""``tgscope copy`` (issue 13, docs/scale-out.md §2.9): a whole archive moved between engines,
SQLite to PostgreSQL and back, with every row, the same export and the same search."""

from __future__ import annotations

import re
import shutil
import sqlite3
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from tgscope.archive import Archive
from tgscope.cli import cli
from tgscope.errors import RecordRejected, StoreError
from tgscope.exports import export_posts
from tgscope.store import SyncState
from tgscope.store.copying import DERIVED, copy_archive, table_plan
from tgscope.store.pg_schema import PG_ONLY_TABLES

from .conftest import SAMPLES

#: words searched in every copy
QUERIES = ("Lavrov", "Лавров", "meetings", "China", '"foreign minister"', "Xi -Putin")
#: the rows the source archive has, by table (those with none are not printed by the CLI)
EXPECTED_ROWS = {
    "channels": 4,
    "sources": 5,
    "posts": 22,
    "reactions": 41,
    "media": 9,
    "hashtags": 20,
    "mentions": 1,
    "links": 1,
    "observations": 26,
    "raw_pages": 1,
    "post_versions": 1,
    "post_sources": 8,
    "post_aliases": 1,
    "sync_state": 1,
    "removed_posts": 1,
    "nearcopy_texts": 14,
    "nearcopy_posts": 15,
    "nearcopy_buckets": 280,
    "nearcopy_pairs": 4,
    "nearcopy_state": 7,
    "events": 28,
    "event_parties": 58,
    "events_state": 2,
    "media_files": 1,
    "media_fetches": 3,
    "watch": 1,
    "host_budget": 1,
}
#: every byte value, NULs included, as a raw page's content
ALL_BYTES = bytes(range(256)) * 2


def build_source(path: Path, folder: Path) -> Path:
    """The demo's imports, a near copy of a dump in another channel, and a row in each table
    the imports leave empty; the near-copy index and the events caught up."""
    text = (SAMPLES / "russia_china_dump.txt").read_text(encoding="utf-8")
    copycat = folder / "copycat.txt"
    copycat.write_text(text.replace("Minister", "minister Mr").replace("meeting", "talks"))
    with Archive.open(path) as archive:
        archive.import_paths([SAMPLES / "russia_china_dump.txt"], channel="russia_china_demo")
        archive.import_paths([SAMPLES / "mid_ru_dump.txt"], channel="mid_russia")
        archive.import_paths(
            [SAMPLES / "rusembchina_page.html", SAMPLES / "rusembchina_export.json"]
        )
        archive.import_paths([copycat], channel="copycat")
        store = archive.store
        with store.transaction() as seq:
            store.save_raw_page("https://t.me/s/rusembchina", "2024-01-02T03:04:05+00:00",
                                "ab" * 32, ALL_BYTES)  # fmt: skip
            store.save_sync_state("rusembchina", SyncState(510, 490, 400, ((300, None, None),)))
            db = store.db
            (pk,) = db.execute("SELECT min(pk) FROM posts").fetchone()
            db.execute("INSERT INTO post_aliases (key, post_pk) VALUES ('old/dump-1', ?)", (pk,))
            db.execute("INSERT INTO removed_posts (pk, seq) VALUES (100000, ?)", (seq,))
            db.execute(
                "INSERT INTO media_files (sha256, size, mime, width, height, stored_at, phash)"
                " VALUES (?, 3, 'image/png', 1, 1, '2024-01-02T00:00:00Z', 'ffff0000ffff0000')",
                ("cd" * 32,),
            )
            db.execute(
                "INSERT INTO media_fetches (post, position, part, type, url, status, sha256,"
                " http_status, size, fetched_at) VALUES ('@rusembchina', 0, 'avatar', 'photo',"
                " 'https://cdn.example/a.png', 'stored', ?, 200, 3, '2024-01-02T00:00:00Z')",
                ("cd" * 32,),
            )
            db.execute(
                "INSERT INTO watch (channel, every_s, due_at, lease_owner, lease_until,"
                " failures, last_error, last_done, added_at) VALUES ('rusembchina', 900,"
                " 1700000000.5, 'host:1:ab', 1700000100.0, 2, 'HTTP 500', 1699999000.0,"
                " 1690000000.25)"
            )
            db.execute("INSERT INTO host_budget (host, next_at) VALUES ('t.me', 1700000000.75)")
        archive.duplicates()
        archive.update_events()
    return path


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """The archive copied from (never written by the tests: copy it to change it)."""
    folder = tmp_path_factory.mktemp("source")
    return build_source(folder / "source.db", folder)


def writable_copy(source: Path, folder: Path) -> Path:
    """The source archive's file copied, to be changed by a test."""
    path = folder / "changed.db"
    shutil.copyfile(source, path)
    return path


# -- what is compared ----------------------------------------------------------------------


def jsonl(location: str | Path, folder: Path) -> bytes:
    out = folder / f"export-{len(list(folder.glob('export-*')))}.jsonl"
    with Archive.open(location, create=False) as archive:
        export_posts(archive.posts(), "jsonl", out)
    return out.read_bytes()


def tables(location: str | Path) -> dict[str, list[tuple]]:
    """Every table's rows but meta's, sorted; the sequence numbers, which are each archive's
    own, as ``SEQ``."""
    found = {}
    with Archive.open(location, create=False) as archive:
        db = archive.store.db
        for table in table_plan():
            if table.name == "meta":
                continue
            rows = db.execute(table.select).fetchall()
            seqs = [at for at, name in enumerate(table.columns) if name == "seq"]
            found[table.name] = sorted(
                (_without_seq(table.name, tuple(row), seqs) for row in rows), key=repr
            )
    return found


def _without_seq(table: str, row: tuple, seqs: list[int]) -> tuple:
    if table in DERIVED:
        return (row[0], "SEQ") if row[0] == "seq" else row
    return tuple("SEQ" if at in seqs else value for at, value in enumerate(row))


def search_keys(location: str | Path) -> dict[str, list[str]]:
    with Archive.open(location, create=False) as archive:
        return {
            query: sorted(hit.post.key for hit in archive.search(query, limit=100).results)
            for query in QUERIES
        }


def counts(location: str | Path) -> dict[str, int]:
    with Archive.open(location, create=False) as archive:
        db = archive.store.db
        return {
            table.name: db.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0]
            for table in table_plan()
            if table.name != "meta"
        }


def seq_state(location: str | Path) -> tuple[set[int], int, str, str]:
    """The posts' seqs, the archive's last write and the derived indexes' held write."""
    with Archive.open(location, create=False) as archive:
        db = archive.store.db
        seqs = {seq for (seq,) in db.execute("SELECT DISTINCT seq FROM posts")}
        state = "SELECT value FROM {} WHERE name = 'seq'"
        (near,) = db.execute(state.format("nearcopy_state")).fetchone()
        (events,) = db.execute(state.format("events_state")).fetchone()
        return seqs, archive.store.last_seq(), near, events


# -- the plan ------------------------------------------------------------------------------


def test_the_table_plan_lists_every_table_of_the_schema_parents_first(tmp_path):
    Archive.open(tmp_path / "a.db").close()
    db = sqlite3.connect(tmp_path / "a.db")
    names = {
        name
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    plan = [table.name for table in table_plan()]
    assert sorted(plan) == sorted(names)
    for table in names:
        for row in db.execute(f"PRAGMA foreign_key_list({table})"):
            assert plan.index(row[2]) < plan.index(table), (row[2], table)
    # a new derived index (its state a name-value table) must say which tables it fills
    states = {t.name for t in table_plan() if t.columns == ("name", "value")} - {"meta"}
    assert states == set(DERIVED)
    assert all(set(tables) <= names for tables in DERIVED.values())
    for table in table_plan():
        assert table.columns == tuple(
            row[1] for row in db.execute(f"PRAGMA table_info({table.name})")
        )


@pytest.mark.pg
def test_the_table_plan_lists_every_table_of_the_postgresql_schema(pg_url):
    with Archive.open(pg_url) as archive:
        db = archive.store.db
        names = {
            name
            for (name,) in db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema ="
                " current_schema() AND table_type = 'BASE TABLE'"
            )
        }
    assert sorted(table.name for table in table_plan()) == sorted(names - PG_ONLY_TABLES)


# -- the round trip ------------------------------------------------------------------------


@pytest.mark.pg
def test_sqlite_to_postgresql_to_sqlite_keeps_every_row_the_export_and_the_search(
    source, pg_url, tmp_path
):
    back = tmp_path / "back.db"
    there = copy_archive(str(source), pg_url)
    with Archive.open(source, create=False) as archive:
        report = archive.copy_to(back.with_name("direct.db"))  # SQLite to SQLite as well
    again = copy_archive(pg_url, str(back))

    assert there.rows == again.rows == report.rows
    assert {name: count for name, count in there.rows.items() if count} == EXPECTED_ROWS
    assert there.words == 22 and again.words is None and there.behind == again.behind == []
    assert there.replaced_nul == 0 and there.media_files == 1
    locations = (source, pg_url, back, back.with_name("direct.db"))
    exports = [jsonl(where, tmp_path) for where in locations]
    assert exports[0].count(b"\n") == 22 and len(set(exports)) == 1
    rows = [tables(where) for where in locations]
    assert rows[1] == rows[0] and rows[2] == rows[0] and rows[3] == rows[0]
    assert zlib.decompress(rows[0]["raw_pages"][0][4]) == ALL_BYTES  # kept compressed
    keys = [search_keys(where) for where in locations]
    assert all(keys[0][query] for query in QUERIES[:4])
    assert keys[1] == keys[0] and keys[2] == keys[0] and keys[3] == keys[0]


@pytest.mark.pg
def test_the_copies_number_every_row_with_their_own_write_and_their_indexes_hold_it(
    source, pg_url, tmp_path
):
    copy_archive(str(source), pg_url)
    copy_archive(pg_url, str(tmp_path / "back.db"))
    for where in (pg_url, tmp_path / "back.db"):
        seqs, last, near, events = seq_state(where)
        (seq,) = seqs  # one write: the copy's
        assert seq <= last and near == events == str(seq)
        with Archive.open(where, create=False) as archive:
            assert archive.update_near_copies() == 0 and archive.update_events() == 0
    with Archive.open(source, create=False) as original, Archive.open(pg_url) as copy:
        assert original.store.archive_id() != copy.store.archive_id()
        seqs, _, _, _ = seq_state(source)
        assert len(seqs) > 1  # the source's many writes became one


@pytest.mark.pg
def test_new_rows_in_a_postgresql_copy_take_pks_after_the_copied_ones(source, pg_url, tmp_path):
    copy_archive(str(source), pg_url)
    dump = tmp_path / "another.txt"  # another file: a new source
    shutil.copyfile(SAMPLES / "mid_ru_dump.txt", dump)
    with Archive.open(pg_url) as archive:
        report = archive.import_paths([dump], channel="another_channel")
        db = archive.store.db
        new = db.execute(
            "SELECT channels.pk, min(posts.pk), max(observations.pk), max(sources.pk)"
            " FROM channels JOIN posts ON posts.channel_pk = channels.pk"
            " JOIN observations ON observations.post_pk = posts.pk"
            " JOIN sources ON sources.pk = observations.source_pk"
            " WHERE username = 'another_channel' GROUP BY channels.pk"
        ).fetchone()
    assert report.total("added") == 4
    # after 4 channels, 22 posts, 26 observations, 5 sources (an upsert may use up a number)
    assert new[0] > 4 and new[1] == 23 and new[2] > 26 and new[3] > 5


# -- what is refused, what is left -------------------------------------------------------


def test_a_target_that_is_not_empty_is_refused_and_left_as_it_was(source, archive_db, tmp_path):
    with Archive.open(archive_db) as target:
        target.import_paths([SAMPLES / "mid_ru_dump.txt"], channel="mid_russia")
    before = counts(archive_db)
    with pytest.raises(StoreError, match=r": not empty; copy into a new archive$"):
        copy_archive(str(source), archive_db)
    assert counts(archive_db) == before


def test_an_archive_is_not_copied_into_itself(source):
    with pytest.raises(StoreError, match="the same archive as"):
        copy_archive(str(source), str(source))


def test_a_source_that_does_not_exist_is_not_created(tmp_path):
    with pytest.raises(StoreError, match="no archive here yet"):
        copy_archive(str(tmp_path / "missing.db"), str(tmp_path / "b.db"))
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "b.db").exists()


def test_an_interrupted_copy_leaves_the_target_empty_and_runs_again(
    source, archive_db, monkeypatch
):
    monkeypatch.setattr("tgscope.store.copying.BATCH", 10)  # several batches of observations
    seen: list[tuple[str, int]] = []

    def stop_midway(table: str, done: int) -> None:
        seen.append((table, done))
        if table == "observations" and done == 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_archive(str(source), archive_db, progress=stop_midway)
    assert ("posts", 22) in seen and seen[-1] == ("observations", 20)
    assert set(counts(archive_db).values()) == {0}
    report = copy_archive(str(source), archive_db)
    assert report.rows["observations"] == 26
    assert counts(archive_db) == counts(source)


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
def test_a_collector_may_write_to_the_source_while_it_is_copied(source, engine, request, tmp_path):
    """The copy holds the source as it was when it began; the write goes on beside it."""
    origin = str(writable_copy(source, tmp_path))
    if engine == "postgres":
        origin = request.getfixturevalue("pg_url")
        copy_archive(str(source), origin)
    dump = tmp_path / "during.txt"
    shutil.copyfile(SAMPLES / "mid_ru_dump.txt", dump)
    written = []

    def write_once(table: str, done: int) -> None:
        if table == "posts" and not written:
            with Archive.open(origin) as collector:
                written.append(collector.import_paths([dump], channel="late").total("added"))

    report = copy_archive(origin, str(tmp_path / "b.db"), progress=write_once)
    assert written == [4] and report.rows["posts"] == 22 and report.behind == []
    assert counts(origin)["posts"] == 26 and counts(tmp_path / "b.db")["posts"] == 22


def test_a_derived_index_behind_in_the_source_is_left_out_and_built_on_first_use(source, tmp_path):
    changed = writable_copy(source, tmp_path)
    with Archive.open(changed) as archive:
        archive.import_paths([SAMPLES / "mid_ru_dump.txt"], channel="late_channel")
        events = [event.to_dict() for event in archive.events()]  # caught up: copied
    report = copy_archive(str(changed), str(tmp_path / "b.db"))
    assert report.behind == ["near-copy index"]
    assert "nearcopy_posts" not in report.rows and report.rows["events"] > 0
    copied = counts(tmp_path / "b.db")
    assert copied["nearcopy_posts"] == copied["nearcopy_state"] == 0
    with Archive.open(changed) as original, Archive.open(tmp_path / "b.db") as copy:
        assert [event.to_dict() for event in copy.events()] == events
        assert copy.duplicates() == original.duplicates()


@pytest.mark.pg
def test_nul_in_an_old_sqlite_archive_becomes_u_fffd_in_postgresql(source, pg_url, tmp_path):
    changed = writable_copy(source, tmp_path)
    with sqlite3.connect(changed) as db:
        db.execute("UPDATE posts SET text = ? WHERE pk = 1", ("a\x00b\x00",))
        db.execute("UPDATE channels SET title = ? WHERE pk = 1", ("x\x00y",))
    report = copy_archive(str(changed), pg_url)
    assert report.replaced_nul == 2
    assert any("2 text value(s) held U+0000" in note for note in report.notes())
    with Archive.open(pg_url, create=False) as archive:
        db = archive.store.db
        assert db.execute("SELECT text FROM posts WHERE pk = 1").fetchone() == ("a\ufffdb\ufffd",)
        assert db.execute("SELECT title FROM channels WHERE pk = 1").fetchone() == ("x\ufffdy",)


@pytest.mark.pg
def test_a_value_postgresql_cannot_take_is_named_and_nothing_is_written(source, pg_url, tmp_path):
    changed = writable_copy(source, tmp_path)
    with sqlite3.connect(changed) as db:  # SQLite lets any column hold any kind of value
        db.execute("UPDATE posts SET author = ? WHERE pk = 2", (b"\xff\x00",))
    with pytest.raises(StoreError, match=r"posts\.author holds bytes, not text \(pk=2\)"):
        copy_archive(str(changed), pg_url)
    with sqlite3.connect(changed) as db:
        db.execute("UPDATE posts SET author = NULL, views = 'many' WHERE pk = 2")
    with pytest.raises(RecordRejected, match=r'bigint: "many".*\(writing posts\)$'):
        copy_archive(str(changed), pg_url)
    assert set(counts(pg_url).values()) == {0}


# -- the command ---------------------------------------------------------------------------


def test_the_command_prints_each_table_and_a_total_line(source, tmp_path):
    result = CliRunner().invoke(cli, ["copy", str(source), str(tmp_path / "b.db")])
    assert result.exit_code == 0, result.output
    *tables_printed, total = result.stdout.splitlines()
    width = max(len(name) for name in table_plan_names())
    assert tables_printed == [
        f"{name:<{width}}  {count:>10,}" for name, count in EXPECTED_ROWS.items()
    ]
    assert re.fullmatch(
        rf"copied 22 post\(s\), 5 source\(s\), 556 row\(s\) in 28 table\(s\)"
        rf" from {re.escape(str(source))} to {re.escape(str(tmp_path / 'b.db'))} in \d+\.\d s",
        total,
    )
    assert "note: 1 media file(s) recorded: the files are not copied" in result.stderr
    assert (tmp_path / "b.db.index").is_dir()  # the search index is built


def table_plan_names() -> list[str]:
    return [table.name for table in table_plan()]


def test_the_command_says_in_one_line_what_is_wrong(source, tmp_path):
    missing = CliRunner().invoke(cli, ["copy", str(tmp_path / "none.db"), str(tmp_path / "b.db")])
    itself = CliRunner().invoke(cli, ["copy", str(source), str(source)])
    for result, expected in ((missing, "no archive here yet"), (itself, "the same archive as")):
        assert result.exit_code == 1 and expected in result.output
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1


@pytest.mark.pg
def test_a_password_in_a_url_is_never_printed(source, pg_url):
    secret = pg_url.replace("postgres@", "postgres:s3cr3t-pw@", 1)
    first = CliRunner().invoke(cli, ["copy", str(source), secret])
    refused = CliRunner().invoke(cli, ["copy", str(source), secret])
    back = CliRunner().invoke(cli, ["copy", secret, secret])
    unreachable = CliRunner().invoke(cli, ["copy", str(source), re.sub(r":\d+/", ":1/", secret)])
    assert first.exit_code == 0 and "postgres:***@" in first.output
    assert refused.exit_code == 1 and "not empty" in refused.output
    assert back.exit_code == 1 and "the same archive" in back.output
    assert unreachable.exit_code == 1 and "cannot connect" in unreachable.output
    for result in (first, refused, back, unreachable):
        assert "s3cr3t" not in result.output, result.output
