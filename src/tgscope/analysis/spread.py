"""The spread of one post: its original, every forward of it and every near-copy the
archive holds, in time order with the delay from the original.

Telegram names the original author on a forward, even on a forward of a forward, so the
archive sees one hop only: beyond it, who took the post from whom is read from time and
text, not from Telegram (:data:`CAVEAT`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..dates import parse_bound
from ..record import Post
from ..store.nearcopies import NearCopyTables

if TYPE_CHECKING:
    import pyarrow

CAVEAT = (
    "A forward of a forward names the original author in Telegram, so beyond one hop the"
    " order comes from time and text, not from Telegram."
)


@dataclass(frozen=True, slots=True)
class SpreadPost:
    """One post of a cascade and how it relates to the original."""

    key: str
    channel: str | None
    date: str | None
    delay_s: int | None  # seconds after the original (None: either is undated or unknown)
    views: int | None
    relation: str  # "original", "forward" or "copy"
    similarity: float | None  # a copy's Jaccard with the original's text (1.0: the same)


@dataclass(slots=True)
class Spread:
    """The cascade of a post as far as the archive can see it."""

    key: str  # the post asked about
    original: str | None  # the original's key (the post asked about when not a forward)
    original_in_archive: bool
    posts: list[SpreadPost] = field(default_factory=list)
    caveat: str = CAVEAT

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "original": self.original,
            "original_in_archive": self.original_in_archive,
            "posts": [asdict(post) for post in self.posts],
            "caveat": self.caveat,
        }

    def to_arrow(self) -> pyarrow.Table:
        import pyarrow

        schema = pyarrow.schema(
            [
                ("key", pyarrow.string()),
                ("channel", pyarrow.string()),
                ("date", pyarrow.string()),
                ("delay_s", pyarrow.int64()),
                ("views", pyarrow.int64()),
                ("relation", pyarrow.string()),
                ("similarity", pyarrow.float64()),
            ]
        )
        return pyarrow.Table.from_pylist([asdict(p) for p in self.posts], schema=schema)


def origin_of(post: Post) -> tuple[str, int] | None:
    """The channel and id of the post a forward names, when it names one."""
    if post.forwarded_from is None:
        return None
    channel, message_id = post.forwarded_from.get("channel"), post.forwarded_from.get("id")
    if channel and message_id is not None:
        return channel, message_id
    return None


def trace(tables: NearCopyTables, load: Any, post: Post, *, threshold: float) -> Spread:
    """The spread of ``post`` (the near-copy index caught up by the caller; ``load`` is the
    store's ``load_posts``).  A forward is traced from the post it names: that post when
    the archive has it, else the forward's fellow forwards and copies, with no original."""
    own_pk = tables.pk_of(post.key)
    origin = origin_of(post)
    original_pk: int | None = None
    original_key: str | None = None
    relations: dict[int, tuple[str, float | None]] = {}
    if origin is not None:
        original_pk = tables.pk_of_message(*origin)
        original_key = f"{origin[0].lower()}/{origin[1]}"
    elif post.forwarded_from is None:
        original_pk, original_key = own_pk, post.key
        if post.channel and post.id is not None:
            origin = (post.channel, post.id)
    elif own_pk is not None:  # forwarded from someone the archive cannot name
        relations[own_pk] = ("forward", None)
    if original_pk is not None:
        relations[original_pk] = ("original", None)
    for pk in tables.forwards_of(*origin) if origin else []:
        relations.setdefault(pk, ("forward", None))
    anchor = original_pk if original_pk is not None else own_pk
    if anchor is not None:
        _add_copies(tables, anchor, threshold, relations)
    posts = load(list(relations))
    start = None
    if original_pk is not None and original_pk in posts:
        original_key = posts[original_pk].key
        start = _moment(posts[original_pk].date)
    found = [_entry(posts[pk], *relations[pk], start) for pk in relations if pk in posts]
    found.sort(key=lambda p: (p.relation != "original", p.date is None, p.date or "", p.key))
    return Spread(post.key, original_key, original_pk is not None, found)


def _add_copies(
    tables: NearCopyTables,
    anchor: int,
    threshold: float,
    relations: dict[int, tuple[str, float | None]],
) -> None:
    """Posts saying what ``anchor`` says (its normalised text, 1.0) or nearly (a text paired
    with it in the index, with their Jaccard)."""
    text_id = tables.text_ids_of([anchor]).get(anchor)
    if text_id is None:
        return
    similar = {text_id: 1.0}
    for other, similarity in tables.pairs_of(text_id, threshold):
        similar[other] = similarity
    for pk, other in tables.posts_of_texts(sorted(similar)):
        relations.setdefault(pk, ("copy", round(similar[other], 3)))


def _moment(date: str | None) -> datetime | None:
    return parse_bound(date) if date else None  # a date without offset: UTC


def _entry(
    post: Post, relation: str, similarity: float | None, start: datetime | None
) -> SpreadPost:
    moment = _moment(post.date)
    delay = int((moment - start).total_seconds()) if moment and start else None
    return SpreadPost(post.key, post.channel, post.date, delay, post.views, relation, similarity)
