"""``tgscope watch`` and ``tgscope worker``: channels on a schedule, collectors that take them."""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING

import click

from ..errors import OptionError
from .base import cli, console, db_option, err_console, reports_errors, safe_text, seconds_option
from .collecting import base_url_option, web_client

if TYPE_CHECKING:
    from ..collect.report import SyncReport


@cli.command()
@db_option
@click.argument("channels", nargs=-1)
@click.option("--every", default="1h", show_default=True, help="How often: 30m, 6h, 1d...")
@click.option("--remove", is_flag=True, help="Take the channels off the schedule instead.")
@click.option("--list", "listing", is_flag=True, help="Show the schedule.")
@reports_errors
def watch(db, channels, every, remove, listing):
    """Put channels on a schedule that tgscope worker processes follow.

    CHANNELS are usernames or links, as for sync.  They are due at once, then every
    --every; a channel already watched gets the new period.  The schedule is kept in the
    archive, so workers on other machines see it.
    """
    from ..archive import Archive
    from ..collect.worker import parse_every, unwatch, watch, watched

    if remove and not channels:
        raise OptionError("--remove: name the channels to take off the schedule")
    if not channels and not listing:
        raise OptionError("name the channels to watch, or --list to show the schedule")
    with Archive.open(db, create=bool(channels) and not remove) as archive:
        if remove:
            gone = unwatch(archive, channels)
            console.print(f"{len(gone)} channel(s) taken off the schedule")
            for name in sorted(set(_names(channels)) - set(gone)):
                err_console.print(safe_text(f"{name}: not on the schedule"))
        elif channels:
            period = parse_every(every)
            new = watch(archive, channels, period)
            console.print(
                f"{len(channels)} channel(s) watched ({new} new), every {_period(period)}"
            )
        if listing:
            rows = watched(archive)
            if rows:
                _print_schedule(rows, archive.store)
            else:
                console.print("nothing watched")


def _names(channels) -> list[str]:
    return [channel.strip().lstrip("@").lower() for channel in channels]


def _print_schedule(rows, store) -> None:
    from ..store.queue import WatchQueue

    now = WatchQueue(store.db).now()
    for row in rows:
        due = "now" if row.due_at <= now else f"in {_period(row.due_at - now)}"
        held = f", held by {row.lease_owner}" if row.lease_owner else ""
        failed = f", failed {row.failures}× ({row.last_error})" if row.failures else ""
        console.print(
            safe_text(f"{row.channel}: every {_period(row.every_s)}, due {due}{held}{failed}")
        )


def _period(seconds: float) -> str:
    """``900`` → ``15 min``; a time that is no whole number of units is rounded to one."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:.0f} {unit}"
    for unit, size, past in (("d", 86400, 2), ("h", 3600, 2), ("min", 60, 1.5)):
        if seconds >= size * past:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


@cli.command()
@db_option
@base_url_option
@seconds_option(
    "--delay", 1.0, "Seconds between two requests to the host, by all workers together."
)
@seconds_option("--max-wait", 60.0, "Longest single wait in seconds (backoff, Retry-After).")
@seconds_option("--lease", 120.0, "Seconds a claimed channel stays this worker's unless renewed.")
@seconds_option("--poll", 5.0, "Seconds between looks at the schedule when nothing is due.")
@click.option("--exit-when-idle", is_flag=True, help="Stop once no channel is due.")
@click.option("--name", help="This worker's name in the schedule (default: host:pid:random).")
@click.option(
    "--egress",
    default="",
    metavar="NAME",
    help="The address this worker reaches Telegram from, when workers use several: each"
    " address has a budget of its own.",
)
@reports_errors
def worker(db, base_url, delay, max_wait, lease, poll, exit_when_idle, name, egress):
    """Sync the watched channels that are due, one at a time, until stopped.

    Run any number of workers, on any number of machines, on one archive (a PostgreSQL
    archive for several machines): each channel is synced by one worker at a time, and
    all of them share one politeness budget per host (--delay).  A worker killed at any
    moment loses nothing: another one resumes its channel once its lease runs out.
    """
    from ..archive import Archive
    from ..collect.http import FetchPolicy
    from ..collect.worker import run_worker

    if lease <= 0:
        raise OptionError("--lease: must be more than 0 seconds")
    policy = FetchPolicy(delay=delay, max_wait=max_wait)
    client = web_client(base_url, policy)
    signal.signal(signal.SIGTERM, _stopped)  # systemctl stop: give the channel back, as Ctrl-C
    try:
        with client, Archive.open(db) as archive:
            report = run_worker(
                archive,
                client=client,
                policy=policy,
                owner=name,
                lease_s=lease,
                poll_s=poll,
                exit_when_idle=exit_when_idle,
                egress=egress,
                on_channel=_show,
            )
    except KeyboardInterrupt:
        err_console.print("interrupted: the channel in hand is given back; its saved pages stay")
        sys.exit(130)
    console.print(
        f"{report.owner}: {len(report.synced)} channel(s) synced, {len(report.failed)} failed"
    )
    if report.failed:
        sys.exit(1)


def _stopped(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _show(channel: str, report: SyncReport | None, error: str | None) -> None:
    if report is not None:
        console.print(
            safe_text(
                f"{channel}: {report.pages} page(s), {report.added} added, {report.updated} updated"
            )
        )
    else:
        err_console.print(safe_text(f"{channel}: {error}"))
