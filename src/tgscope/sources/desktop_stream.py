"""Streaming a Telegram Desktop JSON export: bytes checked on the way in, messages out.

The one-chat path feeds ijson's C item builder (fast); a whole-account export is walked
event by event so that each message is filed under its chat.  :class:`CheckedStream` sits
between the file and ijson: it fixes Telegram's ``\\xNN`` escapes, replaces lone surrogate
escapes, and refuses nesting and strings that would cost ijson unbounded memory or time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import ijson
from ijson.common import ObjectBuilder

from ..errors import ParseError
from .validate import MAX_JSON_DEPTH, MAX_JSON_STRING, JsonDepth

Warn = Callable[[str], None]


def chat_header(stream: BinaryIO, path: str) -> dict[str, Any] | None:
    """A one-chat export's ``name``, ``type`` and ``id`` (written before its messages);
    None for a whole-account export."""
    header: dict[str, Any] = {}
    try:
        for prefix, event, value in ijson.parse(CheckedStream(stream, path), use_float=True):
            if prefix in ("name", "type", "id") and event in ("string", "number"):
                header[prefix] = value
            elif prefix in ("chats", "personal_information", "about", "left_chats"):
                return None
            elif prefix == "messages":
                _check_messages(event, "", path)
                return header
    except (ijson.JSONError, UnicodeDecodeError):
        return header  # the error is reported with its position by the full pass
    raise ParseError("the export has no 'messages' list", path=path)


#: what an ijson event at a field's start says the field holds
_EVENT_KINDS = {
    "start_map": "an object",
    "string": "a string",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _check_messages(event: str, chat: str, path: str) -> None:
    """A chat's ``messages`` must be a list (an object or a string would give no posts)."""
    if event != "start_array":
        raise ParseError(
            f"{chat}field 'messages' should be a list, got {_EVENT_KINDS.get(event, event)}",
            path=path,
        )


def message_items(stream: BinaryIO, prefix: str, path: str, warn: Warn) -> Iterator[dict[str, Any]]:
    """The objects at ``prefix`` (``messages.item``), built by ijson's C backend."""
    checked = CheckedStream(stream, path)
    try:
        yield from ijson.items(checked, prefix, use_float=True)
    except (ijson.JSONError, UnicodeDecodeError) as error:
        raise _json_error(error, stream, path) from error
    _warn_surrogates(checked, warn)


def _warn_surrogates(checked: CheckedStream, warn: Warn) -> None:
    if checked.lone_surrogates:
        warn(
            f"{checked.lone_surrogates} lone surrogate escape(s) (half of a \\uD800-\\uDFFF"
            " pair: not text) replaced with U+FFFD"
        )


class CheckedStream:
    r"""The export's bytes as ijson should see them, checked on the way.

    Telegram Desktop writes some control characters as ``\xNN``, which JSON does not
    allow: they are read as ``\u00NN``.  A ``\u`` escape of half a UTF-16 surrogate pair
    with no other half cannot be text: it becomes U+FFFD (and is counted, for a warning).
    Nesting deeper than :data:`MAX_JSON_DEPTH`, and a string longer than
    :data:`MAX_JSON_STRING`, are refused before ijson sees them (ijson keeps a path per
    level: 100,000 levels took it 24 GB; its time grows with the square of a string's
    length).  Chunks without a backslash pass untouched.
    """

    _BAD = re.compile(rb"(?<!\\)((?:\\\\)*)\\x([0-9A-Fa-f]{2})")
    _SUSPECT = re.compile(rb"\\(?:x|u[dD])")
    _HIGH = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}")
    _LONE = re.compile(
        rb"(?<!\\)((?:\\\\)*)(?:\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
        rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    )

    def __init__(self, stream: BinaryIO, path: str | None = None):
        self.stream, self.carry = stream, b""
        self.depth = JsonDepth(MAX_JSON_DEPTH, where=path, max_string=MAX_JSON_STRING)
        self.lone_surrogates = 0

    def read(self, size: int = -1) -> bytes:
        while True:
            raw = self.stream.read(size)
            data, self.carry = self.carry + raw, b""
            if not raw or size == -1:  # the end: nothing can follow an escape cut short
                return self._checked(data)
            # keep back an escape (or a surrogate pair) the chunk may have cut, with the
            # backslashes before it
            slash = data.find(b"\\", max(len(data) - 12, 0))
            if slash >= 0:
                cut = slash
                if cut >= 6 and self._HIGH.fullmatch(data, cut - 6, cut):
                    cut -= 6  # the first half of a surrogate pair goes with the second
                while cut > 0 and data[cut - 1] == 0x5C:
                    cut -= 1
                data, self.carry = data[:cut], data[cut:]
            if data:
                return self._checked(data)

    def _checked(self, data: bytes) -> bytes:
        if b"\\" in data and self._SUSPECT.search(data):  # (faster than two "in" tests)
            if b"\\x" in data:
                data = self._BAD.sub(rb"\1\\u00\2", data)
            data, count = self._LONE.subn(rb"\1\\ufffd", data)
            self.lone_surrogates += count
        self.depth.feed(data)
        return data

    def tell(self) -> int:
        return self.stream.tell() - len(self.carry)


def account_chats(stream: BinaryIO, path: str, warn: Warn) -> Iterator[tuple[dict, Iterator[dict]]]:
    """Each chat of a whole-account export with its messages, walked event by event."""
    checked = CheckedStream(stream, path)
    events = ijson.parse(checked, use_float=True)
    chat_prefixes = ("chats.list.item", "left_chats.list.item")
    try:
        for prefix, event, _ in events:
            if prefix in chat_prefixes and event == "start_map":
                yield from _one_chat(events, prefix, path)
    except (ijson.JSONError, UnicodeDecodeError) as error:
        raise _json_error(error, stream, path) from error
    _warn_surrogates(checked, warn)


def _one_chat(events, chat_prefix: str, path: str) -> Iterator[tuple[dict, Iterator[dict]]]:
    chat: dict[str, Any] = {}
    for prefix, event, value in events:
        if prefix == f"{chat_prefix}.messages" and event != "map_key":
            _check_messages(event, f"chat {chat.get('name')!r}: ", path)
            messages = _messages(events, f"{chat_prefix}.messages.item")
            yield chat, messages
            for _ in messages:  # whatever the caller did not read (a skipped chat)
                pass
        elif prefix == chat_prefix and event == "end_map":
            return
        elif prefix.count(".") == chat_prefix.count(".") + 1 and event in ("string", "number"):
            chat[prefix.rpartition(".")[2]] = value


def _messages(events, item_prefix: str) -> Iterator[dict[str, Any]]:
    builder: ObjectBuilder | None = None
    for prefix, event, value in events:
        if builder is not None:
            builder.event(event, value)
            if prefix == item_prefix and event == "end_map":
                yield builder.value
                builder = None
        elif prefix == item_prefix and event == "start_map":
            builder = ObjectBuilder()
            builder.event(event, value)
        elif event == "end_array" and prefix == item_prefix.removesuffix(".item"):
            return


def _json_error(error: Exception, stream: BinaryIO, path: str) -> ParseError:
    """Malformed or truncated JSON, with the byte offset where it goes wrong.

    The streaming parser only says how far it had read; for a file small enough to read
    whole, the standard parser finds the exact byte, line and column.
    """
    said = error.args[0] if error.args else ""
    said = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
    first_line = said.strip().splitlines()[0] if said.strip() else ""
    truncated = "premature EOF" in first_line
    reason = (
        "the JSON ends before the export does (truncated?)"
        if truncated
        else f"malformed JSON: {first_line.removeprefix('parse error: ') or type(error).__name__}"
    )
    if isinstance(error, UnicodeDecodeError):
        reason = "not UTF-8 text, or a \\u escape that is not a character"
    try:
        position = stream.tell()
    except (OSError, ValueError):
        position = None
    where = f" (within the {position:,} bytes read)" if position is not None else ""
    exact = _exact_position(path) if not truncated else None
    if exact is not None:
        where = f" at byte {exact[0]:,} (line {exact[1]}, column {exact[2]})"
    return ParseError(f"{reason}{where}", path=path)


def _exact_position(path: str) -> tuple[int, int, int] | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(_EXACT_LIMIT + 1)
        if len(data) > _EXACT_LIMIT:
            return None
        json.loads(data)
    except json.JSONDecodeError as error:
        character = error.doc[: error.pos] if isinstance(error.doc, str) else ""
        return len(character.encode("utf-8", "surrogatepass")), error.lineno, error.colno
    except (OSError, ValueError, RecursionError):
        return None
    return None


_EXACT_LIMIT = 64 << 20  # read whole to find the exact place of an error
