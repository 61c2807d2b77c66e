"""The ``channels`` table: one row per username, with what sources tell about the channel."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..clean import without_nul
from ..record import Channel
from .dbapi import Connection

_COUNTERS = {"subscribers", "photos", "videos", "links", "files"}


def now() -> str:
    """The current time as the archive writes it (UTC, to the second)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class ChannelTable:
    """Channel rows by username, their primary keys cached for the transaction under way."""

    def __init__(self, db: Connection):
        self.db = db
        self._known: dict[str, tuple[int, str | None]] = {}  # username -> pk, title

    def forget(self) -> None:
        """Drop the cache: another writer may have changed the table since."""
        self._known.clear()

    def pk(self, username: str, title: str | None) -> int:
        """The channel's row, created on first sight; a new title replaces the old one."""
        title = without_nul(title)
        known = self._known.get(username)
        if known is None:
            self.db.execute(
                "INSERT INTO channels (username, title, updated_at) VALUES (?,?,?)"
                " ON CONFLICT (username) DO NOTHING",
                (username, title, now()),
            )
            known = self.db.execute(
                "SELECT pk, title FROM channels WHERE username = ?", (username,)
            ).fetchone()
        pk, known_title = known
        if title and title != known_title:
            self.db.execute("UPDATE channels SET title = ? WHERE pk = ?", (title, pk))
        self._known[username] = (pk, title or known_title)
        return pk

    def save(self, channel: Channel) -> None:
        """Record a channel header: what it says replaces what was known, absent facts stay."""
        if not channel.username:
            return
        pk = self.pk(channel.username, channel.title)
        values: dict[str, Any] = {
            "title": channel.title,
            "description": channel.description,
            "verified": channel.verified,
            "avatar": channel.avatar,
            "telegram_id": channel.telegram_id,
        }
        values.update({k: v for k, v in channel.counters.items() if k in _COUNTERS})
        values = {k: without_nul(v) for k, v in values.items() if v is not None}
        if values:
            # a channel's Telegram id, once known, is not replaced by another source's
            assignments = ", ".join(
                "telegram_id = coalesce(telegram_id, ?)" if name == "telegram_id" else f"{name} = ?"
                for name in values
            )
            self.db.execute(
                f"UPDATE channels SET {assignments}, updated_at = ? WHERE pk = ?",
                [*values.values(), now(), pk],
            )

    def find(self, telegram_id: int | None, title: str | None) -> str | None:
        """The username of the archived channel with this Telegram id, or else the only one
        with this title and no other id; None when there is none or the title is ambiguous."""
        ids = (telegram_id, -1_000_000_000_000 - telegram_id) if telegram_id is not None else ()
        if ids:
            row = self.db.execute(
                "SELECT username FROM channels WHERE telegram_id IN (?, ?)",
                ids,  # API form too
            ).fetchone()
            if row:
                return row[0]
        if title:
            rows = self.db.execute(
                "SELECT username FROM channels WHERE title = ? AND (telegram_id IS NULL"
                + (" OR telegram_id IN (?, ?))" if ids else ")")
                + " LIMIT 2",
                (title, *ids),
            ).fetchall()
            if len(rows) == 1:
                return rows[0][0]
        return None
