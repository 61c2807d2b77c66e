"""JSON rows as the tabular readers read them: JSON Lines a line at a time, and a JSON array
an object at a time from the file's bytes (ijson), each checked for depth, long strings and
lone surrogate escapes before it is built."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import ijson

from ..errors import ParseError
from .validate import MAX_JSON_DEPTH, MAX_JSON_STRING, JsonDepth, check_json_depth

CHUNK = 1 << 16
_HIGH_SURROGATE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
#: a \u escape of half a UTF-16 surrogate pair without its other half (ijson would make it "?")
_LONE_SURROGATE = re.compile(
    r"(?<!\\)((?:\\\\)*)(?:\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2})"
)


def json_lines(text: Iterable[str], path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each line that is not blank as an object, with its number (errors name the line)."""
    for number, line in enumerate(lines(text), start=1):
        if not line.strip():
            continue
        try:
            check_json_depth(line, where=path)
            value = json.loads(line)
        except ParseError as error:
            raise ParseError(error.reason, path=path, line=number) from error
        except (ValueError, RecursionError) as error:
            raise ParseError(f"not JSON: {error}", path=path, line=number) from error
        if not isinstance(value, dict):
            raise ParseError("a JSON line that is not an object", path=path, line=number)
        if "\\u" in line and _SURROGATE_ESCAPE.search(line):
            _refuse_lone_surrogates(value, path, number)
        yield number, value


def _refuse_lone_surrogates(value: dict[str, Any], path: str, line: int) -> None:
    """JSON may escape half of a UTF-16 pair (``\\ud800``) alone: that is not text."""
    for name, field in value.items():
        try:
            json.dumps([name, field], ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as error:
            raise ParseError(
                f"field {name!r}: a lone surrogate escape (half of a UTF-16 pair) is not text",
                path=path,
                line=line,
            ) from error


def starts_array(context) -> bool:
    """True when the file's first character (after space and a byte-order mark) is ``[``."""
    with open(context.path, "rb") as handle:
        head = handle.read(CHUNK)
    if context.encoding:
        head = head.decode(context.encoding, "replace").encode("utf-8")
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")


def decoded(context) -> Iterator[str]:
    """The file as text in chunks cut anywhere (a bad byte is an error naming its offset)."""
    encoding = context.encoding or "utf-8-sig"
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset, carry = 0, ""
    with context.binary() as stream:
        while True:
            chunk = stream.read(CHUNK)
            try:
                text = carry + decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                where = offset + max(error.start, 0)
                name = "UTF-8" if encoding == "utf-8-sig" else encoding
                raise ParseError(
                    f"not {name} text (byte {where} of the file)", path=context.path
                ) from error
            offset += len(chunk)
            text, carry = _escape_safe(text) if chunk else (text, "")
            if text:
                yield text
            if not chunk:
                return


def _escape_safe(text: str) -> tuple[str, str]:
    """``text`` cut before a run of backslashes near its end, so that no escape (nor a
    ``\\uD83D\\uDE00`` pair) is split between chunks; the rest is carried over."""
    cut = text.find("\\", max(len(text) - 12, 0))
    if cut < 0:
        return text, ""
    if _HIGH_SURROGATE.fullmatch(text, max(cut - 6, 0), cut):  # the first half of a pair
        cut -= 6
    while cut > 0 and text[cut - 1] == "\\":
        cut -= 1
    return text[:cut], text[cut:]


def json_array(text: Iterable[str], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The objects of a JSON array, one at a time (ijson's parser, nesting checked first).

    A string longer than :data:`~.validate.MAX_JSON_STRING` is refused as it is read."""
    stream = _Utf8Stream(text, JsonDepth(MAX_JSON_DEPTH, where=path, max_string=MAX_JSON_STRING))
    events = ijson.basic_parse(stream, use_float=True)
    number = 0
    try:
        event, _ = next(events, ("end", None))
        if event != "start_array":
            raise ParseError("JSON that is not an array of objects", path=path)
        for event, _ in events:
            if event == "end_array":
                break
            number += 1
            if event != "start_map":
                raise ParseError(f"item {number}: not an object", path=path)
            yield f"item {number}", _build_object(events)
        for _ in events:  # what follows the array: ijson refuses anything but space
            pass
    except ijson.JSONError as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else "malformed"
        message = message.removeprefix("parse error: ").removeprefix("b'").removesuffix("\\n")
        after = f" after item {number}" if number else ""
        raise ParseError(f"malformed JSON{after}: {message}", path=path) from error


def _build_object(events: Iterator[tuple[str, Any]]) -> dict[str, Any]:
    """One object from ijson's events, after its ``start_map`` (depth is bounded upstream)."""
    root: dict[str, Any] = {}
    stack: list[Any] = [root]
    key: list[str | None] = [None]
    for event, value in events:
        top = stack[-1]
        if event == "map_key":
            key[-1] = value
            continue
        if event in ("end_map", "end_array"):
            stack.pop()
            key.pop()
            if not stack:
                return root
            continue
        if event == "start_map":
            value = {}
        elif event == "start_array":
            value = []
        if isinstance(top, dict):
            top[key[-1]] = value
        else:
            top.append(value)
        if event in ("start_map", "start_array"):
            stack.append(value)
            key.append(None)
    raise ParseError("the JSON ends inside an object (truncated?)")


class _Utf8Stream:
    """Decoded text chunks as the UTF-8 bytes ijson reads, checked for depth on the way."""

    def __init__(self, text: Iterable[str], depth: JsonDepth):
        self.chunks = iter(text)
        self.depth = depth
        self.buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            if "\\u" in chunk and _LONE_SURROGATE.search(chunk):
                raise ParseError(
                    "a lone surrogate escape (half of a UTF-16 pair) is not text",
                    path=self.depth.where,
                )
            self.buffer += chunk.encode("utf-8")
        cut = len(self.buffer) if size < 0 else size
        data, self.buffer = self.buffer[:cut], self.buffer[cut:]
        self.depth.feed(data)
        return data


def lines(text: Iterable[str]) -> Iterator[str]:
    """Whole lines from chunks cut at line ends (as the importer reads files).

    Only ``\n`` ends a line: JSON strings and CSV cells may hold other line separators.
    """
    for chunk in text:
        lines = chunk.split("\n")
        for line in lines[:-1]:
            yield line + "\n"
        if lines[-1]:
            yield lines[-1]
