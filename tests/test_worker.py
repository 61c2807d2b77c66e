"""Channels on a schedule and the workers that take them (issue 13, docs/scale-out.md §2.7):
the queue's leases, the shared politeness budget, and workers syncing from a loopback server,
on both engines; three worker processes on one PostgreSQL archive, one killed mid-walk."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tgscope.archive import Archive
from tgscope.collect.http import FetchPolicy, make_client
from tgscope.collect.worker import parse_every, run_worker, unwatch, watch, watched
from tgscope.errors import OptionError
from tgscope.store.queue import HostBudget, LeaseLost, WatchQueue

from .replay_server import Channel, ReplayServer

FAST = FetchPolicy(delay=0.0, backoff=0.01, max_wait=1.0, timeout=5, deadline=10)


@pytest.fixture
def side():
    """``side(archive)``: another connection to the archive, closed after the test."""
    opened = []

    def connect(archive: Archive):
        opened.append(archive.store.another_connection())
        return opened[-1]

    yield connect
    for db in opened:
        db.close()


def test_periods_are_read_in_seconds_minutes_hours_and_days():
    assert [parse_every(t) for t in ("30s", "15m", "6h", "1d", "90", "1.5h")] == [
        30.0,
        900.0,
        21600.0,
        86400.0,
        90.0,
        5400.0,
    ]
    for bad in ("0", "15 minutes", "-5m", "", "m"):
        with pytest.raises(OptionError, match="not a period"):
            parse_every(bad)


def test_watched_channels_are_due_at_once_and_watching_again_changes_the_period(archive_db, side):
    with Archive.open(archive_db) as archive:
        assert watch(archive, ["@MFARussia", "https://t.me/s/rusembchina"], 900) == 2
        assert watch(archive, ["mfarussia"], 3600) == 0
        rows = {row.channel: row for row in watched(archive)}
        now = WatchQueue(side(archive)).now()
        assert set(rows) == {"mfarussia", "rusembchina"}
        assert rows["mfarussia"].every_s == 3600 and rows["rusembchina"].every_s == 900
        assert all(row.due_at <= now and row.lease_owner is None for row in rows.values())
        assert unwatch(archive, ["@MFARussia", "nosuch"]) == ["mfarussia"]
        assert [row.channel for row in watched(archive)] == ["rusembchina"]


def test_a_due_channel_is_claimed_by_one_worker_at_a_time(archive_db, side):
    with Archive.open(archive_db) as archive:
        watch(archive, ["alpha", "bravo"], 600)
        first, second = WatchQueue(side(archive)), WatchQueue(side(archive))
        taken = {first.claim("w1", 60), second.claim("w2", 60)}
        assert taken == {"alpha", "bravo"}
        assert first.claim("w1", 60) is None and second.claim("w3", 60) is None
        assert first.due() == 2  # claimed, not done: a worker exiting when idle waits


def test_an_expired_lease_is_claimed_again_and_its_old_owner_can_no_longer_save(archive_db, side):
    with Archive.open(archive_db) as archive:
        watch(archive, ["alpha"], 600)
        queue = WatchQueue(side(archive))
        assert queue.claim("dead", 0.2) == "alpha"
        assert queue.claim("alive", 60) is None
        time.sleep(0.3)
        assert queue.claim("alive", 60) == "alpha"
        lost = pytest.raises(LeaseLost, match="another worker took the channel over")
        with lost, archive.store.transaction():
            WatchQueue(archive.store.db).renew("alpha", "dead", 60)
        with archive.store.transaction():
            WatchQueue(archive.store.db).renew("alpha", "alive", 60)


def test_a_finished_channel_is_due_a_period_later_and_a_failed_one_sooner(archive_db, side):
    with Archive.open(archive_db) as archive:
        watch(archive, ["alpha", "bravo"], 600)
        queue = WatchQueue(side(archive))
        queue.claim("w", 60)
        queue.claim("w", 60)
        now = queue.now()
        queue.done("alpha", "w")
        queue.failed("bravo", "w", "HTTP 500", 30)
        rows = {row.channel: row for row in watched(archive)}
        assert 599 <= rows["alpha"].due_at - now <= 605 and rows["alpha"].lease_owner is None
        assert 29 <= rows["bravo"].due_at - now <= 35
        assert (rows["bravo"].failures, rows["bravo"].last_error) == (1, "HTTP 500")
        assert queue.due() == 0


def test_the_budget_spaces_the_requests_of_every_connection_to_a_host(archive_db, side):
    with Archive.open(archive_db) as archive:
        budgets = [HostBudget(side(archive)) for _ in range(3)]
        waits = [budget.take("t.me", 0.5) for budget in budgets * 2]
        other = budgets[0].take("example.org", 0.5)
    assert waits[0] == 0.0 and other == 0.0
    # each slot half a second after the one before, whichever connection took it
    assert [round(b - a, 1) for a, b in itertools.pairwise(waits)] == [0.5] * 5


def test_a_429_holds_every_worker_off_the_host(archive_db, side):
    with Archive.open(archive_db) as archive:
        first, second = (HostBudget(side(archive)) for _ in range(2))
        first.hold_off("t.me", 5)
        assert 4.5 <= second.take("t.me", 0.1) <= 5.1


def test_a_worker_syncs_every_due_channel_then_stops_when_idle(archive_db):
    channels = [Channel(f"chan{n}", 30 + 10 * n) for n in range(3)]
    seen: list[str] = []
    with _serving(archive_db, channels) as (client, archive):
        watch(archive, [c.name for c in channels], 3600)
        report = run_worker(
            archive,
            client=client,
            policy=FAST,
            owner="w1",
            exit_when_idle=True,
            poll_s=0.05,
            on_channel=lambda channel, synced, error: seen.append(channel),
        )
        counts = {name: count for name, _, count in archive.stats().channels}
        rows = watched(archive)
    assert sorted(seen) == ["chan0", "chan1", "chan2"] and report.failed == []
    assert counts == {"chan0": 30, "chan1": 40, "chan2": 50}
    assert all(row.lease_owner is None and row.last_done is not None for row in rows)


def test_a_worker_gives_a_failing_channel_back_with_its_error(archive_db):
    with _serving(archive_db, [Channel("real", 5)]) as (client, archive):
        watch(archive, ["real", "nosuchchannel"], 3600)
        report = run_worker(
            archive, client=client, policy=FAST, owner="w", exit_when_idle=True, poll_s=0.05
        )
        rows = {row.channel: row for row in watched(archive)}
    assert [synced.channel for synced in report.synced] == ["real"]
    assert [channel for channel, _ in report.failed] == ["nosuchchannel"]
    failed = rows["nosuchchannel"]
    assert failed.failures == 1 and "no public preview" in (failed.last_error or "")
    assert failed.lease_owner is None


def test_a_stopped_worker_gives_its_channel_back_at_once(archive_db):
    stop = threading.Event()
    with _serving(archive_db, [Channel("bigone", 400)], latency=0.02) as (client, archive):
        watch(archive, ["bigone"], 3600)
        threading.Timer(0.3, stop.set).start()
        with pytest.raises(KeyboardInterrupt):
            run_worker(archive, client=client, policy=FAST, owner="w", stop=stop)
        (row,) = watched(archive)
        assert row.lease_owner is None and row.last_done is None
        assert 0 < archive.stats().posts < 400  # the pages saved before the stop stay


@contextlib.contextmanager
def _serving(target: str, channels: list[Channel], **options):
    """A loopback server of these channels, a client of it, and the archive at ``target``."""
    server = ReplayServer(channels, **options)
    with server, make_client(server.url, policy=FAST) as client, Archive.open(target) as archive:
        yield client, archive


# -- three processes on one PostgreSQL archive ---------------------------------------------


def _worker(url: str, base: str, name: str, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "tgscope", "worker", "--db", url, "--base-url", base,
               "--delay", "0.02", "--lease", "3", "--poll", "0.2", "--max-wait", "2",
               "--name", name, *extra]  # fmt: skip
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ}, text=True
    )


def _posts_of(url: str) -> int:
    with Archive.open(url, create=False) as archive:
        return archive.stats().posts


@pytest.mark.slow
@pytest.mark.pg
def test_three_workers_one_killed_sync_thirty_channels_and_store_every_post_once(
    pg_url, tmp_path: Path
):
    channels = [Channel(f"chan{n:02d}", 60 + (n * 47) % 141) for n in range(30)]
    expected = sum(len(c.posts) for c in channels)
    faults = ("500", "reset", "truncated", "slow", "429")
    with ReplayServer(channels, fault_rate=0.05, seed=7, fault_kinds=faults) as server:
        with Archive.open(pg_url) as archive:
            watch(archive, [c.name for c in channels], 3600)
        first = _worker(pg_url, server.url, "doomed")
        deadline = time.monotonic() + 60
        while _posts_of(pg_url) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)  # in the middle of a walk: its lease stays 3 s
        first.communicate(timeout=10)
        started = time.monotonic()
        others = [_worker(pg_url, server.url, f"w{n}", "--exit-when-idle") for n in range(3)]
        outputs = [process.communicate(timeout=240) for process in others]
        elapsed = time.monotonic() - started
        times = sorted(server.times)
    assert [process.returncode for process in others] == [0, 0, 0], outputs
    with Archive.open(pg_url, create=False) as archive:
        db = archive.store.db
        (doubled,) = db.execute(
            "SELECT count(*) FROM (SELECT key FROM posts GROUP BY key HAVING count(*) > 1) AS d"
        ).fetchone()
        counts = {name: count for name, _, count in archive.stats().channels}
        rows = watched(archive)
    assert doubled == 0
    assert counts == {c.name: len(c.posts) for c in channels}
    assert sum(counts.values()) == expected
    assert all(row.lease_owner is None and row.failures == 0 for row in rows)
    # the budget: all workers together never asked faster than one request per 20 ms
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate <= 1 / 0.02 * 1.1, f"{rate:.1f} requests/s"
    assert elapsed < 240


def test_workers_behind_different_addresses_have_a_budget_each(archive_db, side):
    from tgscope.collect.worker import DbPacer

    with Archive.open(archive_db) as archive:
        first, second, third = (
            DbPacer(HostBudget(side(archive)), 0.5, 0.0, egress) for egress in ("a", "b", "a")
        )
        assert [first.wait("t.me"), second.wait("t.me")] == [0.0, 0.0]
        assert 0.45 <= third.wait("t.me") <= 0.55  # after the first, its address's


def test_a_429_one_worker_meets_holds_the_others_off_and_a_long_hold_fails_at_once(
    archive_db, side
):
    from tgscope.collect.http import fetch
    from tgscope.collect.worker import DbPacer
    from tgscope.errors import FetchError

    site = [Channel("heldoff", 5)]
    server = ReplayServer(site, fault_rate=1.0, fault_kinds=("429",), retry_after="30")
    with (
        server,
        Archive.open(archive_db) as archive,
        make_client(server.url, policy=FAST) as client,
    ):
        budget = HostBudget(side(archive))
        first = replace(FAST, retries=0, max_wait=60, pacer=DbPacer(budget, 0.0, 0.0))
        with pytest.raises(FetchError, match="gave up after 1 attempts"):
            fetch(client, "/s/heldoff", policy=first, sleep=lambda s: None)
        other = replace(FAST, max_wait=5, pacer=DbPacer(HostBudget(side(archive)), 0.0, 0.0))
        with pytest.raises(FetchError, match=r"held off this host for (29|30) s more"):
            fetch(client, "/s/heldoff", policy=other, sleep=lambda s: None)
    assert len(server.requests) == 1  # the second never asked


def test_the_watch_command_says_what_it_did_and_shows_the_schedule(tmp_path):
    from click.testing import CliRunner

    from tgscope.cli import cli

    db = str(tmp_path / "w.db")
    run = CliRunner().invoke
    missing = run(cli, ["watch", "--db", db, "--list"])
    assert missing.exit_code == 1 and "no archive here yet" in missing.output
    assert not (tmp_path / "w.db").exists()  # a listing creates nothing
    added = run(cli, ["watch", "--db", db, "mfarussia", "@RusEmbChina", "--every", "15m"])
    assert added.output == "2 channel(s) watched (2 new), every 15 min\n"
    listed = run(cli, ["watch", "--db", db, "--list"]).output.splitlines()
    assert listed == ["mfarussia: every 15 min, due now", "rusembchina: every 15 min, due now"]
    with Archive.open(db) as archive, contextlib.closing(archive.store.another_connection()) as c:
        queue = WatchQueue(c)
        queue.claim("w1", 60)
        queue.done("mfarussia", "w1")
    listed = run(cli, ["watch", "--db", db, "--list"]).output.splitlines()
    assert listed[-1] == "mfarussia: every 15 min, due in 15 min"
    removed = run(cli, ["watch", "--db", db, "--remove", "mfarussia", "nosuchchan"])
    assert removed.exit_code == 0
    assert removed.stdout == "1 channel(s) taken off the schedule\n"
    assert "nosuchchan: not on the schedule" in removed.stderr
    nothing = run(cli, ["watch", "--db", db, "--remove"])
    assert nothing.exit_code == 1 and "--remove: name the channels" in nothing.output


def test_a_host_holding_every_worker_off_is_a_pause_not_a_failure_of_each_channel(archive_db):
    """The channel whose request met the 429 fails (it was asked to wait too long); the
    others go back to the schedule untouched, and the worker waits instead of asking."""
    site = [Channel(f"held{n}", 5) for n in range(4)]
    stop = threading.Event()
    server = ReplayServer(site, fault_rate=1.0, fault_kinds=("429",), retry_after="600")
    with server, make_client(server.url, policy=FAST) as client, Archive.open(archive_db) as a:
        watch(a, [c.name for c in site], 3600)
        threading.Timer(1.5, stop.set).start()
        run_worker(a, client=client, policy=FAST, owner="w", poll_s=0.05, stop=stop)
        rows = watched(a)
    assert len(server.requests) == 1
    assert sorted(row.failures for row in rows) == [0, 0, 0, 1]
    assert all(row.lease_owner is None for row in rows)


@pytest.mark.pg
def test_a_worker_that_loses_the_database_stops_and_charges_no_channel(pg_url):
    from tgscope.errors import StoreError

    with (
        ReplayServer([Channel("lostdb", 50)]) as server,
        make_client(server.url, policy=FAST) as client,
        Archive.open(pg_url) as archive,
    ):
        watch(archive, ["lostdb", "another"], 3600)
        (pid,) = archive.store.db.execute("SELECT pg_backend_pid()").fetchone()
        with Archive.open(pg_url) as admin:
            admin.store.db.execute("SELECT pg_terminate_backend(?)", (pid,))
        with pytest.raises(StoreError):
            run_worker(archive, client=client, policy=FAST, owner="w", exit_when_idle=True)
    with Archive.open(pg_url) as archive:
        rows = watched(archive)
    assert all(row.failures == 0 and row.lease_owner is None for row in rows)


@pytest.mark.slow
def test_a_worker_stopped_by_sigterm_gives_its_channel_back(tmp_path: Path):
    db = str(tmp_path / "w.db")
    with ReplayServer([Channel("sigterm", 400)], latency=0.05) as server:
        with Archive.open(db) as archive:
            watch(archive, ["sigterm"], 3600)
        process = _worker(db, server.url, "w1")
        deadline = time.monotonic() + 30
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "interrupted: the channel in hand is given back" in stderr
    with Archive.open(db) as archive:
        (row,) = watched(archive)
    assert row.lease_owner is None and row.failures == 0
