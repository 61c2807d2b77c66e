"""Telegram Desktop's JSON export (``result.json``): one chat, or a whole account.

Streaming: the messages of a one-chat export come from ijson's C item builder one at a
time, so a multi-gigabyte export imports in bounded memory.  A whole-account export is
walked event by event (slower) so that each message is filed under its chat.

The export does not name a channel's username, which tgscope's keys need: it comes from
``--channel``, or from a channel the archive already knows by the chat's id or title.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, tzinfo
from typing import Any, cast

from ..clean import entity_marks
from ..dates import time_zone
from ..errors import ParseError, SourceError
from ..record import Button, Channel, Entity, ForwardedFrom, Media, Post, Reaction, ReplyTo
from .desktop_stream import account_chats, chat_header, message_items
from .validate import INT64_MAX, INT64_MIN, Fields, field_error

FORMAT = "desktop-json"
MERGE_RANK = {"fields": 2, "date": 3}  # store.merge: lower wins

FILE_NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"
_CHANNEL_TYPES = {"public_channel", "private_channel"}
_GROUP_TYPES = {"public_supergroup", "private_supergroup", "private_group"}
_MEDIA_TYPES = {
    "sticker": "sticker",
    "video_message": "round_video",
    "voice_message": "voice",
    "animation": "gif",
    "video_file": "video",
    "audio_file": "audio",
}
# text_entities types that are plain text, and the names tgscope uses for the others
_ENTITY_TYPES = {"link": "url", "mention_name": "mention_name"}
_EXPORT_HEAD = re.compile(r'"(?:messages|chats|personal_information|left_chats)"\s*:')
_CHAT_TYPE = re.compile(
    r'"type"\s*:\s*"(?:public|private)_(?:channel|supergroup|group)|"type"\s*:\s*"'
    r'(?:personal_chat|bot_chat|saved_messages)"|"personal_information"\s*:'
)

# what each field that the reader uses may hold (validate.KINDS); null is always accepted
_CHAT_FIELDS = Fields({"name": "a string", "type": "a string", "id": "an integer"})
_MESSAGE_FIELDS = Fields(
    {
        "type": "a string",
        "date": "a string",
        "date_unixtime": "a string or an integer",
        "edited": "a string",
        "edited_unixtime": "a string or an integer",
        "text": "a string or a list",
        "text_entities": "a list",
        "reactions": "a list",
        "from": "a string",
        "author": "a string",
        "via_bot": "a string",
        "forwarded_from": "a string",
        "reply_to_message_id": "an integer",
        "reply_to_peer_id": "a string or an integer",
        "photo": "a string",
        "file": "a string",
        "file_name": "a string",
        "media_type": "a string",
        "mime_type": "a string",
        "performer": "a string",
        "width": "an integer",
        "height": "an integer",
        "duration_seconds": "an integer",
        "file_size": "an integer",
        "poll": "an object",
        "location_information": "an object",
        "contact_information": "an object",
        "place_name": "a string",
        "address": "a string",
        "inline_bot_buttons": "a list",
        "action": "a string",
        "actor": "a string",
        "title": "a string",
        "members": "a list",
        "message_id": "an integer",
    }
)
_PIECE_FIELDS = Fields(
    {
        "type": "a string",
        "text": "a string",
        "href": "a string",
        "user_id": "an integer",
        "document_id": "a string or an integer",
        "language": "a string",
    }
)
_REACTION_FIELDS = Fields(
    {
        "type": "a string",
        "count": "an integer",
        "emoji": "a string",
        "document_id": "a string or an integer",
    }
)
_POLL_FIELDS = Fields(
    {
        "question": "a string",
        "closed": "true or false",
        "total_voters": "an integer",
        "answers": "a list",
    }
)
_ANSWER_FIELDS = Fields({"text": "a string", "voters": "an integer"})
_PLACE_FIELDS = Fields({"latitude": "a number", "longitude": "a number"})
_CONTACT_FIELDS = Fields(
    {"first_name": "a string", "last_name": "a string", "phone_number": "a string"}
)
_BUTTON_FIELDS = Fields({"text": "a string", "data": "a string", "type": "a string"})

Known = Callable[[int | None, str | None], str | None]
Warn = Callable[[str], None]


def looks_like_export(head: str) -> bool:
    """True for the start of a Desktop ``result.json`` (one chat or a whole account)."""
    return bool(_EXPORT_HEAD.search(head) and _CHAT_TYPE.search(head))


def read(context) -> Iterator[Post | Channel]:
    """The importer's reader (see :class:`tgscope.sources.ReadContext`)."""
    zone = time_zone(context.timezone)
    with context.binary() as stream:
        header = chat_header(stream, context.path)
    if header is not None:  # one chat: its messages come from ijson's fast item builder
        with context.binary() as stream:
            yield from parse_chat(
                header,
                message_items(stream, "messages.item", context.path, context.warn),
                channel=cast(str, _resolve(header, context)),  # one chat: a name, or an error
                timezone=zone,
                warn=context.warn,
                path=context.path,
            )
        return
    with context.binary() as stream:
        wanted, found = context.chat, False
        for chat, messages in account_chats(stream, context.path, context.warn):
            if wanted is not None and _int(chat.get("id")) != wanted:
                continue  # not the chat asked for with --chat: left out, as asked
            found = True
            name = _resolve(chat, context, account=True)
            if name is None:
                _skip(chat, messages, context.warn)
                continue
            yield from parse_chat(
                chat, messages, channel=name, timezone=zone, warn=context.warn, path=context.path
            )
    if wanted is not None and not found:
        context.warn(f"no chat with id {wanted} in this export (the chat asked for)")


def parse_chat(
    chat: dict[str, Any],
    messages: Iterator[dict[str, Any]],
    *,
    channel: str,
    timezone: tzinfo | None = None,
    warn: Warn | None = None,
    path: str | None = None,
) -> Iterator[Post | Channel]:
    """The channel header, then one post per message of one exported chat.

    ``chat`` holds the export's ``name``, ``type`` and ``id``; ``timezone`` is where the
    exporting computer was, for exports whose dates have no ``date_unixtime`` (UTC if None).
    """
    warn = warn or (lambda message: None)
    try:
        _CHAT_FIELDS.check(chat, "chat")
    except ParseError as error:
        raise ParseError(error.reason, path=path) from error
    title = chat.get("name")
    yield Channel(username=channel, title=title, telegram_id=_int(chat.get("id")))
    zone_warned = False
    is_channel = chat.get("type") in _CHANNEL_TYPES
    for position, message in enumerate(messages, start=1):
        where = _message_name(message, position, title, path)
        if (
            "date_unixtime" not in message
            and "date" in message
            and not timezone
            and not zone_warned
        ):
            warn(
                "dates carry no time zone (an older export): read as UTC;"
                " give the time zone where it was exported to read them as local time"
            )
            zone_warned = True
        try:
            _MESSAGE_FIELDS.check(message, "")
            post = message_to_post(message, channel, title, is_channel, timezone, warn)
        except ParseError as error:
            raise ParseError(f"{where}: {error.reason}", path=path) from error
        except (TypeError, AttributeError, KeyError, ValueError, OverflowError) as error:
            raise ParseError(f"{where}: cannot be read ({error!r})", path=path) from error
        yield post


def _message_name(message: Any, position: int, chat: str | None, path: str | None) -> str:
    """``message 12`` for an error about it; a ParseError when it has no usable id."""
    number = _int(message.get("id")) if type(message) is dict else None
    if number is None:
        raise ParseError(
            f"message {position} of chat {chat!r} has no id: not a Telegram"
            " Desktop export, or a damaged one",
            path=path or "",
        )
    if not INT64_MIN <= number <= INT64_MAX:
        raise ParseError(
            f"message {position} of chat {chat!r}: field 'id' does not fit in 64 bits:"
            f" {str(message['id'])[:24]}…",
            path=path,
        )
    return f"message {number}"


def message_to_post(
    message: dict[str, Any],
    channel: str,
    title: str | None,
    is_channel: bool,
    timezone: tzinfo | None,
    warn: Warn,
) -> Post:
    """One exported message as a post record."""
    number = _int(message.get("id"))
    key = f"{channel}/{number}"
    text, entities = _text(message)
    kind = message.get("type", "message")
    post = Post(
        key=key,
        channel=channel,
        channel_title=title,
        id=number,
        date=_date(
            message, "date", timezone, lambda shown: warn(f"{key}: an impossible date: {shown}")
        ),
        text=text,
        entities=entities,
        reactions=_reactions(message.get("reactions") or [], key, warn),
        forwarded_from=_forwarded_from(message),
        reply_to=_reply_to(message, channel),
        media=_media(message),
        buttons=_buttons(message.get("inline_bot_buttons") or []),
        author=message.get("author") or (None if is_channel else message.get("from")),
        via_bot=(message.get("via_bot") or "").lstrip("@").lower() or None,
        edited=bool(message.get("edited") or message.get("edited_unixtime")),
    )
    if kind == "service":
        post.service = _service_text(message)
    elif kind == "unsupported":  # a message this Telegram Desktop could not export
        unsupported = {"type": "unsupported", "unsupported": True, "reason": None}
        post.media = [*post.media, cast(Media, unsupported)]
    elif kind != "message":
        post.service = f"unsupported message ({kind})"
        warn(f"{key}: a message of unknown type {kind!r}, kept as a service message")
    post.hashtags, post.mentions, post.links = entity_marks(text, entities)
    return post


# -- resolving the channel ---------------------------------------------------------------


def _resolve(chat: dict[str, Any], context, *, account: bool = False) -> str | None:
    chat_id, title = _int(chat.get("id")), chat.get("name")
    wanted = context.chat
    if account and wanted is not None and chat_id != wanted:
        return None
    if context.channel and (not account or wanted is not None):
        return context.channel
    known = context.known_channel(chat_id, title)
    if known or account:
        return known
    raise SourceError(
        f"{context.path}: the export does not give the channel's username"
        f" (chat {title!r}, id {chat_id}): name the channel"
    )


def _skip(chat: dict[str, Any], messages: Iterator[dict], warn: Warn) -> None:
    count = sum(1 for _ in messages)
    warn(
        f"skipped chat {chat.get('name')!r} ({chat.get('type')}, id {chat.get('id')},"
        f" {count} message(s)): no username known; import it by naming chat"
        f" {chat.get('id')} and its channel"
    )


# -- fields ------------------------------------------------------------------------------


def _date(
    message: dict[str, Any],
    name: str,
    timezone: tzinfo | None,
    impossible: Callable[[str], None] = lambda shown: None,
) -> str | None:
    """A message's date in UTC from ``date_unixtime``, else ``date`` (local time); None
    and a word to ``impossible`` (what the export says) for one that cannot be."""
    stamp = message.get(f"{name}_unixtime")
    try:
        if stamp not in (None, ""):
            return datetime.fromtimestamp(int(stamp), UTC).isoformat()
        local = message.get(name)
        if not local:
            return None
        moment = datetime.fromisoformat(local)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone or UTC)
        return moment.astimezone(UTC).isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        said = stamp if stamp not in (None, "") else message.get(name)
        shown = repr(said) if len(repr(said)) <= 40 else repr(said)[:37] + "..."
        impossible(shown)
        return None


def _text(message: dict[str, Any]) -> tuple[str, list[Entity]]:
    """Plain text and entities with offsets in code points.

    ``text_entities`` (newer exports) and an array ``text`` (older ones) both list the
    text's pieces in order; plain strings are pieces without formatting.
    """
    pieces = message.get("text_entities")
    if pieces is None:
        pieces = message.get("text", "")
    if isinstance(pieces, str):
        return pieces, []
    parts: list[str] = []
    entities: list[Entity] = []
    offset = 0
    for piece in pieces:
        if type(piece) is str:
            parts.append(piece)
            offset += len(piece)
            continue
        if not isinstance(piece, dict):
            continue
        value = piece.get("text", "")
        if type(value) is not str:
            if type(value) not in (int, float):
                raise field_error("", "text", "a string (in a piece of the text)", value)
            value = str(value)
        kind = piece.get("type") or "plain"
        if value and kind != "plain":
            entities.append(_entity(piece, str(kind), value, offset))
        parts.append(value)
        offset += len(value)
    return "".join(parts), entities


def _entity(piece: dict[str, Any], kind: str, value: str, offset: int) -> Entity:
    entity: dict[str, Any] = {"type": _ENTITY_TYPES.get(kind, kind), "offset": offset}
    entity["length"] = len(value)
    if kind == "text_link" and piece.get("href"):
        entity["url"] = piece["href"]
    elif kind == "link":
        entity["url"] = value
    if len(piece) > 2:  # more than type and text: a link, a user, a custom emoji, a language
        _PIECE_FIELDS.check(piece, "a piece of the text")
        for extra in ("user_id", "document_id", "language"):
            if piece.get(extra) not in (None, ""):
                entity[extra] = piece[extra]
    return entity  # type: ignore[return-value]


def _reactions(items: list[dict[str, Any]], key: str, warn: Warn) -> list[Reaction]:
    reactions: list[Reaction] = []
    for item in items:
        if type(item) is not dict:
            raise field_error("", "reactions", "a list of objects", [item])
        count, emoji = item.get("count"), item.get("emoji")
        if (
            type(count) is int
            and 0 <= count <= INT64_MAX
            and type(emoji) is str
            and emoji
            and item.get("type") == "emoji"
        ):
            reactions.append({"emoji": emoji.replace("\ufe0f", ""), "count": count})
            continue
        _REACTION_FIELDS.check(item, "a reaction")
        count = _int(item.get("count"))
        if count is None:
            continue
        if count < 0:
            raise ParseError(f"a reaction: field 'count' should be 0 or more, got {count}")
        kind = item.get("type")
        if kind == "emoji" and item.get("emoji"):
            reactions.append({"emoji": str(item["emoji"]).replace("\ufe0f", ""), "count": count})
        elif kind == "custom_emoji":
            document = str(item.get("document_id") or "")
            reactions.append(
                {"custom_emoji_id": document if document.isdigit() else "", "count": count}
            )
        elif kind == "paid":
            reactions.append({"paid": True, "count": count})
        else:
            warn(f"{key}: a reaction of unknown type {kind!r} left out")
    return reactions


def _forwarded_from(message: dict[str, Any]) -> ForwardedFrom | None:
    name = message.get("forwarded_from")
    if name is None and "forwarded_from" not in message:
        return None
    return {"title": name or None, "channel": None, "id": None}


def _reply_to(message: dict[str, Any], channel: str) -> ReplyTo | None:
    number = _int(message.get("reply_to_message_id"))
    if number is None:
        return None
    # a reply to another chat names it by id; the username is not known then
    other = message.get("reply_to_peer_id")
    return {"channel": None if other else channel, "id": number}


def _media(message: dict[str, Any]) -> list[Media]:
    media: list[Media] = []
    if "photo" in message and message.get("type") != "service":
        media.append(_file({"type": "photo"}, message, "photo"))
    if "file" in message:
        kind = _MEDIA_TYPES.get(message.get("media_type") or "", "document")
        item = _file({"type": kind}, message, "file")
        if message.get("file_name"):
            item["file_name"] = message["file_name"]
        if message.get("performer"):
            item["performer"] = message["performer"]
        media.append(item)
    if isinstance(message.get("poll"), dict):
        poll = message["poll"]
        _POLL_FIELDS.check(poll, "poll")
        for answer in poll.get("answers") or []:
            if isinstance(answer, dict):
                _ANSWER_FIELDS.check(answer, "an answer of the poll")
        media.append(
            {
                "type": "poll",
                "poll": {
                    "question": poll.get("question"),
                    "closed": poll.get("closed"),
                    "total_voters": poll.get("total_voters"),
                    "options": [
                        {"text": answer.get("text"), "voters": answer.get("voters")}
                        for answer in poll.get("answers") or []
                        if isinstance(answer, dict)
                    ],
                },
            }
        )
    if isinstance(message.get("location_information"), dict):
        place = message["location_information"]
        _PLACE_FIELDS.check(place, "location_information")
        spot: dict[str, Any] = {"type": "location", "latitude": place.get("latitude")}
        spot["longitude"] = place.get("longitude")
        for extra in ("place_name", "address"):
            if message.get(extra):
                spot[extra] = message[extra]
        media.append(cast(Media, spot))
    if isinstance(message.get("contact_information"), dict):
        contact = message["contact_information"]
        _CONTACT_FIELDS.check(contact, "contact_information")
        name = " ".join(
            part for part in (contact.get("first_name"), contact.get("last_name")) if part
        )
        person = {"type": "contact", "name": name or None, "phone": contact.get("phone_number")}
        media.append(cast(Media, person))
    return media


def _file(item: Media, message: dict[str, Any], field: str) -> Media:
    """A photo or file: its path in the export, or the reason it is not there."""
    path = message.get(field)
    if not path or path == FILE_NOT_INCLUDED or path.startswith("(File"):
        item["url"] = None
        item["reason"] = "file not included in the export"
    else:
        item["url"] = path
    poster = message.get("thumbnail") if field == "file" else None  # a video's, in the export
    if isinstance(poster, str) and poster and not poster.startswith("(File"):
        item["thumb"] = poster
    for name in ("width", "height", "mime_type"):
        if message.get(name) is not None:
            item[name] = message[name]
    if message.get("duration_seconds") is not None:
        item["duration"] = _int(message["duration_seconds"])
    if message.get("file_size") is not None:
        item["size"] = _int(message["file_size"])
    return item


def _buttons(rows: list) -> list[Button]:
    buttons: list[Button] = []
    for row in rows:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict):
                _BUTTON_FIELDS.check(button, "a button")
                buttons.append(
                    {
                        "text": str(button.get("text", "")),
                        "url": button.get("data") if button.get("type") == "url" else None,
                    }
                )
    return buttons


def _service_text(message: dict[str, Any]) -> str:
    """What a service message says, as a short English phrase."""
    action = message.get("action") or "service"
    actor = message.get("actor")
    title = message.get("title")
    phrases = {
        "create_channel": f"Channel created{f' ({title})' if title else ''}",
        "migrate_from_group": "Channel created from a group",
        "edit_group_title": f"Channel name changed to «{title}»",
        "edit_group_photo": "Channel photo updated",
        "delete_group_photo": "Channel photo removed",
        "pin_message": f"{actor or 'Someone'} pinned message {message.get('message_id')}",
        "create_group": f"Group created{f' ({title})' if title else ''}",
        "invite_members": f"{actor or 'Someone'} added {_names(message)}",
        "join_group_by_link": f"{actor or 'Someone'} joined by link",
        "remove_members": f"{actor or 'Someone'} removed {_names(message)}",
    }
    return phrases.get(action, action.replace("_", " "))


def _names(message: dict[str, Any]) -> str:
    """The members a service message names (a deleted account's name is null)."""
    return ", ".join(name for name in message.get("members") or [] if type(name) is str)


def _slice(text: str, entity: Entity) -> str:
    return text[entity["offset"] : entity["offset"] + entity["length"]]


def _int(value: Any) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


__all__ = ["FORMAT", "json", "looks_like_export", "message_to_post", "parse_chat", "read"]
