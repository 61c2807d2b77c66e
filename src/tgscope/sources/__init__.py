"""Sources: one module per kind of input, each with a pure ``parse_*`` function.

The registry below is explicit (no discovery by side effect): :func:`detect_format`
asks each source whether the start of a file looks like its format.  Every reader takes a
:class:`ReadContext` (how to read the file, what the user said about it) and yields
:class:`~tgscope.record.Channel` headers and :class:`~tgscope.record.Post` records.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import KW_ONLY, dataclass
from typing import Any, BinaryIO

from ..dates import time_zone
from ..errors import OptionError, ParseError, UnknownFormat
from ..record import Channel, Post
from . import desktop_html, desktop_json, tabular, textdump, web
from .validate import with_path

KnownChannel = Callable[[int | None, str | None], str | None]


def _no_known_channel(_id: int | None, _title: str | None) -> str | None:
    return None


@dataclass
class ReadContext:
    """One file to read, and what the user and the archive know about it.

    The format options are typed fields, checked before any file is read
    (:meth:`FormatOptions.checked`); each reader reads those that apply to it: ``timezone``
    and ``chat`` (Desktop exports), ``mapping``, ``delimiter`` and ``markdown`` (other tools'
    CSV and JSON).  The file's encoding is applied by ``text`` already (lines longer than
    :data:`~tgscope.inputs.MAX_LINE` are refused); ``encoding`` is for a reader that decodes
    ``binary`` itself (a JSON array may be one long line).
    """

    path: str
    text: Callable[[], Iterator[str]]  # the file as decoded chunks of whole lines
    binary: Callable[[], AbstractContextManager[BinaryIO]]  # the raw bytes, with progress
    warn: Callable[[str], None]
    channel: str | None = None  # the channel the user named for the file
    # the username of a channel the archive knows by its Telegram id or title, if any
    known_channel: KnownChannel = _no_known_channel
    _: KW_ONLY
    timezone: str | None = None  # where a Desktop export without UTC times was made
    chat: int | None = None  # the one chat of a whole-account export to read
    mapping: dict[str, str] | None = None  # record field -> column, as parse_mapping gives
    delimiter: str | None = None  # a CSV file's; None: found from its header
    markdown: bool = False  # texts are written in Telethon's markdown
    encoding: str | None = None  # the file's (a Python codec name; None: UTF-8), for binary


Reader = Callable[[ReadContext], Iterator[Post | Channel]]


@dataclass(frozen=True, kw_only=True)
class FormatOptions:
    """What the user said about how to read files, checked once for a whole import."""

    timezone: str | None = None
    chat: int | None = None
    mapping: dict[str, str] | None = None
    encoding: str | None = None  # a Python codec name; None: UTF-8
    delimiter: str | None = None
    markdown: bool = False

    @classmethod
    def checked(
        cls,
        *,
        timezone: str | None = None,
        chat: int | None = None,
        mapping: str | Mapping[str, str] | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
        markdown: bool = False,
    ) -> FormatOptions:
        """The options, each checked: :class:`OptionError` names the one that cannot be."""
        if timezone is not None:
            try:
                time_zone(timezone)
            except OptionError as error:
                raise OptionError(f"timezone: unknown time zone {timezone!r}") from error
        if chat is not None and (isinstance(chat, bool) or not isinstance(chat, int)):
            raise OptionError(f"chat: not a chat id: {chat!r}")
        return cls(
            timezone=timezone,
            chat=chat,
            mapping=tabular.parse_mapping(mapping) or None,
            encoding=_checked_encoding(encoding),
            delimiter=_checked_delimiter(delimiter),
            markdown=bool(markdown),
        )

    def context(self, path: str, **reading: Any) -> ReadContext:
        """The reading context of one file with these options."""
        return ReadContext(
            path,
            timezone=self.timezone,
            chat=self.chat,
            mapping=self.mapping,
            delimiter=self.delimiter,
            markdown=self.markdown,
            encoding=self.encoding,
            **reading,
        )


def _checked_encoding(name: str | None) -> str | None:
    """A text encoding's canonical name (``cp1251``), None for UTF-8 (the default)."""
    if name is None:
        return None
    try:
        info = codecs.lookup(name)
    except LookupError as error:
        raise OptionError(f"encoding: unknown encoding {name!r}") from error
    if not getattr(info, "_is_text_encoding", True):
        raise OptionError(f"encoding: {name!r} is not a text encoding")
    return None if info.name == "utf-8" else info.name


def _checked_delimiter(value: str | None) -> str | None:
    if value is None:
        return None
    value = {"tab": "\t", "\\t": "\t"}.get(value.lower(), value)
    if len(value) != 1 or value in '"\r\n':
        raise OptionError(f"delimiter: {value!r} is not one character (or 'tab')")
    return value


def _textdump(context: ReadContext) -> Iterator[Post | Channel]:
    posts = textdump.parse_textdump(context.text(), channel=context.channel, warn=context.warn)
    return with_path(posts, context.path)


#: format name -> its reader
SOURCES: dict[str, Reader] = {
    textdump.FORMAT: _textdump,
    web.FORMAT: web.read,
    desktop_json.FORMAT: desktop_json.read,
    desktop_html.FORMAT: desktop_html.read,
    tabular.TGSCOPE_JSONL: tabular.read_tgscope_jsonl,
    tabular.SNSCRAPE: tabular.read_snscrape,
    tabular.JSONL: tabular.read_jsonl,
    tabular.CSV: tabular.read_csv,
}
#: the formats whose files may come in another encoding than UTF-8
ENCODED_FORMATS = (textdump.FORMAT, tabular.CSV, tabular.JSONL)

_JSON_START = re.compile(rb"\{|\[\s*[\[\]{\"]")
_HTML_TAG = re.compile(rb"<(?:!doctype|html|head|body|div|main|meta|a)[\s>]", re.IGNORECASE)


def detect_format(head: bytes, *, path: str, encoding: str | None = None) -> str:
    """The format of a file from its first bytes; :class:`UnknownFormat` when none fits.

    Without an ``encoding`` the file must be UTF-8: a byte that cannot be is a
    :class:`ParseError` naming its line, not an unknown format.
    """
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    text = _head_text(head, path, encoding)
    if _JSON_START.match(stripped):
        try:
            return _json_format(text, path)
        except ParseError as error:  # nesting past the cap, found before parsing
            raise ParseError(error.reason, path=path, line=1) from error
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
        "read it as format 'textdump' to force, or 'csv' with a mapping of its columns"
    )


def _json_format(text: str, path: str) -> str:
    """Which JSON format the start of a file is (first the formats that say who wrote them)."""
    for name, looks_like in (
        (desktop_json.FORMAT, desktop_json.looks_like_export),
        (tabular.TGSCOPE_JSONL, tabular.looks_like_tgscope_jsonl),
        (tabular.SNSCRAPE, tabular.looks_like_snscrape),
        (tabular.JSONL, tabular.looks_like_rows),
    ):
        if looks_like(text):
            return name
    raise UnknownFormat(
        f"{path}: JSON that is not a Telegram Desktop export, a tgscope export or snscrape"
        " output; another tool's JSON Lines or array of objects is read as format 'jsonl'"
        " with a mapping of its keys (FIELD=KEY,...)"
    )


def _head_text(head: bytes, path: str, encoding: str | None) -> str:
    """The first bytes as text; not UTF-8 (without another encoding) is an error."""
    if encoding is not None:
        return head.decode(encoding, errors="replace")
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 3 and error.reason == "unexpected end of data":
            return head[: error.start].decode("utf-8")  # a character cut by the head's end
        line_start = head.rfind(b"\n", 0, error.start) + 1
        column = len(head[line_start : error.start].decode("utf-8", "replace")) + 1
        raise ParseError(
            f"not UTF-8 text (byte 0x{head[error.start]:02x} at column {column})",
            path=path,
            line=head.count(b"\n", 0, error.start) + 1,
        ) from error
