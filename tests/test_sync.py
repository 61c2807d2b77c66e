from __future__ import annotations

import itertools
import json
import os
import pty
import re
import select
import signal
import sqlite3
import subprocess
import sys
import time
import tracemalloc

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from tgscope.archive import Archive
from tgscope.cli import cli
from tgscope.collect.http import FetchPolicy, fetch, make_client
from tgscope.collect.report import IdRanges
from tgscope.collect.web_sync import DELETED, NEVER_SHOWN, sync_channel
from tgscope.errors import ChannelUnavailable, FetchError

from .engines import rows
from .replay_server import Channel, ReplayServer

FAST = FetchPolicy(delay=0, backoff=0.001, retries=12, timeout=5)


def posts_in(target) -> list[tuple[int, int]]:
    return rows(target, "SELECT message_id, views FROM posts ORDER BY message_id")


def _count_posts(db_path) -> int:
    """Posts committed so far by another process (0 while the file is still being created)."""
    try:
        db = sqlite3.connect(db_path)
        try:
            return db.execute("SELECT count(*) FROM posts").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:
        return 0


def _indexed_seq(db_path) -> int:
    """The last write the search index says it holds (0: none yet)."""
    state = db_path.with_name(db_path.name + ".index") / "state.json"
    return json.loads(state.read_text())["seq"] if state.exists() else 0


def _stored_seq(db_path) -> int:
    db = sqlite3.connect(db_path)
    (seq,) = db.execute("SELECT max(seq) FROM posts").fetchone()
    db.close()
    return seq


def sync(target, server, name, **options):
    with Archive.open(target) as archive, make_client(server.url, policy=FAST) as client:
        return sync_channel(archive, name, client=client, policy=FAST, **options)


@pytest.mark.slow
def test_a_thousand_posts_arrive_exactly_once_through_faults(archive_db):
    channel = Channel("embassy_test", 1000)
    with ReplayServer([channel], fault_rate=0.1, seed=7) as server:
        report = sync(archive_db, server, "embassy_test")
    assert len(server.faults) >= 5 and {"429", "500", "reset", "truncated"} <= set(server.faults)
    assert posts_in(archive_db) == [(n, 100 + n) for n in range(1, 1001)]
    assert (report.pages, report.added, report.missing) == (50, 1000, [])
    assert report.stopped == "reached the channel's first post"


@pytest.mark.slow
def test_resync_is_incremental_and_records_new_views(archive_db):
    channel = Channel("embassy_test", 100)
    with ReplayServer([channel]) as server:
        sync(archive_db, server, "embassy_test")
        channel.add(5)
        channel.views[104] = 999
        again = sync(archive_db, server, "embassy_test")
        nothing_new = sync(archive_db, server, "embassy_test")
        everything = sync(archive_db, server, "embassy_test", all_pages=True)
    assert (again.pages, again.added, again.stopped) == (1, 5, "reached post 100, archived before")
    assert (nothing_new.pages, nothing_new.added) == (1, 0)
    assert (everything.pages, everything.added, everything.unchanged) == (6, 0, 105)
    assert posts_in(archive_db)[-2:] == [(104, 999), (105, 205)]
    seen = rows(
        archive_db,
        "SELECT count(*) FROM observations"
        " WHERE post_pk = (SELECT pk FROM posts WHERE message_id = 100)",
    )
    assert seen == [(4,)]  # every sync that showed post 100 recorded its views then


@pytest.mark.slow
def test_gaps_and_a_missing_pagination_link(archive_db):
    channel = Channel("embassy_test", 120, deleted={50, 51, 52, 90})
    channel.no_link_before.add(None)  # the newest page lacks its "older" link
    with ReplayServer([channel]) as server:
        report = sync(archive_db, server, "embassy_test")
    assert [n for n, _ in posts_in(archive_db)] == [
        n for n in range(1, 121) if n not in (50, 51, 52, 90)
    ]
    assert report.missing == [(50, 52), (90, 90)]
    assert "4 id(s) not shown" in report.summary()
    assert report.missing_runs() == [(50, 52, NEVER_SHOWN), (90, 90, NEVER_SHOWN)]
    assert report.missing_lines() == [f"50-52: {NEVER_SHOWN}", f"90: {NEVER_SHOWN}"]


@pytest.mark.slow
def test_missing_ids_say_whether_they_were_deleted_after_archiving(archive_db):
    channel = Channel("embassy_test", 60, deleted={10})
    with ReplayServer([channel]) as server:
        sync(archive_db, server, "embassy_test")
        del channel.posts[30], channel.posts[31]
        again = sync(archive_db, server, "embassy_test", all_pages=True)
        later = sync(archive_db, server, "embassy_test", all_pages=True)
    today = again.gone_since[30][:10]
    assert again.deleted == [30, 31] and later.deleted == []  # marked once
    for report in (again, later):
        assert report.missing_lines() == [
            f"10: {NEVER_SHOWN}",
            f"30-31: {DELETED} (gone since {today})",
        ]
    assert "1 id(s) not shown" in later.summary()


@pytest.mark.slow
def test_channels_sync_side_by_side_within_the_limit(archive_db):
    channels = [Channel(f"chan_{n}", 60) for n in range(4)]
    with ReplayServer(channels, latency=0.05) as server:
        result = CliRunner().invoke(
            cli,
            [
                *("sync", "--db", archive_db, "--base-url", server.url),
                *("--delay", "0", "--jobs", "2", "chan_0", "private_chan", "chan_1", "chan_2"),
                "chan_3",
            ],
        )
        peak = server.peak_in_flight
    assert result.exit_code == 1  # one channel failed; the others went on
    assert "Error: " in result.output and "private_chan" in result.output
    done = sorted(line.split(":")[0] for line in result.output.splitlines() if "60 added" in line)
    assert done == ["chan_0", "chan_1", "chan_2", "chan_3"]
    assert peak == 2  # two channels at a time, never more
    assert rows(archive_db, "SELECT count(*), count(DISTINCT key) FROM posts") == [(240, 240)]


@pytest.mark.slow
@pytest.mark.pg
def test_three_collectors_at_once_through_faults_store_every_post_once(pg_url):
    """Three sync processes on one PostgreSQL archive at the same time, each taking both
    channels (in another order), through a server that fails a tenth of its answers: every
    post once, each counted added by one collector only, and a later sync adds nothing and
    finds no gap."""
    channels = [Channel("chan_0", 400), Channel("chan_1", 400)]
    orders = [("chan_0", "chan_1"), ("chan_1", "chan_0"), ("chan_0", "chan_1")]
    with ReplayServer(channels, fault_rate=0.1, seed=5) as server:
        base = [sys.executable, "-m", "tgscope", "sync", "--db", pg_url, "--delay", "0"]
        base += ["--base-url", server.url]
        running = [
            subprocess.Popen([*base, *names], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for names in orders
        ]
        outputs = [process.communicate(timeout=120) for process in running]
        after = subprocess.run(
            [*base, "chan_0", "chan_1"], capture_output=True, text=True, timeout=120
        )
    assert [process.returncode for process in running] == [0, 0, 0], outputs
    added = {"chan_0": 0, "chan_1": 0}
    for stdout, _ in outputs:
        for name, count in re.findall(
            r"^(chan_\d): \d+ page\(s\), (\d+) added", stdout.decode(), re.M
        ):
            added[name] += int(count)
    assert added == {"chan_0": 400, "chan_1": 400}
    expected = [(n, 100 + n) for n in range(1, 401)]
    assert posts_in(pg_url) == sorted(expected + expected)
    assert rows(pg_url, "SELECT count(*), count(DISTINCT key) FROM posts") == [(800, 800)]
    assert after.returncode == 0, after.stderr
    for name in ("chan_0", "chan_1"):  # (it may walk again what a collector's state held)
        summary = rf"^{name}: \d+ page\(s\), 0 added, 0 updated, \d+ unchanged; ids \d+\.\.400;"
        assert re.search(summary + " reached post 400, archived before$", after.stdout, re.M)
    assert "not shown" not in after.stdout


@pytest.mark.slow
def test_channels_without_a_preview_are_clear_errors(db_path):
    with ReplayServer([]) as server:
        with pytest.raises(ChannelUnavailable, match="no public preview"):
            sync(db_path, server, "private_chan")
        with pytest.raises(ChannelUnavailable, match="no public preview"):
            sync(db_path, server, "no_such_chan")


def test_retry_after_is_honoured_and_persistent_failures_give_up():
    waits: list[float] = []
    answers = iter(
        [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, text="ok")]
    )
    client = httpx.Client(
        transport=httpx.MockTransport(lambda request: next(answers)), base_url="http://x"
    )
    assert fetch(client, "/s/a", policy=FAST, sleep=waits.append).text == "ok"
    assert waits == [7.0]
    failing = httpx.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(500)), base_url="http://x"
    )
    with pytest.raises(FetchError, match=r"http://x/s/a: gave up after 13 attempts \(HTTP 500\)"):
        fetch(failing, "/s/a", policy=FAST, sleep=waits.append)


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGKILL"])
@pytest.mark.slow
def test_a_sync_killed_midway_resumes_to_the_same_archive(tmp_path, signal_name):
    channel = Channel("embassy_test", 1000)
    db = tmp_path / "archive.db"
    command = [sys.executable, "-m", "tgscope", "sync", "--db", str(db), "--delay", "0.02"]
    with ReplayServer([channel], fault_rate=0.1, seed=3) as server:
        command += ["--base-url", server.url, "embassy_test"]
        stderr = _stopped_midway(command, lambda: _count_posts(db), signal_name)
        partial = len(posts_in(db))
        assert 300 <= partial < 1000
        if signal_name == "SIGINT":
            assert stderr.decode().endswith(
                "interrupted: each saved page is kept; run the same command again to resume\n"
            )
        else:  # killed between two index commits: the index lags behind the store ...
            assert _indexed_seq(db) < _stored_seq(db)
        with Archive.open(db) as archive:  # ... and catches up when next opened
            assert archive.search("meeting", limit=1).total == partial
        rerun = subprocess.run(command, capture_output=True, text=True, timeout=120)
    _assert_resumed(db, rerun)


def _assert_resumed(target, rerun: subprocess.CompletedProcess) -> None:
    """The rerun after a stopped sync finished it: every post once, searchable, no gaps."""
    assert rerun.returncode == 0, rerun.stderr
    with Archive.open(target) as archive:
        assert archive.search("meeting", limit=1).total == 1000
    assert posts_in(target) == [(n, 100 + n) for n in range(1, 1001)]
    assert "ids 1..1000" in rerun.stdout
    assert "not shown" not in rerun.stdout  # ids archived by the killed run are not gaps


def _stopped_midway(command: list[str], count_posts, signal_name: str) -> bytes:
    """Run the sync ``command`` and stop it with the signal once 300 posts are saved; its
    stderr."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if count_posts() >= 300:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the sync ended before it could be stopped"
    process.send_signal(getattr(signal, signal_name))
    _, stderr = process.communicate(timeout=60)
    return stderr


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGKILL"])
@pytest.mark.slow
@pytest.mark.pg
def test_a_sync_into_postgresql_killed_midway_resumes_to_the_same_archive(pg_url, signal_name):
    """The twin of the test above on PostgreSQL: the server rolls back the killed writer's
    open page, its transaction stops holding the write horizon back, and what it committed
    is searchable at once (the words are written with the posts)."""
    channel = Channel("embassy_test", 1000)
    command = [sys.executable, "-m", "tgscope", "sync", "--db", pg_url, "--delay", "0.02"]
    with ReplayServer([channel], fault_rate=0.1, seed=3) as server:
        command += ["--base-url", server.url, "embassy_test"]
        stderr = _stopped_midway(
            command, lambda: rows(pg_url, "SELECT count(*) FROM posts")[0][0], signal_name
        )
        partial = len(posts_in(pg_url))
        assert 300 <= partial < 1000
        if signal_name == "SIGINT":
            assert stderr.decode().endswith(
                "interrupted: each saved page is kept; run the same command again to resume\n"
            )
        with Archive.open(pg_url) as archive:
            assert archive.search("meeting", limit=1).total == partial
            (stored,) = rows(pg_url, "SELECT max(seq) FROM posts")[0]
            deadline = time.monotonic() + 10  # the server notices the lost client at once
            while archive.store.last_seq() < stored and time.monotonic() < deadline:
                time.sleep(0.05)
            assert archive.store.last_seq() >= stored
        rerun = subprocess.run(command, capture_output=True, text=True, timeout=120)
    _assert_resumed(pg_url, rerun)


@pytest.mark.slow
def test_edits_keep_every_version_deletions_are_marked_and_raw_pages_kept(archive_db):
    import zlib

    channel = Channel("embassy_test", 40)
    with ReplayServer([channel]) as server:
        sync(archive_db, server, "embassy_test", keep_raw=True)
        channel.posts[30] = "Post 30, corrected"
        del channel.posts[35]
        again = sync(archive_db, server, "embassy_test", all_pages=True, keep_raw=True)
        channel.posts[35] = "Post 35 about the meeting in Beijing #RussiaChina"
        back = sync(archive_db, server, "embassy_test", all_pages=True)
    assert (again.updated, again.deleted, back.deleted) == (1, [35], [])
    assert "1 deleted since archived" in again.summary()
    versions = rows(
        archive_db,
        "SELECT post_versions.text FROM post_versions"
        " JOIN posts ON posts.pk = post_versions.post_pk WHERE posts.message_id = 30",
    )
    assert versions == [("Post 30 about the meeting in Beijing #RussiaChina",)]
    assert rows(archive_db, "SELECT text FROM posts WHERE message_id = 30") == [
        ("Post 30, corrected",)
    ]
    assert rows(archive_db, "SELECT count(*) FROM posts WHERE deleted_at IS NOT NULL") == [(0,)]
    pages = rows(archive_db, "SELECT url, content FROM raw_pages ORDER BY pk")
    assert [url.split("/", 3)[3] for url, _ in pages] == [
        "s/embassy_test",
        "s/embassy_test?before=21",
        "s/embassy_test",  # changed since (post 35 gone): kept again
        "s/embassy_test?before=20",  # the older page now starts one post lower
    ]
    assert zlib.decompress(pages[0][1]).decode().count("tgme_widget_message_text") == 20


@pytest.mark.slow
def test_until_seeks_by_ids_instead_of_walking_from_the_newest_page(archive_db):
    channel = Channel("embassy_test", 1000)  # post n is dated 2023-01-01, n minutes past midnight
    with ReplayServer([channel]) as server:
        report = sync(
            archive_db,
            server,
            "embassy_test",
            since="2023-01-01T05:00:00+00:00",
            until="2023-01-01T10:00:00+00:00",
        )
        fetched = len(server.requests)
    numbers = [n for n, _ in posts_in(archive_db)]
    assert numbers[-1] == 600  # 10:00 is post 600: --until includes its moment
    assert numbers[0] <= 300 and numbers[0] > 280  # down to the page that holds 05:00
    # the newest page, about ten probes over 1,000 ids, then 17 pages of posts (not 36 pages)
    assert fetched <= 1 + 10 + 17
    assert report.added == len(numbers)


def test_endless_redirects_are_a_clear_error():
    def loop(request):
        return httpx.Response(302, headers={"Location": "/s/a?again=1"})

    client = httpx.Client(
        transport=httpx.MockTransport(loop), base_url="http://x", follow_redirects=True
    )
    with pytest.raises(FetchError, match=r"^http://x/s/a: Exceeded maximum allowed redirects"):
        fetch(client, "/s/a", policy=FAST, sleep=lambda seconds: None)


@pytest.mark.slow
def test_after_an_until_sync_a_plain_sync_archives_the_newer_posts(archive_db):
    channel = Channel("embassy_test", 1000)
    with ReplayServer([channel]) as server:
        sync(archive_db, server, "embassy_test", until="2023-01-01T10:00:00+00:00")
        later = sync(archive_db, server, "embassy_test")
    assert [n for n, _ in posts_in(archive_db)] == list(range(1, 1001))
    assert later.added == 400


@pytest.mark.slow
def test_deletions_at_a_page_edge_reverted_edits_and_dropped_hashtags(archive_db):
    channel = Channel("embassy_test", 40)
    with ReplayServer([channel]) as server:
        sync(archive_db, server, "embassy_test")
        del channel.posts[20]  # the newest post of the older page
        channel.posts[30] = "Post 30, corrected"  # the hashtag is gone
        edited = sync(archive_db, server, "embassy_test", all_pages=True)
        with Archive.open(archive_db) as archive:  # the edit dropped post 30's hashtag
            assert archive.search("", hashtag="RussiaChina").total == 39
        channel.posts[30] = "Post 30 about the meeting in Beijing #RussiaChina"
        reverted = sync(archive_db, server, "embassy_test", all_pages=True)
    assert edited.deleted == [20] and reverted.updated == 1
    texts = rows(
        archive_db,
        "SELECT post_versions.text FROM post_versions"
        " JOIN posts ON posts.pk = post_versions.post_pk WHERE posts.message_id = 30"
        " ORDER BY replaced_at",
    )
    assert texts == [
        ("Post 30 about the meeting in Beijing #RussiaChina",),
        ("Post 30, corrected",),
    ]
    with Archive.open(archive_db) as archive:
        post = archive.get("embassy_test/30")
    assert (post.text, post.hashtags) == (
        "Post 30 about the meeting in Beijing #RussiaChina",
        ["RussiaChina"],
    )


@pytest.mark.slow
def test_a_page_of_another_channel_is_refused_and_changes_nothing(archive_db):
    mine, theirs = Channel("foochan", 30), Channel("barchan", 30)
    with ReplayServer([mine, theirs]) as server:
        sync(archive_db, server, "foochan")
        server.channels["foochan"] = theirs  # renamed, or a mirror gone wrong
        with pytest.raises(ChannelUnavailable, match=r"the page is of another channel \(barchan\)"):
            sync(archive_db, server, "foochan", all_pages=True)
    assert rows(archive_db, "SELECT count(*), count(deleted_at) FROM posts") == [(30, 0)]


def test_cursor_fallback_and_retry_after_forms():
    from tgscope.collect.http import _retry_after
    from tgscope.collect.web_sync import _next_cursor

    assert _next_cursor(50, list(range(30, 50)), 40) == 30  # a link that would loop
    assert _next_cursor(None, list(range(30, 50)), None) == 30  # no link at all
    assert _next_cursor(None, [], 40) is None

    def header(value):
        return httpx.Response(429, headers={"Retry-After": value})

    assert _retry_after(header("1.5")) == 1.5
    assert _retry_after(header("soon")) is None
    assert _retry_after(header("Wed, 21 Oct 2015 07:28:00 GMT")) == 0.0  # long past


def test_a_bad_base_url_is_a_one_line_error(tmp_path):
    from click.testing import CliRunner

    from tgscope.cli import cli

    result = CliRunner().invoke(
        cli, ["sync", "--db", str(tmp_path / "a.db"), "--base-url", "ftp://x", "a_chan"]
    )
    assert (result.exit_code, result.output) == (
        1,
        "Error: --base-url: not an http(s) address: 'ftp://x'\n",
    )


@pytest.mark.slow
def test_a_walk_cut_by_since_is_continued_by_a_later_sync(archive_db):
    channel = Channel("embassy_test", 200)  # post n is n minutes past midnight
    with ReplayServer([channel]) as server:
        recent = sync(archive_db, server, "embassy_test", since="2023-01-01T02:30:00+00:00")
        after_recent = [n for n, _ in posts_in(archive_db)]
        deeper = sync(archive_db, server, "embassy_test", since="2023-01-01T00:30:00+00:00")
        after_deeper = [n for n, _ in posts_in(archive_db)]
        everything = sync(archive_db, server, "embassy_test")
    assert recent.stopped == "reached the since date"
    assert after_recent == list(range(after_recent[0], 201)) and 130 <= after_recent[0] <= 150
    assert after_deeper == list(range(after_deeper[0], 201)) and 10 <= after_deeper[0] <= 30
    assert [n for n, _ in posts_in(archive_db)] == list(range(1, 201))
    assert recent.added + deeper.added + everything.added == 200


@pytest.mark.slow
def test_a_top_walk_killed_while_a_since_cut_is_held_forgets_neither(archive_db):
    channel = Channel("embassy_test", 200)  # post n is n minutes past midnight
    with ReplayServer([channel]) as server:
        sync(archive_db, server, "embassy_test", since="2023-01-01T02:30:00+00:00")
        channel.add(100)  # 100 newer posts: the next walk from the top takes 5 pages

        def killed_on_the_third_page(report):
            if report.pages == 3:  # the held cut is older than --since: three from the top
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            sync(
                archive_db,
                server,
                "embassy_test",
                since="2023-01-01T02:30:00+00:00",
                on_page=killed_on_the_third_page,
            )
        with Archive.open(archive_db) as archive:
            state = archive.store.sync_state("embassy_test")
        everything = sync(archive_db, server, "embassy_test")
    # the walk from the top stopped midway, and the older history is still held for later
    assert (state.cursor, state.target, len(state.held), state.held[0][1]) == (241, 200, 1, None)
    assert [n for n, _ in posts_in(archive_db)] == list(range(1, 301))
    assert everything.stopped == "reached post 300, archived before"


@pytest.mark.slow
def test_held_history_survives_date_limited_syncs_and_is_walked_once(archive_db):
    channel = Channel("embassy_test", 200)  # post n is n minutes past midnight
    since = "2023-01-01T02:30:00+00:00"
    with ReplayServer([channel]) as server:
        first = sync(archive_db, server, "embassy_test", since=since)
        again = [sync(archive_db, server, "embassy_test", since=since) for _ in range(3)]
        requests_before = len(server.requests)
        sync(archive_db, server, "embassy_test", until="2023-01-01T01:00:00+00:00")
        sync(archive_db, server, "embassy_test", all_pages=True, until="2023-01-01T00:30:00+00:00")
        with Archive.open(archive_db) as archive:
            held = archive.store.sync_state("embassy_test").held
        everything = sync(archive_db, server, "embassy_test")
    assert first.added == 60 and [report.added for report in again] == [0, 0, 0]
    assert requests_before == 3 + 3  # each later --since sync: one page from the top, no more
    assert len(held) == 1 and held[0][1] is None  # --until and --all --until left it alone
    assert [n for n, _ in posts_in(archive_db)] == list(range(1, 201))
    assert everything.added == 200 - 60 - 60  # the --until syncs archived posts 1..60


@pytest.mark.slow
def test_one_channel_spelled_twice_syncs_once_and_a_bad_date_is_one_error(tmp_path):
    with ReplayServer([Channel("chan_0", 30)]) as server:
        twice = CliRunner().invoke(
            cli,
            [
                *("sync", "--db", str(tmp_path / "a.db"), "--base-url", server.url),
                *("--delay", "0", "chan_0", "@CHAN_0", "bad name!"),
            ],
        )
        requests = len(server.requests)
        bad_date = CliRunner().invoke(
            cli, ["sync", "--db", str(tmp_path / "a.db"), "--since", "soon", "chan_0", "chan_1"]
        )
    summaries = [line for line in twice.stdout.splitlines() if line.startswith("chan_0:")]
    assert len(summaries) == 1 and requests == 2
    assert "Error: not a channel username: 'bad name!'" in twice.output
    assert bad_date.exit_code == 1 and bad_date.output.count("Error:") == 1


@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 8)), max_size=12),
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 8)), max_size=12),
)
def test_id_ranges_behave_as_sets_of_ids(added, taken):
    def as_set(pairs):
        return {n for first, length in pairs for n in range(first, first + length)}

    ranges, others = IdRanges(), IdRanges()
    for first, length in added:
        ranges.add(first, first + length - 1)
    others.update(as_set(taken))
    expected = as_set(added)
    assert {n for first, last in ranges for n in range(first, last + 1)} == expected
    assert all(b[0] > a[1] + 1 for a, b in itertools.pairwise(ranges))  # disjoint, apart
    assert (ranges.count, ranges.first, ranges.last) == (
        len(expected),
        min(expected, default=None),
        max(expected, default=None),
    )
    difference = ranges - others
    assert {n for first, last in difference for n in range(first, last + 1)} == (
        expected - as_set(taken)
    )
    assert all((n in ranges) == (n in expected) for n in range(-1, 70))


@pytest.mark.slow
def test_a_page_spanning_a_billion_ids_stays_small(archive_db):
    channel = Channel("embassy_test", 1)
    channel.posts[10**9], channel.views[10**9] = "Post one billion", 7
    with ReplayServer([channel]) as server:
        tracemalloc.start()
        started = time.monotonic()
        try:
            report = sync(archive_db, server, "embassy_test")
            lines = report.missing_lines()
            summary = report.summary()
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        took = time.monotonic() - started
    assert report.missing == [(2, 10**9 - 1)]
    assert lines == [f"2-999999999: {NEVER_SHOWN}"]
    assert "ids 1..1000000000, 999999998 id(s) not shown" in summary
    assert report.warnings == []  # the deletion lookup asks by range: nothing to give up
    assert peak < 50 << 20 and took < 10


def test_missing_runs_split_a_gap_by_what_the_archive_knows():
    from tgscope.collect.report import SyncReport

    report = SyncReport("chan", covered=IdRanges([(1, 20)]))
    report.ids_seen.update([1, 2, 9, 20])
    report.gone_since = {4: "2024-05-01T10:00:00", 5: "2024-05-01T11:00:00", 7: "2024-06-01"}
    assert report.missing == [(3, 8), (10, 19)]
    assert report.missing_runs() == [
        (3, 3, NEVER_SHOWN),
        (4, 5, f"{DELETED} (gone since 2024-05-01)"),
        (6, 6, NEVER_SHOWN),
        (7, 7, f"{DELETED} (gone since 2024-06-01)"),
        (8, 8, NEVER_SHOWN),
        (10, 19, NEVER_SHOWN),
    ]
    assert "13 id(s) not shown, 3 deleted earlier" in report.summary()


@pytest.mark.slow
def test_the_index_is_committed_per_batch_of_pages_and_finds_every_post(db_path, monkeypatch):
    from tgscope.search import SearchIndex

    commits: list[int] = []
    commit = SearchIndex.commit

    def counted(self, seq):
        commits.append(seq)
        commit(self, seq)

    monkeypatch.setattr(SearchIndex, "commit", counted)
    with ReplayServer([Channel("embassy_test", 1200)]) as server:  # 60 pages
        report = sync(db_path, server, "embassy_test")
    assert report.pages == 60
    assert len(commits) == 2  # after page 50, and at the end (not once a page)
    with Archive.open(db_path) as archive:
        assert archive.search("meeting", limit=1).total == 1200


@pytest.mark.slow
def test_sync_says_what_it_does_when_output_is_not_a_terminal(tmp_path):
    once = {"fault_rate": 1.0, "fault_kinds": ("429",), "fault_limit": 1, "retry_after": "2"}
    with ReplayServer([Channel("chan_0", 30)], **once) as server:  # a wait of 2 s: announced
        result = CliRunner().invoke(
            cli,
            [
                *("sync", "--db", str(tmp_path / "a.db"), "--base-url", server.url),
                *("--delay", "0", "https://t.me/s/chan_0"),
            ],
        )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"{server.url}/s/chan_0: 429 Too Many Requests, waiting 2 s (Retry-After)",
        "chan_0: page 1, 20 posts, 20 new",
        "chan_0: page 2, 10 posts, 10 new",
    ]
    assert result.stdout.startswith("chan_0: 2 page(s), 30 added")


@pytest.mark.slow
def test_a_retry_after_past_max_wait_stops_the_channel_saying_so(tmp_path):
    with ReplayServer(
        [Channel("chan_0", 30)], fault_rate=1.0, fault_kinds=("429",), retry_after="100000"
    ) as server:
        started = time.monotonic()
        result = CliRunner().invoke(
            cli,
            [
                *("sync", "--db", str(tmp_path / "a.db"), "--base-url", server.url),
                *("--max-wait", "30", "t.me/chan_0"),
            ],
        )
        took = time.monotonic() - started
    assert result.exit_code == 1 and took < 5
    assert result.stderr == (
        f"Error: {server.url}/s/chan_0: 429 Too Many Requests: the server asks to wait 100000 s"
        " (Retry-After), longer than the 30 s allowed; try again later\n"
    )


def _run_on_a_terminal(command: list[str], timeout: float = 60) -> str:
    """Run ``command`` with stdout and stderr on one pseudo-terminal; what it wrote there."""
    master, slave = pty.openpty()
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    output, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([master], [], [], 0.2)[0]:
            try:
                data = os.read(master, 65536)
            except OSError:  # the other end closed: the process has ended
                break
            output += data
        elif process.poll() is not None:
            break
    process.kill()
    process.wait()
    os.close(master)
    return output.decode()


@pytest.mark.slow
def test_on_a_terminal_each_summary_starts_its_own_line(tmp_path):
    channels = [Channel("chan_0", 200), Channel("chan_1", 100)]
    with ReplayServer(channels, latency=0.02) as server:
        screen = _run_on_a_terminal(
            [
                *(sys.executable, "-m", "tgscope", "sync", "--db", str(tmp_path / "a.db")),
                *("--base-url", server.url, "--delay", "0", "chan_0", "chan_1"),
            ]
        )
    assert "new post(s)" in screen  # the progress line was drawn
    for name, pages, posts in (("chan_0", 10, 200), ("chan_1", 5, 100)):
        summary = f"{name}: {pages} page(s), {posts} added"
        before = screen[: screen.index(summary)]
        # written at the start of a fresh (erased) line, not after the progress line's text
        assert before.endswith(("\x1b[2K", "\n")), repr(before[-80:])
