"""The near-copy index's tables (``nearcopy_*``, schema version 9): SQL only.

What the tables hold and how they are kept in step with the posts is
:mod:`tgscope.analysis.duplicates`' to say; this helper reads and writes rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from .dbapi import Connection
from .derived import derived_write, read_state, save_state

_BATCH = 500  # ids per ``IN (...)``
_TABLES = ("nearcopy_texts", "nearcopy_posts", "nearcopy_buckets", "nearcopy_pairs")


class NearCopyTables:
    """Rows of the near-copy index, read and written on the archive's connection."""

    def __init__(self, db: Connection):
        self.db = db

    def writing(self) -> AbstractContextManager[int]:
        """One write transaction over the index's tables, yielding the archive's last write
        (read under the lock: no other writer commits in between).  The archive's own
        sequence number is not advanced: the index is derived, not a write of the record."""
        return derived_write(self.db)

    # -- state ----------------------------------------------------------------------------

    def state(self) -> dict[str, str]:
        return read_state(self.db, "nearcopy_state")

    def save_state(self, values: dict[str, Any]) -> None:
        save_state(self.db, "nearcopy_state", values)

    def clear(self) -> None:
        for table in (*_TABLES, "nearcopy_state"):
            self.db.execute(f"DELETE FROM {table}")

    # -- what changed in the archive ------------------------------------------------------

    def removed_since(self, seq: int) -> list[int]:
        rows = self.db.execute("SELECT pk FROM removed_posts WHERE seq > ?", (seq,))
        return [pk for (pk,) in rows]

    def written_since(self, seq: int, upto: int | None = None) -> Iterator[tuple[int, str, int]]:
        """``(pk, text, seq)`` of each post written after ``seq``; only those up to ``upto``
        when given (the last write :meth:`writing` gave: on PostgreSQL a later write may
        commit before an older one, so it waits for the next catch-up)."""
        bound, args = ("", ()) if upto is None else (" AND seq <= ?", (upto,))
        return iter(
            # in the order of posts_seq: ORDER BY pk alone would scan every post
            self.db.execute(
                f"SELECT pk, text, seq FROM posts WHERE seq > ?{bound} ORDER BY seq, pk",
                (seq, *args),
            )
        )

    # -- posts and texts ------------------------------------------------------------------

    def text_ids_of(self, pks: list[int]) -> dict[int, int]:
        found: dict[int, int] = {}
        for part in _parts(pks):
            found.update(
                self.db.execute(
                    "SELECT post_pk, text_id FROM nearcopy_posts"
                    f" WHERE post_pk IN ({_marks(part)})",
                    part,
                )
            )
        return found

    def drop_posts(self, pks: list[int]) -> None:
        self.db.executemany("DELETE FROM nearcopy_posts WHERE post_pk = ?", [(pk,) for pk in pks])

    def is_empty(self) -> bool:
        """Whether the index holds no text and no post (a build from scratch can then write
        its rows as new ones)."""
        query = "SELECT 1 FROM nearcopy_texts UNION ALL SELECT 1 FROM nearcopy_posts LIMIT 1"
        return self.db.execute(query).fetchone() is None

    def _copied(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> bool:
        """Rows new to ``table``, each once, written with COPY where the engine has it
        (PostgreSQL: several times faster than inserts); False where it has not."""
        copy = getattr(self.db, "copy_rows", None)
        if copy is None:
            return False
        copy(table, columns, rows)
        return True

    def save_posts(self, rows: list[tuple[int, int, int]], *, new: bool = False) -> None:
        """``(post_pk, text_id, seq)`` rows, replacing what the posts had (``new``: rows of
        posts the index does not hold)."""
        if new and self._copied("nearcopy_posts", ("post_pk", "text_id", "seq"), rows):
            return
        self.db.executemany(
            "INSERT INTO nearcopy_posts (post_pk, text_id, seq) VALUES (?, ?, ?)"
            " ON CONFLICT (post_pk) DO UPDATE SET text_id = excluded.text_id, seq = excluded.seq",
            rows,
        )

    def known_texts(self, ids: Iterable[int]) -> set[int]:
        found: set[int] = set()
        for part in _parts(list(ids)):
            rows = self.db.execute(
                f"SELECT id FROM nearcopy_texts WHERE id IN ({_marks(part)})", part
            )
            found.update(text_id for (text_id,) in rows)
        return found

    def orphans(self, ids: Iterable[int]) -> list[tuple[int, bytes]]:
        """Of these texts, those no post has any more, with their signatures."""
        out = []
        for text_id in set(ids):
            used = self.db.execute(
                "SELECT 1 FROM nearcopy_posts WHERE text_id = ? LIMIT 1", (text_id,)
            ).fetchone()
            if used:
                continue
            row = self.db.execute(
                "SELECT signature FROM nearcopy_texts WHERE id = ?", (text_id,)
            ).fetchone()
            if row:
                out.append((text_id, row[0]))
        return out

    def drop_texts(self, ids: list[int], buckets: list[tuple[int, int]]) -> None:
        """Forget texts: their rows, their ``(bucket, text_id)`` entries and their pairs."""
        self.db.executemany(
            "DELETE FROM nearcopy_buckets WHERE bucket = ? AND text_id = ?", buckets
        )
        one = [(text_id,) for text_id in ids]
        self.db.executemany("DELETE FROM nearcopy_pairs WHERE a = ?", one)
        self.db.executemany("DELETE FROM nearcopy_pairs WHERE b = ?", one)
        self.db.executemany("DELETE FROM nearcopy_texts WHERE id = ?", one)

    def save_texts(self, rows: Iterable[tuple[int, bytes, int]], *, new: bool = False) -> None:
        """``(id, signature, shingles)`` rows (``new``: of texts the index does not hold,
        each once)."""
        if new and self._copied("nearcopy_texts", ("id", "signature", "shingles"), rows):
            return
        self.db.executemany(
            "INSERT INTO nearcopy_texts (id, signature, shingles) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO NOTHING",
            rows,
        )

    def sample_texts(self, ids: list[int]) -> dict[int, str]:
        """One post's text for each of these normalised texts (any: they say the same; the
        least, so that the choice is the same on every engine)."""
        found: dict[int, str] = {}
        for part in _parts(ids):
            found.update(
                self.db.execute(
                    "SELECT nearcopy_posts.text_id, min(posts.text) FROM nearcopy_posts"
                    " JOIN posts ON posts.pk = nearcopy_posts.post_pk"
                    f" WHERE nearcopy_posts.text_id IN ({_marks(part)})"
                    " GROUP BY nearcopy_posts.text_id",
                    part,
                )
            )
        return found

    # -- buckets and pairs ----------------------------------------------------------------

    def save_buckets(self, rows: Iterable[tuple[int, int]], *, new: bool = False) -> None:
        """``(bucket, text_id)`` rows (``new``: into an empty table, in bucket order)."""
        if new and self._copied("nearcopy_buckets", ("bucket", "text_id"), _each_once(rows)):
            return
        self.db.executemany(
            "INSERT INTO nearcopy_buckets (bucket, text_id) VALUES (?, ?)"
            " ON CONFLICT (bucket, text_id) DO NOTHING",
            rows,
        )

    def bucket_mates(self, buckets: list[int]) -> list[tuple[int, int]]:
        """``(bucket, text_id)`` of every text in these buckets."""
        out: list[tuple[int, int]] = []
        for part in _parts(sorted(set(buckets))):
            out.extend(
                self.db.execute(
                    "SELECT bucket, text_id FROM nearcopy_buckets"
                    f" WHERE bucket IN ({_marks(part)})",
                    part,
                )
            )
        return out

    def save_pairs(self, rows: Iterable[tuple[int, int, float]]) -> None:
        self.db.executemany(
            "INSERT INTO nearcopy_pairs (a, b, jaccard) VALUES (?, ?, ?)"
            " ON CONFLICT (a, b) DO UPDATE SET jaccard = excluded.jaccard",
            rows,
        )

    def pairs(self, threshold: float) -> list[tuple[int, int, float]]:
        return self.db.execute(
            "SELECT a, b, jaccard FROM nearcopy_pairs WHERE jaccard >= ?", (threshold,)
        ).fetchall()

    def pairs_of(self, text_id: int, threshold: float) -> list[tuple[int, float]]:
        """The texts paired with one text, with their Jaccard."""
        return self.db.execute(
            "SELECT b, jaccard FROM nearcopy_pairs WHERE a = ? AND jaccard >= ?"
            " UNION ALL SELECT a, jaccard FROM nearcopy_pairs WHERE b = ? AND jaccard >= ?",
            (text_id, threshold, text_id, threshold),
        ).fetchall()

    def repeated_texts(self) -> list[int]:
        """Texts that more than one post has."""
        rows = self.db.execute(
            "SELECT text_id FROM nearcopy_posts GROUP BY text_id HAVING count(*) > 1"
        )
        return [text_id for (text_id,) in rows]

    def members(self, text_ids: list[int]) -> list[tuple]:
        """``(text_id, post key, channel, date, forwarded, post pk)`` of the posts of these
        texts."""
        out: list[tuple] = []
        for part in _parts(text_ids):
            out.extend(
                self.db.execute(
                    "SELECT nearcopy_posts.text_id, posts.key, channels.username, posts.date,"
                    " (posts.forwarded_from_title IS NOT NULL"
                    " OR posts.forwarded_from_channel IS NOT NULL"
                    " OR posts.forwarded_from_id IS NOT NULL), posts.pk"
                    " FROM nearcopy_posts JOIN posts ON posts.pk = nearcopy_posts.post_pk"
                    " LEFT JOIN channels ON channels.pk = posts.channel_pk"
                    f" WHERE nearcopy_posts.text_id IN ({_marks(part)})",
                    part,
                )
            )
        return out

    # -- spread ---------------------------------------------------------------------------

    def forwards_of(self, channel: str, message_id: int) -> list[int]:
        """The pks of posts forwarded from post ``message_id`` of ``channel``."""
        names = sorted({channel, channel.lower()})
        rows = self.db.execute(
            "SELECT pk FROM posts WHERE forwarded_from_id = ?"
            f" AND forwarded_from_channel IN ({_marks(names)})",
            (message_id, *names),
        )
        return [pk for (pk,) in rows]

    def pk_of(self, key: str) -> int | None:
        row = self.db.execute("SELECT pk FROM posts WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def pk_of_message(self, channel: str, message_id: int) -> int | None:
        row = self.db.execute(
            "SELECT posts.pk FROM posts JOIN channels ON channels.pk = posts.channel_pk"
            " WHERE channels.username = ? AND posts.message_id = ?",
            (channel.lower(), message_id),
        ).fetchone()
        return row[0] if row else None

    def post_text_ids(self, pks: list[int]) -> dict[int, int]:
        return self.text_ids_of(pks)

    def posts_of_texts(self, text_ids: list[int]) -> list[tuple[int, int]]:
        """``(post pk, text_id)`` of the posts of these texts."""
        out: list[tuple[int, int]] = []
        for part in _parts(text_ids):
            out.extend(
                self.db.execute(
                    "SELECT post_pk, text_id FROM nearcopy_posts"
                    f" WHERE text_id IN ({_marks(part)})",
                    part,
                )
            )
        return out


def _parts(values: list) -> Iterator[list]:
    for start in range(0, len(values), _BATCH):
        yield values[start : start + _BATCH]


def _marks(values: list) -> str:
    return ",".join("?" * len(values))


def _each_once(rows: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Rows in bucket order, a repeated one left out (two bands of one text may, however
    rarely, hash to one bucket: an insert skips the repeat, COPY would refuse it)."""
    bucket: int | None = None
    texts: set[int] = set()
    for row in rows:
        if row[0] != bucket:
            bucket, texts = row[0], set()
        if row[1] not in texts:
            texts.add(row[1])
            yield row
