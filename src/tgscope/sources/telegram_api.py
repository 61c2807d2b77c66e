"""The Telegram API (MTProto, through Telethon): a message object in, a post record out.

Pure and duck-typed: it reads Telethon's ``Message`` / ``MessageService`` and their parts by
attribute and class name, so it does not import Telethon (an optional extra) and follows its
schema across layers.  Names the message only refers to by id (the channel a post was
forwarded from, the bot it came through) are looked up in ``names``, which the collector
fills from the entities Telegram sends along with the messages.

Entity offsets are UTF-16 code units in the API; the record counts code points.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC
from typing import Any, cast

from ..clean import entity_marks
from ..record import Button, Entity, ForwardedFrom, LinkPreview, Media, Post, Reaction, ReplyTo

FORMAT = "api"
MERGE_RANK = {"fields": 0, "date": 0}  # store.merge: lower wins; exact UTC dates

# MessageEntity<Name> -> the record's entity type, where the two differ
_ENTITY_NAMES = {
    "text_url": "text_link",
    "strike": "strikethrough",
    "mention_name": "mention_name",
    "input_mention_name": "mention_name",
}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")

Names = Mapping[int, tuple[str | None, str | None]]  # peer id -> (username, title)


def message_to_post(
    message: Any, channel: str, title: str | None = None, names: Names | None = None
) -> Post:
    """One API message of ``channel`` as a post record."""
    names = names or {}
    number = message.id
    key = f"{channel}/{number}"
    text = message.message or ""
    entities = [e for e in (_entity(item, text) for item in message.entities or []) if e]
    entities = _to_code_points(text, entities)
    media, preview = _media(message.media)
    post = Post(
        key=key,
        channel=channel,
        channel_title=title,
        id=number,
        date=iso_date(message.date),
        text=text,
        entities=entities,
        views=message.views,
        forwards=message.forwards,
        replies=getattr(message.replies, "replies", None),
        reactions=_reactions(message.reactions),
        forwarded_from=_forwarded_from(message.fwd_from, names),
        reply_to=_reply_to(message.reply_to, channel, names),
        media=media,
        link_preview=preview,
        buttons=_buttons(message.reply_markup),
        author=message.post_author,
        via_bot=(names.get(message.via_bot_id) or (None, None))[0] if message.via_bot_id else None,
        edited=message.edit_date is not None,
        album_id=f"{channel}/album-{message.grouped_id}" if message.grouped_id else None,
    )
    action = getattr(message, "action", None)
    if action is not None:
        post.service = _service_text(action, message)
    post.hashtags, post.mentions, post.links = entity_marks(text, entities)
    return post


def _entity(item: Any, text: str) -> Entity | None:
    name = type(item).__name__.removeprefix("MessageEntity").removeprefix("Input")
    kind = _CAMEL.sub("_", name).lower()
    kind = _ENTITY_NAMES.get(kind, kind)
    if kind == "unknown":
        return None
    entity: dict[str, Any] = {"type": kind, "offset": item.offset, "length": item.length}
    if kind == "text_link":
        entity["url"] = item.url
    elif kind == "custom_emoji":
        entity["document_id"] = str(item.document_id)
    elif kind == "mention_name":
        entity["user_id"] = getattr(item, "user_id", None)
    elif kind == "pre" and getattr(item, "language", None):
        entity["language"] = item.language
    return entity  # type: ignore[return-value]


def _to_code_points(text: str, entities: list[Entity]) -> list[Entity]:
    """Offsets and lengths from UTF-16 code units (the API's) to code points (the record's);
    a plain URL entity gets its address as ``url``, like other sources give it."""
    if not text.isascii():  # characters outside the BMP (emoji) take two UTF-16 units
        points = [0]  # UTF-16 position -> code point position
        for index, character in enumerate(text, start=1):
            points.extend([index] * (2 if ord(character) > 0xFFFF else 1))
        last = len(points) - 1
        for entity in entities:  # (clamped: offsets from the network may be anything)
            start = points[max(min(entity["offset"], last), 0)]
            end = points[max(min(entity["offset"] + entity["length"], last), 0)]
            entity["offset"], entity["length"] = start, end - start
    else:  # the same units: only kept within the text
        for entity in entities:
            start = max(min(entity["offset"], len(text)), 0)
            end = max(min(entity["offset"] + entity["length"], len(text)), start)
            entity["offset"], entity["length"] = start, end - start
    for entity in entities:
        if entity["type"] == "url" and "url" not in entity:
            entity["url"] = text[entity["offset"] : entity["offset"] + entity["length"]]
    return [entity for entity in entities if entity["length"] > 0]


def _reactions(reactions: Any) -> list[Reaction]:
    found: list[Reaction] = []
    for result in getattr(reactions, "results", None) or []:
        reaction, count = result.reaction, result.count
        kind = type(reaction).__name__
        if kind == "ReactionEmoji":
            found.append({"emoji": reaction.emoticon.replace("\ufe0f", ""), "count": count})
        elif kind == "ReactionCustomEmoji":
            found.append({"custom_emoji_id": str(reaction.document_id), "count": count})
        elif kind == "ReactionPaid":
            found.append({"paid": True, "count": count})
    return found


def _forwarded_from(header: Any, names: Names) -> ForwardedFrom | None:
    if header is None:
        return None
    username, title = None, header.from_name
    peer = getattr(header, "from_id", None)
    if peer is not None:
        username, known_title = _name(names, peer)
        title = title or known_title
    return {
        "title": title,
        "channel": username.lower() if username else None,
        "id": header.channel_post,
    }


def _reply_to(header: Any, channel: str, names: Names) -> ReplyTo | None:
    number = getattr(header, "reply_to_msg_id", None)
    if number is None:
        return None
    peer = getattr(header, "reply_to_peer_id", None)
    if peer is None:
        return {"channel": channel, "id": number}
    username = _name(names, peer)[0]
    return {"channel": username.lower() if username else None, "id": number}


def _media(media: Any) -> tuple[list[Media], LinkPreview | None]:
    """Attachments, and the link preview (which the API sends as a kind of media)."""
    if media is None:
        return [], None
    kind = type(media).__name__
    if kind == "MessageMediaWebPage":
        page = media.webpage
        if type(page).__name__ != "WebPage":
            return [], {
                "url": getattr(page, "url", None),
                "site_name": None,
                "title": None,
                "description": None,
            }
        return [], {
            "url": page.url,
            "site_name": page.site_name,
            "title": page.title,
            "description": page.description,
        }
    if kind == "MessageMediaPhoto":
        return [{"type": "photo", "url": None}], None
    if kind == "MessageMediaDocument":
        if type(getattr(media, "document", None)).__name__ != "Document":
            return [
                {"type": "document", "unsupported": True, "reason": "no longer available"}
            ], None
        return [_document(media.document, media)], None
    if kind == "MessageMediaPoll":
        return [_poll(media)], None
    if kind in ("MessageMediaGeo", "MessageMediaGeoLive", "MessageMediaVenue"):
        geo = media.geo
        spot: dict[str, Any] = {"type": "location"}
        if type(geo).__name__ == "GeoPoint":
            spot["latitude"], spot["longitude"] = geo.lat, geo.long
        for name in ("title", "address"):
            if getattr(media, name, None):
                spot["place_name" if name == "title" else name] = getattr(media, name)
        return [cast(Media, spot)], None
    if kind == "MessageMediaContact":
        name = " ".join(part for part in (media.first_name, media.last_name) if part)
        person = {"type": "contact", "name": name or None, "phone": media.phone_number}
        return [cast(Media, person)], None
    return [{"type": "unsupported", "unsupported": True, "reason": kind}], None


def _document(document: Any, media: Any) -> Media:
    attributes = {type(a).__name__: a for a in getattr(document, "attributes", None) or []}
    video, audio = (
        attributes.get("DocumentAttributeVideo"),
        attributes.get("DocumentAttributeAudio"),
    )
    if "DocumentAttributeSticker" in attributes:
        kind = "sticker"
    elif video is not None:
        round_video = video.round_message or getattr(media, "round", False)
        kind = (
            "round_video"
            if round_video
            else ("gif" if "DocumentAttributeAnimated" in attributes else "video")
        )
    elif audio is not None:
        kind = "voice" if audio.voice or getattr(media, "voice", False) else "audio"
    elif "DocumentAttributeAnimated" in attributes:
        kind = "gif"
    else:
        kind = "document"
    item: Media = {
        "type": kind,
        "url": None,
        "mime_type": document.mime_type,
        "size": document.size,
    }
    duration = getattr(video or audio, "duration", None)
    if duration is not None:
        item["duration"] = round(duration)
    if video is not None:
        item["width"], item["height"] = video.w, video.h
    if audio is not None and audio.performer:
        item["performer"] = audio.performer
    named = attributes.get("DocumentAttributeFilename")
    if named is not None:
        item["file_name"] = named.file_name
    return item


def _poll(media: Any) -> Media:
    poll, results = media.poll, media.results
    voters = {
        bytes(answer.option): answer.voters for answer in getattr(results, "results", None) or []
    }
    return {
        "type": "poll",
        "poll": {
            "question": _plain(poll.question),
            "closed": bool(poll.closed),
            "total_voters": getattr(results, "total_voters", None),
            "options": [
                {"text": _plain(answer.text), "voters": voters.get(bytes(answer.option))}
                for answer in poll.answers
            ],
        },
    }


def _buttons(markup: Any) -> list[Button]:
    buttons: list[Button] = []
    for row in getattr(markup, "rows", None) or []:
        for button in row.buttons:
            url = getattr(button, "url", None) or getattr(
                getattr(button, "type", None), "url", None
            )
            buttons.append({"text": button.text, "url": url})
    return buttons


def _service_text(action: Any, message: Any) -> str:
    kind = type(action).__name__.removeprefix("MessageAction")
    title = getattr(action, "title", None)
    header = getattr(message, "reply_to", None)
    phrases = {
        "ChannelCreate": f"Channel created ({title})" if title else "Channel created",
        "ChatEditTitle": f"Channel name changed to «{title}»",
        "ChatEditPhoto": "Channel photo updated",
        "ChatDeletePhoto": "Channel photo removed",
        "PinMessage": f"pinned message {getattr(header, 'reply_to_msg_id', '')}".strip(),
    }
    return phrases.get(kind, _CAMEL.sub(" ", kind).lower() or "service")


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else str(getattr(value, "text", "") or "")


def _name(names: Names, peer: Any) -> tuple[str | None, str | None]:
    """The username and title of ``peer``, as far as ``names`` knows them."""
    number = _peer_id(peer)
    return names.get(number, (None, None)) if number is not None else (None, None)


def _peer_id(peer: Any) -> int | None:
    for name in ("channel_id", "chat_id", "user_id"):
        value = getattr(peer, name, None)
        if value is not None:
            return value
    return None


def iso_date(moment: Any) -> str | None:
    """A Telethon date (aware, or naive UTC) as the record's ISO 8601 in UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()
