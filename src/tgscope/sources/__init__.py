"""Sources: one module per kind of input, each with a pure ``parse_*`` function.

The registry below is explicit (no discovery by side effect): :func:`detect_format`
asks each source whether the start of a file looks like its format.
"""

from __future__ import annotations

import re

from ..errors import UnknownFormat
from . import textdump, web

#: format name -> its reader: ``read(text, *, channel, warn)`` yields posts and channels
SOURCES = {textdump.FORMAT: textdump.parse_textdump, web.FORMAT: web.read_saved_page}

_JSON_START = re.compile(rb"\{|\[\s*[\[\]{\"]")
_HTML_TAG = re.compile(rb"<(?:!doctype|html|head|body|div|main|meta|a)[\s>]", re.IGNORECASE)


def detect_format(head: bytes, *, path: str) -> str:
    """The format of a file from its first bytes; :class:`UnknownFormat` when none fits."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if _JSON_START.match(stripped):
        raise UnknownFormat(f"{path}: JSON input is not supported yet (Desktop exports come next)")
    text = head.decode("utf-8", errors="ignore")
    if stripped[:1] == b"<" or _HTML_TAG.search(head[:4096]):
        if web.looks_like_web_page(text):
            return web.FORMAT
        raise UnknownFormat(
            f"{path}: HTML that is not a saved t.me/s page"
            " (Telegram Desktop HTML exports are not supported yet)"
        )
    if textdump.looks_like_textdump(text):
        return textdump.FORMAT
    raise UnknownFormat(
        f"{path}: unknown format (no 'Forwarded from', reactions or web-preview lines); "
        "use --format textdump to force"
    )
