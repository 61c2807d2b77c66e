"""The post record shared by every source (field meanings: README, "The post record").

A :class:`Post` is what every source produces, what the archive stores and what
``tgscope export --format jsonl`` writes, one per line.  Nested parts are plain
``TypedDict`` dicts so that they serialise to JSON as they are.  Absent facts
are ``None`` (or an empty list), never guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, NotRequired, TypedDict


class Entity(TypedDict):
    """Formatting or a link, with offsets in code points of ``text``."""

    type: str
    offset: int
    length: int
    url: NotRequired[str | None]


class Reaction(TypedDict):
    """One reaction: exactly one of ``emoji``, ``custom_emoji_id`` or ``paid``, with its count."""

    count: int
    emoji: NotRequired[str]
    custom_emoji_id: NotRequired[str]
    paid: NotRequired[bool]


def reaction_label(reaction: Reaction) -> str:
    """How a reaction is shown: its emoji, "⭐" for paid stars, ``custom:<id>`` for a custom emoji.

    One spelling for every place that prints reactions (``show``, ``stats``).
    """
    if reaction.get("paid"):
        return "⭐"
    emoji = reaction.get("emoji")
    if emoji:
        return emoji
    return f"custom:{reaction.get('custom_emoji_id')}"


class ForwardedFrom(TypedDict):
    """The original author of a forwarded post: ``title`` always, ``channel``/``id`` when known."""

    title: str | None
    channel: str | None
    id: int | None


class ReplyTo(TypedDict):
    channel: str | None
    id: int | None


class Media(TypedDict, total=False):
    """One attachment: ``type`` (one of :data:`MEDIA_TYPES`) and what the source gives."""

    type: str
    url: str | None
    duration: int | None
    file_name: str | None
    size: int | None
    width: int | None
    height: int | None
    mime_type: str
    thumb: str  # a video's poster image (URL), when the source gives one
    performer: str  # an audio file's
    name: str  # a contact's
    phone: str  # a contact's
    poll: dict  # question, kind, options (text, percent)
    unsupported: bool
    reason: str


class Button(TypedDict):
    """An inline button under a post: its label and, for a link button, where it leads."""

    text: str
    url: str | None


class LinkPreview(TypedDict):
    url: str | None
    site_name: str | None
    title: str | None
    description: str | None
    image: NotRequired[str]  # the preview's picture (URL); absent when it shows none


class SourceRef(TypedDict):
    """One observation that produced or updated a record."""

    kind: str
    ref: str
    observed_at: str


MEDIA_TYPES = (
    "photo",
    "video",
    "gif",
    "round_video",
    "voice",
    "audio",
    "document",
    "sticker",
    "poll",
    "location",
    "venue",
    "contact",
    "unsupported",
)


@dataclass(slots=True)
class Post:
    """One Telegram post, as tgscope archives it.  Field meanings: the README."""

    key: str
    channel: str | None = None
    channel_title: str | None = None
    id: int | None = None
    date: str | None = None
    text: str = ""
    entities: list[Entity] = field(default_factory=list)
    views: int | None = None
    forwards: int | None = None  # times forwarded (the API says; the web preview does not)
    replies: int | None = None  # comments in the linked discussion group (the API)
    reactions: list[Reaction] = field(default_factory=list)
    forwarded_from: ForwardedFrom | None = None
    reply_to: ReplyTo | None = None
    media: list[Media] = field(default_factory=list)
    link_preview: LinkPreview | None = None
    buttons: list[Button] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    author: str | None = None
    via_bot: str | None = None  # the bot the post was sent through (username, no @)
    edited: bool = False
    service: str | None = None
    album_id: str | None = None
    sources: list[SourceRef] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict, fields in the documented order.

        The dict is shallow: its lists and nested dicts are the post's own (copy before
        changing them).  ``dataclasses.asdict`` would deep-copy and is the slowest step of
        an import.
        """
        return {name: getattr(self, name) for name in FIELD_NAMES}

    def to_json(self) -> str:
        """One line of JSON (UTF-8 text, not ASCII-escaped)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Post:
        """Build a post from a dict, ignoring fields this version does not know."""
        known = {name: data[name] for name in FIELD_NAMES if name in data}
        if "key" not in known:
            raise ValueError("a post record needs a 'key'")
        return cls(**known)

    @classmethod
    def from_json(cls, line: str) -> Post:
        """The post of one line of tgscope JSON Lines (as :meth:`to_json` writes it)."""
        return cls.from_dict(json.loads(line))


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Post))


@dataclass(slots=True)
class Channel:
    """What a source tells about a channel: its username, title and header counters."""

    username: str | None
    title: str | None = None
    description: str | None = None
    verified: bool | None = None
    counters: dict[str, int] = field(default_factory=dict)
    avatar: str | None = None  # URL of the channel's picture
    telegram_id: int | None = None  # the channel's numeric id (exports and the API give it)
