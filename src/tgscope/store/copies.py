"""Copies without ids: a text dump's post found in another source, and made one with it.

A post without an id is matched to a post of the same channel with the same text
(:func:`~.merge.fingerprint`) and the same forward, in either order of import; its key stays
an alias of the post it became part of (``post_aliases``), so importing it again finds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..record import Post
from . import IndexDoc, SaveResult
from .channels import ChannelTable
from .dbapi import Connection
from .merge import combine, fingerprint, same_content
from .observations import ObservationLog
from .posts import Fingerprints, PostWriter
from .provenance import SourceVersions
from .reader import PostReader


class Copies:
    """Matching copies without ids to posts with ids, and absorbing them."""

    def __init__(
        self,
        db: Connection,
        *,
        channels: ChannelTable,
        marks: Fingerprints,
        writer: PostWriter,
        reader: PostReader,
        versions: SourceVersions,
        observations: ObservationLog,
    ):
        self.db = db
        self.channels = channels
        self.marks = marks
        self.writer = writer
        self.reader = reader
        self.versions = versions
        self.observations = observations

    def match(self, posts: list[Post], existing: dict[str, int], source_pk: int) -> int:
        """Posts without ids (text dumps) that one post of their channel already says: the
        same text, forwarded from the same author, are added to ``existing`` under their
        keys.  Two copies in one source stay apart.  Returns how many matched."""
        matched = 0
        claimed: set[int] = set()
        for post in posts:
            if post.id is not None or post.key in existing or not post.channel:
                continue
            channel_pk = self.channels.pk(post.channel, post.channel_title)
            if not self.marks.fingerprinted(channel_pk, with_id=False):
                continue  # no post with an id to match yet
            mark = fingerprint(post.text)
            found = self.marks.same_text(channel_pk, mark, with_id=True) if mark else []
            if len(found) != 1 or found[0] in claimed or not self._same_author(found[0], post):
                continue
            if self.observations.seen_by(found[0], source_pk):
                continue  # this source already gave this post: another copy, kept apart
            existing[post.key] = found[0]
            self.writer.alias(post.key, found[0])
            claimed.add(found[0])
            matched += 1
        return matched

    def absorb(self, posts: list[tuple[int, Post]], seq: int, result: SaveResult) -> None:
        """Posts with ids (new or with a new text) take in the posts without ids that say the
        same, unless another post with an id says it too."""
        for pk, post in posts:
            if post.id is None or not post.channel:
                continue
            channel_pk = self.channels.pk(post.channel, post.channel_title)
            on = self.marks.fingerprinted(channel_pk, with_id=True)
            mark = fingerprint(post.text) if on else None
            if mark is None or len(self.marks.same_text(channel_pk, mark, with_id=True)) != 1:
                continue
            for copy_pk in self.marks.same_text(channel_pk, mark, with_id=False):
                self.marks.copies_changed(channel_pk)
                self._absorb_one(pk, copy_pk, post, seq, result)

    def _absorb_one(self, pk: int, copy_pk: int, post: Post, seq: int, result: SaveResult) -> None:
        copy = self.reader.load([copy_pk])[copy_pk]
        if not _same_forward(copy.forwarded_from, post.forwarded_from):
            return  # another author
        if self.observations.share_a_source(copy_pk, pk):
            return  # a second copy from a source the post came from
        self.writer.alias(copy.key, pk)
        old = self.reader.load([pk])[pk]
        merged = self._take_in(pk, copy_pk, old.key, seq)
        result.changed.append(IndexDoc(copy_pk, "", None, None, [], gone=True))
        result.merged += 1
        if not same_content(merged, old):
            self.writer.update([(pk, merged)], seq, {pk: old})
            result.changed.append(index_doc(pk, merged, new=False))

    def _take_in(self, pk: int, copy_pk: int, key: str, seq: int) -> Post:
        """Make the post without an id ``copy_pk`` part of post ``pk``: their versions are
        combined, its observations and earlier texts move over, and it is removed."""
        combined = self.versions.combined(pk, copy_pk)
        for table, rest in _MOVED.items():
            query, params = f"UPDATE {table} SET post_pk = ? WHERE post_pk = ?", [pk, copy_pk]
            if rest:  # a row the post has already stays; the copy's is left to remove()
                same = "".join(f" AND kept.{name} = {table}.{name}" for name in rest)
                query += (
                    f" AND NOT EXISTS (SELECT 1 FROM {table} AS kept WHERE kept.post_pk = ?{same})"
                )
                params.append(pk)
            self.db.execute(query, params)
        self.writer.remove(copy_pk, seq)
        if len(combined) > 1:
            self.versions.save(pk, combined)
            return combine(combined, key)[0]
        post = next(iter(combined.values()))[1]
        post.key = key
        return post

    def _same_author(self, pk: int, copy: Post) -> bool:
        (title,) = self.db.execute(
            "SELECT forwarded_from_title FROM posts WHERE pk = ?", (pk,)
        ).fetchone()
        known = None if title is None else {"title": title or None}  # "": a hidden sender
        return _same_forward(copy.forwarded_from, known)


#: the tables whose rows move from a copy to its post: the rest of each one's unique key
#: beside post_pk (a row the post has already is kept; the copy's goes with the copy)
_MOVED: dict[str, tuple[str, ...]] = {
    "observations": ("source_pk",),
    "post_versions": ("replaced_at", "text"),
    "post_aliases": (),  # its key is the alias alone
}


def index_doc(pk: int, post: Post, *, new: bool) -> IndexDoc:
    """What the search index needs of a post just written."""
    return IndexDoc(
        pk,
        post.text,
        post.channel,
        post.date,
        post.hashtags,
        new,
        media=tuple(item.get("type") or "document" for item in post.media),
        forwarded=post.forwarded_from is not None,
    )


def _same_forward(one: Mapping[str, Any] | None, other: Mapping[str, Any] | None) -> bool:
    """Whether two copies agree on whether (and from whom) the post was forwarded; a title
    one of them lacks (a hidden sender) agrees with any."""
    if one is None or other is None:
        return one is None and other is None
    first, second = one.get("title"), other.get("title")
    return not first or not second or first.casefold().split() == second.casefold().split()
