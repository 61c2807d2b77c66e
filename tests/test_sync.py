from __future__ import annotations

import itertools
import json
import os
import pty
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

from .replay_server import Channel, ReplayServer

FAST = FetchPolicy(delay=0, backoff=0.001, retries=12, timeout=5)


def posts_in(db_path) -> list[tuple[int, int]]:
    db = sqlite3.connect(db_path)
    rows = db.execute("SELECT message_id, views FROM posts ORDER BY message_id").fetchall()
    db.close()
    return rows


def _count_posts(db_path) -> int:
    """Posts committed so far by another process (0 while the file is still being created)."""
    try:
        return len(posts_in(db_path))
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


def sync(db_path, server, name, **options):
    with Archive.open(db_path) as archive, make_client(server.url, policy=FAST) as client:
        return sync_channel(archive, name, client=client, policy=FAST, **options)


@pytest.mark.slow
def test_a_thousand_posts_arrive_exactly_once_through_faults(db_path):
    channel = Channel("embassy_test", 1000)
    with ReplayServer([channel], fault_rate=0.1, seed=7) as server:
        report = sync(db_path, server, "embassy_test")
    assert len(server.faults) >= 5 and {"429", "500", "reset", "truncated"} <= set(server.faults)
    assert posts_in(db_path) == [(n, 100 + n) for n in range(1, 1001)]
    assert (report.pages, report.added, report.missing) == (50, 1000, [])
    assert report.stopped == "reached the channel's first post"


@pytest.mark.slow
def test_resync_is_incremental_and_records_new_views(db_path):
    channel = Channel("embassy_test", 100)
    with ReplayServer([channel]) as server:
        sync(db_path, server, "embassy_test")
        channel.add(5)
        channel.views[104] = 999
        again = sync(db_path, server, "embassy_test")
        nothing_new = sync(db_path, server, "embassy_test")
        everything = sync(db_path, server, "embassy_test", all_pages=True)
    assert (again.pages, again.added, again.stopped) == (1, 5, "reached post 100, archived before")
    assert (nothing_new.pages, nothing_new.added) == (1, 0)
    assert (everything.pages, everything.added, everything.unchanged) == (6, 0, 105)
    assert posts_in(db_path)[-2:] == [(104, 999), (105, 205)]
    db = sqlite3.connect(db_path)
    seen = db.execute(
        "SELECT count(*) FROM observations"
        " WHERE post_pk = (SELECT pk FROM posts WHERE message_id = 100)"
    ).fetchone()
    assert seen == (4,)  # every sync that showed post 100 recorded its views then


@pytest.mark.slow
def test_gaps_and_a_missing_pagination_link(db_path):
    channel = Channel("embassy_test", 120, deleted={50, 51, 52, 90})
    channel.no_link_before.add(None)  # the newest page lacks its "older" link
    with ReplayServer([channel]) as server:
        report = sync(db_path, server, "embassy_test")
    assert [n for n, _ in posts_in(db_path)] == [
        n for n in range(1, 121) if n not in (50, 51, 52, 90)
    ]
    assert report.missing == [(50, 52), (90, 90)]
    assert "4 id(s) not shown" in report.summary()
    assert report.missing_runs() == [(50, 52, NEVER_SHOWN), (90, 90, NEVER_SHOWN)]
    assert report.missing_lines() == [f"50-52: {NEVER_SHOWN}", f"90: {NEVER_SHOWN}"]


@pytest.mark.slow
def test_missing_ids_say_whether_they_were_deleted_after_archiving(db_path):
    channel = Channel("embassy_test", 60, deleted={10})
    with ReplayServer([channel]) as server:
        sync(db_path, server, "embassy_test")
        del channel.posts[30], channel.posts[31]
        again = sync(db_path, server, "embassy_test", all_pages=True)
        later = sync(db_path, server, "embassy_test", all_pages=True)
    today = again.gone_since[30][:10]
    assert again.deleted == [30, 31] and later.deleted == []  # marked once
    for report in (again, later):
        assert report.missing_lines() == [
            f"10: {NEVER_SHOWN}",
            f"30-31: {DELETED} (gone since {today})",
        ]
    assert "1 id(s) not shown" in later.summary()


@pytest.mark.slow
def test_channels_sync_side_by_side_within_the_limit(tmp_path):
    channels = [Channel(f"chan_{n}", 60) for n in range(4)]
    with ReplayServer(channels, latency=0.05) as server:
        result = CliRunner().invoke(
            cli,
            [
                *("sync", "--db", str(tmp_path / "a.db"), "--base-url", server.url),
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
    db = sqlite3.connect(tmp_path / "a.db")
    assert db.execute("SELECT count(*), count(DISTINCT key) FROM posts").fetchone() == (240, 240)


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
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if _count_posts(db) >= 300:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the sync ended before it could be stopped"
        process.send_signal(getattr(signal, signal_name))
        _, stderr = process.communicate(timeout=60)
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
    assert rerun.returncode == 0, rerun.stderr
    with Archive.open(db) as archive:
        assert archive.search("meeting", limit=1).total == 1000
    assert posts_in(db) == [(n, 100 + n) for n in range(1, 1001)]
    assert "ids 1..1000" in rerun.stdout
    assert "not shown" not in rerun.stdout  # ids archived by the killed run are not gaps


@pytest.mark.slow
def test_edits_keep_every_version_deletions_are_marked_and_raw_pages_kept(db_path):
    import zlib

    channel = Channel("embassy_test", 40)
    with ReplayServer([channel]) as server:
        sync(db_path, server, "embassy_test", keep_raw=True)
        channel.posts[30] = "Post 30, corrected"
        del channel.posts[35]
        again = sync(db_path, server, "embassy_test", all_pages=True, keep_raw=True)
        channel.posts[35] = "Post 35 about the meeting in Beijing #RussiaChina"
        back = sync(db_path, server, "embassy_test", all_pages=True)
    assert (again.updated, again.deleted, back.deleted) == (1, [35], [])
    assert "1 deleted since archived" in again.summary()
    db = sqlite3.connect(db_path)
    versions = db.execute(
        "SELECT post_versions.text FROM post_versions"
        " JOIN posts ON posts.pk = post_versions.post_pk WHERE posts.message_id = 30"
    ).fetchall()
    assert versions == [("Post 30 about the meeting in Beijing #RussiaChina",)]
    assert db.execute("SELECT text FROM posts WHERE message_id = 30").fetchone() == (
        "Post 30, corrected",
    )
    assert db.execute("SELECT count(*) FROM posts WHERE deleted_at IS NOT NULL").fetchone() == (0,)
    pages = db.execute("SELECT url, content FROM raw_pages ORDER BY pk").fetchall()
    assert [url.split("/", 3)[3] for url, _ in pages] == [
        "s/embassy_test",
        "s/embassy_test?before=21",
        "s/embassy_test",  # changed since (post 35 gone): kept again
        "s/embassy_test?before=20",  # the older page now starts one post lower
    ]
    assert zlib.decompress(pages[0][1]).decode().count("tgme_widget_message_text") == 20


@pytest.mark.slow
def test_until_seeks_by_ids_instead_of_walking_from_the_newest_page(db_path):
    channel = Channel("embassy_test", 1000)  # post n is dated 2023-01-01, n minutes past midnight
    with ReplayServer([channel]) as server:
        report = sync(
            db_path,
            server,
            "embassy_test",
            since="2023-01-01T05:00:00+00:00",
            until="2023-01-01T10:00:00+00:00",
        )
        fetched = len(server.requests)
    numbers = [n for n, _ in posts_in(db_path)]
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
def test_after_an_until_sync_a_plain_sync_archives_the_newer_posts(db_path):
    channel = Channel("embassy_test", 1000)
    with ReplayServer([channel]) as server:
        sync(db_path, server, "embassy_test", until="2023-01-01T10:00:00+00:00")
        later = sync(db_path, server, "embassy_test")
    assert [n for n, _ in posts_in(db_path)] == list(range(1, 1001))
    assert later.added == 400


@pytest.mark.slow
def test_deletions_at_a_page_edge_reverted_edits_and_dropped_hashtags(db_path):
    channel = Channel("embassy_test", 40)
    with ReplayServer([channel]) as server:
        sync(db_path, server, "embassy_test")
        del channel.posts[20]  # the newest post of the older page
        channel.posts[30] = "Post 30, corrected"  # the hashtag is gone
        edited = sync(db_path, server, "embassy_test", all_pages=True)
        with Archive.open(db_path) as archive:  # the edit dropped post 30's hashtag
            assert archive.search("", hashtag="RussiaChina").total == 39
        channel.posts[30] = "Post 30 about the meeting in Beijing #RussiaChina"
        reverted = sync(db_path, server, "embassy_test", all_pages=True)
    assert edited.deleted == [20] and reverted.updated == 1
    db = sqlite3.connect(db_path)
    texts = db.execute(
        "SELECT post_versions.text FROM post_versions"
        " JOIN posts ON posts.pk = post_versions.post_pk WHERE posts.message_id = 30"
        " ORDER BY replaced_at"
    ).fetchall()
    assert texts == [
        ("Post 30 about the meeting in Beijing #RussiaChina",),
        ("Post 30, corrected",),
    ]
    with Archive.open(db_path) as archive:
        post = archive.get("embassy_test/30")
    assert (post.text, post.hashtags) == (
        "Post 30 about the meeting in Beijing #RussiaChina",
        ["RussiaChina"],
    )


@pytest.mark.slow
def test_a_page_of_another_channel_is_refused_and_changes_nothing(db_path):
    mine, theirs = Channel("foochan", 30), Channel("barchan", 30)
    with ReplayServer([mine, theirs]) as server:
        sync(db_path, server, "foochan")
        server.channels["foochan"] = theirs  # renamed, or a mirror gone wrong
        with pytest.raises(ChannelUnavailable, match=r"the page is of another channel \(barchan\)"):
            sync(db_path, server, "foochan", all_pages=True)
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT count(*), count(deleted_at) FROM posts").fetchone() == (30, 0)


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
def test_a_walk_cut_by_since_is_continued_by_a_later_sync(db_path):
    channel = Channel("embassy_test", 200)  # post n is n minutes past midnight
    with ReplayServer([channel]) as server:
        recent = sync(db_path, server, "embassy_test", since="2023-01-01T02:30:00+00:00")
        after_recent = [n for n, _ in posts_in(db_path)]
        deeper = sync(db_path, server, "embassy_test", since="2023-01-01T00:30:00+00:00")
        after_deeper = [n for n, _ in posts_in(db_path)]
        everything = sync(db_path, server, "embassy_test")
    assert recent.stopped == "reached the since date"
    assert after_recent == list(range(after_recent[0], 201)) and 130 <= after_recent[0] <= 150
    assert after_deeper == list(range(after_deeper[0], 201)) and 10 <= after_deeper[0] <= 30
    assert [n for n, _ in posts_in(db_path)] == list(range(1, 201))
    assert recent.added + deeper.added + everything.added == 200


@pytest.mark.slow
def test_a_top_walk_killed_while_a_since_cut_is_held_forgets_neither(db_path):
    channel = Channel("embassy_test", 200)  # post n is n minutes past midnight
    with ReplayServer([channel]) as server:
        sync(db_path, server, "embassy_test", since="2023-01-01T02:30:00+00:00")
        channel.add(100)  # 100 newer posts: the next walk from the top takes 5 pages

        def killed_on_the_third_page(report):
            if report.pages == 3:  # the held cut is older than --since: three from the top
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            sync(
                db_path,
                server,
                "embassy_test",
                since="2023-01-01T02:30:00+00:00",
                on_page=killed_on_the_third_page,
            )
        with Archive.open(db_path) as archive:
            state = archive.store.sync_state("embassy_test")
        everything = sync(db_path, server, "embassy_test")
    # the walk from the top stopped midway, and the older history is still held for later
    assert (state.cursor, state.target, len(state.held), state.held[0][1]) == (241, 200, 1, None)
    assert [n for n, _ in posts_in(db_path)] == list(range(1, 301))
    assert everything.stopped == "reached post 300, archived before"


@pytest.mark.slow
def test_held_history_survives_date_limited_syncs_and_is_walked_once(db_path):
    channel = Channel("embassy_test", 200)  # post n is n minutes past midnight
    since = "2023-01-01T02:30:00+00:00"
    with ReplayServer([channel]) as server:
        first = sync(db_path, server, "embassy_test", since=since)
        again = [sync(db_path, server, "embassy_test", since=since) for _ in range(3)]
        requests_before = len(server.requests)
        sync(db_path, server, "embassy_test", until="2023-01-01T01:00:00+00:00")
        sync(db_path, server, "embassy_test", all_pages=True, until="2023-01-01T00:30:00+00:00")
        with Archive.open(db_path) as archive:
            held = archive.store.sync_state("embassy_test").held
        everything = sync(db_path, server, "embassy_test")
    assert first.added == 60 and [report.added for report in again] == [0, 0, 0]
    assert requests_before == 3 + 3  # each later --since sync: one page from the top, no more
    assert len(held) == 1 and held[0][1] is None  # --until and --all --until left it alone
    assert [n for n, _ in posts_in(db_path)] == list(range(1, 201))
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
def test_a_page_spanning_a_billion_ids_stays_small(db_path):
    channel = Channel("embassy_test", 1)
    channel.posts[10**9], channel.views[10**9] = "Post one billion", 7
    with ReplayServer([channel]) as server:
        tracemalloc.start()
        started = time.monotonic()
        try:
            report = sync(db_path, server, "embassy_test")
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
