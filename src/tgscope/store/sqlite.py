"""The SQLite backend: a plain WAL-mode file that opens in Datasette as it is."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..dates import day_bounds
from ..errors import StoreError
from ..record import Channel, Media, Post, Reaction
from . import IndexDoc, PostFilter, SaveResult, SourceInfo, Stats, fold_hashtag
from .collector import CollectorMixin
from .merge import fingerprint, same_content
from .provenance import (
    RESTORED_KIND,
    ProvenanceMixin,
    _index_doc,
    _observed_at,
)
from .provenance import to_json as _to_json
from .schema import migrate

_CHANNEL_COUNTERS = {"subscribers", "photos", "videos", "links", "files"}
_BATCH = 500
_POST_COLUMNS = (
    "posts.pk, posts.key, channels.username, channels.title, posts.message_id, posts.date, "
    "posts.text, posts.entities, posts.views, posts.forwarded_from_title, "
    "posts.forwarded_from_channel, posts.forwarded_from_id, posts.reply_to_channel, "
    "posts.reply_to_id, posts.link_preview, posts.author, posts.edited, posts.service, "
    "posts.album_id, posts.forwards, posts.replies, posts.via_bot, posts.buttons"
)
_INSERT_POST = (
    "INSERT INTO posts (pk, key, channel_pk, message_id, date, text, views, forwarded_from_title,"
    " forwarded_from_channel, forwarded_from_id, reply_to_channel, reply_to_id, author, edited,"
    " service, album_id, entities, link_preview, forwards, replies, via_bot, buttons, fingerprint,"
    " seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_UPDATE_POST = (
    "UPDATE posts SET key=?, channel_pk=?, message_id=?, date=?, text=?, views=?,"
    " forwarded_from_title=?, forwarded_from_channel=?, forwarded_from_id=?, reply_to_channel=?,"
    " reply_to_id=?, author=?, edited=?, service=?, album_id=?, entities=?, link_preview=?,"
    " forwards=?, replies=?, via_bot=?, buttons=?, fingerprint=?, seq=? WHERE pk=?"
)
_CHILD_TABLES = ("reactions", "media", "hashtags", "mentions", "links")


# sqlite3 binds None through its adapter protocol, and, finding no adapter, raises and clears
# two AttributeErrors for every NULL: a third of an import's time in executemany.  A registered
# adapter that returns None (dict.get of an empty dict, a C call) binds the same NULL at once.
sqlite3.register_adapter(type(None), {}.get)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SQLiteStore(ProvenanceMixin, CollectorMixin):
    """The archive of record in one SQLite file (WAL mode)."""

    def __init__(self, path: str | Path, *, timeout: float = 5.0):
        self.path = Path(path)
        try:
            # shared across threads only under the caller's lock (see sync.sync_channels)
            self.db = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA cache_size = -65536")  # 64 MB: big imports spill less
            self.db.execute("PRAGMA foreign_keys = ON")
            migrate(self.db)
        except (sqlite3.DatabaseError, RuntimeError) as error:
            raise StoreError(f"{self.path}: cannot open archive: {_describe(error)}") from error
        self._channels: dict[str, tuple[int, str | None]] = {}  # username -> pk, title
        self._matching: dict[int, list[bool]] = {}
        self._turned_on: set[int] = set()
        self._seq: int | None = None

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[int]:
        """One write transaction, yielding its sequence number; rolled back whole on any error."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise StoreError(f"{self.path}: {_describe(error)}") from error
        self._seq = self.last_seq() + 1
        self._channels.clear()  # another writer may have changed them since
        self._matching.clear()
        try:
            yield self._seq
            self.db.execute("UPDATE meta SET value = ? WHERE name = 'seq'", (str(self._seq),))
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('seq', ?)", (str(self._seq),))
            self.db.execute("COMMIT")
        except sqlite3.Error as error:
            self._rollback()
            raise StoreError(f"{self.path}: {_describe(error)}") from error
        except BaseException:
            self._rollback()
            raise
        finally:
            self._seq = None

    def _rollback(self) -> None:
        if self.db.in_transaction:  # SQLite may have rolled back already (a full disk, say)
            self.db.execute("ROLLBACK")
        self._channels.clear()
        self._matching.clear()

    def archive_id(self) -> str:
        """A random id made with the archive: ties the search index to this very file."""
        query = "SELECT value FROM meta WHERE name = 'archive_id'"
        row = self.db.execute(query).fetchone()
        if row is None:  # lost (an archive edited by hand): a new id makes the index rebuild
            self.db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('archive_id', lower(hex(randomblob(16))))"
            )
            row = self.db.execute(query).fetchone()
        return row[0]

    def last_seq(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE name = 'seq'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.db.close()

    # -- writing --------------------------------------------------------------------------

    def add_source(self, source: SourceInfo) -> int:
        """The source's row, created on first sight; the same file read again is the same row."""
        row = self.db.execute(
            "SELECT pk FROM sources WHERE kind = ? AND ref = ? AND sha256 = ? AND observed_at = ?",
            (source.kind, source.ref, source.sha256, source.observed_at),
        ).fetchone()
        if row:
            return row[0]
        cursor = self.db.execute(
            "INSERT INTO sources (kind, ref, sha256, observed_at, imported_at) VALUES (?,?,?,?,?)",
            (source.kind, source.ref, source.sha256, source.observed_at, _now()),
        )
        return cursor.lastrowid  # type: ignore[return-value]

    def save_channel(self, channel: Channel) -> None:
        if not channel.username:
            return
        pk = self._channel_pk(channel.username, channel.title)
        values: dict[str, Any] = {
            "title": channel.title,
            "description": channel.description,
            "verified": channel.verified,
            "avatar": channel.avatar,
            "telegram_id": channel.telegram_id,
        }
        values.update({k: v for k, v in channel.counters.items() if k in _CHANNEL_COUNTERS})
        values = {k: v for k, v in values.items() if v is not None}
        if values:
            # a channel's Telegram id, once known, is not replaced by another source's
            assignments = ", ".join(
                "telegram_id = coalesce(telegram_id, ?)" if name == "telegram_id" else f"{name} = ?"
                for name in values
            )
            self.db.execute(
                f"UPDATE channels SET {assignments}, updated_at = ? WHERE pk = ?",
                [*values.values(), _now(), pk],
            )

    def find_channel(self, telegram_id: int | None, title: str | None) -> str | None:
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

    def _channel_pk(self, username: str, title: str | None) -> int:
        known = self._channels.get(username)
        if known is None:
            self.db.execute(
                "INSERT OR IGNORE INTO channels (username, title, updated_at) VALUES (?,?,?)",
                (username, title, _now()),
            )
            known = self.db.execute(
                "SELECT pk, title FROM channels WHERE username = ?", (username,)
            ).fetchone()
        pk, known_title = known
        if title and title != known_title:
            self.db.execute("UPDATE channels SET title = ? WHERE pk = ?", (title, pk))
        self._channels[username] = (pk, title or known_title)
        return pk

    def save_posts(self, posts: list[Post], source_pk: int) -> SaveResult:
        """Upsert posts by key and record that ``source_pk`` saw them; idempotent.

        A post without an id whose text one post of its channel has is merged into that post;
        a post with an id absorbs the copies without ids that say what it says.
        """
        if self._seq is None:
            raise RuntimeError("save_posts needs a transaction")
        result = SaveResult()
        source = self._source(source_pk)
        restoring = source[2] == RESTORED_KIND
        existing = self._existing([post.key for post in posts])
        if not restoring:  # a tgscope export is put back as it was, not merged anew
            result.merged += self._match_copies(posts, existing, source_pk)
        next_pk = self._next_pk()
        rows, children, observations = [], [], []
        added: list[tuple[int, Post]] = []
        added_now: set[str] = set()
        seen_again: dict[int, Post] = {}
        for post in posts:
            pk = existing.get(post.key)
            if post.key in added_now:  # the same post twice in one batch: keep the first
                result.unchanged += 1
                continue
            if pk is None:
                added_now.add(post.key)
                pk, next_pk = next_pk, next_pk + 1
                rows.append(self._post_row(pk, post))
                children.append((pk, post))
                added.append((pk, post))
                result.added += 1
                result.changed.append(_index_doc(pk, post, new=True))
            elif pk in seen_again:  # the same post twice in one batch: keep the first
                result.unchanged += 1
                continue
            else:
                seen_again[pk] = post
            observations.extend(self._observations(pk, source, post))
        olds = self.load_posts(list(seen_again))
        versions = self.versions(olds)
        latest = self._latest_observations(list(seen_again))
        updated: list[tuple[int, Post]] = []
        for pk, old in olds.items():
            new, at = seen_again[pk], _observed_at(source, seen_again[pk])
            if at < latest.get(pk, "") and new.text and new.text != old.text:
                self._keep_version(pk, at, new)  # an older text, imported late
            post = self.observe(pk, old, new, source[2], at, versions[pk])
            if same_content(post, old):
                result.unchanged += 1
                continue
            self._replace(pk, old, post, at, children, result)
            updated.append((pk, post))
        self.db.executemany(_INSERT_POST, rows)
        self._insert_children(children)
        if restoring:
            for pk, post in added:
                self._save_versions(pk, {RESTORED_KIND: (_observed_at(source, post), post)})
        self.db.executemany(
            "INSERT OR IGNORE INTO observations (post_pk, source_pk, observed_at, views, reactions)"
            " VALUES (?, ?, ?, ?, ?)",
            observations,
        )
        if not restoring:
            self._fingerprint_turned_on()  # rows built before their channel needed them
            self._absorb_copies([*added, *updated], source[1], result)
        return result

    def _keep_version(self, pk: int, when: str, post: Post) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO post_versions VALUES (?,?,?,?)",
            (pk, when, post.text, _to_json(post.entities)),
        )

    def _replace(self, pk: int, old: Post, post: Post, when: str, children, result) -> None:
        if post.text != old.text and old.text:  # an edit: the earlier text is kept
            self._keep_version(pk, when, old)
        self._update_post(pk, post)
        children.append((pk, post))
        result.updated += 1
        result.changed.append(_index_doc(pk, post, new=False))

    def _source(self, source_pk: int) -> tuple[int, str, str]:
        observed_at, kind = self.db.execute(
            "SELECT observed_at, kind FROM sources WHERE pk = ?", (source_pk,)
        ).fetchone()
        return source_pk, observed_at, kind

    def _latest_observations(self, pks: list[int]) -> dict[int, str]:
        """When each post was last seen, by any source."""
        marks = ",".join("?" * len(pks))
        return dict(
            self.db.execute(
                f"SELECT post_pk, max(observed_at) FROM observations WHERE post_pk IN ({marks})"
                " GROUP BY post_pk",
                pks,
            )
        )

    def _existing(self, keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(keys), _BATCH):
            chunk = keys[start : start + _BATCH]
            marks = ",".join("?" * len(chunk))
            found.update(
                self.db.execute(f"SELECT key, pk FROM posts WHERE key IN ({marks})", chunk)
            )
            missing = [key for key in chunk if key not in found]
            if missing:  # copies merged earlier into other posts are found under their keys
                marks = ",".join("?" * len(missing))
                found.update(
                    self.db.execute(
                        f"SELECT key, post_pk FROM post_aliases WHERE key IN ({marks})", missing
                    )
                )
        return found

    def _next_pk(self) -> int:
        (top,) = self.db.execute("SELECT coalesce(max(pk), 0) FROM posts").fetchone()
        return top + 1

    def _post_row(self, pk: int, post: Post) -> tuple:
        channel_pk = self._channel_pk(post.channel, post.channel_title) if post.channel else None
        forward = post.forwarded_from or {}
        reply = post.reply_to or {}
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
            _to_json(post.entities) if post.entities else "[]",
            _to_json(post.link_preview) if post.link_preview else None,
            post.forwards,
            post.replies,
            post.via_bot,
            _to_json(post.buttons) if post.buttons else None,
            fingerprint(post.text)
            if self.fingerprinted(channel_pk, with_id=post.id is not None)
            else None,
            self._seq,
        )

    def _update_post(self, pk: int, post: Post) -> None:
        row = self._post_row(pk, post)
        self.db.execute(_UPDATE_POST, (*row[1:], pk))
        for table in _CHILD_TABLES:
            self.db.execute(f"DELETE FROM {table} WHERE post_pk = ?", (pk,))

    def _insert_children(self, children: list[tuple[int, Post]]) -> None:
        reactions, media, hashtags, mentions, links = [], [], [], [], []
        for pk, post in children:
            for i, reaction in enumerate(post.reactions):
                reactions.append(
                    (
                        pk,
                        i,
                        reaction.get("emoji"),
                        reaction.get("custom_emoji_id"),
                        int(bool(reaction.get("paid"))),
                        reaction["count"],
                    )
                )
            for i, item in enumerate(post.media):
                media.append(
                    (
                        pk,
                        i,
                        item["type"],
                        item.get("url"),
                        int(bool(item.get("unsupported"))),
                        _to_json(item),
                    )
                )
            hashtags.extend((pk, i, tag, fold_hashtag(tag)) for i, tag in enumerate(post.hashtags))
            mentions.extend((pk, i, name) for i, name in enumerate(post.mentions))
            links.extend((pk, i, url) for i, url in enumerate(post.links))
        self.db.executemany("INSERT INTO reactions VALUES (?,?,?,?,?,?)", reactions)
        self.db.executemany("INSERT INTO media VALUES (?,?,?,?,?,?)", media)
        self.db.executemany("INSERT INTO hashtags VALUES (?,?,?,?)", hashtags)
        self.db.executemany("INSERT INTO mentions VALUES (?,?,?)", mentions)
        self.db.executemany("INSERT INTO links VALUES (?,?,?)", links)

    # -- reading --------------------------------------------------------------------------

    def get_post(self, key: str) -> Post | None:
        row = self.db.execute("SELECT pk FROM posts WHERE key = ?", (key,)).fetchone()
        return self.load_posts([row[0]])[row[0]] if row else None

    def load_posts(self, pks: list[int]) -> dict[int, Post]:
        """Whole records for these posts, keyed by pk."""
        posts: dict[int, Post] = {}
        for start in range(0, len(pks), _BATCH):
            posts.update(self._load_chunk(pks[start : start + _BATCH]))
        return posts

    def _load_chunk(self, pks: list[int]) -> dict[int, Post]:
        marks = ",".join("?" * len(pks))
        rows = self.db.execute(
            f"SELECT {_POST_COLUMNS} FROM posts"
            " LEFT JOIN channels ON channels.pk = posts.channel_pk"
            f" WHERE posts.pk IN ({marks})",
            pks,
        ).fetchall()
        parts = self._load_children(pks, marks)
        return {row[0]: _row_to_post(row, parts, row[0]) for row in rows}

    def _load_children(self, pks: list[int], marks: str) -> dict[str, dict[int, list]]:
        parts: dict[str, dict[int, list]] = {name: defaultdict(list) for name in _CHILD_TABLES}
        parts["sources"] = defaultdict(list)
        queries = {
            "reactions": "SELECT post_pk, emoji, custom_emoji_id, paid, count FROM reactions",
            "media": "SELECT post_pk, item FROM media",
            "hashtags": "SELECT post_pk, tag FROM hashtags",
            "mentions": "SELECT post_pk, username FROM mentions",
            "links": "SELECT post_pk, url FROM links",
        }
        for name, sql in queries.items():
            for row in self.db.execute(
                f"{sql} WHERE post_pk IN ({marks}) ORDER BY 1, position", pks
            ):
                parts[name][row[0]].append(_CHILD_DECODERS[name](row))
        for post_pk, kind, ref, observed_at in self.db.execute(
            "SELECT observations.post_pk, sources.kind, sources.ref, observations.observed_at"
            " FROM observations JOIN sources ON sources.pk = observations.source_pk"
            f" WHERE observations.post_pk IN ({marks}) ORDER BY 1, observations.observed_at, 2, 3",
            pks,
        ):
            parts["sources"][post_pk].append({"kind": kind, "ref": ref, "observed_at": observed_at})
        return parts

    def iter_posts(self, filters: PostFilter, only: set[int] | None = None) -> Iterator[Post]:
        """Matching posts in archive order (by date, then the order they were imported);
        ``only``: just these posts (those a search found)."""
        where, params = _filter_sql(filters)
        pks = [
            row[0]
            for row in self.db.execute(
                f"SELECT posts.pk FROM posts {where}"
                " ORDER BY posts.date IS NULL, posts.date, posts.pk",
                params,
            )
            if only is None or row[0] in only
        ]
        for start in range(0, len(pks), _BATCH):
            chunk = pks[start : start + _BATCH]
            loaded = self.load_posts(chunk)
            yield from (loaded[pk] for pk in chunk)

    def iter_index_docs(self, after_seq: int) -> Iterable[IndexDoc]:
        cursor = self.db.execute(
            "SELECT posts.pk, posts.text, channels.username, posts.date,"
            " (SELECT json_group_array(tag) FROM hashtags WHERE post_pk = posts.pk)"
            " FROM posts LEFT JOIN channels ON channels.pk = posts.channel_pk"
            " WHERE posts.seq > ? ORDER BY posts.pk",
            (after_seq,),
        )
        for pk, text, channel, date, tags in cursor:
            yield IndexDoc(pk, text, channel, date, json.loads(tags))

    def count_undated(self, filters: PostFilter) -> int:
        """Posts in the channel/hashtag scope of ``filters`` that have no date."""
        scope = PostFilter(channel=filters.channel, hashtag=filters.hashtag)
        where, params = _filter_sql(scope)
        where = f"{where} AND posts.date IS NULL" if where else "WHERE posts.date IS NULL"
        (count,) = self.db.execute(f"SELECT count(*) FROM posts {where}", params).fetchone()
        return count

    def stats(self, filters: PostFilter) -> Stats:
        where, params = _filter_sql(filters)
        scope = f"SELECT posts.pk FROM posts {where}"
        total, first, last, undated = self.db.execute(
            f"SELECT count(*), min(date), max(date), sum(date IS NULL) FROM posts"
            f" WHERE pk IN ({scope})",
            params,
        ).fetchone()
        channels = self.db.execute(
            "SELECT channels.username, channels.title, count(*) FROM posts"
            " LEFT JOIN channels ON channels.pk = posts.channel_pk"
            f" WHERE posts.pk IN ({scope}) GROUP BY posts.channel_pk ORDER BY 3 DESC",
            params,
        ).fetchall()
        hashtags = self.db.execute(
            f"SELECT tag, count(*) FROM hashtags WHERE post_pk IN ({scope})"
            " GROUP BY tag ORDER BY 2 DESC, 1 LIMIT 10",
            params,
        ).fetchall()
        reactions = self.db.execute(
            "SELECT coalesce(emoji, CASE WHEN paid THEN '⭐ paid' END,"
            " 'custom:' || custom_emoji_id),"
            f" sum(count) FROM reactions WHERE post_pk IN ({scope}) GROUP BY 1 ORDER BY 2 DESC",
            params,
        ).fetchall()
        (sources,) = self.db.execute(
            f"SELECT count(DISTINCT source_pk) FROM observations WHERE post_pk IN ({scope})", params
        ).fetchone()
        return Stats(total, channels, first, last, undated or 0, hashtags, reactions, sources)


def _filter_sql(filters: PostFilter) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if filters.channel:
        clauses.append("posts.channel_pk = (SELECT pk FROM channels WHERE username = ?)")
        params.append(filters.channel)
    since, until = day_bounds(filters.since, filters.until)
    if since:
        clauses.append("posts.date >= ?")
        params.append(since)
    if until:
        clauses.append("posts.date < ?")
        params.append(until)
    if filters.hashtag:
        clauses.append("posts.pk IN (SELECT post_pk FROM hashtags WHERE folded = ?)")
        params.append(filters.hashtag)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def _reaction(row: tuple) -> Reaction:
    _, emoji, custom_id, paid, count = row
    if paid:
        return {"paid": True, "count": count}
    if custom_id is not None:
        return {"custom_emoji_id": custom_id, "count": count}
    return {"emoji": emoji, "count": count}


def _media(row: tuple) -> Media:
    return json.loads(row[1])


_CHILD_DECODERS = {
    "reactions": _reaction,
    "media": _media,
    "hashtags": lambda row: row[1],
    "mentions": lambda row: row[1],
    "links": lambda row: row[1],
}


def _row_to_post(row: tuple, parts: dict[str, dict[int, list]], pk: int) -> Post:
    (
        _,
        key,
        channel,
        title,
        message_id,
        date,
        text,
        entities,
        views,
        fwd_title,
        fwd_channel,
        fwd_id,
        reply_channel,
        reply_id,
        link_preview,
        author,
        edited,
        service,
        album_id,
        forwards,
        replies,
        via_bot,
        buttons,
    ) = row
    forward = (
        {"title": fwd_title or None, "channel": fwd_channel, "id": fwd_id}
        if fwd_title is not None or fwd_channel or fwd_id is not None
        else None
    )
    reply = {"channel": reply_channel, "id": reply_id} if reply_id is not None else None
    values = dict(
        key=key,
        channel=channel,
        channel_title=title,
        id=message_id,
        date=date,
        text=text,
        entities=json.loads(entities),
        views=views,
        forwards=forwards,
        replies=replies,
        reactions=parts["reactions"].get(pk, []),
        forwarded_from=forward,
        reply_to=reply,
        media=parts["media"].get(pk, []),
        link_preview=json.loads(link_preview) if link_preview else None,
        buttons=json.loads(buttons) if buttons else [],
        hashtags=parts["hashtags"].get(pk, []),
        mentions=parts["mentions"].get(pk, []),
        links=parts["links"].get(pk, []),
        author=author,
        via_bot=via_bot,
        edited=bool(edited),
        service=service,
        album_id=album_id,
        sources=parts["sources"].get(pk, []),
    )
    return Post(**values)


def _describe(error: BaseException) -> str:
    text = str(error)
    if "locked" in text or "busy" in text:
        return "the archive is locked by another process (try again when it has finished)"
    if "not a database" in text or "malformed" in text:
        return "not a tgscope archive or the file is corrupt"
    return text
