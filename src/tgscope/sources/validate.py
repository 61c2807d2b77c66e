"""Checks at the edge of every reader: how deep input may nest, and what each field may hold.

A file is hostile input.  Deeply nested JSON or HTML costs a parser memory and time that
grow faster than the file (ijson keeps a path per level; Lexbor's tree builder rescans its
stack of open elements for block tags), and a field of the wrong type breaks the code that
maps it.  The readers call these checks before the expensive work, and report what they
find as one :class:`~tgscope.errors.ParseError` naming the file, the message and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from itertools import accumulate, repeat, tee
from operator import sub
from typing import Any, TypeVar

from ..clean import parse_count, parse_duration, parse_size
from ..errors import ParseError

#: the deepest JSON a reader accepts (a Desktop export nests 6 levels)
MAX_JSON_DEPTH = 64
#: the longest string a streamed JSON export may hold (a Telegram text is at most 4,096
#: characters; ijson's time grows with the square of a string's length: 60 MB took 200 s)
MAX_JSON_STRING = 1 << 20
#: the deepest HTML a reader accepts (a t.me page nests about 20 levels)
MAX_MARKUP_DEPTH = 256
#: the largest HTML file a reader takes, in UTF-8 bytes (a saved t.me/s page is about 100 kB,
#: a Desktop ``messages.html`` of 1,000 messages a few MB; Lexbor holds ~20 times a page:
#: a page just under this cap peaks at about 300 MB)
MAX_HTML = 16 << 20
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # SQLite's integers

_TEXT_ESCAPES = re.compile(rb'\\[\\"]')  # the escapes that could be taken for structure
_QUOTED = re.compile(rb'"[^"]*"')  # a string, once only quotes and brackets are left
# keep quotes and brackets, with braces as brackets (a mismatch is ijson's to report)
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_MARKS = bytes(set(range(256)) - set(b'"[]{}'))

T = TypeVar("T")


class JsonDepth:
    """Follows the nesting of a JSON document fed in chunks, and refuses it past ``limit``.

    Brackets inside strings are text, not structure.  The work is a few passes of C over
    each chunk (byte replacements and a translation), about 1 ms per megabyte.  A chunk must
    not end inside an escape (``\\`` then its character).
    """

    def __init__(
        self,
        limit: int = MAX_JSON_DEPTH,
        *,
        where: str | None = None,
        max_string: int | None = None,
    ):
        self.limit, self.where, self.max_string = limit, where, max_string
        self.depth = 0  # at the end of what was fed so far
        self.offset = 0  # bytes fed so far
        self.in_string = False
        self.string_run = 0  # bytes of whole chunks inside the string that goes on

    def feed(self, data: bytes) -> None:
        self.offset += len(data)
        if b"\\" in data:  # escaped quotes and backslashes are text
            data = _TEXT_ESCAPES.sub(b"", data)
        if self.in_string and self.max_string is not None:
            self._follow_string(data)
        marks = data.translate(_BRACKETS, _NOT_MARKS)
        if self.in_string:
            marks = b'"' + marks
        if b'"' in marks:
            marks = _QUOTED.sub(b"", marks.replace(b'""', b""))
            quote = marks.find(b'"')
            self.in_string = quote >= 0  # a string that goes on in the next chunk
            if self.in_string:
                marks = marks[:quote]
        if marks:
            self.depth = self._deepest(marks)

    def _follow_string(self, data: bytes) -> None:
        """Refuse a string longer than ``max_string`` (counted in whole chunks)."""
        if b'"' in data:
            self.string_run = 0
            return
        self.string_run += len(data)
        if self.string_run > self.max_string:  # type: ignore[operator]
            raise ParseError(
                f"a string longer than {self.max_string:,} bytes (within its first"
                f" {self.offset:,} bytes): not a Telegram text, which holds at most 4,096"
                " characters",
                path=self.where,
            )

    def _deepest(self, marks: bytes) -> int:
        """The depth after ``marks`` (``[`` and ``]`` only); refuses any point past the limit."""
        inner = 0  # how deep the balanced pairs inside ``marks`` nest
        while b"[]" in marks and inner <= self.limit:
            marks = marks.replace(b"[]", b"")
            inner += 1
        closers = len(marks) - len(marks.lstrip(b"]"))
        end = max(self.depth - closers, 0) + len(marks) - closers
        if max(self.depth, end) + inner > self.limit:
            self.refuse()
        return end

    def refuse(self) -> None:
        raise ParseError(
            f"JSON nested deeper than {self.limit} levels (within its first {self.offset:,} bytes)",
            path=self.where,
        )


def check_json_depth(
    document: str | bytes, *, limit: int = MAX_JSON_DEPTH, where: str | None = None
) -> None:
    """Refuse one JSON document (a JSON Lines line, say) that nests deeper than ``limit``,
    before ``json.loads`` recurses into it."""
    data = document.encode("utf-8", "surrogatepass") if isinstance(document, str) else document
    if data.count(b"[") + data.count(b"{") > limit:  # fewer brackets cannot nest too deep
        guard = JsonDepth(limit, where=where)
        guard.feed(data)


# -- markup ------------------------------------------------------------------------------

# void elements (no end tag) do not nest; any other tag is counted as opening, so the
# estimate errs on the deep side (a self-closing SVG path, a "<" in text)
_VOID = re.compile(
    rb"<(?:area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr)(?=[\s/>])"
)
# what the parser reads as text, not tags: comments and raw-text elements (to their end, or
# to the end of the document when they are not closed)
_NOT_TAGS = re.compile(
    rb"<!--.*?(?:-->|\Z)|<(script|style|textarea|title|xmp)\b.*?(?:</\1\s*>|\Z)",
    re.DOTALL | re.IGNORECASE,
)
_CLOSING = re.compile(rb"</(?=[A-Za-z])")
_NOT_TAG_MARKS = bytes(set(range(256)) - {0x3C, 0x01})
_TAG_STEPS = bytes.maketrans(b"<\x01", b"\x02\x00")  # "<" opens, "\x01" (was "</") closes
_SCAN_FROM = 4096  # tags: below this, even the worst nesting parses in a few milliseconds


def join_html(chunks: Iterable[str], where: str | None = None) -> str:
    """A page read in chunks, as one string; a page past :data:`MAX_HTML` is refused as
    it is read (Lexbor would need about 25 times its size)."""
    parts, size = [], 0
    for chunk in chunks:
        size += len(chunk) if chunk.isascii() else len(chunk.encode("utf-8", "surrogatepass"))
        if size > MAX_HTML:
            raise ParseError(
                f"HTML page larger than {MAX_HTML >> 20} MB (a page of posts is a few MB)",
                path=where or None,
            )
        parts.append(chunk)
    return "".join(parts)


def check_markup_depth(
    html: str | bytes, *, limit: int = MAX_MARKUP_DEPTH, where: str | None = None
) -> None:
    """Refuse HTML that nests deeper than ``limit`` before it is parsed.

    Lexbor's tree builder rescans its stack of open elements at each block tag, so 100,000
    nested ``<div>`` take it 20 s.  Counting opening and closing tags (outside comments and
    scripts) bounds the depth from above, for nesting as written; it is done only for
    documents with many tags (one ``count`` for the others).  Markup made to mislead it
    (end tags that the parser ignores) is still bounded by the walks' own depth limit, but
    not Lexbor's time.
    """
    if html.count("<" if isinstance(html, str) else b"<") <= _SCAN_FROM:  # type: ignore[arg-type]
        return
    data = html.encode("utf-8", "surrogatepass") if isinstance(html, str) else html
    data = _VOID.sub(b"", _NOT_TAGS.sub(b"", data))
    marks = _CLOSING.sub(b"\x01", data).translate(None, _NOT_TAG_MARKS)
    # the depth after each mark is the running sum of +1 (opening) and -1 (closing) less
    # its lowest value so far (extra closing tags do not go below the root)
    sums, again = tee(accumulate(map(sub, marks.translate(_TAG_STEPS), repeat(1))))
    deepest = max(map(sub, sums, accumulate(again, min, initial=0)), default=0)
    if deepest > limit:
        raise ParseError(f"HTML nested deeper than {limit} levels", path=where or None)


# -- fields ------------------------------------------------------------------------------


def kind_of(value: Any) -> str:
    """What a JSON value is, for an error message: ``a string``, ``a list``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return "an integer" if INT64_MIN <= value <= INT64_MAX else "an integer beyond 64 bits"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


#: what each expected kind of field accepts (``type(value)``, so True is not an integer)
KINDS: dict[str, tuple[type, ...]] = {
    "a string": (str,),
    "an integer": (int,),
    "a number": (int, float),
    "a list": (list,),
    "an object": (dict,),
    "true or false": (bool,),
    "a string or a list": (str, list),
    "a string or an integer": (str, int),
}


class Fields:
    """What each field of a record may hold, checked in one pass over the record.

    ``kinds`` maps a field to a key of :data:`KINDS`; null is always accepted (absent),
    fields not named are not looked at.  Integers must fit in 64 bits, as the archive
    stores them.
    """

    def __init__(self, kinds: Mapping[str, str]):
        self.kinds = dict(kinds)
        self.types = {name: (*KINDS[kind], type(None)) for name, kind in kinds.items()}

    def check(self, record: Mapping[str, Any], where: str) -> None:
        """Raise a :class:`ParseError` naming ``where`` and the first field that is wrong."""
        types = self.types
        for name, value in record.items():
            allowed = types.get(name)
            if allowed is None:
                continue
            kind = type(value)
            if kind not in allowed:
                raise field_error(where, name, self.kinds[name], value)
            if kind is int and not INT64_MIN <= value <= INT64_MAX:
                raise field_error(where, name, "an integer of at most 64 bits", value)


def check_fields(record: Mapping[str, Any], fields: Mapping[str, str], where: str) -> None:
    """:meth:`Fields.check` with ``fields`` as a plain mapping (compiled once per mapping)."""
    compiled = _COMPILED.get(id(fields))
    if compiled is None or compiled[0] is not fields:
        compiled = _COMPILED[id(fields)] = (fields, Fields(fields))
    compiled[1].check(record, where)


_COMPILED: dict[int, tuple[Mapping[str, str], Fields]] = {}


def field_error(where: str, name: str, expected: str, value: Any) -> ParseError:
    """``message 12: field 'reactions' should be a list, got a string`` (no path: the reader
    that catches it adds the file; nor ``where``, when it is empty)."""
    prefix = f"{where}: " if where else ""
    return ParseError(f"{prefix}field {name!r} should be {expected}, got {kind_of(value)}")


# -- numbers read from text (pages, dumps): what the archive can store, or nothing --------

_NUMBER = re.compile(r"[0-9]{1,18}")  # 18 digits always fit in 64 bits


def number_of(text: str) -> int | None:
    """ASCII digits that fit in 64 bits as a number (an id, a cursor); None otherwise
    (``str.isdigit`` accepts ``²``, which ``int`` refuses, and 5,000 digits, which it
    refuses too)."""
    return int(text) if _NUMBER.fullmatch(text) else None


def count_of(text: str) -> int:
    """:func:`~tgscope.clean.parse_count`, and a ValueError for a count beyond 64 bits."""
    value = parse_count(text) if len(text) <= 32 else -1
    if not 0 <= value <= INT64_MAX:
        raise ValueError(f"not a count: {text[:40]!r}")
    return value


def duration_of(text: str | None) -> int | None:
    """:func:`~tgscope.clean.parse_duration`; None for what does not fit in 64 bits."""
    if text and len(text) > 64:
        return None
    try:
        return _bounded(parse_duration(text))
    except ValueError:
        return None


def size_of(text: str) -> int | None:
    """:func:`~tgscope.clean.parse_size`; None for what does not fit in 64 bits."""
    if len(text) > 64:
        return None
    try:
        return _bounded(parse_size(text))
    except (ValueError, OverflowError):
        return None


def _bounded(value: int | None) -> int | None:
    return value if value is None or INT64_MIN <= value <= INT64_MAX else None


def with_path(items: Iterator[T], path: str) -> Iterator[T]:
    """``items``, with the file named in any :class:`ParseError` they raise without one."""
    try:
        yield from items
    except ParseError as error:
        if error.path:
            raise
        raise ParseError(error.reason, path=path, line=error.line) from error
