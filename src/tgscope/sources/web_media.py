"""The media of a web-preview message: photos, videos, voice, files, stickers, polls..."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

from selectolax.lexbor import LexborNode

from ..record import Media
from .validate import duration_of, number_of, size_of
from .web_markup import find_class, inside, line_text

if TYPE_CHECKING:
    from .web import _Parts

_BACKGROUND_URL = re.compile(r"background-image:\s*url\(['\"]?([^'\")]+)['\"]?\)")


def message_media(parts: _Parts) -> list[Media]:
    """A message's attachments; an album's in the order the page shows them."""
    if MEDIA_CLASSES.isdisjoint(parts.by_class):
        return []
    found: list[tuple[LexborNode, Media]] = []  # each item with its element, to order albums
    for photo in parts.all("tgme_widget_message_photo_wrap"):
        found.append((photo, {"type": "photo", "url": _background(photo)}))
    for video in parts.all("tgme_widget_message_video_player"):
        found.append((video, _video(video)))
    for rounded in parts.all("tgme_widget_message_roundvideo_player"):
        item = _player(rounded, "round_video", "video", "roundvideo_duration")
        _add_thumb(item, rounded, "tgme_widget_message_roundvideo_thumb")
        if item["url"] is None:  # no <video>: only the player's "not supported" note
            item["unsupported"] = True
        found.append((rounded, item))
    media = [item for _, item in _in_album_order(found, parts)]
    for voice in parts.all("tgme_widget_message_voice_player"):
        media.append(_player(voice, "voice", "audio", "voice_duration"))
    for document in parts.all("tgme_widget_message_document_wrap"):
        kind = "audio" if document.css_first(".audio") is not None else "document"
        item = {
            "type": kind,
            "file_name": line_text(document.css_first(".tgme_widget_message_document_title"))
            or None,
        }
        extra = line_text(document.css_first(".tgme_widget_message_document_extra"))
        size = size_of(extra)
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
                "text": line_text(option.css_first(".tgme_widget_message_poll_option_text")),
                "percent": _percent(
                    line_text(option.css_first(".tgme_widget_message_poll_option_percent"))
                ),
            }
            for option in poll.css(".tgme_widget_message_poll_option")
        ]
        media.append(
            {
                "type": "poll",
                "poll": {
                    "question": line_text(poll.css_first(".tgme_widget_message_poll_question")),
                    "kind": line_text(poll.css_first(".tgme_widget_message_poll_type")) or None,
                    "options": options,
                },
            }
        )
    for location in parts.all("tgme_widget_message_location_wrap"):
        media.append({"type": "location", "url": location.attributes.get("href")})
    for contact in parts.all("tgme_widget_message_contact"):
        person = {
            "type": "contact",
            "name": line_text(contact.css_first(".tgme_widget_message_contact_name")) or None,
            "phone": line_text(contact.css_first(".tgme_widget_message_contact_phone")) or None,
        }
        media.append(cast(Media, person))
    for stub in parts.all("message_media_not_supported"):
        if stub.parent is not None and any(inside(stub, player) for player in _PLAYERS):
            continue  # a player's own fallback, shown only when the browser cannot play it
        label = line_text(stub.css_first(".message_media_not_supported_label"))
        if media and inside(stub, "media_not_supported_cont"):
            continue  # the part of a post the browser can show is already listed
        stub_item = {"type": "unsupported", "unsupported": True, "reason": label or None}
        media.append(cast(Media, stub_item))
    return media


#: the classes of a message's media elements (the parser also checks a bubble's parts by them)
MEDIA_CLASSES = frozenset(
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
#: the players whose "not supported in your browser" note is their own fallback
_PLAYERS = ("tgme_widget_message_video_player", "tgme_widget_message_roundvideo_player")
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
        "duration": duration_of(line_text(node.css_first(f".tgme_widget_message_{duration}"))),
    }


def _video(player: LexborNode) -> Media:
    """A video or GIF: its file, duration and poster, or why the page does not show it."""
    source = player.css_first("video")
    is_gif = "message_video_gif" in (player.attributes.get("class") or "") or (
        source is not None and "autoplay" in (source.attributes or {})
    )
    item: Media = {
        "type": "gif" if is_gif and not player.css_first(".message_video_duration") else "video",
        "url": source.attributes.get("src") if source is not None else None,
        "duration": duration_of(line_text(player.css_first(".message_video_duration"))),
    }
    _add_thumb(item, player, "tgme_widget_message_video_thumb")
    # every player holds a "not supported in your browser" stub, shown only when needed:
    # the video is missing only when the player says so, or has no <video> at all
    if "not_supported" in (player.attributes.get("class") or "") or source is None:
        item["unsupported"] = True
        if "too big" in line_text(player).lower():
            item["reason"] = "too_big"
    return item


def _add_thumb(item: Media, player: LexborNode, name: str) -> None:
    """A video's poster (the still shown before it plays), when the page gives one: a
    picture of its own that a video too big to show still has."""
    thumb = web_url(_background(find_class(player, name)))
    if thumb is not None:
        item["thumb"] = thumb


def _in_album_order(
    found: list[tuple[LexborNode, Media]], parts: _Parts
) -> list[tuple[LexborNode, Media]]:
    """Photos and videos of an album in the order of the page (they are found by kind), so
    that an item's position is the same wherever it is read."""
    album = parts.first("tgme_widget_message_grouped_wrap")
    if album is None or len({item["type"] for _, item in found}) < 2:
        return found  # one kind: found in the page's order already
    order = {node.mem_id: n for n, node in enumerate(album.traverse(include_text=False))}
    return sorted(found, key=lambda pair: order.get(pair[0].mem_id, len(order)))


#: the classes of a link preview's picture: a photo (wide, or small at the right) or the
#: poster of the video it shows
_PREVIEW_PICTURES = frozenset(
    {"link_preview_image", "link_preview_right_image", "link_preview_video_thumb"}
)


def preview_image(preview: LexborNode) -> str | None:
    """The URL of a link preview's picture, or None when it shows none."""
    for node in preview.traverse(include_text=False):
        classes = node.attributes.get("class")
        if classes and not _PREVIEW_PICTURES.isdisjoint(classes.split()):
            url = web_url(_background(node))
            if url is not None:
                return url
    return None


def web_url(url: str | None) -> str | None:
    """``url`` as an absolute web address: a protocol-relative one (``//cdn…``) on https;
    None for anything else (an inline ``data:`` placeholder, a relative path)."""
    if not url:
        return None
    if url.startswith("//"):
        url = "https:" + url
    return url if url.startswith(("https://", "http://")) else None


def _background(node: LexborNode | None) -> str | None:
    if node is None:
        return None
    match = _BACKGROUND_URL.search(node.attributes.get("style") or "")
    return match.group(1) if match else None


def _percent(text: str) -> int | None:
    text = text.strip().rstrip("%")
    return number_of(text)
