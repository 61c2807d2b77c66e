"""The public web preview: pages of ``https://t.me/s/<channel>``, live or saved.

:func:`parse_page` is pure (HTML and its URL in, a :class:`WebPage` out, no I/O): the
collector that fetches pages lives apart.  Markup that it does not understand never
stops it: it keeps what it can and names what it skipped in ``WebPage.warnings``, so a
layout change at Telegram shows up instead of passing silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..clean import parse_count, parse_size, strip_keeping_entities
from ..record import (
    Button,
    Channel,
    Entity,
    ForwardedFrom,
    LinkPreview,
    Media,
    Post,
    Reaction,
    ReplyTo,
)

FORMAT = "web"

_BACKGROUND_URL = re.compile(r"background-image:\s*url\(['\"]?([^'\")]+)['\"]?\)")
_TME_POST = re.compile(r"^https?://t\.me/(?:s/)?([A-Za-z0-9_]+)/(\d+)")
_TME_CHANNEL = re.compile(r"^https?://t\.me/([A-Za-z0-9_]+)/?$")
_SOURCE_LINE_BREAK = re.compile(r"\s*\n\s*")  # a line break in the HTML source, not a <br>

# what each kind of markup in a message bubble is, for the "did we understand it" check
_KNOWN_PARTS = (
    "tgme_widget_message_bubble_tail",
    "tgme_widget_message_author",
    "tgme_widget_message_forwarded_from",
    "tgme_widget_message_reply",
    "tgme_widget_message_text",
    "tgme_widget_message_footer",
    "tgme_widget_message_reactions",
    "tgme_widget_message_link_preview",
    "tgme_widget_message_photo_wrap",
    "tgme_widget_message_grouped_wrap",
    "tgme_widget_message_video_player",
    "tgme_widget_message_roundvideo_player",
    "tgme_widget_message_voice_player",
    "tgme_widget_message_document_wrap",
    "tgme_widget_message_sticker_wrap",
    "tgme_widget_message_poll",
    "tgme_widget_message_location_wrap",
    "tgme_widget_message_contact",
    "tgme_widget_message_via_bot",
    "tgme_widget_message_inline_keyboard",
    "message_media_not_supported_wrap",
    "media_supported_cont",
    "media_not_supported_cont",
    "tgme_widget_message_service_date_wrap",
    "tgme_widget_message_service_photo",
)
# the classes that extraction looks up; every other element is skipped by the index
_PAGE_CLASSES = frozenset({"tme_messages_more"})
_ALBUM_ITEM = "?single"  # not a class: links to the other messages of an album
_INDEXED_CLASSES = _PAGE_CLASSES | {
    "tgme_widget_message",
    "link_preview_description",
    "link_preview_site_name",
    "link_preview_title",
    "message_media_not_supported",
    "tgme_channel_info",
    "tgme_channel_info_counter",
    "tgme_channel_info_description",
    "tgme_channel_info_header_title",
    "tgme_channel_info_header_username",
    "tgme_page_photo_image",
    "tgme_reaction",
    "tgme_widget_message_bubble",
    "tgme_widget_message_contact",
    "tgme_widget_message_date",
    "tgme_widget_message_document_wrap",
    "tgme_widget_message_forwarded_from",
    "tgme_widget_message_forwarded_from_name",
    "tgme_widget_message_from_author",
    "tgme_widget_message_via_bot",
    "tgme_widget_message_inline_button",
    "tgme_widget_message_grouped_wrap",
    "tgme_widget_message_link_preview",
    "tgme_widget_message_location_wrap",
    "tgme_widget_message_meta",
    "tgme_widget_message_owner_name",
    "tgme_widget_message_photo_wrap",
    "tgme_widget_message_poll",
    "tgme_widget_message_reply",
    "tgme_widget_message_roundvideo_player",
    "tgme_widget_message_sticker_wrap",
    "tgme_widget_message_text",
    "tgme_widget_message_video_player",
    "tgme_widget_message_views",
    "tgme_widget_message_voice_player",
    "verified-icon",
}
# tags that never carry a class extraction looks up: skipped without reading attributes
_NEVER_INDEXED_TAGS = frozenset(
    {"html", "head", "meta", "link", "script", "style", "title", "noscript", "br", "b"}
    | {"img", "video", "source", "svg", "g", "path", "circle", "rect", "use", "defs"}
    | {"polygon", "tg-emoji"}
)
_FORMATTING = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "s": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
}


@dataclass
class WebPage:
    """What one web-preview page holds."""

    url: str
    channel: Channel | None
    posts: list[Post]
    before: int | None = None  # the "load older posts" cursor (``?before=``)
    after: int | None = None  # the "load newer posts" cursor (``?after=``)
    warnings: list[str] = field(default_factory=list)
    shown: set[int] = field(default_factory=set)  # every id the page shows, album items too


def looks_like_web_page(head: str) -> bool:
    """True for a saved web-preview page or a fragment of one."""
    return "tgme_widget_message" in head or "tgme_channel_info" in head


def parse_page(html: str | bytes, url: str) -> WebPage:
    """Channel header, posts (oldest first, as on the page) and paging cursors of one page."""
    tree = LexborHTMLParser(html)
    header, messages, page_parts = _index_page(tree)
    page = WebPage(url=url, channel=_channel_info(header), posts=[])
    title = page.channel.title if page.channel else None
    for node, parts in messages:
        post = _parse_message(node, parts, title, page.warnings)
        if post is not None:
            page.posts.append(post)
    page.before, page.after = _cursors(page_parts)
    page.shown = {post.id for post in page.posts if post.id is not None}
    for link in page_parts.all(_ALBUM_ITEM):  # the other messages of an album
        match = _TME_POST.match(link.attributes.get("href") or "")
        if match:
            page.shown.add(int(match.group(2)))
    return page


def read_saved_page(
    text: Iterable[str], *, channel: str | None = None, warn: Callable[[str], None] | None = None
) -> Iterator[Post | Channel]:
    """The importer's reader for a saved page: its channel header, then its posts.

    The page names its channel itself, so ``channel`` is not needed (and not used).
    """
    page = parse_page("".join(text), "")
    warnings = page.warnings if page.posts or page.channel else ["no posts found on the page"]
    for warning in warnings:
        if warn:
            warn(warning)
    if page.channel is not None and page.channel.username:
        yield page.channel
    yield from page.posts


# -- the channel header and paging -----------------------------------------------------


def _channel_info(header: _Parts) -> Channel | None:
    if header.first("tgme_channel_info") is None and not (
        header.first("tgme_channel_info_header_username")
        or header.first("tgme_channel_info_counter")
    ):
        return None
    username = _text(header.first("tgme_channel_info_header_username")).lstrip("@").lower()
    counters = {}
    for counter in header.all("tgme_channel_info_counter"):
        value = _text(_find(counter, "counter_value"))
        kind = _text(_find(counter, "counter_type")).rstrip("s") + "s"
        try:
            counters[kind] = parse_count(value)
        except ValueError:
            continue
    description = header.first("tgme_channel_info_description")
    return Channel(
        username=username or None,
        title=_text(header.first("tgme_channel_info_header_title")) or None,
        description=_rich_text(description)[0] if description is not None else None,
        verified=header.first("verified-icon") is not None or None,
        counters=counters,
        avatar=_avatar(header.first("tgme_page_photo_image")),
    )


def _avatar(photo: LexborNode | None) -> str | None:
    image = _find_tag(photo, "img")
    return (image.attributes.get("src") or None) if image is not None else None


def _cursors(page_parts: _Parts) -> tuple[int | None, int | None]:
    before = after = None
    for link in page_parts.all("tme_messages_more"):
        if (link.attributes.get("data-before") or "").isdigit():
            before = int(link.attributes["data-before"])
        if (link.attributes.get("data-after") or "").isdigit():
            after = int(link.attributes["data-after"])
    return before, after


# -- one message -----------------------------------------------------------------------


class _Parts:
    """The elements of one message (or of the page header) by class name."""

    def __init__(self) -> None:
        self.by_class: dict[str, list[LexborNode]] = {}

    def add(self, name: str, node: LexborNode) -> None:
        found = self.by_class.get(name)
        if found is None:
            self.by_class[name] = [node]
        else:
            found.append(node)

    def all(self, name: str) -> list[LexborNode]:
        return self.by_class.get(name, [])

    def first(self, name: str) -> LexborNode | None:
        found = self.by_class.get(name)
        return found[0] if found else None


def _index_page(tree: LexborHTMLParser) -> tuple[_Parts, list[tuple[LexborNode, _Parts]], _Parts]:
    """One walk over the page: the parts outside messages (the header), each message's
    parts, and the page's own (paging links, album items).

    A CSS query per field walks the tree again each time and costs several times the
    HTML parse itself; one walk in document order, filing each element under the message
    it is inside, keeps extraction within a small factor of it.
    """
    outside, page = _Parts(), _Parts()  # outside: the header, and whatever is not a message
    messages: list[tuple[LexborNode, _Parts]] = []
    current, end = outside, None  # end: the first element after the current message
    for node in tree.root.traverse(include_text=False) if tree.root is not None else ():
        if end is not None and node.mem_id == end:
            current, end = outside, None
        if node.tag in _NEVER_INDEXED_TAGS:
            continue
        attributes = node.attributes
        if node.tag == "a" and "?single" in (attributes.get("href") or ""):
            page.add(_ALBUM_ITEM, node)  # a link to another message of an album
        classes = attributes.get("class")
        if not classes:
            continue
        names = _indexed_names(classes)
        if not names:
            continue
        if names[0] == "tgme_widget_message":
            if "data-post" in attributes:
                current, end = _Parts(), _after(node)
                messages.append((node, current))
            else:  # a message-like block without a post id: none of a post's parts
                current, end = _Parts(), _after(node)
        for name in names:
            (page if name in _PAGE_CLASSES else current).add(name, node)
    return outside, messages, page


def _after(node: LexborNode) -> int | None:
    """The ``mem_id`` of the first element after ``node`` and everything inside it."""
    while node is not None:
        following = node.next
        while following is not None and following.tag in ("-text", "-comment"):
            following = following.next
        if following is not None:
            return following.mem_id
        node = node.parent
    return None


@lru_cache(maxsize=4096)
def _indexed_names(classes: str) -> tuple[str, ...]:
    """The class names in ``classes`` that extraction looks up (a message's own first)."""
    names = [name for name in classes.split() if name in _INDEXED_CLASSES]
    if "tgme_widget_message" in names:
        names.remove("tgme_widget_message")
        names.insert(0, "tgme_widget_message")
    return tuple(names)


def _find(node: LexborNode | None, name: str) -> LexborNode | None:
    """The first element under ``node`` with the class ``name`` (a small subtree)."""
    if node is None:
        return None
    for child in node.traverse(include_text=False):
        classes = child.attributes.get("class")
        if classes and name in classes.split():
            return child
    return None


def _find_tag(node: LexborNode | None, tag: str) -> LexborNode | None:
    """The first element under ``node`` (or ``node`` itself) with the tag ``tag``."""
    if node is None:
        return None
    for child in node.traverse(include_text=False):
        if child.tag == tag:
            return child
    return None


def _parse_message(
    node: LexborNode, parts: _Parts, channel_title: str | None, warnings: list[str]
) -> Post | None:
    channel, _, number = (node.attributes.get("data-post") or "").partition("/")
    if not channel or not number.isdigit():
        warnings.append(f"message without a usable data-post: {node.attributes.get('data-post')!r}")
        return None
    key = f"{channel.lower()}/{number}"
    bubble = parts.first("tgme_widget_message_bubble") or node
    text, entities = "", []
    text_node = _own_text_node(parts, bubble)
    if text_node is not None:
        text, entities = _rich_text(text_node)
    post = Post(
        key=key,
        channel=channel.lower(),
        channel_title=_text(parts.first("tgme_widget_message_owner_name")) or channel_title,
        id=int(number),
        date=_date(parts),
        text=text,
        entities=entities,
        views=_views(parts),
        reactions=_reactions(parts, key, warnings),
        forwarded_from=_forwarded_from(parts),
        reply_to=_reply_to(parts),
        media=_media(parts),
        link_preview=_link_preview(parts),
        author=_text(parts.first("tgme_widget_message_from_author")) or None,
        via_bot=_via_bot(parts, bubble),
        buttons=_buttons(parts),
        edited="edited" in _text(parts.first("tgme_widget_message_meta")),
        album_id=key if parts.first("tgme_widget_message_grouped_wrap") else None,
    )
    if "service_message" in (node.attributes.get("class") or ""):
        post.service = text or "service"
    post.hashtags = _unique(
        text[e["offset"] : e["offset"] + e["length"]][1:]
        for e in entities
        if e["type"] == "hashtag"
    )
    post.mentions = _unique(
        text[e["offset"] : e["offset"] + e["length"]][1:].lower()
        for e in entities
        if e["type"] == "mention"
    )
    post.links = _unique(e["url"] for e in entities if e.get("url"))
    _check_parts(bubble, key, warnings)
    return post


def _own_text_node(parts: _Parts, bubble: LexborNode) -> LexborNode | None:
    """The post's own text: not the quoted text of a reply or of a link preview."""
    for candidate in parts.all("tgme_widget_message_text"):
        if not _inside(candidate, "tgme_widget_message_reply", stop=bubble) and not _inside(
            candidate, "link_preview", stop=bubble
        ):
            return candidate
    return None


def _date(parts: _Parts) -> str | None:
    link = parts.first("tgme_widget_message_date")
    time = _find_tag(link, "time")
    if time is None or not time.attributes.get("datetime"):
        return None
    try:
        moment = datetime.fromisoformat(time.attributes["datetime"])
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    except (ValueError, OverflowError):
        return None


def _views(parts: _Parts) -> int | None:
    views = _text(parts.first("tgme_widget_message_views"))
    try:
        return parse_count(views) if views else None
    except ValueError:
        return None


def _forwarded_from(parts: _Parts) -> ForwardedFrom | None:
    block = parts.first("tgme_widget_message_forwarded_from")
    if block is None:
        return None
    name = parts.first("tgme_widget_message_forwarded_from_name")
    title = _text(name) if name is not None else _text(block).removeprefix("Forwarded from").strip()
    href = (name.attributes.get("href") if name is not None else None) or ""
    post, channel = _TME_POST.match(href), _TME_CHANNEL.match(href)
    source = post or channel
    return {
        "title": title or None,
        "channel": source.group(1).lower() if source else None,
        "id": int(post.group(2)) if post else None,
    }


def _reply_to(parts: _Parts) -> ReplyTo | None:
    reply = parts.first("tgme_widget_message_reply")
    if reply is None:
        return None
    match = _TME_POST.match(reply.attributes.get("href") or "")
    return {"channel": match.group(1).lower(), "id": int(match.group(2))} if match else None


def _via_bot(parts: _Parts, bubble: LexborNode) -> str | None:
    """The bot a post was sent through (``via @bot`` by the author or forward line)."""
    for link in parts.all("tgme_widget_message_via_bot"):
        if _inside(link, "tgme_widget_message_reply", stop=bubble):
            continue  # the replied-to message's bot, not this one's
        match = _TME_CHANNEL.match(link.attributes.get("href") or "")
        name = match.group(1) if match else _text(link).removeprefix("via").strip().lstrip("@")
        return name.lower() or None
    return None


def _buttons(parts: _Parts) -> list[Button]:
    """Inline buttons: a link button's URL; other buttons (callbacks, votes) keep their label."""
    return [
        {
            "text": _text(button),
            "url": (button.attributes.get("href") or None) if button.tag == "a" else None,
        }
        for button in parts.all("tgme_widget_message_inline_button")
    ]


def _link_preview(parts: _Parts) -> LinkPreview | None:
    preview = parts.first("tgme_widget_message_link_preview")
    if preview is None:
        return None
    return {
        "url": preview.attributes.get("href"),
        "site_name": _text(parts.first("link_preview_site_name")) or None,
        "title": _text(parts.first("link_preview_title")) or None,
        "description": _one_line_or_more(parts.first("link_preview_description")) or None,
    }


def _reactions(parts: _Parts, key: str, warnings: list[str]) -> list[Reaction]:
    reactions: list[Reaction] = []
    for item in parts.all("tgme_reaction"):
        count_text = "".join(child.text_content or "" for child in _text_children(item)).strip()
        try:
            count = parse_count(count_text)
        except ValueError:
            warnings.append(f"{key}: reaction without a count: {item.html[:80]!r}")
            continue
        custom = _find_tag(item, "tg-emoji")
        classes = item.attributes.get("class") or ""
        if "paid" in classes or _find(item, "icon-telegram-stars") is not None:
            reactions.append({"paid": True, "count": count})
        elif custom is not None and custom.attributes.get("emoji-id"):
            reactions.append({"custom_emoji_id": custom.attributes["emoji-id"], "count": count})
        else:
            emoji = _text(_find_tag(item, "b")) or _text(_find(item, "emoji"))
            reactions.append({"emoji": emoji.replace("\ufe0f", ""), "count": count})
    return reactions


def _text_children(node: LexborNode):
    child = node.child
    while child is not None:
        if child.tag == "-text":
            yield child
        child = child.next


# -- media -----------------------------------------------------------------------------


def _media(parts: _Parts) -> list[Media]:
    if _MEDIA_CLASSES.isdisjoint(parts.by_class):
        return []
    media: list[Media] = []
    for photo in parts.all("tgme_widget_message_photo_wrap"):
        media.append({"type": "photo", "url": _background(photo)})
    for video in parts.all("tgme_widget_message_video_player"):
        source = video.css_first("video")
        is_gif = "message_video_gif" in (video.attributes.get("class") or "") or (
            source is not None and "autoplay" in (source.attributes or {})
        )
        item: Media = {
            "type": "gif" if is_gif and not video.css_first(".message_video_duration") else "video",
            "url": source.attributes.get("src") if source is not None else None,
            "duration": _duration(_text(video.css_first(".message_video_duration"))),
        }
        # every player holds a "not supported in your browser" stub, shown only when needed:
        # the video is missing only when the player says so, or has no <video> at all
        if "not_supported" in (video.attributes.get("class") or "") or source is None:
            item["unsupported"] = True
            if "too big" in _text(video).lower():
                item["reason"] = "too_big"
        media.append(item)
    for rounded in parts.all("tgme_widget_message_roundvideo_player"):
        media.append(_player(rounded, "round_video", "video", "roundvideo_duration"))
    for voice in parts.all("tgme_widget_message_voice_player"):
        media.append(_player(voice, "voice", "audio", "voice_duration"))
    for document in parts.all("tgme_widget_message_document_wrap"):
        kind = "audio" if document.css_first(".audio") is not None else "document"
        item = {
            "type": kind,
            "file_name": _text(document.css_first(".tgme_widget_message_document_title")) or None,
        }
        extra = _text(document.css_first(".tgme_widget_message_document_extra"))
        size = parse_size(extra)
        if size is not None:  # a file's size ("2.1 MB"), in bytes as other sources give it
            item["size"] = size
        elif extra:  # an audio file's performer
            item["performer"] = extra
        media.append(item)
    for sticker in parts.all("tgme_widget_message_sticker_wrap"):
        media.append(_sticker(sticker))
    for poll in parts.all("tgme_widget_message_poll"):
        options = [
            {
                "text": _text(option.css_first(".tgme_widget_message_poll_option_text")),
                "percent": _percent(
                    _text(option.css_first(".tgme_widget_message_poll_option_percent"))
                ),
            }
            for option in poll.css(".tgme_widget_message_poll_option")
        ]
        media.append(
            {
                "type": "poll",
                "poll": {
                    "question": _text(poll.css_first(".tgme_widget_message_poll_question")),
                    "kind": _text(poll.css_first(".tgme_widget_message_poll_type")) or None,
                    "options": options,
                },
            }
        )
    for location in parts.all("tgme_widget_message_location_wrap"):
        media.append({"type": "location", "url": location.attributes.get("href")})
    for contact in parts.all("tgme_widget_message_contact"):
        media.append(
            {
                "type": "contact",
                "name": _text(contact.css_first(".tgme_widget_message_contact_name")) or None,
                "phone": _text(contact.css_first(".tgme_widget_message_contact_phone")) or None,
            }
        )
    for stub in parts.all("message_media_not_supported"):
        if stub.parent is not None and _inside(stub, "tgme_widget_message_video_player"):
            continue
        label = _text(stub.css_first(".message_media_not_supported_label"))
        if media and _inside(stub, "media_not_supported_cont"):
            continue  # the part of a post the browser can show is already listed
        media.append({"type": "unsupported", "unsupported": True, "reason": label or None})
    return media


_MEDIA_CLASSES = frozenset(
    {
        "tgme_widget_message_photo_wrap",
        "tgme_widget_message_video_player",
        "tgme_widget_message_roundvideo_player",
        "tgme_widget_message_voice_player",
        "tgme_widget_message_document_wrap",
        "tgme_widget_message_sticker_wrap",
        "tgme_widget_message_poll",
        "tgme_widget_message_location_wrap",
        "tgme_widget_message_contact",
        "message_media_not_supported",
    }
)
_STICKER_TYPES = {"tgs": "application/x-tgsticker", "webm": "video/webm", "webp": "image/webp"}


def _sticker(wrap: LexborNode) -> Media:
    """A sticker: a still image (``data-webp``), an animated one (``.tgs`` in a ``<source
    srcset>``) or a video sticker (``<video src>``); inline ``data:`` placeholders skipped."""
    for node in wrap.traverse(include_text=False):
        if node.tag not in ("i", "img", "picture", "source", "video"):
            continue
        attributes = node.attributes
        url = attributes.get("data-webp") or attributes.get("src") or attributes.get("srcset")
        url = (url or "").split(" ")[0] or _background(node)
        if url and not url.startswith("data:"):
            item: Media = {"type": "sticker", "url": url}
            extension = url.partition("?")[0].rpartition(".")[2].lower()
            if extension in _STICKER_TYPES:
                item["mime_type"] = _STICKER_TYPES[extension]
            return item
    return {"type": "sticker", "url": None}


def _player(node: LexborNode, kind: str, tag: str, duration: str) -> Media:
    """A round video or voice message: its file and its duration."""
    source = node.css_first(tag)
    return {
        "type": kind,
        "url": source.attributes.get("src") if source is not None else None,
        "duration": _duration(_text(node.css_first(f".tgme_widget_message_{duration}"))),
    }


def _background(node: LexborNode) -> str | None:
    match = _BACKGROUND_URL.search(node.attributes.get("style") or "")
    return match.group(1) if match else None


def _duration(text: str) -> int | None:
    if not text:
        return None
    seconds = 0
    for part in text.split(":"):
        if not part.strip().isdigit():
            return None
        seconds = seconds * 60 + int(part)
    return seconds


def _percent(text: str) -> int | None:
    text = text.strip().rstrip("%")
    return int(text) if text.isdigit() else None


def _inside(node: LexborNode, class_name: str, *, stop: LexborNode | None = None) -> bool:
    """Whether an ancestor of ``node`` (below ``stop``) has a class containing ``class_name``."""
    parent = node.parent
    while parent is not None and (stop is None or parent.mem_id != stop.mem_id):
        if class_name in (parent.attributes.get("class") or ""):
            return True
        parent = parent.parent
    return False


def _check_parts(bubble: LexborNode, key: str, warnings: list[str]) -> None:
    child = bubble.child
    while child is not None:
        if child.tag not in ("-text", "-comment"):
            classes = child.attributes.get("class") or ""
            if classes and not _is_known_part(classes):
                warnings.append(f"{key}: unknown part of a message: {classes!r}")
        child = child.next


@lru_cache(maxsize=1024)
def _is_known_part(classes: str) -> bool:
    return any(part in classes for part in _KNOWN_PARTS)


# -- text with its entities ------------------------------------------------------------


def _rich_text(node: LexborNode) -> tuple[str, list[Entity]]:
    """Plain text (``<br>`` as line breaks) and entities with offsets in code points."""
    parts: list[str] = []
    entities: list[Entity] = []
    _walk(node, parts, entities, [0])
    return strip_keeping_entities("".join(parts), entities)


def _walk(node: LexborNode, parts: list[str], entities: list[Entity], length: list[int]) -> None:
    child = node.child
    while child is not None:
        tag = child.tag
        if tag == "-text":
            value = child.text_content or ""
            value = _SOURCE_LINE_BREAK.sub(" ", value) if "\n" in value else value
            parts.append(value)
            length[0] += len(value)
        elif tag == "br":
            parts.append("\n")
            length[0] += 1
        elif tag == "i" and "emoji" in (child.attributes.get("class") or ""):
            value = _text(child)
            parts.append(value)
            length[0] += len(value)
        else:
            start = length[0]
            _walk(child, parts, entities, length)
            entity = _entity(child, parts, start, length[0] - start)
            if entity is not None:
                entities.append(entity)
        child = child.next


def _entity(node: LexborNode, parts: list[str], offset: int, size: int) -> Entity | None:
    """The entity that ``node`` marks over the last ``size`` code points of ``parts``."""
    if node.tag == "a":
        text = "".join(parts)[offset:]
        href = node.attributes.get("href") or ""
        if href.startswith("?q=%23") or (href.startswith("?q=") and text.startswith("#")):
            return {"type": "hashtag", "offset": offset, "length": size}
        if href.startswith("?q=%24"):
            return {"type": "cashtag", "offset": offset, "length": size}
        if text.startswith("@") and "t.me/" in href:
            return {"type": "mention", "offset": offset, "length": size}
        href = href.replace("&amp;", "&")
        kind = "url" if _shows_its_target(text, href) else "text_link"
        return {"type": kind, "offset": offset, "length": size, "url": href}
    kind = _FORMATTING.get(node.tag)
    if kind is None and "tg-spoiler" in (node.attributes.get("class") or ""):
        kind = "spoiler"
    return {"type": kind, "offset": offset, "length": size} if kind else None


def _shows_its_target(text: str, href: str) -> bool:
    """A plain URL (its text is the address, maybe shortened with …), not a named link."""
    shown = text.strip().rstrip("/").removeprefix("https://").removeprefix("http://")
    target = href.rstrip("/").removeprefix("https://").removeprefix("http://")
    if shown.endswith("…"):
        return len(shown) > 12 and target.startswith(shown[:-1])
    return bool(shown) and shown == target


def _one_line_or_more(node: LexborNode | None) -> str:
    """The text of an element that may hold line breaks (``<br>`` kept as ``\n``)."""
    return _rich_text(node)[0] if node is not None else ""


def _text(node: LexborNode | None) -> str:
    """The text of a small element on one line, with nothing put between inline parts (an
    emoji image and the word after it stay together).  Multi-line texts go through
    :func:`_rich_text`."""
    if node is None:
        return ""
    return " ".join(node.text(separator="").split())


def _unique(items) -> list:
    return list(dict.fromkeys(item for item in items if item))
