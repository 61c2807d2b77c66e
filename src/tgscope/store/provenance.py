"""The SQLite side of merging: each kind of source's version of a post, and copies without ids.

A post seen by one kind of source only is just its row in ``posts``.  When a second kind
sees it, each kind's version is kept in ``post_sources`` and the row becomes their
combination (:func:`tgscope.store.merge.combine`).  A post without an id (a text dump's) is
matched to a post of the same channel with the same text (:func:`~.merge.fingerprint`), in
either order of import, and becomes one record with it.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ..record import Post, SourceRef
from . import IndexDoc
from .merge import combine, fingerprint, merge, rank

Versions = dict[str, tuple[str, Post]]  # kind of source -> (observed_at, its version)


class ProvenanceMixin:
    """Methods of :class:`~tgscope.store.sqlite.SQLiteStore` that keep provenance."""

    db: sqlite3.Connection
    _matchable: dict[int, bool]  # channel pk -> whether it holds posts without ids

    # -- each kind's version -------------------------------------------------------------

    def versions(self, old: dict[int, Post]) -> dict[int, Versions]:
        """Each kind's version of these posts: their ``post_sources`` rows, or for a post one
        kind alone has seen, the post itself as that kind's."""
        found: dict[int, Versions] = {pk: {} for pk in old}
        pks = list(old)
        for start in range(0, len(pks), 500):
            chunk = pks[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for pk, kind, observed_at, record in self.db.execute(
                f"SELECT post_pk, kind, observed_at, record FROM post_sources"
                f" WHERE post_pk IN ({marks})",
                chunk,
            ):
                found[pk][kind] = (observed_at, Post.from_json(record))
            alone = [pk for pk in chunk if not found[pk]]
            if alone:
                marks = ",".join("?" * len(alone))
                for pk, kind, observed_at in self.db.execute(
                    "SELECT observations.post_pk, sources.kind, max(observations.observed_at)"
                    " FROM observations JOIN sources ON sources.pk = observations.source_pk"
                    f" WHERE observations.post_pk IN ({marks})"
                    " GROUP BY observations.post_pk ORDER BY 1",
                    alone,
                ):
                    found[pk] = {kind: (observed_at, old[pk])}
        return found

    def observe(self, pk: int, old: Post, new: Post, kind: str, at: str, known: Versions) -> Post:
        """The post after ``kind`` saw ``new`` at ``at``; the versions are kept when more than
        one kind has seen it."""
        versions = dict(known) or {kind: (at, old)}
        if kind in versions:
            was_at, was = versions[kind]
            versions[kind] = (max(was_at, at), merge(was, new, new_is_older=at < was_at))
        else:
            versions[kind] = (at, new)
        if len(versions) == 1:
            post = versions[kind][1]
            post.key = old.key
            return post
        self._save_versions(pk, versions)
        return combine(versions, old.key)[0]

    def _save_versions(self, pk: int, versions: Versions) -> None:
        self.db.executemany(
            "INSERT INTO post_sources VALUES (?,?,?,?) ON CONFLICT (post_pk, kind)"
            " DO UPDATE SET observed_at = excluded.observed_at, record = excluded.record",
            [(pk, kind, at, _record_json(post)) for kind, (at, post) in versions.items()],
        )

    def provenance(self, key: str) -> list[dict[str, Any]]:
        """Who said what about a post: each kind of source with its observations, its own
        version of the post and the fields of the record it gave."""
        row = self.db.execute("SELECT pk FROM posts WHERE key = ?", (key,)).fetchone()
        if row is None:
            return []
        pk = row[0]
        post = self.load_posts([pk])[pk]  # type: ignore[attr-defined]
        versions = self.versions({pk: post})[pk]
        given = combine(versions, key)[1] if len(versions) > 1 else None
        refs: dict[str, list[SourceRef]] = {}
        for ref in post.sources:
            refs.setdefault(ref["kind"], []).append(ref)
        found = []
        for kind in sorted({**versions, **dict.fromkeys(refs)}, key=rank):
            at, version = versions.get(kind, (None, None))
            fields = (
                sorted(name for name, giver in (given or {}).items() if giver == kind)
                if given is not None
                else (["all"] if version is not None else [])
            )
            found.append(
                {
                    "kind": kind,
                    "latest": at,
                    "observations": refs.get(kind, []),
                    "fields": fields,
                    "record": version.to_dict() if version is not None else None,
                }
            )
        return found

    # -- copies without ids --------------------------------------------------------------

    def matchable(self, channel_pk: int | None) -> bool:
        """Whether posts of this channel need fingerprints: it holds posts without ids."""
        if channel_pk is None:
            return False
        known = self._matchable.get(channel_pk)
        if known is None:
            known = bool(
                self.db.execute(
                    "SELECT 1 FROM posts WHERE channel_pk = ? AND message_id IS NULL LIMIT 1",
                    (channel_pk,),
                ).fetchone()
            )
            self._matchable[channel_pk] = known
        return known

    def start_matching(self, channel_pk: int) -> None:
        """The channel gets its first post without an id: fingerprint the posts it has."""
        if self.matchable(channel_pk):
            return
        rows = self.db.execute(
            "SELECT pk, text FROM posts WHERE channel_pk = ? AND fingerprint IS NULL",
            (channel_pk,),
        ).fetchall()
        self.db.executemany(
            "UPDATE posts SET fingerprint = ? WHERE pk = ?",
            [(fingerprint(text), pk) for pk, text in rows],
        )
        self._matchable[channel_pk] = True

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

    def absorb(self, pk: int, copy_pk: int) -> tuple[Post, IndexDoc]:
        """Make the post without an id ``copy_pk`` part of post ``pk``: their versions are
        combined, its observations and earlier texts move over, and it is removed."""
        posts = self.load_posts([pk, copy_pk])  # type: ignore[attr-defined]
        versions = self.versions(posts)
        combined: Versions = dict(versions[copy_pk])
        for kind, (at, version) in versions[pk].items():
            if kind in combined:
                was_at, was = combined[kind]
                combined[kind] = (max(at, was_at), merge(was, version, new_is_older=at < was_at))
            else:
                combined[kind] = (at, version)
        for table in ("observations", "post_versions"):
            self.db.execute(
                f"UPDATE OR IGNORE {table} SET post_pk = ? WHERE post_pk = ?", (pk, copy_pk)
            )
        self.remove_post(copy_pk)
        key = posts[pk].key
        if len(combined) > 1:
            self._save_versions(pk, combined)
            return combine(combined, key)[0], IndexDoc(copy_pk, "", None, None, [], gone=True)
        post = next(iter(combined.values()))[1]
        post.key = key
        return post, IndexDoc(copy_pk, "", None, None, [], gone=True)

    def remove_post(self, pk: int) -> None:
        for table in (
            "observations",
            "post_versions",
            "post_sources",
            "reactions",
            "media",
            "hashtags",
            "mentions",
            "links",
        ):
            self.db.execute(f"DELETE FROM {table} WHERE post_pk = ?", (pk,))
        self.db.execute("DELETE FROM posts WHERE pk = ?", (pk,))


def _record_json(post: Post) -> str:
    record = post.to_dict()
    record.pop("sources", None)
    return json.dumps(record, ensure_ascii=False)
