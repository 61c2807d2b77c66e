"""The SQLite side of merging: each kind of source's version of a post.

A post seen by one kind of source only is just its row in ``posts``.  When a second kind
sees it, each kind's version is kept in ``post_sources`` and the row becomes their
combination (:func:`tgscope.store.merge.combine`).
"""

from __future__ import annotations

from typing import Any

from ..record import Post, SourceRef
from .dbapi import Connection
from .merge import combine, merge, rank
from .posts import BATCH, to_json
from .reader import PostReader

Versions = dict[str, tuple[str, Post]]  # kind of source -> (observed_at, its version)


class SourceVersions:
    """The ``post_sources`` table: each kind of source's latest version of a post."""

    def __init__(self, db: Connection, reader: PostReader):
        self.db = db
        self.reader = reader

    def of(
        self, old: dict[int, Post], *, latest: dict[int, str] | None = None
    ) -> dict[int, Versions]:
        """Each kind's version of these posts: their ``post_sources`` rows, or for a post one
        kind alone has seen, the post itself as that kind's.  ``latest`` is given when each
        post of the second sort was last seen (read with its kind)."""
        found: dict[int, Versions] = {pk: {} for pk in old}
        pks = list(old)
        for start in range(0, len(pks), BATCH):
            chunk = pks[start : start + BATCH]
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
                # per post and kind, latest last: the kind that saw the post last wins
                for pk, kind, observed_at in self.db.execute(
                    "SELECT observations.post_pk, sources.kind, max(observations.observed_at)"
                    " FROM observations JOIN sources ON sources.pk = observations.source_pk"
                    f" WHERE observations.post_pk IN ({marks})"
                    " GROUP BY observations.post_pk, sources.kind ORDER BY 1, 3",
                    alone,
                ):
                    found[pk] = {kind: (observed_at, old[pk])}
                    if latest is not None:
                        latest[pk] = observed_at
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
        self.save(pk, versions)
        return combine(versions, old.key)[0]

    def save(self, pk: int, versions: Versions) -> None:
        self.db.executemany(
            "INSERT INTO post_sources (post_pk, kind, observed_at, record) VALUES (?,?,?,?)"
            " ON CONFLICT (post_pk, kind)"
            " DO UPDATE SET observed_at = excluded.observed_at, record = excluded.record",
            [(pk, kind, at, _record_json(post)) for kind, (at, post) in versions.items()],
        )

    def combined(self, pk: int, copy_pk: int) -> Versions:
        """The versions of post ``pk`` and of its copy without an id, as one post's."""
        posts = self.reader.load([pk, copy_pk])
        versions = self.of(posts)
        joined: Versions = dict(versions[copy_pk])
        for kind, (at, version) in versions[pk].items():
            if kind in joined:
                was_at, was = joined[kind]
                joined[kind] = (max(at, was_at), merge(was, version, new_is_older=at < was_at))
            else:
                joined[kind] = (at, version)
        return joined

    def report(self, key: str) -> list[dict[str, Any]]:
        """Who said what about a post: each kind of source with its observations, its own
        version of the post and the fields of the record it gave."""
        pk = self.reader.pk(key)
        if pk is None:
            return []
        post = self.reader.load([pk])[pk]
        versions = self.of({pk: post})[pk]
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


def _record_json(post: Post) -> str:
    record = post.to_dict()
    record.pop("sources", None)
    return to_json(record)
