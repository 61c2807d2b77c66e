"""Sources: one module per kind of input, each with a pure ``parse_*`` function.

The registry below is explicit (no discovery by side effect): :func:`detect_format`
asks each source whether the start of a file looks like its format.  Every reader takes a
:class:`ReadContext` (how to read the file, what the user said about it) and yields
:class:`~tgscope.record.Channel` headers and :class:`~tgscope.record.Post` records.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import BinaryIO

from ..errors import UnknownFormat
from ..record import Channel, Post
from . import desktop_html, desktop_json, tabular, textdump, web


@dataclass
class ReadContext:
    """One file to read, and what the user and the archive know about it."""

    path: str
    text: Callable[[], Iterator[str]]  # the file as decoded chunks of whole lines
    binary: Callable[[], AbstractContextManager[BinaryIO]]  # the raw bytes, with progress
    warn: Callable[[str], None]
    channel: str | None = None  # --channel
    # the username of a channel the archive knows by its Telegram id or title, if any
    known_channel: Callable[[int | None, str | None], str | None] = lambda _id, _title: None
    options: dict[str, object] = field(default_factory=dict)  # --timezone, --map, ...


Reader = Callable[[ReadContext], Iterator[Post | Channel]]


def _textdump(context: ReadContext) -> Iterator[Post | Channel]:
    return textdump.parse_textdump(context.text(), channel=context.channel, warn=context.warn)


def _web(context: ReadContext) -> Iterator[Post | Channel]:
    return web.read_saved_page(context.text(), warn=context.warn)


#: format name -> its reader
SOURCES: dict[str, Reader] = {
    textdump.FORMAT: _textdump,
    web.FORMAT: _web,
    desktop_json.FORMAT: desktop_json.read,
    desktop_html.FORMAT: desktop_html.read,
    tabular.TGSCOPE_JSONL: tabular.read_tgscope_jsonl,
    tabular.SNSCRAPE: tabular.read_snscrape,
    tabular.JSONL: tabular.read_jsonl,
    tabular.CSV: tabular.read_csv,
}

_JSON_START = re.compile(rb"\{|\[\s*[\[\]{\"]")
_HTML_TAG = re.compile(rb"<(?:!doctype|html|head|body|div|main|meta|a)[\s>]", re.IGNORECASE)


def detect_format(head: bytes, *, path: str) -> str:
    """The format of a file from its first bytes; :class:`UnknownFormat` when none fits."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    text = head.decode("utf-8", errors="ignore")
    if _JSON_START.match(stripped):
        for name, looks_like in (
            (desktop_json.FORMAT, desktop_json.looks_like_export),
            (tabular.TGSCOPE_JSONL, tabular.looks_like_tgscope_jsonl),
            (tabular.SNSCRAPE, tabular.looks_like_snscrape),
        ):
            if looks_like(text):
                return name
        raise UnknownFormat(
            f"{path}: JSON that is not a Telegram Desktop export, a tgscope export or snscrape"
            " output; for another tool's JSON Lines use --format jsonl --map"
        )
    if stripped[:1] == b"<" or _HTML_TAG.search(head[:4096]):
        if web.looks_like_web_page(text):
            return web.FORMAT
        if desktop_html.looks_like_export(text):
            return desktop_html.FORMAT
        raise UnknownFormat(
            f"{path}: HTML that is neither a saved t.me/s page nor a Telegram Desktop export"
        )
    if tabular.looks_like_csv(text):
        return tabular.CSV
    if textdump.looks_like_textdump(text):
        return textdump.FORMAT
    raise UnknownFormat(
        f"{path}: unknown format (no 'Forwarded from', reactions or web-preview lines); "
        "use --format textdump to force, or --format csv --map for another tool's table"
    )
