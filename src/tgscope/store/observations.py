"""Sources and observations: every input read, and what each showed of each post, when."""

from __future__ import annotations

from ..record import Post
from . import SourceInfo
from .bind import insert_rows
from .channels import now
from .dbapi import Connection
from .posts import to_json

#: a tgscope export: its posts say who saw them, and importing it restores those observations
RESTORED_KIND = "tgscope-jsonl"
_COLUMNS = ("post_pk", "source_pk", "observed_at", "views", "forwards", "replies", "reactions")


class SourceTable:
    """One row per input read (a file, a page, an API batch)."""

    def __init__(self, db: Connection):
        self.db = db
        self._last: tuple[int, SourceInfo] | None = None  # the source added last, and its pk

    def forget(self) -> None:
        """Drop what is cached: the row added last may have been rolled back."""
        self._last = None

    def add(self, source: SourceInfo) -> int:
        """The source's row, created on first sight; the same file read again is the same row."""
        values = (source.kind, source.ref, source.sha256, source.observed_at)
        added = self.db.execute(
            "INSERT INTO sources (kind, ref, sha256, observed_at, imported_at) VALUES (?,?,?,?,?)"
            " ON CONFLICT DO NOTHING RETURNING pk",
            (*values, now()),
        ).fetchall()
        if added:
            ((pk,),) = added
        else:  # read before
            (pk,) = self.db.execute(
                "SELECT pk FROM sources WHERE kind = ? AND ref = ? AND sha256 = ?"
                " AND observed_at = ?",
                values,
            ).fetchone()
        self._last = (pk, source)
        return pk

    def get(self, pk: int) -> SourceInfo:
        if self._last is not None and self._last[0] == pk:  # the usual case: just added
            return self._last[1]
        kind, ref, sha256, observed_at = self.db.execute(
            "SELECT kind, ref, sha256, observed_at FROM sources WHERE pk = ?", (pk,)
        ).fetchone()
        return SourceInfo(kind, ref, sha256, observed_at)

    def restored(self, kind: str, ref: str, observed_at: str, occurrence: int) -> int:
        """The source row an exported observation names: the same one when the archive has
        it (a file read twice at one time is two rows, matched in order), else a new one."""
        rows = self.db.execute(
            "SELECT pk FROM sources WHERE kind = ? AND ref = ? AND observed_at = ? ORDER BY pk",
            (kind, ref, observed_at),
        ).fetchall()
        if occurrence < len(rows):
            return rows[occurrence][0]
        return self.add(SourceInfo(kind, ref, f"restored-{occurrence}", observed_at))


class ObservationLog:
    """The ``observations`` table: a post seen by a source, with the counts it showed."""

    def __init__(self, db: Connection, sources: SourceTable):
        self.db = db
        self.sources = sources

    def rows(self, pk: int, source_pk: int, source: SourceInfo, post: Post) -> list[tuple]:
        """What this source saw of the post; a tgscope export restores the observations it
        lists instead (an archive moved through JSON Lines keeps its provenance)."""
        if source.kind != RESTORED_KIND or not post.sources:
            return [_row(pk, source_pk, source.observed_at, post, counts=True)]
        newest = max(ref["observed_at"] for ref in post.sources)
        found = []
        seen: dict[tuple[str, str, str], int] = {}
        for ref in post.sources:
            triple = (ref["kind"], ref["ref"], ref["observed_at"])
            occurrence = seen[triple] = seen.get(triple, -1) + 1
            restored = self.sources.restored(*triple, occurrence)
            latest = ref["observed_at"] == newest
            found.append(_row(pk, restored, ref["observed_at"], post, counts=latest))
        return found

    def insert(self, rows: list[tuple]) -> None:
        # in order: observations are numbered as they come
        insert_rows(
            self.db,
            "observations",
            _COLUMNS,
            rows,
            on_conflict="ON CONFLICT DO NOTHING",
            in_order=True,
        )

    def latest(self, pks: list[int]) -> dict[int, str]:
        """When each post was last seen, by any source."""
        if not pks:
            return {}
        marks = ",".join("?" * len(pks))
        return dict(
            self.db.execute(
                f"SELECT post_pk, max(observed_at) FROM observations WHERE post_pk IN ({marks})"
                " GROUP BY post_pk",
                pks,
            )
        )

    def share_a_source(self, one: int, other: int) -> bool:
        return bool(
            self.db.execute(
                "SELECT 1 FROM observations a JOIN observations b ON a.source_pk = b.source_pk"
                " WHERE a.post_pk = ? AND b.post_pk = ? LIMIT 1",
                (one, other),
            ).fetchone()
        )

    def seen_by(self, pk: int, source_pk: int) -> bool:
        return bool(
            self.db.execute(
                "SELECT 1 FROM observations WHERE post_pk = ? AND source_pk = ?", (pk, source_pk)
            ).fetchone()
        )


def observed_at(source: SourceInfo, post: Post) -> str:
    """When the source saw the post: for a tgscope export, the newest observation it lists
    (not when the export file was written)."""
    if source.kind == RESTORED_KIND and post.sources:
        return max(ref["observed_at"] for ref in post.sources)
    return source.observed_at


def _row(pk: int, source_pk: int, at: str, post: Post, *, counts: bool) -> tuple:
    """An observation row; without ``counts`` (an older restored observation), no counts."""
    if not counts:
        return (pk, source_pk, at, None, None, None, "[]")
    reactions = to_json(post.reactions) if post.reactions else "[]"
    return (pk, source_pk, at, post.views, post.forwards, post.replies, reactions)
