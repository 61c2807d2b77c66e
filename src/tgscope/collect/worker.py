"""Collectors on many machines: ``tgscope watch`` puts channels on a schedule in the archive,
``tgscope worker`` takes them from it, one at a time, and syncs them with today's sync.

The queue and the politeness budget are tables of the archive (:mod:`tgscope.store.queue`), so
any number of workers, on any number of machines, share them through the database:

- a worker *claims* a due channel with a lease, renews the lease in the transaction of every
  page it saves (a worker that lost its lease has its page rolled back), and gives the channel
  back when the walk ends;
- a worker killed at any moment loses nothing: the pages it saved are saved with the walk's
  cursor, and once its lease runs out another worker claims the channel and resumes from there;
- every request to a host first takes the next slot of that host's budget, ``delay`` (plus up to
  ``jitter`` of it at random) after the one before, whichever worker made it; a 429 holds every
  worker off.  N workers on one host therefore never ask it more often than one worker would:
  they only hide each other's parsing and saving.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import httpx

from ..errors import OptionError, SourceError, TgscopeError
from ..store.queue import HostBudget, LeaseLost, Watched, WatchQueue
from .http import FetchPolicy, HeldOff
from .report import SyncReport
from .web_sync import sync_channel

if TYPE_CHECKING:
    from ..archive import Archive
    from ..store import Store

#: how long a failed channel waits before its first retry (doubled for each failure in a row)
RETRY_AFTER_FAILURE = 60.0
#: the longest a worker sleeps at once when the host holds every collector off
MOST_HELD_PAUSE = 60.0
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")


def parse_every(text: str) -> float:
    """``"15m"`` → 900.0 seconds (``s``, ``m``, ``h``, ``d``; a bare number is seconds)."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None or float(found[1]) <= 0:
        raise OptionError(f"every: {text!r} is not a period such as 30s, 15m, 6h or 1d")
    return float(found[1]) * _UNITS[found[2] or "s"]


def watch(archive: Archive, channels: Iterable[str], every_s: float) -> int:
    """Put channels on the schedule, due now (already there: their period changes); returns
    how many were new."""
    from ..clean import normalize_channel

    names = []
    for channel in channels:
        try:
            names.append(normalize_channel(channel))
        except ValueError as error:
            raise OptionError(str(error)) from error
    return WatchQueue(_db(archive)).add([name for name in names if name], every_s)


def unwatch(archive: Archive, channels: Iterable[str]) -> list[str]:
    """Take channels off the schedule (what was archived stays); those that were on it."""
    return WatchQueue(_db(archive)).remove([c.strip().lstrip("@").lower() for c in channels])


def watched(archive: Archive) -> list[Watched]:
    """The schedule, the next due first."""
    return WatchQueue(_db(archive)).listed()


class DbPacer:
    """The budget of :class:`~tgscope.store.queue.HostBudget` as an HTTP pacer.  Workers
    that reach the host from different addresses (``egress``: a name for the address) have
    a budget each, since a host limits each address."""

    def __init__(self, budget: HostBudget, delay: float, jitter: float, egress: str = ""):
        self.budget, self.delay, self.jitter = budget, delay, jitter
        self.suffix = f"@{egress}" if egress else ""

    def ahead(self, host: str) -> float:
        return self.budget.ahead(host + self.suffix)

    def wait(self, host: str) -> float:
        gap = self.delay * (1 + random.random() * self.jitter)
        return self.budget.take(host + self.suffix, gap)

    def hold_off(self, host: str, seconds: float) -> None:
        self.budget.hold_off(host + self.suffix, seconds)


@dataclass
class WorkerReport:
    """What one worker did: the channels it synced, and those that failed with why."""

    owner: str
    synced: list[SyncReport] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # leases another worker took over


def default_owner() -> str:
    """A worker's name: its machine, its process and a few random letters."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


def run_worker(
    archive: Archive,
    *,
    client: httpx.Client,
    policy: FetchPolicy | None = None,
    owner: str | None = None,
    lease_s: float = 120.0,
    poll_s: float = 5.0,
    exit_when_idle: bool = False,
    egress: str = "",
    stop: threading.Event | None = None,
    on_channel: Callable[[str, SyncReport | None, str | None], None] | None = None,
) -> WorkerReport:
    """Claim due channels and sync them, one at a time, until ``stop`` is set (or, with
    ``exit_when_idle``, until no channel is due: every one done for now, including those
    other workers hold).  ``egress`` names the address this worker reaches the host from,
    when workers use several (each has its own budget).  ``on_channel(channel, report,
    error)`` follows each channel."""
    policy = policy or FetchPolicy()
    report = WorkerReport(owner or default_owner())
    side = archive.store.another_connection()  # the queue's and the budget's own transactions
    try:
        queue = WatchQueue(side)
        pacer = DbPacer(HostBudget(side), policy.delay, policy.jitter, egress)
        paced = replace(policy, pacer=pacer)
        while stop is None or not stop.is_set():
            channel = queue.claim(report.owner, lease_s)
            if channel is None:
                if exit_when_idle and queue.due() == 0:
                    break
                _pause(poll_s, stop)
                continue
            try:
                synced, error = _sync_claimed(
                    archive, queue, channel, client, paced, lease_s, report, stop
                )
            except HeldOff as held:  # not the channel's fault: back to the queue, and wait
                queue.give_back(channel, report.owner)
                _pause(min(held.seconds, MOST_HELD_PAUSE), stop)
                continue
            if on_channel is not None:
                on_channel(channel, synced, error)
    finally:
        side.close()
    return report


def _sync_claimed(
    archive: Archive,
    queue: WatchQueue,
    channel: str,
    client: httpx.Client,
    policy: FetchPolicy,
    lease_s: float,
    report: WorkerReport,
    stop: threading.Event | None,
) -> tuple[SyncReport | None, str | None]:
    """Sync one claimed channel and give it back: done, failed, or lost to another worker."""

    def renew(store: Store) -> None:
        WatchQueue(_db_of(store)).renew(channel, report.owner, lease_s)

    try:
        synced = sync_channel(
            archive, channel, client=client, policy=policy, on_save=renew, stop=stop
        )
    except LeaseLost as error:
        report.lost.append(channel)  # the other worker goes on from the last saved page
        return None, str(error)
    except HeldOff:
        raise
    except SourceError as error:  # the channel's pages: tried again later, with backoff
        queue.failed(channel, report.owner, str(error), RETRY_AFTER_FAILURE)
        report.failed.append((channel, str(error)))
        return None, str(error)
    except BaseException:  # Ctrl-C, or the archive itself (a lost connection): not the
        with contextlib.suppress(TgscopeError):  # channel's fault; it is free for another
            queue.give_back(channel, report.owner)
        raise
    queue.done(channel, report.owner)
    report.synced.append(synced)
    return synced, None


def _pause(seconds: float, stop: threading.Event | None) -> None:
    if stop is None:
        time.sleep(seconds)
    else:
        stop.wait(seconds)


def _db(archive: Archive) -> Any:
    return _db_of(archive.store)


def _db_of(store: Store) -> Any:
    """The store's connection (the queue's tables are read and written through it)."""
    found: Any = store
    return found.db
