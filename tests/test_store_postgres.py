"""The PostgreSQL store (issue 13; docs/scale-out.md step 4): the connection that speaks the
helpers' SQL, the write horizon, new pks from a sequence, and writers side by side."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from tgscope.archive import Archive
from tgscope.errors import RecordRejected, StoreError
from tgscope.store import SourceInfo
from tgscope.store.pgdb import is_url, redacted, to_pyformat

pytestmark = pytest.mark.pg


def test_question_marks_become_pyformat_outside_literals_and_percent_signs_are_doubled():
    sql = "SELECT ? FROM t WHERE a LIKE '%t.me/?%' AND b = ? AND \"q?\" = 'it''s ?'"
    assert to_pyformat(sql) == (
        "SELECT %s FROM t WHERE a LIKE '%%t.me/?%%' AND b = %s AND \"q?\" = 'it''s ?'"
    )


def test_a_url_is_told_from_a_file_and_shown_without_its_password():
    assert is_url("postgresql://u@h/db") and is_url("postgres://h/db")
    assert not is_url("tgscope.db") and not is_url("./postgresql:/x")
    assert redacted("postgresql://ann:s3cret@db.example:5433/arch") == (
        "postgresql://ann:***@db.example:5433/arch"
    )
    assert redacted("postgresql://ann@h/arch") == "postgresql://ann@h/arch"
    assert redacted("postgresql://ann@h:1/arch?sslmode=require&password=s3cret&x=1") == (
        "postgresql://ann@h:1/arch?sslmode=require&password=***&x=1"
    )
    assert redacted("postgresql://ann:s3cret@h:notaport/arch") == (
        "postgresql://ann:***@h:notaport/arch"
    )


def test_a_url_that_cannot_be_read_is_one_line_without_its_password(tmp_path):
    for url in ("postgresql://ann:s3cret@127.0.0.1:notaport/arch",
                "postgresql://127.0.0.1:1/arch?password=s3cret&connect_timeout=2"):  # fmt: skip
        with pytest.raises(StoreError) as raised:
            Archive.open(url)
        assert "s3cret" not in str(raised.value) and "\n" not in str(raised.value)


def test_values_come_back_as_sqlite_gives_them(pg_url):
    with Archive.open(pg_url) as archive:
        db = archive.store.db
        row = db.execute(
            "SELECT ?, ? IS NULL, sum(x), avg(x), EXISTS (SELECT 1), 'a%b'"
            " FROM (VALUES (1), (2)) AS v (x)",
            (True, None),
        ).fetchone()
    assert row == (1, 1, 3, 1.5, 1, "a%b")
    assert [type(value) for value in row] == [int, int, int, float, int, str]


def test_an_error_names_the_database_without_its_password(pg_url):
    with Archive.open(pg_url) as archive:
        with pytest.raises(StoreError, match=r"^postgresql://postgres@127\.0\.0\.1:\d+/t\d+: "):
            archive.store.db.execute("SELECT nosuch FROM posts")
        with pytest.raises(RecordRejected, match="refused a record"):
            archive.store.db.execute("INSERT INTO meta (name, value) VALUES ('x', NULL)")


def test_a_database_that_cannot_be_reached_is_one_line(pg_server):
    url = f"postgresql://ann:s3cret@127.0.0.1:{pg_server.port}/nosuch_db"
    with pytest.raises(StoreError) as raised:
        Archive.open(url)
    assert "s3cret" not in str(raised.value) and "\n" not in str(raised.value)
    assert str(raised.value).startswith("postgresql://ann:***@127.0.0.1:")


def test_reading_commands_do_not_create_an_archive(pg_server):
    import psycopg

    with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
        admin.execute("CREATE DATABASE empty_one")
    url = pg_server.dsn.rsplit("/", 1)[0] + "/empty_one"
    with pytest.raises(StoreError, match="no archive here yet"):
        Archive.open(url, create=False)
    with psycopg.connect(url) as db:
        assert db.execute("SELECT to_regclass('meta')").fetchone() == (None,)


def test_the_seed_imports_into_postgresql_and_reads_back_as_from_sqlite(
    pg_url, tmp_path, seed_path
):
    reports = []
    for target in (str(tmp_path / "a.db"), pg_url):
        with Archive.open(target) as archive:
            first = archive.import_file(seed_path, channel="russia_china_demo")
            again = archive.import_file(seed_path, channel="russia_china_demo")
            posts = [post.to_dict() for post in archive.posts()]
            stats = archive.stats()
            reports.append((first.added, again.added, again.unchanged, posts, stats))
    sqlite_side, pg_side = reports
    assert pg_side[0] > 0 and pg_side[1] == 0 and pg_side[2] == pg_side[0]
    assert pg_side[3] == sqlite_side[3]
    assert pg_side[4] == sqlite_side[4]


def test_new_posts_take_pks_from_the_sequence_and_the_horizon_follows_commits(pg_url, seed_path):
    with Archive.open(pg_url) as archive:
        store = archive.store
        (before,) = store.db.execute("SELECT last_value FROM posts_pk_seq").fetchone()
        archive.import_file(seed_path, channel="russia_china_demo")
        pks = [pk for (pk,) in store.db.execute("SELECT pk FROM posts ORDER BY pk")]
        (seqs,) = store.db.execute("SELECT count(DISTINCT seq) FROM posts").fetchone()
        assert pks == list(range(pks[0], pks[0] + len(pks))) and pks[0] >= before
        assert (
            seqs == 1
            and store.last_seq() >= store.db.execute("SELECT max(seq) FROM posts").fetchone()[0]
        )


def test_the_horizon_waits_for_a_writer_that_began_first_and_commits_last(pg_url):
    """Writer A takes its number, B takes a later one and commits first: a reader must not
    see the horizon pass A's number until A has committed (docs/scale-out.md §2.3)."""
    source = SourceInfo("textdump", "x", "0" * 64, "2024-01-01T00:00:00+00:00")
    with Archive.open(pg_url) as a, Archive.open(pg_url) as b, Archive.open(pg_url) as reader:
        with a.store.transaction() as seq_a:
            a.store.add_source(source)
            with b.store.transaction() as seq_b:
                b.store.add_source(_other(source))
            assert seq_b > seq_a
            horizon = reader.store.last_seq()
            assert horizon < seq_a  # A is still running: nothing from A on is settled
        assert reader.store.last_seq() >= seq_b


def _other(source: SourceInfo) -> SourceInfo:
    return SourceInfo(source.kind, "y", source.sha256, source.observed_at)


def _import(url: str, path: str, channel: str, barrier) -> None:
    barrier.wait()
    with Archive.open(url) as archive:
        archive.import_file(path, channel=channel)


@pytest.mark.slow
def test_two_processes_importing_the_same_dump_at_once_store_each_post_once(pg_url, seed_path):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [
        context.Process(target=_import, args=(pg_url, str(seed_path), "russia_china_demo", barrier))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    with Archive.open(pg_url) as archive:
        db = archive.store.db
        (doubled,) = db.execute(
            "SELECT count(*) FROM (SELECT key FROM posts GROUP BY key HAVING count(*) > 1) AS d"
        ).fetchone()
        (posts,) = db.execute("SELECT count(*) FROM posts").fetchone()
        (words,) = db.execute("SELECT count(*) FROM post_words").fetchone()
    assert doubled == 0 and posts > 0 and words == posts


def test_threads_writing_different_channels_do_not_wait_for_each_other(pg_url, seed_path):
    errors: list[BaseException] = []

    def run(channel: str) -> None:
        try:
            with Archive.open(pg_url) as archive:
                archive.import_file(seed_path, channel=channel)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(f"chan{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with Archive.open(pg_url) as archive:
        counts = {name: count for name, _, count in archive.stats().channels}
    assert set(counts) == {"chan0", "chan1", "chan2"} and len(set(counts.values())) == 1


def test_a_tantivy_index_kept_beside_postgresql_follows_the_horizon(
    pg_url, tmp_path, monkeypatch, seed_path
):
    """$TGSCOPE_INDEX keeps a tantivy index for a PostgreSQL archive (for broad queries
    ranked interactively): it is fed up to the horizon, never with a write's own number."""
    monkeypatch.setenv("TGSCOPE_INDEX", str(tmp_path / "index"))
    with Archive.open(pg_url) as archive:
        assert archive.index_path == tmp_path / "index"
        archive.import_file(seed_path, channel="russia_china_demo")
        found = archive.search("Lavrov", limit=50)
        assert found.total > 0
        held = archive.index.written_up_to()
        assert held == archive.store.last_seq()  # the horizon, not a transaction's own id
    monkeypatch.delenv("TGSCOPE_INDEX")
    with Archive.open(pg_url) as archive:  # the store's own search finds the same posts
        own = archive.search("Lavrov", limit=50)
    assert own.total == found.total
    assert {r.post.key for r in own.results} == {r.post.key for r in found.results}
