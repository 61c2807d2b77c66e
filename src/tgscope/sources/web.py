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
from typing import cast

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..clean import entity_marks
from ..errors import ParseError
from ..record import (
    Button,
    Channel,
    Entity,
    ForwardedFrom,
    LinkPreview,
    Post,
    Reaction,
    ReplyTo,
)
from .validate import check_markup_depth, count_of, join_html, number_of
from .web_markup import (
    find_class,
    find_tag,
    inside,
    line_text,
    one_line_or_more,
    rich_text,
    service_text,
)
from .web_media import MEDIA_CLASSES, message_media, preview_image

FORMAT = "web"
MERGE_RANK = {"fields": 4, "date": 1}  # store.merge: lower wins; exact UTC dates

_TME_POST = re.compile(r"^https?://t\.me/(?:s/)?([A-Za-z0-9_]+)/([0-9]{1,18})(?![0-9])")
_TME_CHANNEL = re.compile(r"^https?://t\.me/([A-Za-z0-9_]+)/?$")

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
    "tgme_widget_message_grouped_wrap",
    "tgme_widget_message_via_bot",
    "tgme_widget_message_inline_keyboard",
    "message_media_not_supported_wrap",
    "media_supported_cont",
    "media_not_supported_cont",
    "tgme_widget_message_service_date_wrap",
    "tgme_widget_message_service_photo",
    "tgme_widget_service_strong_text",  # the quoted text of a pinned message
    "tgme_widget_message_error",  # a deleted post's placeholder
    *sorted(MEDIA_CLASSES),
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
    "tgme_widget_message_error",
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
    """Channel header, posts (oldest first, as on the page) and paging cursors of one page.

    HTML nested deeper than :data:`~.validate.MAX_MARKUP_DEPTH` is refused with a
    :class:`ParseError` naming ``url`` (and the post, when the nesting is in one).
    """
    try:
        return _parse_page(html, url)
    except ParseError as error:
        if error.path:
            raise
        raise ParseError(error.reason, path=url or None) from error


def _parse_page(html: str | bytes, url: str) -> WebPage:
    check_markup_depth(html)
    tree = LexborHTMLParser(html)
    header, messages, page_parts = _index_page(tree)
    page = WebPage(url=url, channel=_channel_info(header), posts=[])
    title = page.channel.title if page.channel else None
    for node, parts in messages:
        try:
            post = _parse_message(node, parts, title, page.warnings)
        except ParseError as error:
            name = node.attributes.get("data-post") or "a message"
            raise ParseError(f"{name}: {error.reason}") from error
        if post is not None:
            page.posts.append(post)
    page.before, page.after = _cursors(page_parts)
    page.shown = {post.id for post in page.posts if post.id is not None}
    for link in page_parts.all(_ALBUM_ITEM):  # the other messages of an album
        match = _TME_POST.match(link.attributes.get("href") or "")
        if match:
            page.shown.add(int(match.group(2)))
    return page


def read(context) -> Iterator[Post | Channel]:
    """The importer's reader (see :class:`tgscope.sources.ReadContext`)."""
    return read_saved_page(context.text(), warn=context.warn, path=context.path)


def read_saved_page(
    text: Iterable[str],
    *,
    channel: str | None = None,
    warn: Callable[[str], None] | None = None,
    path: str = "",
) -> Iterator[Post | Channel]:
    """The importer's reader for a saved page: its channel header, then its posts.

    The page names its channel itself, so ``channel`` is not needed (and not used);
    ``path`` names the file in errors.
    """
    page = parse_page(join_html(text, path or None), path)
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
    username = line_text(header.first("tgme_channel_info_header_username")).lstrip("@").lower()
    counters = {}
    for counter in header.all("tgme_channel_info_counter"):
        value = line_text(find_class(counter, "counter_value"))
        kind = line_text(find_class(counter, "counter_type")).rstrip("s") + "s"
        try:
            counters[kind] = count_of(value)
        except ValueError:
            continue
    description = header.first("tgme_channel_info_description")
    return Channel(
        username=username or None,
        title=line_text(header.first("tgme_channel_info_header_title")) or None,
        description=rich_text(description)[0] if description is not None else None,
        verified=header.first("verified-icon") is not None or None,
        counters=counters,
        avatar=_avatar(header.first("tgme_page_photo_image")),
    )


def _avatar(photo: LexborNode | None) -> str | None:
    image = find_tag(photo, "img")
    return (image.attributes.get("src") or None) if image is not None else None


def _cursors(page_parts: _Parts) -> tuple[int | None, int | None]:
    before = after = None
    for link in page_parts.all("tme_messages_more"):
        before = number_of(link.attributes.get("data-before") or "") or before
        after = number_of(link.attributes.get("data-after") or "") or after
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
    current: LexborNode | None = node
    while current is not None:
        following = current.next
        while following is not None and following.tag in ("-text", "-comment"):
            following = following.next
        if following is not None:
            return following.mem_id
        current = current.parent
    return None


@lru_cache(maxsize=4096)
def _indexed_names(classes: str) -> tuple[str, ...]:
    """The class names in ``classes`` that extraction looks up (a message's own first)."""
    names = [name for name in classes.split() if name in _INDEXED_CLASSES]
    if "tgme_widget_message" in names:
        names.remove("tgme_widget_message")
        names.insert(0, "tgme_widget_message")
    return tuple(names)


def _parse_message(
    node: LexborNode, parts: _Parts, channel_title: str | None, warnings: list[str]
) -> Post | None:
    channel, _, digits = (node.attributes.get("data-post") or "").partition("/")
    number = number_of(digits)
    if not channel or number is None:
        warnings.append(f"message without a usable data-post: {node.attributes.get('data-post')!r}")
        return None
    if parts.first("tgme_widget_message_error") is not None:
        return None  # a deleted post's placeholder ("Post not found"): nothing to archive
    key = f"{channel.lower()}/{number}"
    bubble = parts.first("tgme_widget_message_bubble") or node
    service = "service_message" in (node.attributes.get("class") or "")
    text, entities = "", cast(list[Entity], [])
    text_node = _own_text_node(parts, bubble)
    if text_node is not None:
        text, entities = rich_text(text_node)
    elif service:  # a service message written straight into the bubble
        text, entities = service_text(bubble)
    post = Post(
        key=key,
        channel=channel.lower(),
        channel_title=line_text(parts.first("tgme_widget_message_owner_name")) or channel_title,
        id=number,
        date=_date(parts),
        text=text,
        entities=entities,
        views=_views(parts),
        reactions=_reactions(parts, key, warnings),
        forwarded_from=_forwarded_from(parts),
        reply_to=_reply_to(parts),
        media=message_media(parts),
        link_preview=_link_preview(parts),
        author=line_text(parts.first("tgme_widget_message_from_author")) or None,
        via_bot=_via_bot(parts, bubble),
        buttons=_buttons(parts),
        edited="edited" in line_text(parts.first("tgme_widget_message_meta")),
        album_id=key if parts.first("tgme_widget_message_grouped_wrap") else None,
    )
    if service:
        post.service = text or "service"
    post.hashtags, post.mentions, post.links = entity_marks(text, entities, fallback=False)
    _check_parts(bubble, key, warnings)
    return post


def _own_text_node(parts: _Parts, bubble: LexborNode) -> LexborNode | None:
    """The post's own text: not the quoted text of a reply or of a link preview."""
    for candidate in parts.all("tgme_widget_message_text"):
        if not inside(candidate, "tgme_widget_message_reply", stop=bubble) and not inside(
            candidate, "link_preview", stop=bubble
        ):
            return candidate
    return None


def _date(parts: _Parts) -> str | None:
    link = parts.first("tgme_widget_message_date")
    time = find_tag(link, "time")
    stamp = time.attributes.get("datetime") if time is not None else None
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    except (ValueError, OverflowError):
        return None


def _views(parts: _Parts) -> int | None:
    views = line_text(parts.first("tgme_widget_message_views"))
    try:
        return count_of(views) if views else None
    except ValueError:
        return None


def _forwarded_from(parts: _Parts) -> ForwardedFrom | None:
    block = parts.first("tgme_widget_message_forwarded_from")
    if block is None:
        return None
    name = parts.first("tgme_widget_message_forwarded_from_name")
    title = (
        line_text(name)
        if name is not None
        else line_text(block).removeprefix("Forwarded from").strip()
    )
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
        if inside(link, "tgme_widget_message_reply", stop=bubble):
            continue  # the replied-to message's bot, not this one's
        match = _TME_CHANNEL.match(link.attributes.get("href") or "")
        name = match.group(1) if match else line_text(link).removeprefix("via").strip().lstrip("@")
        return name.lower() or None
    return None


def _buttons(parts: _Parts) -> list[Button]:
    """Inline buttons: a link button's URL; other buttons (callbacks, votes) keep their label."""
    return [
        {
            "text": line_text(button),
            "url": (button.attributes.get("href") or None) if button.tag == "a" else None,
        }
        for button in parts.all("tgme_widget_message_inline_button")
    ]


def _link_preview(parts: _Parts) -> LinkPreview | None:
    preview = parts.first("tgme_widget_message_link_preview")
    if preview is None:
        return None
    found: LinkPreview = {
        "url": preview.attributes.get("href"),
        "site_name": line_text(parts.first("link_preview_site_name")) or None,
        "title": line_text(parts.first("link_preview_title")) or None,
        "description": one_line_or_more(parts.first("link_preview_description")) or None,
    }
    image = preview_image(preview)
    if image is not None:  # only when shown: records of previews without one stay as they were
        found["image"] = image
    return found


def _reactions(parts: _Parts, key: str, warnings: list[str]) -> list[Reaction]:
    reactions: list[Reaction] = []
    for item in parts.all("tgme_reaction"):
        count_text = "".join(child.text_content or "" for child in _text_children(item)).strip()
        try:
            count = count_of(count_text)
        except ValueError:
            warnings.append(f"{key}: reaction without a count: {(item.html or '')[:80]!r}")
            continue
        custom = find_tag(item, "tg-emoji")
        classes = item.attributes.get("class") or ""
        if "paid" in classes or find_class(item, "icon-telegram-stars") is not None:
            reactions.append({"paid": True, "count": count})
        elif custom is not None and (emoji_id := custom.attributes.get("emoji-id")):
            reactions.append({"custom_emoji_id": emoji_id, "count": count})
        else:
            emoji = line_text(find_tag(item, "b")) or line_text(find_class(item, "emoji"))
            reactions.append({"emoji": emoji.replace("\ufe0f", ""), "count": count})
    return reactions


def _text_children(node: LexborNode):
    child = node.child
    while child is not None:
        if child.tag == "-text":
            yield child
        child = child.next


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
