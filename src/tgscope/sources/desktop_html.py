"""Telegram Desktop's HTML export of a chat: ``messages.html``, ``messages2.html``, ...

Each file holds up to a thousand ``div.message`` blocks; each is read into the same record
as the JSON export gives, as far as the HTML tells it (it has no edit marks, and a chat's
id only in the JSON).  :func:`parse_export_page` is pure: HTML in, channel and posts out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import timezone as fixed_offset
from typing import cast

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..clean import entity_marks, strip_keeping_entities
from ..dates import time_zone
from ..errors import ParseError, SourceError
from ..record import Button, Channel, Entity, Media, Post, Reaction, ReplyTo
from .validate import (
    MAX_MARKUP_DEPTH,
    check_markup_depth,
    count_of,
    duration_of,
    join_html,
    number_of,
    size_of,
    with_path,
)

FORMAT = "desktop-html"
MERGE_RANK = {"fields": 3, "date": 4}  # store.merge: lower wins

_MESSAGE_ID = re.compile(r"^message(-?[0-9]{1,18})$")
_DATE_TITLE = re.compile(
    r"^(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2}):(\d{2})(?: UTC([+-])(\d{2}):(\d{2}))?$"
)
_LAYOUT_BREAK = re.compile(r"[ \t]*\n\s*")
_GO_TO_MESSAGE = re.compile(r"#go_to_message([0-9]{1,18})$")
_VIA_BOT = re.compile(r"\s+via @([A-Za-z0-9_]+)\s*$")
_ONCLICK_ENTITY = {
    "ShowHashtag": "hashtag",
    "ShowCashtag": "cashtag",
    "ShowBotCommand": "bot_command",
    "ShowMentionName": "mention_name",
    "ShowNotLoadedEmoji": "custom_emoji",
    "ShowNotAvailableEmoji": "custom_emoji",
}
_FORMATTING = {
    "strong": "bold",
    "em": "italic",
    "u": "underline",
    "s": "strikethrough",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_MEDIA_BLOCKS = {
    "media_voice_message": "voice",
    "media_video": "round_video",
    "media_audio_file": "audio",
    "media_file": "document",
    "media_contact": "contact",
    "media_location": "location",
    "media_live_location": "location",
    "media_venue": "location",
    "media_photo": "photo",
    "media_game": "game",
    "media_invoice": "invoice",
    "media_call": "call",
}
_WRAPS = {
    "photo_wrap": "photo",
    "video_file_wrap": "video",
    "animated_wrap": "gif",
    "sticker_wrap": "sticker",
}
_NOT_INCLUDED = ("Not included", "Exceeds maximum size", "Unavailable")

Warn = Callable[[str], None]


def looks_like_export(head: str) -> bool:
    """True for the start of a Desktop HTML export page."""
    return 'class="page_wrap"' in head and ('class="history"' in head or "message" in head)


def read(context) -> Iterator[Post | Channel]:
    """The importer's reader (see :class:`tgscope.sources.ReadContext`)."""
    html = join_html(context.text(), context.path)
    check_markup_depth(html, where=context.path)
    tree = LexborHTMLParser(html)
    title = _chat_title(tree)
    channel = context.channel or context.known_channel(None, title)
    if channel is None:
        raise SourceError(
            f"{context.path}: the export does not give the channel's username"
            f" (chat {title!r}): name the channel"
        )
    pages = _page(tree, channel, time_zone(context.timezone), context.warn)
    yield from with_path(pages, context.path)


def parse_export_page(
    html: str | bytes,
    *,
    channel: str,
    timezone: tzinfo | None = None,
    warn: Warn | None = None,
) -> Iterator[Post | Channel]:
    """The chat's header as a channel, then one post per message of one export page.

    HTML nested deeper than :data:`~.validate.MAX_MARKUP_DEPTH` is refused (a ParseError).
    """
    check_markup_depth(html)
    return _page(LexborHTMLParser(html), channel, timezone, warn or (lambda message: None))


def _page(
    tree: LexborHTMLParser, channel: str, timezone: tzinfo | None, warn: Warn
) -> Iterator[Post | Channel]:
    title = _chat_title(tree)
    yield Channel(username=channel, title=title)
    state = _State(channel, title, timezone, warn)
    for node in tree.css("div.history > div.message"):
        try:
            post = state.message(node)
        except ParseError as error:
            name = node.attributes.get("id") or "a message"
            raise ParseError(f"{name}: {error.reason}") from error
        if post is not None:
            yield post


def _chat_title(tree: LexborHTMLParser) -> str | None:
    header = tree.css_first("div.page_header div.text.bold")
    return _plain(header) or None


@dataclass
class _State:
    """What carries from one message to the next: the sender of joined messages."""

    channel: str
    title: str | None
    timezone: tzinfo | None
    warn: Warn
    sender: str | None = None
    via_bot: str | None = None
    zone_warned: bool = False

    def message(self, node: LexborNode) -> Post | None:
        match = _MESSAGE_ID.match(node.attributes.get("id") or "")
        if match is None:
            self.warn(f"a message block without an id: {(node.html or '')[:80]!r}")
            return None
        number = int(match.group(1))
        if number < 0:
            return None  # a date separator, not a message
        key = f"{self.channel}/{number}"
        classes = (node.attributes.get("class") or "").split()
        if "service" in classes:
            return Post(
                key=key,
                channel=self.channel,
                channel_title=self.title,
                id=number,
                service=_plain(node.css_first("div.body.details")) or "service",
            )
        body = _child_with_class(node, "body")
        if body is None:
            self.warn(f"{key}: a message without a body, left out")
            return None
        sender = _child_with_class(body, "from_name")
        if sender is not None:
            self.sender, self.via_bot = _name_and_bot(_plain(sender))
        content = _child_with_class(body, "forwarded", "body") or body
        forwarded = None
        if content is not body:
            original = _child_with_class(content, "from_name")
            name = _name_and_bot(_plain(original, skip="date"))[0] if original else None
            forwarded = {"title": name, "channel": None, "id": None}
        text_node = _child_with_class(content, "text")
        text, entities = _rich_text(text_node) if text_node is not None else ("", [])
        signature = _child_with_class(content, "signature")
        post = Post(
            key=key,
            channel=self.channel,
            channel_title=self.title,
            id=number,
            date=self._date(body, key),
            text=text,
            entities=entities,
            reactions=_reactions(
                _child_with_class(body, "reactions") or _child_with_class(content, "reactions")
            ),
            forwarded_from=forwarded,  # type: ignore[arg-type]
            reply_to=_reply_to(_child_with_class(content, "reply_to"), self.channel),
            media=_media(_child_with_class(content, "media_wrap")),
            buttons=_buttons(content.css_first("table.bot_buttons_table")),
            author=_plain(signature) or (None if self.sender == self.title else self.sender),
            via_bot=self.via_bot,
        )
        post.hashtags, post.mentions, post.links = entity_marks(text, entities)
        return post

    def _date(self, body: LexborNode, key: str) -> str | None:
        stamp = body.css_first("div.date.details")
        title = (stamp.attributes.get("title") or "") if stamp is not None else ""
        match = _DATE_TITLE.match(title.strip())
        if match is None:
            if title:
                self.warn(f"{key}: a date this reader does not know: {title!r}")
            return None
        day, month, year, hour, minute, second, sign, off_h, off_m = match.groups()
        zone: tzinfo
        if sign:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            zone = fixed_offset(offset if sign == "+" else -offset)
        else:
            if self.timezone is None and not self.zone_warned:
                self.warn(
                    "dates carry no time zone (an older export): read as UTC;"
                    " give the time zone where it was exported to read them as local time"
                )
                self.zone_warned = True
            zone = self.timezone or UTC
        try:
            moment = datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=zone
            )
        except ValueError:
            self.warn(f"{key}: an impossible date: {title!r}")
            return None
        return moment.astimezone(UTC).isoformat()


# -- parts of a message ------------------------------------------------------------------


def _child_with_class(node: LexborNode | None, *names: str) -> LexborNode | None:
    """The first direct child of ``node`` that has every one of the classes ``names``."""
    wanted = set(names)
    child = node.child if node is not None else None
    while child is not None:
        if child.tag not in ("-text", "-comment") and wanted <= set(
            (child.attributes.get("class") or "").split()
        ):
            return child
        child = child.next
    return None


def _name_and_bot(name: str) -> tuple[str | None, str | None]:
    match = _VIA_BOT.search(name)
    if match:
        return name[: match.start()].strip() or None, match.group(1).lower()
    return name.strip() or None, None


def _reply_to(block: LexborNode | None, channel: str) -> ReplyTo | None:
    link = block.css_first("a[href]") if block is not None else None
    match = _GO_TO_MESSAGE.search(link.attributes.get("href") or "") if link else None
    return {"channel": channel, "id": int(match.group(1))} if match else None


def _reactions(block: LexborNode | None) -> list[Reaction]:
    reactions: list[Reaction] = []
    for item in block.css("span.reaction") if block is not None else []:
        count_node = item.css_first("span.count")
        if count_node is not None:
            try:
                count = count_of(_plain(count_node))
            except ValueError:
                continue
        else:  # few reactors: their pictures are shown instead of a count
            count = len(item.css("span.userpics > div"))
        emoji = item.css_first("span.emoji")
        if "paid" in (item.attributes.get("class") or "").split():
            reactions.append({"paid": True, "count": count})
        elif emoji is not None and emoji.css_first("a") is not None:
            reactions.append({"custom_emoji_id": "", "count": count})
        else:
            reactions.append({"emoji": _plain(emoji).replace("\ufe0f", ""), "count": count})
    return reactions


def _media(wrap: LexborNode | None) -> list[Media]:
    media: list[Media] = []
    child = wrap.child if wrap is not None else None
    while child is not None:
        classes = (child.attributes.get("class") or "").split() if child.tag != "-text" else []
        kind = next((_WRAPS[name] for name in classes if name in _WRAPS), None)
        if kind is not None:
            media.append({"type": kind, "url": child.attributes.get("href")})
        elif "media_poll" in classes:
            media.append(_poll(child))
        elif "media" in classes:
            media.append(_media_block(child, classes))
        child = child.next
    return media


def _media_block(block: LexborNode, classes: list[str]) -> Media:
    kind = next((_MEDIA_BLOCKS[name] for name in classes if name in _MEDIA_BLOCKS), "document")
    title = _plain(block.css_first("div.title"))
    description = _plain(block.css_first("div.description"))
    status = _plain(block.css_first("div.status"))
    item: Media = {"type": kind, "url": block.attributes.get("href") if block.tag == "a" else None}
    if kind == "contact":
        contact = {"name": title or None, "phone": status.split(" - ")[0] or None}
        item.update(cast(Media, contact))
        return item
    if kind == "location":
        return item  # the link to the map holds the place
    if description.startswith(_NOT_INCLUDED):
        item["reason"] = "file not included in the export"
    if kind == "document" and status:
        size = size_of(status.split(",")[-1].strip())
        if size is not None:
            item["size"] = size
    if kind in ("voice", "round_video", "audio") and status:
        item["duration"] = duration_of(status.split(",")[0])
    if kind == "audio" and " – " in title:
        item["performer"] = title.split(" – ")[0]
    elif kind == "document" and title and title != "File":
        item["file_name"] = title
    return item


def _poll(block: LexborNode) -> Media:
    options = []
    for answer in block.css("div.answer"):
        votes = _plain(answer.css_first("span.details"))
        text = _plain(answer, skip="details").removeprefix("-").strip()
        number = votes.split(" ")[0]
        options.append({"text": text, "voters": number_of(number)})
    return {
        "type": "poll",
        "poll": {
            "question": _plain(block.css_first("div.question")),
            "kind": _plain(block.css_first("div.details")) or None,
            "options": options,
        },
    }


def _buttons(table: LexborNode | None) -> list[Button]:
    buttons: list[Button] = []
    for button in table.css("div.bot_button") if table is not None else []:
        link = button.css_first("a")
        href = link.attributes.get("href") if link is not None else None
        buttons.append({"text": _plain(button), "url": href or None})
    return buttons


# -- text --------------------------------------------------------------------------------


def _rich_text(node: LexborNode) -> tuple[str, list[Entity]]:
    """Plain text (``<br>`` as line breaks) and entities with offsets in code points.

    The export puts each formatted piece in one tag, never nested, and writes every
    line break of the text as ``<br>``: newlines in the HTML are its own layout.
    """
    parts: list[str] = []
    entities: list[Entity] = []
    _walk(node, parts, entities, [0], MAX_MARKUP_DEPTH)
    return strip_keeping_entities("".join(parts), entities)


def _walk(
    node: LexborNode, parts: list[str], entities: list[Entity], length: list[int], room: int
) -> None:
    """``length``: of ``parts`` so far, in code points; ``room``: how many more levels may
    nest (the walk recurses once per level)."""
    if room <= 0:
        raise _too_deep()
    child = node.child
    while child is not None:
        if child.tag == "-text":  # the export writes line breaks as <br>: newlines are layout
            value = child.text_content or ""
            if "\n" in value:
                value = _LAYOUT_BREAK.sub(" ", value)
                if parts and parts[-1].endswith("\n"):
                    value = value.lstrip(" ")
            parts.append(value)
            length[0] += len(value)
        elif child.tag == "br":
            parts.append("\n")
            length[0] += 1
        elif child.tag != "-comment":
            start, first = length[0], len(parts)
            _walk(child, parts, entities, length, room - 1)
            size = length[0] - start
            entity = _entity(child, "".join(parts[first:]), start, size) if size else None
            if entity is not None:
                entities.append(entity)
        child = child.next


def _entity(node: LexborNode, text: str, offset: int, length: int) -> Entity | None:
    classes = (node.attributes.get("class") or "").split()
    if node.tag == "span" and "spoiler" in classes:
        return {"type": "spoiler", "offset": offset, "length": length}
    if node.tag in _FORMATTING:
        return {"type": _FORMATTING[node.tag], "offset": offset, "length": length}
    if node.tag != "a":
        return None
    href = (node.attributes.get("href") or "").strip()
    onclick = node.attributes.get("onclick") or ""
    for function, kind in _ONCLICK_ENTITY.items():
        if function in onclick:
            return {"type": kind, "offset": offset, "length": length}
    if href.startswith("mailto:"):
        return {"type": "email", "offset": offset, "length": length}
    if href.startswith("tel:"):
        return {"type": "phone", "offset": offset, "length": length}
    if text.startswith("@") and "t.me/" in href:
        return {"type": "mention", "offset": offset, "length": length}
    if not href.startswith(("http://", "https://", "tg://")) and href:
        return {"type": "custom_emoji", "offset": offset, "length": length}
    kind = "url" if text.strip() == href else "text_link"
    return {"type": kind, "offset": offset, "length": length, "url": href}


def _plain(
    node: LexborNode | None, *, skip: str | None = None, room: int = MAX_MARKUP_DEPTH
) -> str:
    """The text of an element on one line; ``skip``: leave out children with that class."""
    if node is None:
        return ""
    if room <= 0:
        raise _too_deep()
    pieces = []
    child = node.child
    while child is not None:
        if child.tag == "-text":
            pieces.append(child.text_content or "")
        elif child.tag == "br":
            pieces.append(" ")
        elif skip is None or skip not in (child.attributes.get("class") or "").split():
            pieces.append(_plain(child, room=room - 1))
        child = child.next
    return " ".join("".join(pieces).split())


def _too_deep() -> ParseError:
    return ParseError(f"text nested deeper than {MAX_MARKUP_DEPTH} levels")
