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

from ..record import Post, Reaction, SourceRef
from . import IndexDoc, SourceInfo
from .merge import combine, fingerprint, merge, rank, same_content

# json.dumps builds an encoder on every call with non-default options: build it once
to_json = json.JSONEncoder(ensure_ascii=False).encode
Versions = dict[str, tuple[str, Post]]  # kind of source -> (observed_at, its version)


class ProvenanceMixin:
    """Methods of :class:`~tgscope.store.sqlite.SQLiteStore` that keep provenance."""

    db: sqlite3.Connection
    _matching: dict[int, list[bool]]  # channel pk -> [has posts with ids, without, fingerprinted]
    _turned_on: set[int]  # channels fingerprinted during the batch being saved

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

    # -- copies without ids: matching and absorbing ------------------------------------

    def _match_copies(self, posts: list[Post], existing: dict[str, int], source_pk: int) -> int:
        """Posts without ids (text dumps) that one post of their channel already says: the
        same text, forwarded from the same author.  Two copies in one source stay apart."""
        matched = 0
        claimed: set[int] = set()
        for post in posts:
            if post.id is not None or post.key in existing or not post.channel:
                continue
            channel_pk = self._channel_pk(post.channel, post.channel_title)
            if not self.fingerprinted(channel_pk, with_id=False):
                continue  # no post with an id to match yet
            mark = fingerprint(post.text)
            found = self.same_text(channel_pk, mark, with_id=True) if mark else []
            if len(found) != 1 or found[0] in claimed or not self._same_author(found[0], post):
                continue
            if self._seen_by(found[0], source_pk):
                continue  # this source already gave this post: another copy, kept apart
            existing[post.key] = found[0]
            self._alias(post.key, found[0])
            claimed.add(found[0])
            matched += 1
        return matched

    def _absorb_copies(self, posts: list[tuple[int, Post]], when: str, result) -> None:
        """Posts with ids (new or with a new text) take in the posts without ids that say the
        same, unless another post with an id says it too."""
        for pk, post in posts:
            if post.id is None or not post.channel:
                continue
            channel_pk = self._channel_pk(post.channel, post.channel_title)
            mark = fingerprint(post.text) if self.fingerprinted(channel_pk, with_id=True) else None
            if mark is None or len(self.same_text(channel_pk, mark, with_id=True)) != 1:
                continue
            for copy_pk in self.same_text(channel_pk, mark, with_id=False):
                copy = self.load_posts([copy_pk])[copy_pk]
                if not _same_forward(copy.forwarded_from, post.forwarded_from) or (
                    self._share_a_source(copy_pk, pk)
                ):
                    continue  # another author, or a second copy from a source it came from
                self._alias(copy.key, pk)
                old = self.load_posts([pk])[pk]
                merged, gone = self.absorb(pk, copy_pk)
                result.changed.append(gone)
                result.merged += 1
                if not same_content(merged, old):
                    self._update_post(pk, merged)
                    self._insert_children([(pk, merged)])
                    result.changed.append(_index_doc(pk, merged, new=False))

    def _same_author(self, pk: int, copy: Post) -> bool:
        (title,) = self.db.execute(
            "SELECT forwarded_from_title FROM posts WHERE pk = ?", (pk,)
        ).fetchone()
        known = None if title is None else {"title": title or None}  # "": a hidden sender
        return _same_forward(copy.forwarded_from, known)

    def _alias(self, key: str, pk: int) -> None:
        """The key a copy without an id had stays an address of the post it became part of,
        so importing that copy again finds the post."""
        self.db.execute(
            "INSERT INTO post_aliases VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET"
            " post_pk = excluded.post_pk",
            (key, pk),
        )

    def _share_a_source(self, one: int, other: int) -> bool:
        return bool(
            self.db.execute(
                "SELECT 1 FROM observations a JOIN observations b ON a.source_pk = b.source_pk"
                " WHERE a.post_pk = ? AND b.post_pk = ? LIMIT 1",
                (one, other),
            ).fetchone()
        )

    def _seen_by(self, pk: int, source_pk: int) -> bool:
        return bool(
            self.db.execute(
                "SELECT 1 FROM observations WHERE post_pk = ? AND source_pk = ?", (pk, source_pk)
            ).fetchone()
        )

    def _observations(self, pk: int, source: tuple[int, str, str], post: Post) -> list[tuple]:
        """What this source saw of the post; a tgscope export restores the observations it
        lists instead (an archive moved through JSON Lines keeps its provenance)."""
        if source[2] != RESTORED_KIND or not post.sources:
            return [_observation(pk, source, post)]
        newest = max(ref["observed_at"] for ref in post.sources)
        found = []
        seen: dict[tuple[str, str, str], int] = {}
        for ref in post.sources:
            triple = (ref["kind"], ref["ref"], ref["observed_at"])
            occurrence = seen[triple] = seen.get(triple, -1) + 1
            restored = self._restored_source(triple, occurrence)
            latest = ref["observed_at"] == newest
            found.append(
                (
                    pk,
                    restored,
                    ref["observed_at"],
                    post.views if latest else None,
                    reactions_json(post.reactions) if latest else "[]",
                )
            )
        return found

    def _restored_source(self, triple: tuple[str, str, str], occurrence: int) -> int:
        """The source row an exported observation names: the same one when the archive has
        it (a file read twice at one time is two rows, matched in order), else a new one."""
        rows = self.db.execute(
            "SELECT pk FROM sources WHERE kind = ? AND ref = ? AND observed_at = ? ORDER BY pk",
            triple,
        ).fetchall()
        if occurrence < len(rows):
            return rows[occurrence][0]
        kind, ref, observed_at = triple
        return self.add_source(SourceInfo(kind, ref, f"restored-{occurrence}", observed_at))

    # -- copies without ids --------------------------------------------------------------

    def fingerprinted(self, channel_pk: int | None, *, with_id: bool) -> bool:
        """Whether posts of this channel carry fingerprints, a post ``with_id`` (or without)
        arriving: only once it holds posts both with and without ids, when copies can match.
        The post that brings the second kind has the channel's posts fingerprinted first, so
        a dump imported alone pays nothing for matching."""
        if channel_pk is None:
            return False
        state = self._matching.get(channel_pk)
        if state is None:
            kinds = {
                has_id
                for (has_id,) in self.db.execute(
                    "SELECT DISTINCT message_id IS NOT NULL FROM posts WHERE channel_pk = ?",
                    (channel_pk,),
                )
            }
            state = self._matching[channel_pk] = [1 in kinds, 0 in kinds, False]
        has_ids, has_copies, on = state
        if not on and (has_ids or with_id) and (has_copies or not with_id):
            self._fingerprint_channel(channel_pk)
            self._turned_on.add(channel_pk)
            state[2] = on = True
        state[0 if with_id else 1] = True
        return on

    def _fingerprint_turned_on(self) -> None:
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
        for table in ("observations", "post_versions", "post_aliases"):
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


RESTORED_KIND = "tgscope-jsonl"  # a tgscope export: its posts say who saw them


def _observed_at(source: tuple[int, str, str], post: Post) -> str:
    """When the source saw the post: for a tgscope export, the newest observation it lists
    (not when the export file was written)."""
    if source[2] == RESTORED_KIND and post.sources:
        return max(ref["observed_at"] for ref in post.sources)
    return source[1]


def _same_forward(one: dict | None, other: dict | None) -> bool:
    """Whether two copies agree on whether (and from whom) the post was forwarded; a title
    one of them lacks (a hidden sender) agrees with any."""
    if one is None or other is None:
        return one is None and other is None
    first, second = one.get("title"), other.get("title")
    return not first or not second or first.casefold().split() == second.casefold().split()


def _observation(pk: int, source: tuple[int, str, str], post: Post) -> tuple:
    return (pk, source[0], source[1], post.views, reactions_json(post.reactions))


def reactions_json(reactions: list[Reaction]) -> str:
    """The reactions as JSON, written directly for the usual shapes (json.dumps costs 10 µs
    a post); anything unusual goes through the json module."""
    parts = []
    for reaction in reactions:
        emoji = reaction.get("emoji")
        if len(reaction) == 2 and emoji is not None and emoji.isprintable() and '"' not in emoji:
            parts.append(f'{{"emoji": "{emoji}", "count": {int(reaction["count"])}}}')
        else:
            parts.append(to_json(reaction))
    return "[" + ", ".join(parts) + "]"


def _index_doc(pk: int, post: Post, *, new: bool) -> IndexDoc:
    return IndexDoc(pk, post.text, post.channel, post.date, post.hashtags, new)
