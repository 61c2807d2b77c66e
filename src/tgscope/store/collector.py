"""The SQLite side of the collectors: where each walk stands, deletions, fetched pages."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable

from . import SyncState
from .channels import now
from .dbapi import Connection


class CollectorState:
    """What the web and API collectors keep between runs, and what they find gone."""

    def __init__(self, db: Connection):
        self.db = db

    def sync_state(self, channel: str, kind: str = "web") -> SyncState:
        """Where the ``kind`` collector's walk of ``channel`` stands (``web`` or ``api``)."""
        row = self.db.execute(
            "SELECT newest_id, cursor, target, held FROM sync_state WHERE channel = ? AND kind = ?",
            (channel, kind),
        ).fetchone()
        if row is None:
            return SyncState(None, None, None, ())
        held = tuple(tuple([*entry, None][:3]) for entry in json.loads(row[3]))
        return SyncState(row[0], row[1], row[2], held)

    def save_sync_state(self, channel: str, state: SyncState, kind: str = "web") -> None:
        self.db.execute(
            "INSERT INTO sync_state (channel, kind, newest_id, cursor, target, held, updated_at)"
            " VALUES (?,?,?,?,?,?,?) ON CONFLICT (channel, kind) DO UPDATE SET"
            " newest_id = excluded.newest_id, cursor = excluded.cursor,"
            " target = excluded.target, held = excluded.held, updated_at = excluded.updated_at",
            (
                channel,
                kind,
                state.newest_id,
                state.cursor,
                state.target,
                json.dumps([list(entry) for entry in state.held]),
                now(),
            ),
        )

    def deletion_dates(self, channel: str, ranges: Iterable[tuple[int, int]]) -> dict[int, str]:
        """In these id ranges (first, last), the archived posts of ``channel`` marked
        deleted, and since when: as many rows as the archive holds there, however wide."""
        found: dict[int, str] = {}
        for first, last in ranges:
            found.update(
                self.db.execute(
                    "SELECT posts.message_id, posts.deleted_at FROM posts"
                    " JOIN channels ON channels.pk = posts.channel_pk"
                    " WHERE channels.username = ? AND posts.deleted_at IS NOT NULL"
                    " AND posts.message_id BETWEEN ? AND ?",
                    (channel, first, last),
                ).fetchall()
            )
        return found

    def save_raw_page(self, url: str, fetched_at: str, sha256: str, content: bytes) -> None:
        """Keep a fetched page as evidence (zlib-compressed; the same page once)."""
        self.db.execute(
            "INSERT INTO raw_pages (url, fetched_at, sha256, content) VALUES (?,?,?,?)"
            " ON CONFLICT DO NOTHING",
            (url, fetched_at, sha256, zlib.compress(content, 6)),
        )

    def mark_missing(
        self, channel: str, low: int, high: int, shown: set[int], when: str
    ) -> list[int]:
        """Posts of ``channel`` with ids in ``low..high`` that a page no longer shows: deleted.

        Posts shown again lose their mark.  Returns the ids newly marked.
        """
        rows = self.db.execute(
            "SELECT posts.pk, posts.message_id, posts.deleted_at FROM posts"
            " JOIN channels ON channels.pk = posts.channel_pk"
            " WHERE channels.username = ? AND posts.message_id BETWEEN ? AND ?",
            (channel, low, high),
        ).fetchall()
        gone = [(pk, number) for pk, number, deleted in rows if number not in shown and not deleted]
        back = [pk for pk, number, deleted in rows if number in shown and deleted]
        if gone:
            self.db.executemany(
                "UPDATE posts SET deleted_at = ? WHERE pk = ?", [(when, pk) for pk, _ in gone]
            )
        if back:
            self.db.executemany(
                "UPDATE posts SET deleted_at = NULL WHERE pk = ?", [(pk,) for pk in back]
            )
        return [number for _, number in gone]
