"""Other tools' rows (CSV cells, JSON objects) as post records, through a column mapping.

A mapping says which column holds which field of the record (``id=message_id,text=message``);
columns already named like a field, or like a common alias, are taken without one.  This
module checks a mapping against a file's columns and turns each row into a
:class:`~tgscope.record.Post`, validating every cell it reads: a cell of the wrong kind is one
:class:`~tgscope.errors.ParseError` naming the line and the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..clean import extract_hashtags, extract_links, extract_mentions, normalize_channel
from ..clean import parse_count as _parse_count
from ..errors import OptionError, ParseError, SourceError
from ..record import Entity, ForwardedFrom, Media, Post, Reaction, ReplyTo
from . import markdown as _markdown
from .textdump import parse_reactions_line
from .validate import INT64_MAX, INT64_MIN, kind_of

TME_POST = re.compile(r"^(?:https?://)?t\.me/(?:s/)?([A-Za-z0-9_]+)/(\d+)")

#: the record fields a mapping can fill: the column names taken for each without a mapping,
#: and what its cells hold (``tgscope import --help`` lists these; keep the CLI's copy equal)
FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "id": (("id", "message_id", "msg_id", "post_id"), "the message id"),
    "channel": (("channel", "channel_username", "username", "chat_username"), "username"),
    "channel_title": (("channel_title", "chat_title", "title"), "the channel's name"),
    "url": (("url", "link", "post_url"), "a t.me/<channel>/<id> link (gives both)"),
    "date": (("date", "datetime", "timestamp", "published", "created_at"), "ISO 8601 or Unix"),
    "text": (("text", "message", "content", "body"), "the post's text"),
    "views": (("views", "view_count"), "a count (5.37K is understood)"),
    "forwards": (("forwards", "forward_count", "shares"), "a count"),
    "replies": (("replies", "reply_count", "comments"), "a count"),
    "reactions": (("reactions",), '"👍12 ❤3", {"👍": 12} or the record\'s list'),
    "author": (("author", "post_author", "signature"), "the signature"),
    "forwarded_from": (("forwarded_from", "fwd_from", "forwarded"), "the original's name"),
    "forwarded_from_channel": (("forwarded_from_channel",), "its username or t.me link"),
    "forwarded_from_id": (("forwarded_from_id",), "the original message's id"),
    "reply_to": (("reply_to", "reply_to_msg_id", "reply_to_message_id"), "an id or t.me link"),
    "links": (("links", "urls", "outlinks"), "URLs (a JSON list, or separated by spaces)"),
    "media": (("media", "media_type"), "kinds: photo, video... (or a JSON list)"),
    "album_id": (("album_id", "grouped_id"), "posts of one album share it"),
}
MAPPABLE: dict[str, tuple[str, ...]] = {name: aliases for name, (aliases, _) in FIELDS.items()}

_MEDIA_KINDS = {
    **{kind: kind for kind in ("photo", "video", "gif", "round_video", "voice", "audio")},
    **{kind: kind for kind in ("document", "sticker", "poll", "location", "venue", "contact")},
    "unsupported": "unsupported",
    "animation": "gif",
    "video_note": "round_video",
    "geo": "location",
    "geolive": "location",
    "dice": "unsupported",
    "game": "unsupported",
    "invoice": "unsupported",
}
_NO_MEDIA = {"", "none", "null", "empty", "webpage", "web_page"}  # a link preview is no media
_MEDIA_FIELDS = {"url": str, "file_name": str, "mime_type": str}
_MEDIA_NUMBERS = ("duration", "size", "width", "height")
#: the longest text whose markdown is read (a post has at most 4,096 characters, a few more
#: with its markup); a longer one is hostile or not Telethon's, and kept as it is
MARKDOWN_LIMIT = 32_768
_LIST_SEPARATORS = re.compile(r"[\s,;|]+")
_REACTION_SEPARATORS = re.compile(r"\s*[;|]\s*|,\s+|\s*[:=]\s*")


@dataclass
class RowReader:
    """Turns a file's rows into posts: the mapping resolved against the file's columns."""

    path: str
    mapping: dict[str, str]
    channel: str | None = None  # the channel the user named for the file
    markdown: bool = False  # texts are Telethon markdown: read it into entities
    warn: Callable[[str], None] = lambda _message: None
    warned: set[str] = field(default_factory=set)

    def warn_once(self, message: str) -> None:
        if message not in self.warned:
            self.warned.add(message)
            self.warn(message)


def parse_mapping(spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"id=message_id,text=message"`` -> ``{"id": "message_id", "text": "message"}``.

    A dict is checked the same way.  Raises :class:`OptionError` for what cannot be a mapping.
    """
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        pairs = [(str(name), str(column)) for name, column in spec.items()]
    else:
        pairs = []
        for part in filter(None, (piece.strip() for piece in str(spec).split(","))):
            name, sep, column = part.partition("=")
            if not sep or not name.strip() or not column.strip():
                raise OptionError(f"mapping: {part!r} is not FIELD=COLUMN")
            pairs.append((name.strip(), column.strip()))
    for name, _column in pairs:
        if name not in FIELDS:
            raise OptionError(
                f"mapping: {name!r} is not a field that can be mapped (one of {', '.join(FIELDS)})"
            )
    return dict(pairs)


def resolve_mapping(
    given: Mapping[str, str] | None, columns: Iterable[str], path: str, *, channel: str | None
) -> dict[str, str]:
    """The mapping given (checked against the file's columns), completed by column names.

    A column the mapping names is not also taken for another field by its name, and a
    channel the user named wins over a column that merely looks like one.
    """
    columns = list(columns)
    given = dict(given or {})
    missing = [column for column in given.values() if column not in columns]
    if missing:
        raise SourceError(
            f"{path}: the mapping names column(s) the file does not have: {', '.join(missing)}"
            f" (it has: {', '.join(columns) or 'none'})"
        )
    taken = set(given.values())
    mapping = dict(given)
    for name, aliases in MAPPABLE.items():
        if name in mapping or (name == "id" and "url" in given):
            continue  # ids from the links the user named, not from a column that looks like one
        if name == "channel" and channel is not None:
            continue
        found = next((column for column in aliases if column in columns), None)
        if found is not None and found not in taken:
            mapping[name] = found
            taken.add(found)
    if "text" not in mapping and "id" not in mapping and "url" not in mapping:
        raise SourceError(
            f"{path}: no column for the post's text or id (columns: {', '.join(columns)});"
            " map them, e.g. text=COLUMN,id=COLUMN"
        )
    return mapping


def row_to_post(row: Mapping[str, Any], reader: RowReader, line: int | None) -> Post:
    """One row of another tool's file as a post record."""
    cells = _Cells(row, reader, line)
    url = cells.text("url")
    from_url = TME_POST.match(url or "")
    channel = cells.channel("channel") or (from_url.group(1).lower() if from_url else None)
    channel = channel or reader.channel
    if channel is None:
        raise cells.error("no channel: name the channel, or map a channel or url column")
    number = cells.number("id")
    if from_url and number is not None and number != int(from_url.group(2)):
        raise cells.error(
            f"id {number} and the link's id {from_url.group(2)} disagree (map url=COLUMN"
            " to take ids from the links, id=COLUMN from a column)"
        )
    if number is None and from_url:
        number = int(from_url.group(2))
    text, entities = cells.body()
    date = cells.date("date")
    key = (
        f"{channel}/{number}" if number is not None else _text_key(channel, text, cells.raw("date"))
    )
    post = Post(key=key, channel=channel, id=number, date=date, text=text, entities=entities)
    _optional_fields(post, cells)
    post.hashtags, post.mentions = extract_hashtags(text), extract_mentions(text)
    hidden = [url for entity in entities if (url := entity.get("url"))]
    post.links = list(dict.fromkeys([*cells.links(), *hidden, *extract_links(text)]))
    return post


_SIMPLE = {"channel_title": "text", "author": "text", "views": "number", "forwards": "number"}
_SIMPLE["replies"] = "number"
_FORWARD = {"forwarded_from", "forwarded_from_channel", "forwarded_from_id"}


def _optional_fields(post: Post, cells: _Cells) -> None:
    """The fields the mapping fills beyond the key, text and date (only those it names: a
    row is read once per field it has, not per field the record has)."""
    mapped = cells.reader.mapping
    for name, kind in _SIMPLE.items():
        if name in mapped:
            setattr(post, name, getattr(cells, kind)(name))
    if "reactions" in mapped:
        post.reactions = cells.reactions()
    if "media" in mapped:
        post.media = cells.media()
    if "reply_to" in mapped:
        post.reply_to = cells.reply_to(post.channel or "")
    if not _FORWARD.isdisjoint(mapped):
        post.forwarded_from = cells.forwarded_from()
    if "album_id" in mapped and (album := cells.text("album_id")):
        post.album_id = f"{post.channel}/album-{album}"


class _Cells:
    """The cells of one row, read as the record's fields, each checked."""

    def __init__(self, row: Mapping[str, Any], reader: RowReader, line: int | None):
        self.row, self.reader, self.line = row, reader, line

    def error(self, message: str) -> ParseError:
        return ParseError(message, path=self.reader.path, line=self.line)

    def raw(self, name: str) -> Any:
        column = self.reader.mapping.get(name)
        value = self.row.get(column) if column else None
        if isinstance(value, str):
            value = value.strip()
        return None if value == "" else value

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise self.error(f"{name}: expected text, got {kind_of(value)}")

    def number(self, name: str) -> int | None:
        value = self.raw(name)
        if value is None:
            return None
        number = _count(value)
        if number is None:
            raise self.error(f"{name}: not a number: {_shown(value)}")
        if not 0 <= number <= INT64_MAX:
            raise self.error(f"{name}: out of range: {number}")
        return number

    def channel(self, name: str) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        link = re.match(r"^(?:https?://)?t\.me/(?:s/)?([A-Za-z0-9_]+)/?$", value)
        try:
            return normalize_channel(link.group(1) if link else value)
        except ValueError as error:
            advice = ""
            if name == "channel":
                column = self.reader.mapping[name]
                advice = (
                    f"; if column {column!r} holds the channel's name, map"
                    f" channel_title={column} and name the channel"
                )
            raise self.error(f"{name}: {error}{advice}") from error

    def date(self, name: str) -> str | None:
        value = self.raw(name)
        try:
            return parse_date(value)
        except ValueError as error:
            raise self.error(f"{name}: not a date: {_shown(value)}") from error

    def body(self) -> tuple[str, list[Entity]]:
        text = self.text("text") or ""
        if not self.reader.markdown:
            return text, []
        if len(text) > MARKDOWN_LIMIT:
            self.reader.warn_once(
                f"a text longer than {MARKDOWN_LIMIT:,} characters (no Telegram post is)"
                " kept as written, its markdown not read"
            )
            return text, []
        return _markdown.parse(text)

    def reactions(self) -> list[Reaction]:
        value = self.raw("reactions")
        if isinstance(value, str) and value[:1] in "[{":
            value = self._json("reactions", value)
        if value is None:
            return []
        if isinstance(value, str):
            found = parse_reactions_line(_REACTION_SEPARATORS.sub(" ", value).replace(" ", ""))
            if found is None:
                raise self.error(f"reactions: cannot read {_shown(value)} (e.g. '👍12 ❤3')")
            return found
        if isinstance(value, dict):
            value = [{"emoji": emoji, "count": count} for emoji, count in value.items()]
        if not isinstance(value, list):
            raise self.error(f"reactions: expected text or a list, got {kind_of(value)}")
        return [self._reaction(item) for item in value]

    def _reaction(self, item: Any) -> Reaction:
        if not isinstance(item, dict):
            raise self.error(f"reactions: expected objects, got {kind_of(item)}")
        count = _count(item.get("count"))
        if count is None or not 0 <= count <= INT64_MAX:
            raise self.error(f"reactions: count not a number: {_shown(item.get('count'))}")
        if item.get("paid") is True:
            return {"paid": True, "count": count}
        for name in ("emoji", "custom_emoji_id"):
            value = item.get(name)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                return {name: str(value), "count": count}  # type: ignore[misc]
        raise self.error(f"reactions: no emoji in {_shown(item)}")

    def forwarded_from(self) -> ForwardedFrom | None:
        title = self.text("forwarded_from")
        channel_cell = self.text("forwarded_from_channel")
        link = TME_POST.match(channel_cell or "")
        channel = link.group(1).lower() if link else self.channel("forwarded_from_channel")
        number = self.number("forwarded_from_id")
        if link and number is None:
            number = int(link.group(2))
        if title is None and channel is None and number is None:
            return None
        return {"title": title, "channel": channel, "id": number}

    def reply_to(self, channel: str) -> ReplyTo | None:
        value = self.raw("reply_to")
        link = TME_POST.match(value) if isinstance(value, str) else None
        if link:
            return {"channel": link.group(1).lower(), "id": int(link.group(2))}
        number = self.number("reply_to")
        return {"channel": channel, "id": number} if number is not None else None

    def links(self) -> list[str]:
        if "links" not in self.reader.mapping:
            return []
        value = self.raw("links")
        if isinstance(value, str) and value.startswith("["):
            value = self._json("links", value)
        if value is None:
            return []
        if isinstance(value, str):
            value = _LIST_SEPARATORS.split(value)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(f"links: expected URLs, got {kind_of(value)}")
        return [item.strip() for item in value if item.strip()]

    def media(self) -> list[Media]:
        value = self.raw("media")
        if isinstance(value, str) and value[:1] in "[{":
            value = self._json("media", value)
        if value is None:
            return []
        if isinstance(value, (str, dict)):
            value = _LIST_SEPARATORS.split(value) if isinstance(value, str) else [value]
        if not isinstance(value, list):
            raise self.error(f"media: expected kinds or a list, got {kind_of(value)}")
        media = (self._medium(item) for item in value)
        return [item for item in media if item is not None]

    def _medium(self, item: Any) -> Media | None:
        details = item if isinstance(item, dict) else {"type": item}
        name = details.get("type", details.get("_"))
        if not isinstance(name, str):
            raise self.error(f"media: expected a kind such as 'photo', got {_shown(item)}")
        key = re.sub(r"(?<!^)(?=[A-Z])", "_", name.strip().removeprefix("MessageMedia")).lower()
        if key in _NO_MEDIA:
            return None
        kind = _MEDIA_KINDS.get(key)
        if kind is None:
            self.reader.warn_once(f"media of an unknown kind {name!r} left out")
            return None
        medium: dict[str, Any] = {"type": kind}
        for field_name, expected in _MEDIA_FIELDS.items():
            if isinstance(details.get(field_name), expected):
                medium[field_name] = details[field_name]
        for field_name in _MEDIA_NUMBERS:
            number = _count(details.get(field_name))
            if number is not None and 0 <= number <= INT64_MAX:
                medium[field_name] = number
        return medium  # type: ignore[return-value]

    def _json(self, name: str, value: str) -> Any:
        try:
            return json.loads(value)
        except (ValueError, RecursionError) as error:
            raise self.error(f"{name}: not JSON: {_shown(value)}") from error


def parse_date(value: Any) -> str | None:
    """ISO 8601 (a date and time without zone is UTC), or Unix seconds, as UTC; ValueError
    for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(value)
    try:
        if isinstance(value, (int, float)) or value.isdigit():
            moment = datetime.fromtimestamp(int(value), UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    except (OverflowError, OSError) as error:
        raise ValueError(value) from error


def _count(value: Any) -> int | None:
    """A count from a number or text (``5.37K``); None when it is none."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if INT64_MIN <= value <= INT64_MAX else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**63 else None
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        return _parse_count(value)
    except ValueError:
        return None


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _text_key(channel: str, text: str, date: Any) -> str:
    """A stable key for a row without a message id: what it says, and when."""
    digest = hashlib.blake2b(f"{date}\n{text}".encode(), digest_size=8).hexdigest()
    return f"{channel}/row-{digest}"
