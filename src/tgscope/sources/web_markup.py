"""Reading Telegram's web-preview markup: text with its entities, and element lookups.

Shared by the page parser (:mod:`.web`) and its media reader (:mod:`.web_media`).
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

from ..clean import strip_keeping_entities
from ..errors import ParseError
from ..record import Entity
from .validate import MAX_MARKUP_DEPTH

_SOURCE_LINE_BREAK = re.compile(r"\s*\n\s*")  # a line break in the HTML source, not a <br>
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


def find_class(node: LexborNode | None, name: str) -> LexborNode | None:
    """The first element under ``node`` with the class ``name`` (a small subtree)."""
    if node is None:
        return None
    for child in node.traverse(include_text=False):
        classes = child.attributes.get("class")
        if classes and name in classes.split():
            return child
    return None


def find_tag(node: LexborNode | None, tag: str) -> LexborNode | None:
    """The first element under ``node`` (or ``node`` itself) with the tag ``tag``."""
    if node is None:
        return None
    for child in node.traverse(include_text=False):
        if child.tag == tag:
            return child
    return None


def inside(node: LexborNode, class_name: str, *, stop: LexborNode | None = None) -> bool:
    """Whether an ancestor of ``node`` (below ``stop``) has a class containing ``class_name``."""
    parent = node.parent
    while parent is not None and (stop is None or parent.mem_id != stop.mem_id):
        if class_name in (parent.attributes.get("class") or ""):
            return True
        parent = parent.parent
    return False


def rich_text(node: LexborNode) -> tuple[str, list[Entity]]:
    """Plain text (``<br>`` as line breaks) and entities with offsets in code points.

    Markup nested deeper than :data:`MAX_MARKUP_DEPTH` is refused (a ParseError).
    """
    parts: list[str] = []
    entities: list[Entity] = []
    _walk(node, parts, entities, [0], MAX_MARKUP_DEPTH)
    return strip_keeping_entities("".join(parts), entities)


def _walk(
    node: LexborNode, parts: list[str], entities: list[Entity], length: list[int], room: int
) -> None:
    """``room``: how many more levels may nest (the walk recurses once per level)."""
    if room <= 0:
        raise ParseError(f"text nested deeper than {MAX_MARKUP_DEPTH} levels")
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
            value = line_text(child)
            parts.append(value)
            length[0] += len(value)
        else:
            start, first = length[0], len(parts)
            _walk(child, parts, entities, length, room - 1)
            entity = _entity(child, parts[first:], start, length[0] - start)
            if entity is not None:
                entities.append(entity)
        child = child.next


#: what a service message may write straight into its bubble: the author's name (a link)
#: and the quoted text of the message it pinned
_SERVICE_PARTS = ("tgme_widget_message_author_name", "tgme_widget_service_strong_text")


def service_text(bubble: LexborNode) -> tuple[str, list[Entity]]:
    """The text of a service message without a text block (``Name pinned «text»``): the
    bubble's own text and its service parts, not its header, footer or other parts."""
    parts: list[str] = []
    entities: list[Entity] = []
    length = [0]
    child = bubble.child
    while child is not None:
        if child.tag == "-text":
            value = _SOURCE_LINE_BREAK.sub(" ", child.text_content or "")
            parts.append(value)
            length[0] += len(value)
        elif child.tag != "-comment" and _is_service_part(child):
            start, first = length[0], len(parts)
            _walk(child, parts, entities, length, MAX_MARKUP_DEPTH - 1)
            entity = _entity(child, parts[first:], start, length[0] - start)
            if entity is not None:
                entities.append(entity)
        child = child.next
    return strip_keeping_entities("".join(parts), entities)


def _is_service_part(node: LexborNode) -> bool:
    classes = (node.attributes.get("class") or "").split()
    return any(name in classes for name in _SERVICE_PARTS)


def _entity(node: LexborNode, pieces: list[str], offset: int, size: int) -> Entity | None:
    """The entity that ``node`` marks: ``pieces`` of text, ``size`` code points at ``offset``."""
    if node.tag == "a":
        text = "".join(pieces)
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
    style = _FORMATTING.get(node.tag or "")
    if style is None and "tg-spoiler" in (node.attributes.get("class") or ""):
        style = "spoiler"
    return {"type": style, "offset": offset, "length": size} if style else None


def _shows_its_target(text: str, href: str) -> bool:
    """A plain URL (its text is the address, maybe shortened with …), not a named link."""
    shown = text.strip().rstrip("/").removeprefix("https://").removeprefix("http://")
    target = href.rstrip("/").removeprefix("https://").removeprefix("http://")
    if shown.endswith("…"):
        return len(shown) > 12 and target.startswith(shown[:-1])
    return bool(shown) and shown == target


def one_line_or_more(node: LexborNode | None) -> str:
    """The text of an element that may hold line breaks (``<br>`` kept as ``\n``)."""
    return rich_text(node)[0] if node is not None else ""


def line_text(node: LexborNode | None) -> str:
    """The text of a small element on one line, with nothing put between inline parts (an
    emoji image and the word after it stay together).  Multi-line texts go through
    :func:`_rich_text`."""
    if node is None:
        return ""
    return " ".join(node.text(separator="").split())
