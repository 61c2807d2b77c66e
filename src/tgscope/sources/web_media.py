"""The media of a web-preview message: photos, videos, voice, files, stickers, polls..."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

from selectolax.lexbor import LexborNode

from ..record import Media
from .validate import duration_of, number_of, size_of
from .web_markup import inside, line_text

if TYPE_CHECKING:
    from .web import _Parts

_BACKGROUND_URL = re.compile(r"background-image:\s*url\(['\"]?([^'\")]+)['\"]?\)")


def message_media(parts: _Parts) -> list[Media]:
    if MEDIA_CLASSES.isdisjoint(parts.by_class):
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
            "duration": duration_of(line_text(video.css_first(".message_video_duration"))),
        }
        # every player holds a "not supported in your browser" stub, shown only when needed:
        # the video is missing only when the player says so, or has no <video> at all
        if "not_supported" in (video.attributes.get("class") or "") or source is None:
            item["unsupported"] = True
            if "too big" in line_text(video).lower():
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
        if stub.parent is not None and inside(stub, "tgme_widget_message_video_player"):
            continue
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


def _background(node: LexborNode) -> str | None:
    match = _BACKGROUND_URL.search(node.attributes.get("style") or "")
    return match.group(1) if match else None


def _percent(text: str) -> int | None:
    text = text.strip().rstrip("%")
    return number_of(text)
