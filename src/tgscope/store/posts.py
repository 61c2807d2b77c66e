"""Writing post records: the ``posts`` row, its child tables and its earlier texts."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ..clean import without_nul
from ..record import FIELD_NAMES, Post
from . import fold_hashtag
from .bind import insert_rows
from .channels import ChannelTable
from .dbapi import Connection
from .merge import fingerprint

#: json.dumps builds an encoder on every call with non-default options: build it once
to_json = json.JSONEncoder(ensure_ascii=False).encode

BATCH = 500  # ids per ``IN (...)`` query
CHILD_TABLES = ("reactions", "media", "hashtags", "mentions", "links")
#: the columns of a post's row, in the order :meth:`PostWriter.row` gives them
COLUMNS = (
    "pk",
    "key",
    "channel_pk",
    "message_id",
    "date",
    "text",
    "views",
    "forwarded_from_title",
    "forwarded_from_channel",
    "forwarded_from_id",
    "reply_to_channel",
    "reply_to_id",
    "author",
    "edited",
    "service",
    "album_id",
    "entities",
    "link_preview",
    "forwards",
    "replies",
    "via_bot",
    "buttons",
    "fingerprint",
    "seq",
)
_POST_TABLES = ("observations", "post_versions", "post_sources", *CHILD_TABLES)
#: the record's fields that may hold text (the others are numbers and a flag)
_TEXT_FIELDS = tuple(
    name for name in FIELD_NAMES if name not in {"id", "views", "forwards", "replies", "edited"}
)


class Fingerprints:
    """Which channels' posts carry fingerprints, for finding a text dump's copy of a post.

    Only a channel holding posts both with and without ids needs them: the post that brings
    the second kind has the channel's posts fingerprinted first, so a dump imported alone
    pays nothing for matching.

    What is known of a channel is read once and kept from one transaction to the next while
    only posts with ids arrive (a sync's pages); a channel where posts without ids came or
    went is read again at the next transaction.
    """

    def __init__(self, db: Connection):
        self.db = db
        # channel pk -> [has posts with ids, has posts without, fingerprinted]
        self._state: dict[int, list[bool]] = {}
        self._turned_on: set[int] = set()  # channels fingerprinted during the batch being saved
        self._unsure: set[int] = set()  # channels whose posts without ids came or went

    def forget(self) -> None:
        """Drop the cache: another writer may have changed the table since."""
        self._state.clear()
        self._unsure.clear()

    def refresh(self) -> None:
        """At a new transaction: forget the channels whose posts without ids came or went."""
        for channel_pk in self._unsure:
            self._state.pop(channel_pk, None)
        self._unsure.clear()

    def copies_changed(self, channel_pk: int) -> None:
        """A post without an id of this channel was merged into another (and removed)."""
        self._unsure.add(channel_pk)

    def fingerprinted(self, channel_pk: int | None, *, with_id: bool) -> bool:
        """Whether posts of this channel carry fingerprints, a post ``with_id`` (or without)
        arriving."""
        if channel_pk is None:
            return False
        state = self._state.get(channel_pk)
        if state is None:
            state = self._state[channel_pk] = [*self._kinds(channel_pk), False]
        has_ids, has_copies, on = state
        if not on and (has_ids or with_id) and (has_copies or not with_id):
            self._fingerprint_channel(channel_pk)
            self._turned_on.add(channel_pk)
            state[2] = on = True
        state[0 if with_id else 1] = True
        if not with_id:  # it may be merged rather than added
            self._unsure.add(channel_pk)
        return on

    def _kinds(self, channel_pk: int) -> tuple[bool, bool]:
        """Whether the channel has posts with ids, and posts without: counted on indexes
        alone (posts with ids have one of their own), not read row by row."""
        with_ids, every = self.db.execute(
            "SELECT (SELECT count(*) FROM posts WHERE channel_pk = ? AND message_id IS NOT NULL),"
            " (SELECT count(*) FROM posts WHERE channel_pk = ?)",
            (channel_pk, channel_pk),
        ).fetchone()
        return with_ids > 0, every > with_ids

    def catch_up(self) -> None:
        """Fingerprint the rows of channels that began to need them while a batch's rows
        were being built (and so were written without)."""
        for channel_pk in self._turned_on:
            self._fingerprint_channel(channel_pk)
        self._turned_on.clear()

    def _fingerprint_channel(self, channel_pk: int) -> None:
        rows = self.db.execute(
            "SELECT pk, text FROM posts WHERE channel_pk = ? AND fingerprint IS NULL",
            (channel_pk,),
        ).fetchall()
        self.db.executemany(
            "UPDATE posts SET fingerprint = ? WHERE pk = ?",
            [(fingerprint(text), pk) for pk, text in rows],
        )

    def same_text(self, channel_pk: int, mark: str, *, with_id: bool) -> list[int]:
        """Posts of the channel with this fingerprint, with (or without) a message id."""
        condition = "IS NOT NULL" if with_id else "IS NULL"
        return [
            pk
            for (pk,) in self.db.execute(
                "SELECT pk FROM posts WHERE channel_pk = ? AND fingerprint = ?"
                f" AND message_id {condition} ORDER BY pk",
                (channel_pk, mark),
            )
        ]


def scrub(post: Post) -> Post:
    """The record with each NUL in its texts as U+FFFD (:func:`~tgscope.clean.without_nul`),
    changed in place, before it is compared with what the archive holds or written.  Lists
    and dicts are walked only when their ``repr`` (made in C) shows a NUL: most hold none."""
    for name in _TEXT_FIELDS:
        value = getattr(post, name)
        if not value:
            continue
        if type(value) is str:
            if "\x00" in value:
                setattr(post, name, without_nul(value))
        elif "\\x00" in repr(value):
            setattr(post, name, without_nul(value))
    return post


class PostWriter:
    """Posts as rows: new ones inserted in batches, changed ones rewritten with their parts."""

    def __init__(self, db: Connection, channels: ChannelTable, marks: Fingerprints):
        self.db = db
        self.channels = channels
        self.marks = marks
        self._aliased: bool | None = None  # whether any post has an alias (None: not known)

    def forget(self) -> None:
        """Drop what is cached: another writer may have changed the tables since."""
        self._aliased = None

    def existing(self, keys: list[str]) -> dict[str, int]:
        """The archived posts among these keys (a copy merged earlier: under its old key)."""
        found: dict[str, int] = {}
        for start in range(0, len(keys), BATCH):
            chunk = keys[start : start + BATCH]
            marks = ",".join("?" * len(chunk))
            found.update(
                self.db.execute(f"SELECT key, pk FROM posts WHERE key IN ({marks})", chunk)
            )
            missing = [key for key in chunk if key not in found]
            if missing and self._has_aliases():  # copies merged into other posts earlier
                marks = ",".join("?" * len(missing))
                found.update(
                    self.db.execute(
                        f"SELECT key, post_pk FROM post_aliases WHERE key IN ({marks})", missing
                    )
                )
        return found

    def _has_aliases(self) -> bool:
        if self._aliased is None:
            (self._aliased,) = self.db.execute(
                "SELECT EXISTS (SELECT 1 FROM post_aliases)"
            ).fetchone()
        return bool(self._aliased)

    def alias(self, key: str, pk: int) -> None:
        """The key a copy without an id had stays an address of the post it became part of,
        so importing that copy again finds the post."""
        self.db.execute(
            "INSERT INTO post_aliases (key, post_pk) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET"
            " post_pk = excluded.post_pk",
            (key, pk),
        )
        self._aliased = True

    def next_pk(self) -> int:
        (top,) = self.db.execute("SELECT coalesce(max(pk), 0) FROM posts").fetchone()
        return top + 1

    def row(self, pk: int, post: Post, seq: int) -> tuple:
        """The ``posts`` row of a record, written by the transaction numbered ``seq``."""
        channel_pk = self.channels.pk(post.channel, post.channel_title) if post.channel else None
        forward: Mapping[str, Any] = post.forwarded_from or {}
        reply: Mapping[str, Any] = post.reply_to or {}
        fingerprinted = self.marks.fingerprinted(channel_pk, with_id=post.id is not None)
        return (
            pk,
            post.key,
            channel_pk,
            post.id,
            post.date,
            post.text,
            post.views,
            # a forward from a hidden sender has no title: "" marks that it is a forward
            forward.get("title") or ("" if post.forwarded_from is not None else None),
            forward.get("channel"),
            forward.get("id"),
            reply.get("channel"),
            reply.get("id"),
            post.author,
            int(post.edited),
            post.service,
            post.album_id,
            to_json(post.entities) if post.entities else "[]",
            to_json(post.link_preview) if post.link_preview else None,
            post.forwards,
            post.replies,
            post.via_bot,
            to_json(post.buttons) if post.buttons else None,
            fingerprint(post.text) if fingerprinted else None,
            seq,
        )

    def insert(self, rows: list[tuple]) -> None:
        insert_rows(self.db, "posts", COLUMNS, rows)

    def update(
        self, posts: list[tuple[int, Post]], seq: int, olds: Mapping[int, Post] | None = None
    ) -> None:
        """Rewrite these archived posts: the columns of their rows, and their parts, that
        changed (``olds``: the posts as the archive has them, which tell which parts to
        compare; without, every part is compared)."""
        if not posts:
            return
        self._update_rows(posts, seq)
        for table, (columns, build) in _PARTS.items():
            had = [pk for pk, _ in posts if olds is None or getattr(olds[pk], table)]
            stored = self._stored_parts(table, columns, had)
            stale, rows = [], []
            for pk, post in posts:
                new = build(pk, post) if getattr(post, table) else []
                if stored.get(pk, []) != new:
                    if pk in stored:
                        stale.append((pk,))
                    rows += new
            if stale:
                self.db.executemany(f"DELETE FROM {table} WHERE post_pk = ?", stale)
            if rows:
                insert_rows(self.db, table, columns, rows)

    def _update_rows(self, posts: list[tuple[int, Post]], seq: int) -> None:
        """Only the columns that changed: a row rewritten whole would have every index
        updated, its views changed or not."""
        stored = self._stored_rows([pk for pk, _ in posts])
        groups: dict[tuple[int, ...], list[tuple]] = {}
        for pk, post in posts:
            row, was = self.row(pk, post, seq), stored[pk]
            changed = tuple(i for i in range(1, len(row)) if row[i] != was[i])
            groups.setdefault(changed, []).append((*(row[i] for i in changed), pk))
        for changed, rows in groups.items():
            if changed:
                assignments = ", ".join(f"{COLUMNS[i]} = ?" for i in changed)
                self.db.executemany(f"UPDATE posts SET {assignments} WHERE pk = ?", rows)

    def _stored_rows(self, pks: list[int]) -> dict[int, tuple]:
        found: dict[int, tuple] = {}
        for start in range(0, len(pks), BATCH):
            chunk = pks[start : start + BATCH]
            query = (
                f"SELECT {', '.join(COLUMNS)} FROM posts WHERE pk IN ({','.join('?' * len(chunk))})"
            )
            found.update((row[0], row) for row in self.db.execute(query, chunk))
        return found

    def _stored_parts(
        self, table: str, columns: tuple[str, ...], pks: list[int]
    ) -> dict[int, list[tuple]]:
        """The rows of a table of parts these posts have, in order (none: not listed)."""
        found: dict[int, list[tuple]] = {}
        for start in range(0, len(pks), BATCH):
            chunk = pks[start : start + BATCH]
            for row in self.db.execute(
                f"SELECT {', '.join(columns)} FROM {table}"
                f" WHERE post_pk IN ({','.join('?' * len(chunk))}) ORDER BY post_pk, position",
                chunk,
            ):
                found.setdefault(row[0], []).append(row)
        return found

    def insert_parts(self, posts: list[tuple[int, Post]]) -> None:
        """The reactions, media, hashtags, mentions and links of new posts, in order."""
        for table, (columns, build) in _PARTS.items():
            # most posts lack most parts: no rows are built for those
            rows = [row for pk, post in posts if getattr(post, table) for row in build(pk, post)]
            if rows:
                insert_rows(self.db, table, columns, rows)

    def keep_version(self, pk: int, when: str, post: Post) -> None:
        """Keep an earlier text of the post, replaced at ``when``."""
        self.db.execute(
            "INSERT INTO post_versions (post_pk, replaced_at, text, entities) VALUES (?,?,?,?)"
            " ON CONFLICT DO NOTHING",
            (pk, when, post.text, to_json(post.entities)),
        )

    def remove(self, pk: int, seq: int) -> None:
        """Delete the post and everything kept about it; the removal is written down with
        ``seq`` so that a search index catching up drops the post too."""
        for table in _POST_TABLES:
            self.db.execute(f"DELETE FROM {table} WHERE post_pk = ?", (pk,))
        # its events (derived: the post it merged into is written anew and read again)
        self.db.execute(
            "DELETE FROM event_parties WHERE event_pk IN (SELECT pk FROM events WHERE post_pk = ?)",
            (pk,),
        )
        self.db.execute("DELETE FROM events WHERE post_pk = ?", (pk,))
        self.db.execute("DELETE FROM posts WHERE pk = ?", (pk,))
        self.db.execute(
            "INSERT INTO removed_posts (pk, seq) VALUES (?, ?)"
            " ON CONFLICT (pk) DO UPDATE SET seq = excluded.seq",
            (pk, seq),
        )


def _reaction_rows(pk: int, post: Post) -> list[tuple]:
    return [
        (
            pk,
            i,
            reaction.get("emoji"),
            reaction.get("custom_emoji_id"),
            int(bool(reaction.get("paid"))),
            reaction["count"],
        )
        for i, reaction in enumerate(post.reactions)
    ]


def _media_rows(pk: int, post: Post) -> list[tuple]:
    return [
        (pk, i, item["type"], item.get("url"), int(bool(item.get("unsupported"))), to_json(item))
        for i, item in enumerate(post.media)
    ]


def _hashtag_rows(pk: int, post: Post) -> list[tuple]:
    return [(pk, i, tag, fold_hashtag(tag)) for i, tag in enumerate(post.hashtags)]


def _mention_rows(pk: int, post: Post) -> list[tuple]:
    return [(pk, i, name) for i, name in enumerate(post.mentions)]


def _link_rows(pk: int, post: Post) -> list[tuple]:
    return [(pk, i, url) for i, url in enumerate(post.links)]


#: each table of a post's parts (named as the record's list): its columns, and its rows
_PARTS: dict[str, tuple[tuple[str, ...], Callable[[int, Post], list[tuple]]]] = {
    "reactions": (
        ("post_pk", "position", "emoji", "custom_emoji_id", "paid", "count"),
        _reaction_rows,
    ),
    "media": (("post_pk", "position", "type", "url", "unsupported", "item"), _media_rows),
    "hashtags": (("post_pk", "position", "tag", "folded"), _hashtag_rows),
    "mentions": (("post_pk", "position", "username"), _mention_rows),
    "links": (("post_pk", "position", "url"), _link_rows),
}
