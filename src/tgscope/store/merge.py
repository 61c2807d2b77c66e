"""What the archive knows of a post when several sources saw it: one record, field by field.

Each kind of source keeps its own latest version of a post (``post_sources``); the record is
combined from them.  Counts that change over time (views, reactions, forwards, replies) come
from the newest observation; the text is the newest one, written out by the best source that
has that same text (a Desktop export's entities and hidden link URLs beat the web preview's,
which beat a text dump's); every other field comes from the best source that has it.  Within
one kind of source a newer observation replaces an older one (:func:`merge`).  Which source
is best is each source module's to say (``MERGE_RANK``, :class:`MergeRank`).
"""

from __future__ import annotations

import hashlib
import importlib
import re
import unicodedata
from functools import cache, lru_cache
from operator import attrgetter
from typing import Any, NamedTuple

from ..record import FIELD_NAMES, Post


class MergeRank(NamedTuple):
    """How far the record trusts a kind of source where sources disagree; lower wins.

    Each source module declares its own as ``MERGE_RANK`` (a dict of these fields), or
    ``MERGE_RANKS`` (kind -> dict) when it reads several kinds.
    """

    fields: int  # for the fields that do not change over time
    date: int  # for the date (exact UTC times beat an export's local ones)
    text_last: bool = False  # its text counts only when no other source has one (a text dump's)


UNRANKED = MergeRank(fields=1000, date=1000)  # a kind no source module declares
#: the source modules that declare ranks, imported on the first merge
RANKED_MODULES = (
    "tgscope.sources.telegram_api",
    "tgscope.sources.tabular",
    "tgscope.sources.desktop_json",
    "tgscope.sources.desktop_html",
    "tgscope.sources.web",
    "tgscope.sources.textdump",
)


@cache
def merge_ranks() -> dict[str, MergeRank]:
    """Each kind of source's rank, as its module declares it.  Read on first use, so that
    opening a store does not import the parsers (reading a file imports them anyway)."""
    found: dict[str, MergeRank] = {}
    for name in RANKED_MODULES:
        module = importlib.import_module(name)
        declared = getattr(module, "MERGE_RANKS", None) or {module.FORMAT: module.MERGE_RANK}
        found.update((kind, MergeRank(**fields)) for kind, fields in declared.items())
    return found


def rank(kind: str) -> int:
    """Where a kind of source stands for fields that do not change (best first)."""
    return merge_ranks().get(kind, UNRANKED).fields


def date_rank(kind: str) -> int:
    return merge_ranks().get(kind, UNRANKED).date


COUNTS = ("views", "forwards", "replies", "reactions")
TEXT_GROUP = ("text", "entities", "hashtags", "mentions", "links")
# read from the text's message as one: an edit that drops a preview or buttons drops them too
_REPLACED_WITH_TEXT = (*TEXT_GROUP, "link_preview", "buttons")
_OWN_FIELDS = {"key", "channel", "channel_title", "sources", "edited", "forwarded_from"}
_MERGED_FIELDS = tuple(name for name in FIELD_NAMES if name != "sources")
_CONTENT_FIELDS = tuple(name for name in FIELD_NAMES if name not in ("sources", "channel_title"))
_content = attrgetter(*_CONTENT_FIELDS)  # the fields as a tuple, compared in C


def same_content(a: Post, b: Post) -> bool:
    """Whether two records say the same, wherever they were seen."""
    return a is b or _content(a) == _content(b)


def merge(old: Post, new: Post, *, new_is_older: bool = False) -> Post:
    """One kind of source's post after a new observation of it.

    A newer observation replaces every field it knows (views and reactions change, texts get
    edited) and the text with everything read from it as one, so an edit that drops a link
    drops it here too; an older one, imported late, only fills fields that are still empty.
    ``old`` itself when ``new`` says nothing else (a page synced again, unchanged).
    """
    if same_content(old, new) and new.channel_title in (None, "", old.channel_title):
        return old
    merged = old.to_dict()
    text_too = not new_is_older and bool(new.text or new.media)
    for name in _MERGED_FIELDS:
        value = getattr(new, name)
        if is_empty(value):
            if text_too and name in _REPLACED_WITH_TEXT:
                merged[name] = value
        elif not new_is_older or is_empty(merged[name]):
            merged[name] = value
    return Post(**merged)


def combine(versions: dict[str, tuple[str, Post]], key: str) -> tuple[Post, dict[str, str]]:
    """The record from each kind's ``(observed_at, post)``, and which kind gave each field."""
    kinds = sorted(versions, key=rank)
    newest = sorted(versions, key=lambda kind: (versions[kind][0], -rank(kind)), reverse=True)
    record: dict[str, Any] = {"key": key}
    given: dict[str, str] = {}

    def take(name: str, order: list[str]) -> None:
        for kind in order:
            value = getattr(versions[kind][1], name)
            if not is_empty(value):
                record[name], given[name] = value, kind
                return

    for name in COUNTS:
        take(name, newest)
    _take_text(versions, kinds, newest, record, given)
    take("date", sorted(versions, key=date_rank))
    for name in FIELD_NAMES:
        if name not in record and name not in _OWN_FIELDS and name not in TEXT_GROUP:
            take(name, kinds)
    first = versions[kinds[0]][1]
    record["channel"] = next(
        (versions[k][1].channel for k in kinds if versions[k][1].channel), None
    )
    record["channel_title"] = first.channel_title
    record["edited"] = any(version.edited for _, version in versions.values())
    record["forwarded_from"] = _forwarded_from(versions, kinds, given)
    return Post.from_dict(record), given


def _take_text(versions, kinds, newest, record: dict, given: dict) -> None:
    """The newest text (a text dump's only if no other source has one), from the best source
    that has it: its entities, hashtags, mentions and links come with it."""
    with_text = [kind for kind in newest if versions[kind][1].text or versions[kind][1].media]
    ranks = merge_ranks()
    current = next(
        (k for k in with_text if not ranks.get(k, UNRANKED).text_last),
        with_text[0] if with_text else None,
    )
    if current is None:
        return
    mark = fingerprint(versions[current][1].text)
    same = [
        kind
        for kind in kinds
        if kind == current or (mark is not None and fingerprint(versions[kind][1].text) == mark)
    ]
    best = same[0]
    for name in TEXT_GROUP:
        record[name] = getattr(versions[best][1], name)
        given[name] = best


def _forwarded_from(versions, kinds, given: dict) -> dict | None:
    """The forward's title from whoever has it, and its channel and post from whoever has
    those (the web preview and the API know them; exports only know a name)."""
    merged: dict[str, Any] = {}
    for kind in kinds:
        found = versions[kind][1].forwarded_from
        for name, value in (found or {}).items():
            if merged.get(name) is None and value is not None:
                merged[name] = value
                given[f"forwarded_from.{name}"] = kind
    if not merged:
        return None
    return {"title": merged.get("title"), "channel": merged.get("channel"), "id": merged.get("id")}


@lru_cache(maxsize=4096)  # a post's text is fingerprinted to match it, then to store it
def fingerprint(text: str | None) -> str | None:
    """What a post says, for finding the same post in a source that has no ids (a text dump):
    letters and digits only, case-folded.  None for texts too short to tell posts apart."""
    if not text:
        return None
    letters = _NOT_LETTERS.sub("", unicodedata.normalize("NFKC", text).casefold())
    if len(letters) < 24:
        return None
    return hashlib.blake2b(letters.encode(), digest_size=8).hexdigest()


_NOT_LETTERS = re.compile(r"[\W_]+")


def is_empty(value: Any) -> bool:
    return value is None or value is False or value == "" or value == []
