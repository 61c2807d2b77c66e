"""The media tables (``media_files``, ``media_fetches``; schema version 11).

SQL only: which media to fetch and how is :mod:`tgscope.collect.media`'s to say, where files
live is :mod:`tgscope.media.files`'.  A file is one row however many posts carry it; a fetch
is one row per post, medium and part, rewritten by each new try.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from ..errors import StoreError
from .dbapi import Connection, dialect_of, roll_back
from .derived import derived_write

#: fetch outcomes that are final for their URL: tried again only when the post names
#: another URL (a fresh sync gives fresh links); "failed" is tried again up to a few times
FINAL_STATUSES = frozenset({"stored", "expired", "missing", "refused", "too_large"})
STATUSES = (*sorted(FINAL_STATUSES), "failed")
_BATCH = 500


@dataclass(frozen=True, slots=True)
class Wanted:
    """A medium the archive knows a URL for."""

    post: str  # the post's key, or @channel for a channel's picture
    position: int
    part: str  # file, thumb, link_preview, avatar (the parts but "file" are images)
    type: str  # photo, video, ... (a poster's is its video's; a preview image's "photo")
    url: str
    duration: int | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a try gave: a stored file (``sha256``) or the reason there is none."""

    status: str
    sha256: str | None = None
    http_status: int | None = None
    size: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class FileRow:
    sha256: str
    size: int
    mime: str | None
    width: int | None
    height: int | None
    duration: int | None


@dataclass(frozen=True, slots=True)
class Medium:
    """One medium of a post as fetched: where from, and the file when stored."""

    post: str
    position: int
    part: str
    type: str
    url: str | None
    status: str
    sha256: str | None
    http_status: int | None
    size: int | None
    reason: str | None
    attempts: int
    fetched_at: str
    mime: str | None = None
    width: int | None = None
    height: int | None = None


_MEDIUM_COLUMNS = (
    "f.post, f.position, f.part, f.type, f.url, f.status, f.sha256, f.http_status,"
    " coalesce(m.size, f.size), f.reason, f.attempts, f.fetched_at, m.mime, m.width, m.height"
)
_MEDIUM_FROM = "media_fetches f LEFT JOIN media_files m ON m.sha256 = f.sha256"


class MediaTables:
    """Rows of the media tables, on the archive's connection."""

    def __init__(self, db: Connection):
        self.db = db

    def writing(self) -> AbstractContextManager[int]:
        """One write transaction (media rows do not advance the archive's sequence)."""
        return derived_write(self.db)

    @contextmanager
    def saving(self) -> Iterator[None]:
        """One write transaction for a fetch's rows, as light as can be (one per file)."""
        dialect = dialect_of(self.db)
        try:
            self.db.execute(dialect.begin_write)
        except dialect.busy_errors as error:
            raise StoreError(f"the archive is locked by another process: {error}") from error
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            roll_back(self.db)
            raise

    # -- what to fetch ----------------------------------------------------------------------

    def known(
        self,
        *,
        channel: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Iterator[Wanted]:
        """Every medium of the chosen posts with a URL (their posters and link preview
        images too), then the channels' pictures; oldest post first."""
        clauses, params = _post_clauses(channel, since, until)
        after = 0
        while True:  # a page of posts at a time, read whole: writes come in between
            rows = self.db.execute(
                "SELECT posts.key, media.position, media.item, posts.link_preview"
                " FROM posts JOIN channels ON channels.pk = posts.channel_pk"
                " LEFT JOIN media ON media.post_pk = posts.pk"
                f" WHERE {' AND '.join([*clauses, 'posts.pk > ?', 'posts.pk <= ?'])}"
                " ORDER BY posts.pk, media.position",
                [*params, after, after + _BATCH * 4],
            ).fetchall()
            if not rows and not self._posts_after(after):
                break
            for key, position, item, preview in rows:
                if position is not None:
                    yield from _wanted_of(key, position, json.loads(item))
                if position in (None, 0) and preview:
                    image = json.loads(preview).get("image")
                    if isinstance(image, str) and image.startswith(("http://", "https://")):
                        yield Wanted(key, 0, "link_preview", "photo", image)
            after += _BATCH * 4
        if since is None and until is None:
            query = "SELECT username, avatar FROM channels WHERE avatar IS NOT NULL"
            chosen = (query + " AND username = ?", (channel,)) if channel else (query, ())
            for name, avatar in self.db.execute(*chosen).fetchall():
                if avatar.startswith(("http://", "https://")):
                    yield Wanted(f"@{name}", 0, "avatar", "photo", avatar)

    def _posts_after(self, pk: int) -> bool:
        return self.db.execute("SELECT 1 FROM posts WHERE pk > ?", (pk,)).fetchone() is not None

    def channel_names(self) -> list[str]:
        return [name for (name,) in self.db.execute("SELECT username FROM channels ORDER BY 1")]

    def has_channel(self, name: str) -> bool:
        query = "SELECT 1 FROM channels WHERE username = ?"
        return self.db.execute(query, (name,)).fetchone() is not None

    def tried(self, keys: Iterable[tuple[str, int, str]]) -> dict[tuple[str, int, str], tuple]:
        """The last try of each ``(post, position, part)``: ``(status, url, attempts, size,
        sha256)``."""
        found: dict[tuple[str, int, str], tuple] = {}
        wanted = set(keys)
        posts = sorted({key[0] for key in wanted})
        for start in range(0, len(posts), _BATCH):
            chunk = posts[start : start + _BATCH]
            marks = ",".join("?" * len(chunk))
            for post, position, part, *rest in self.db.execute(
                "SELECT post, position, part, status, url, attempts, size, sha256"
                " FROM media_fetches"
                f" WHERE post IN ({marks})",
                chunk,
            ):
                if (post, position, part) in wanted:
                    found[post, position, part] = tuple(rest)
        return found

    # -- writing ----------------------------------------------------------------------------

    def has_file(self, sha256: str) -> bool:
        query = "SELECT 1 FROM media_files WHERE sha256 = ?"
        return self.db.execute(query, (sha256,)).fetchone() is not None

    def add_file(self, row: FileRow, stored_at: str) -> bool:
        """The file's row, made on first sight (a file stored again is the same row); whether
        it is new."""
        added = self.db.execute(
            "INSERT INTO media_files (sha256, size, mime, width, height, duration, stored_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
            (row.sha256, row.size, row.mime, row.width, row.height, row.duration, stored_at),
        ).rowcount
        if added:
            return True
        if row.duration is not None:
            self.db.execute(
                "UPDATE media_files SET duration = ? WHERE sha256 = ? AND duration IS NULL",
                (row.duration, row.sha256),
            )
        return False

    def record(self, wanted: Wanted, fetched: Fetched, fetched_at: str) -> None:
        """The outcome of a try; a try after a failure with the same URL counts one more."""
        self.db.execute(
            "INSERT INTO media_fetches (post, position, part, type, url, status, sha256,"
            " http_status, size, reason, attempts, fetched_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)"
            " ON CONFLICT (post, position, part) DO UPDATE SET type = excluded.type,"
            " status = excluded.status, sha256 = excluded.sha256,"
            " http_status = excluded.http_status, size = excluded.size,"
            " reason = excluded.reason, fetched_at = excluded.fetched_at,"
            " attempts = CASE WHEN media_fetches.url IS NOT DISTINCT FROM excluded.url"
            " THEN media_fetches.attempts + 1 ELSE 1 END, url = excluded.url",
            (
                wanted.post,
                wanted.position,
                wanted.part,
                wanted.type,
                wanted.url,
                fetched.status,
                fetched.sha256,
                fetched.http_status,
                fetched.size,
                fetched.reason,
                fetched_at,
            ),
        )

    # -- reading ----------------------------------------------------------------------------

    def of_posts(self, keys: Iterable[str]) -> dict[str, list[Medium]]:
        """The fetched media of these posts (and channels' pictures, ``@name``), in order."""
        found: dict[str, list[Medium]] = {}
        keys = sorted(set(keys))
        for start in range(0, len(keys), _BATCH):
            chunk = keys[start : start + _BATCH]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                f"SELECT {_MEDIUM_COLUMNS} FROM {_MEDIUM_FROM} WHERE f.post IN ({marks})"
                " ORDER BY f.post, f.position, f.part",
                chunk,
            ):
                found.setdefault(row[0], []).append(Medium(*row))
        return found

    def carrying(self, sha256: str) -> list[Medium]:
        """Every post that carried this file, oldest first."""
        return [
            Medium(*row)
            for row in self.db.execute(
                f"SELECT {_MEDIUM_COLUMNS} FROM {_MEDIUM_FROM}"
                " LEFT JOIN posts ON posts.key = f.post WHERE f.sha256 = ?"
                " ORDER BY posts.date IS NULL, posts.date, f.post, f.position",
                (sha256,),
            )
        ]

    def file(self, sha256: str) -> FileRow | None:
        row = self.db.execute(
            "SELECT sha256, size, mime, width, height, duration FROM media_files WHERE sha256 = ?",
            (sha256,),
        ).fetchone()
        return FileRow(*row) if row else None

    def files(self) -> Iterator[FileRow]:
        """Every stored file, by hash."""
        yield from (
            FileRow(*row)
            for row in self.db.execute(
                "SELECT sha256, size, mime, width, height, duration FROM media_files"
                " ORDER BY sha256"
            )
        )

    def counts(self) -> dict[str, int]:
        """How many media fetches ended each way, and how many files and bytes are stored."""
        counts = dict(self.db.execute("SELECT status, count(*) FROM media_fetches GROUP BY 1"))
        files, size = self.db.execute("SELECT count(*), sum(size) FROM media_files").fetchone()
        return {**counts, "files": files, "bytes": size or 0}

    # -- perceptual hashes ------------------------------------------------------------------

    def unhashed(self, limit: int = _BATCH) -> list[tuple[str, str | None]]:
        """Stored files not yet tried for perceptual hashes: ``(sha256, mime)``."""
        return self.db.execute(
            "SELECT sha256, mime FROM media_files WHERE hashed = 0 ORDER BY sha256 LIMIT ?",
            (limit,),
        ).fetchall()

    def save_hashes(self, rows: Iterable[tuple]) -> None:
        """``(sha256, phash, dhash, width, height)``: None hashes for a file that is no
        image; the size in pixels kept where the row has none yet."""
        self.db.executemany(
            "UPDATE media_files SET phash = ?, dhash = ?, hashed = 1,"
            " width = coalesce(width, ?), height = coalesce(height, ?) WHERE sha256 = ?",
            [(phash, dhash, width, height, sha) for sha, phash, dhash, width, height in rows],
        )

    def image_hashes(self, channel: str | None = None) -> list[tuple[str, str, str]]:
        """``(sha256, phash, dhash)`` of every hashed image (carried by the channel's posts)."""
        if channel is None:
            query = "SELECT sha256, phash, dhash FROM media_files WHERE phash IS NOT NULL"
            return self.db.execute(query).fetchall()
        return self.db.execute(
            "SELECT DISTINCT m.sha256, m.phash, m.dhash FROM media_files m"
            " JOIN media_fetches f ON f.sha256 = m.sha256"
            " JOIN posts ON posts.key = f.post JOIN channels ON channels.pk = posts.channel_pk"
            " WHERE m.phash IS NOT NULL AND channels.username = ?",
            (channel,),
        ).fetchall()

    def file_channels(self) -> list[tuple[str, str]]:
        """``(sha256, channel)`` for every stored image and channel whose posts carried it."""
        return self.db.execute(
            "SELECT DISTINCT f.sha256, channels.username FROM media_fetches f"
            " JOIN media_files m ON m.sha256 = f.sha256"
            " JOIN posts ON posts.key = f.post JOIN channels ON channels.pk = posts.channel_pk"
            " WHERE m.mime LIKE 'image/%'"
        ).fetchall()

    def carriers(self, files: Iterable[str]) -> list[tuple]:
        """``(post, channel, date, position, part, sha256, url, fetched_at)`` of every post
        carrying one of these files, oldest first."""
        files = sorted(set(files))
        rows: list[tuple] = []
        for start in range(0, len(files), _BATCH):
            chunk = files[start : start + _BATCH]
            marks = ",".join("?" * len(chunk))
            rows += self.db.execute(
                "SELECT f.post, channels.username, posts.date, f.position, f.part, f.sha256,"
                " f.url, f.fetched_at FROM media_fetches f LEFT JOIN posts ON posts.key = f.post"
                " LEFT JOIN channels ON channels.pk = posts.channel_pk"
                f" WHERE f.sha256 IN ({marks})",
                chunk,
            ).fetchall()
        rows.sort(key=lambda row: (row[2] is None, row[2] or "", row[0], row[3], row[4]))
        return rows

    def gallery(self, channel: str, *, limit: int = 60, offset: int = 0) -> list[Medium]:
        """The channel's stored images (photos, posters, preview images), newest first."""
        return [
            Medium(*row)
            for row in self.db.execute(
                f"SELECT {_MEDIUM_COLUMNS} FROM {_MEDIUM_FROM}"
                " JOIN posts ON posts.key = f.post JOIN channels ON channels.pk = posts.channel_pk"
                " WHERE channels.username = ? AND f.status = 'stored' AND m.mime LIKE 'image/%'"
                " ORDER BY posts.date DESC, posts.pk DESC, f.position, f.part LIMIT ? OFFSET ?",
                (channel, limit, offset),
            )
        ]

    def file_rows(self, files: Iterable[str]) -> dict[str, FileRow]:
        """The rows of these stored files, by hash (those the archive keeps)."""
        files = sorted(set(files))
        found: dict[str, FileRow] = {}
        for start in range(0, len(files), _BATCH):
            chunk = files[start : start + _BATCH]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                "SELECT sha256, size, mime, width, height, duration FROM media_files"
                f" WHERE sha256 IN ({marks})",
                chunk,
            ):
                found[row[0]] = FileRow(*row)
        return found


def _post_clauses(
    channel: str | None, since: str | None, until: str | None
) -> tuple[list[str], list[str]]:
    clauses, params = [], []
    if channel is not None:
        clauses.append("channels.username = ?")
        params.append(channel)
    if since is not None:
        clauses.append("posts.date >= ?")
        params.append(since)
    if until is not None:
        clauses.append("posts.date < ?")
        params.append(until)
    return clauses, params


def _wanted_of(key: str, position: int, item: dict) -> Iterator[Wanted]:
    kind = item.get("type") or "document"
    url = item.get("url")
    numbers = {name: _int(item.get(name)) for name in ("duration", "width", "height")}
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        yield Wanted(key, position, "file", kind, url, **numbers)
    thumb = item.get("thumb")
    if isinstance(thumb, str) and thumb.startswith(("http://", "https://")):
        yield Wanted(key, position, "thumb", kind, thumb)  # chosen with its video


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
