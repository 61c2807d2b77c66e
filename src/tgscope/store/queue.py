"""The collectors' queue and their shared politeness budget, in the archive itself.

``watch`` holds the channels to sync and when each is next due; a worker *claims* a due channel
with a lease (its name and an end time), renews the lease with every page it saves, and gives
the channel back when the walk ends, due again ``every_s`` later.  A worker killed at any moment
simply stops renewing: once its lease has run out another worker claims the channel and goes on
from the cursor the last saved page left (the pages and the cursor are saved together).

``host_budget`` spaces the requests of every worker to one host: each request first takes the
next free slot (``next_at``), so N workers on N machines never ask a host more often than one
would.  Times come from the database's clock, so machines whose clocks disagree still agree.

Each call is its own short transaction: on PostgreSQL the claim skips rows another worker has
locked (``FOR UPDATE SKIP LOCKED``); on SQLite the write transaction locks the whole file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .dbapi import Connection, dialect_of, roll_back


@dataclass(frozen=True, slots=True)
class Watched:
    """A channel on the schedule (times in seconds since 1970, the database's clock)."""

    channel: str
    every_s: float
    due_at: float
    lease_owner: str | None
    lease_until: float | None
    failures: int
    last_error: str | None
    last_done: float | None


class LeaseLost(Exception):
    """Another worker holds the channel now: this one's lease ran out (it was too slow to
    renew it); what it was about to write is rolled back."""


class WatchQueue:
    """The ``watch`` table: which channels to sync, how often, and who syncs them now."""

    def __init__(self, db: Connection):
        self.db = db
        self.dialect = dialect_of(db)

    def _write(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        return written(self.db, sql, parameters)

    def add(self, channels: Iterable[str], every_s: float) -> int:
        """Put channels on the schedule (due now), or change how often they are synced;
        returns how many were new."""
        now = self.dialect.now_epoch
        before = self.count()
        for channel in channels:
            self._write(
                "INSERT INTO watch (channel, every_s, due_at, added_at)"
                f" VALUES (?, ?, {now}, {now})"
                " ON CONFLICT (channel) DO UPDATE SET every_s = excluded.every_s",
                (channel, every_s),
            )
        return self.count() - before

    def remove(self, channels: Iterable[str]) -> list[str]:
        """Take channels off the schedule (what was archived stays); those that were on it."""
        removed = []
        for channel in channels:
            removed += [
                name
                for (name,) in self._write(
                    "DELETE FROM watch WHERE channel = ? RETURNING channel", (channel,)
                )
            ]
        return removed

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM watch").fetchone()[0]

    def due(self) -> int:
        """How many channels are due now, those being synced included."""
        return self.db.execute(
            f"SELECT count(*) FROM watch WHERE due_at <= {self.dialect.now_epoch}"
        ).fetchone()[0]

    def listed(self) -> list[Watched]:
        """Every watched channel, the next due first."""
        return [
            Watched(*row)
            for row in self.db.execute(
                "SELECT channel, every_s, due_at, lease_owner, lease_until, failures,"
                " last_error, last_done FROM watch ORDER BY due_at, channel"
            )
        ]

    def now(self) -> float:
        return self.db.execute(f"SELECT {self.dialect.now_epoch}").fetchone()[0]

    def claim(self, owner: str, lease_s: float) -> str | None:
        """The channel most overdue that no live lease holds, now leased to ``owner`` for
        ``lease_s`` seconds; None when none is due."""
        now = self.dialect.now_epoch
        rows = self._write(
            f"UPDATE watch SET lease_owner = ?, lease_until = {now} + ? WHERE channel = ("
            f"SELECT channel FROM watch WHERE due_at <= {now}"
            f" AND (lease_until IS NULL OR lease_until < {now})"
            f" ORDER BY due_at, channel LIMIT 1{self.dialect.skip_locked}"
            ") RETURNING channel",
            (owner, lease_s),
        )
        return rows[0][0] if rows else None

    def renew(self, channel: str, owner: str, lease_s: float) -> None:
        """Extend ``owner``'s lease, inside the caller's transaction (a page's, so that the
        page is saved only while the lease holds); :class:`LeaseLost` when it is not held."""
        cursor = self.db.execute(
            f"UPDATE watch SET lease_until = {self.dialect.now_epoch} + ?"
            " WHERE channel = ? AND lease_owner = ?",
            (lease_s, channel, owner),
        )
        if cursor.rowcount != 1:
            raise LeaseLost(f"{channel}: another worker took the channel over")

    def done(self, channel: str, owner: str) -> None:
        """The walk ended: the channel is free, and due again a period from now."""
        now = self.dialect.now_epoch
        self._write(
            f"UPDATE watch SET lease_owner = NULL, lease_until = NULL, due_at = {now} + every_s,"
            f" failures = 0, last_error = NULL, last_done = {now}"
            " WHERE channel = ? AND lease_owner = ?",
            (channel, owner),
        )

    def failed(self, channel: str, owner: str, error: str, retry_s: float) -> None:
        """The walk failed: the channel is free, tried again after ``retry_s`` doubled for
        every failure in a row before this one, but never later than its period."""
        now, greatest = self.dialect.now_epoch, self.dialect.greatest
        least = "min" if greatest == "max" else "least"
        self._write(
            f"UPDATE watch SET lease_owner = NULL, lease_until = NULL,"
            f" due_at = {now} + {least}(every_s, ? * {greatest}(1, failures * 2)),"
            " failures = failures + 1, last_error = ?"
            " WHERE channel = ? AND lease_owner = ?",
            (retry_s, error[:500], channel, owner),
        )

    def give_back(self, channel: str, owner: str) -> None:
        """Stop holding the channel without a verdict (the worker was asked to stop): due
        at once for another worker."""
        self._write(
            "UPDATE watch SET lease_owner = NULL, lease_until = NULL"
            " WHERE channel = ? AND lease_owner = ?",
            (channel, owner),
        )


class HostBudget:
    """The ``host_budget`` table: the next time each host may be asked, shared by workers."""

    def __init__(self, db: Connection):
        self.db = db
        self.dialect = dialect_of(db)

    def take(self, host: str, gap_s: float) -> float:
        """Take the next slot for a request to ``host``, ``gap_s`` after the one before;
        returns the seconds to wait for it (0: now)."""
        now, greatest = self.dialect.now_epoch, self.dialect.greatest
        rows = written(
            self.db,
            f"INSERT INTO host_budget (host, next_at) VALUES (?, {now} + ?)"
            f" ON CONFLICT (host) DO UPDATE SET next_at = {greatest}(host_budget.next_at, {now})"
            f" + ? RETURNING next_at - ? - {now}",
            (host, gap_s, gap_s, gap_s),
        )
        return max(0.0, float(rows[0][0]))

    def ahead(self, host: str) -> float:
        """The seconds until ``host``'s next free slot (0: now), without taking it."""
        row = self.db.execute(
            f"SELECT next_at - {self.dialect.now_epoch} FROM host_budget WHERE host = ?", (host,)
        ).fetchone()
        return max(0.0, float(row[0])) if row else 0.0

    def hold_off(self, host: str, seconds: float) -> None:
        """Nobody asks ``host`` again for ``seconds`` (it answered 429)."""
        now, greatest = self.dialect.now_epoch, self.dialect.greatest
        written(
            self.db,
            f"INSERT INTO host_budget (host, next_at) VALUES (?, {now} + ?)"
            f" ON CONFLICT (host) DO UPDATE SET next_at = {greatest}(host_budget.next_at,"
            " excluded.next_at)",
            (host, seconds),
        )


def written(db: Connection, sql: str, parameters: tuple = ()) -> list[tuple]:
    """One statement in its own write transaction; the rows it returns."""
    db.execute(dialect_of(db).begin_write)
    try:
        cursor = db.execute(sql, parameters)
        rows = cursor.fetchall() if " RETURNING " in sql else []
        db.execute("COMMIT")
    except BaseException:
        roll_back(db)
        raise
    return rows
