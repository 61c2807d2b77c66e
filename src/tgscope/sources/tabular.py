"""Line- and row-shaped files: tgscope's own JSON Lines, snscrape's, and other tools' CSV/JSONL.

* ``tgscope-jsonl``: what ``tgscope export --format jsonl`` writes, read back losslessly
  (with each post's provenance), so an archive can move through JSONL and come back the same.
* ``snscrape``: ``snscrape --jsonl telegram-channel NAME`` output.
* ``jsonl`` and ``csv``: any other collector's rows (JSON Lines, a JSON array of objects,
  CSV with any delimiter), through a column mapping (:mod:`.columns`); columns named like the
  record's fields, and common aliases, are taken without one.

Every reader checks what it reads at its edge: JSON nesting is capped before it is parsed
(:data:`~.validate.MAX_JSON_DEPTH`), and a field of the wrong kind is one error naming the line.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from ..clean import extract_hashtags, extract_links, extract_mentions, parse_count
from ..errors import ParseError
from ..record import FIELD_NAMES, Channel, Post
from .columns import (
    FIELDS,
    MAPPABLE,
    TME_POST,
    RowReader,
    parse_date,
    parse_mapping,
    resolve_mapping,
    row_to_post,
)
from .json_rows import decoded, json_array, json_lines, lines, starts_array
from .validate import (
    INT64_MAX,
    check_fields,
    check_json_depth,
    kind_of,
)

TGSCOPE_JSONL = "tgscope-jsonl"
SNSCRAPE = "snscrape"
JSONL = "jsonl"
CSV = "csv"
MERGE_RANKS = {  # store.merge: lower wins
    TGSCOPE_JSONL: {"fields": 1, "date": 2},
    SNSCRAPE: {"fields": 5, "date": 5},
    JSONL: {"fields": 6, "date": 7},
    CSV: {"fields": 7, "date": 6},
}

_JSON_START = re.compile(r"\s*\[\s*\{")
_DELIMITERS = ",;\t|"
#: what each field of a tgscope record must hold (null is always accepted)
_RECORD_FIELDS = {
    "key": "a string",
    "channel": "a string",
    "channel_title": "a string",
    "id": "an integer",
    "date": "a string",
    "text": "a string",
    "entities": "a list",
    "views": "an integer",
    "forwards": "an integer",
    "replies": "an integer",
    "reactions": "a list",
    "forwarded_from": "an object",
    "reply_to": "an object",
    "media": "a list",
    "link_preview": "an object",
    "buttons": "a list",
    "hashtags": "a list",
    "mentions": "a list",
    "links": "a list",
    "author": "a string",
    "via_bot": "a string",
    "edited": "true or false",
    "service": "a string",
    "album_id": "a string",
    "sources": "a list",
}
#: the fields of a record's nested objects, and what each holds
_NESTED_FIELDS = {
    "entities": {"type": "a string", "offset": "an integer", "length": "an integer"},
    "reactions": {
        "count": "an integer",
        "emoji": "a string",
        "custom_emoji_id": "a string",
        "paid": "true or false",
    },
    "forwarded_from": {"title": "a string", "channel": "a string", "id": "an integer"},
    "reply_to": {"channel": "a string", "id": "an integer"},
    "media": {"type": "a string", "url": "a string"},
    "link_preview": {
        "url": "a string",
        "site_name": "a string",
        "title": "a string",
        "description": "a string",
    },
    "buttons": {"text": "a string", "url": "a string"},
    "sources": {"kind": "a string", "ref": "a string", "observed_at": "a string"},
}
#: the record's fields that are never null, and what null stands for in them
_DEFAULTS = {
    **{name: list for name, kind in _RECORD_FIELDS.items() if kind == "a list"},
    "text": str,
    "edited": bool,
}
_REQUIRED = {
    "entities": ("type", "offset", "length"),
    "reactions": ("count",),
    "media": ("type",),
    "buttons": ("text",),
    "sources": ("kind", "ref", "observed_at"),
}


def looks_like_tgscope_jsonl(head: str) -> bool:
    first = _first_line_object(head)
    return first is not None and {"key", "channel", "text", "sources"} <= first.keys()


def looks_like_snscrape(head: str) -> bool:
    first = _first_line_object(head)
    return first is not None and str(first.get("_type", "")).startswith(
        "snscrape.modules.telegram."
    )


def looks_like_rows(head: str) -> bool:
    """Another tool's JSON Lines, or a JSON array of objects, whose first object has a key
    tgscope takes for a post's text, id or link."""
    first = _first_line_object(head)
    if first is None and _JSON_START.match(head.lstrip("\ufeff")):
        first = _first_array_item(head)
    return first is not None and bool(first.keys() & _KNOWN_COLUMNS)


def looks_like_csv(head: str) -> bool:
    """A table whose header names a post's text, id or link in a way tgscope knows."""
    line = head.lstrip("\ufeff").split("\n", 1)[0].strip()
    for delimiter in _DELIMITERS:
        if delimiter not in line:
            continue
        try:
            names = {name.strip().lower() for name in next(csv.reader([line], delimiter=delimiter))}
        except (csv.Error, StopIteration):
            continue
        if len(names) >= 2 and names & _KNOWN_COLUMNS:
            return True
    return False


_KNOWN_COLUMNS = {*MAPPABLE["text"], *MAPPABLE["id"], *MAPPABLE["url"]}


def _first_line_object(head: str) -> dict | None:
    """The first line as a JSON object, if it is one; nesting past the cap is refused
    (:class:`ParseError`), not parsed."""
    line = head.lstrip("\ufeff").split("\n", 1)[0]
    check_json_depth(line)
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _first_array_item(head: str) -> dict | None:
    """The first object of a JSON array, when the start of the file holds all of it."""
    start = head.index("{")
    try:
        value, _ = json.JSONDecoder().raw_decode(head, start)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


# -- readers ---------------------------------------------------------------------------


def read_tgscope_jsonl(context) -> Iterator[Post | Channel]:
    for number, record in json_lines(context.text(), context.path):
        try:
            check_record(record)
            yield Post.from_dict(record)
        except ParseError as error:
            raise ParseError(error.reason, path=context.path, line=number) from error
        except (TypeError, ValueError) as error:
            raise ParseError(
                f"not a tgscope record: {error}", path=context.path, line=number
            ) from error


def check_record(record: dict[str, Any]) -> None:
    """Refuse a tgscope record whose fields do not hold what the record says they do."""
    if not isinstance(record.get("key"), str) or not record["key"]:
        raise ParseError("field 'key' should be a non-empty string")
    check_fields(record, _RECORD_FIELDS, "record")
    for name, fields in _NESTED_FIELDS.items():
        value = record.get(name)
        items = value if isinstance(value, list) else [value] if value is not None else []
        for index, item in enumerate(items):
            where = f"{name}[{index}]" if isinstance(value, list) else name
            if not isinstance(item, dict):
                raise ParseError(f"{where}: should be an object, got {kind_of(item)}")
            check_fields(item, fields, where)
            for required in _REQUIRED.get(name, ()):
                if item.get(required) is None:
                    raise ParseError(f"{where}: field {required!r} is missing")
    for name in ("hashtags", "mentions", "links"):
        if not all(isinstance(item, str) for item in record.get(name) or ()):
            raise ParseError(f"record: field {name!r} should be a list of strings")
    _check_counts(record)
    _normalise_dates(record)
    for name, default in _DEFAULTS.items():  # null where the record keeps a default
        if name in record and record[name] is None:
            record[name] = default()


def _check_counts(record: dict[str, Any]) -> None:
    """Views, forwards, replies and reaction counts are never negative."""
    for name in ("views", "forwards", "replies"):
        if (record.get(name) or 0) < 0:
            raise ParseError(f"record: field {name!r} should be 0 or more, got {record[name]}")
    for index, reaction in enumerate(record.get("reactions") or ()):
        if reaction["count"] < 0:
            raise ParseError(
                f"reactions[{index}]: field 'count' should be 0 or more, got {reaction['count']}"
            )


def _normalise_dates(record: dict[str, Any]) -> None:
    """``date`` and each source's ``observed_at`` in the archive's form, UTC ISO 8601
    (``2022-11-15T09:12:00+00:00``), as every other reader writes them."""
    record["date"] = _utc_date(record.get("date"), "record", "date")
    for index, source in enumerate(record.get("sources") or ()):
        where = f"sources[{index}]"
        source["observed_at"] = _utc_date(source["observed_at"], where, "observed_at")


def _utc_date(value: str | None, where: str, name: str) -> str | None:
    try:
        return parse_date(value)
    except ValueError as error:
        shown = repr(value) if len(value or "") <= 40 else repr(value[:40]) + "..."  # type: ignore[index]
        raise ParseError(f"{where}: field {name!r} is not a date: {shown}") from error


def read_snscrape(context) -> Iterator[Post | Channel]:
    for number, item in json_lines(context.text(), context.path):
        kind = str(item.get("_type", ""))
        try:
            if kind.endswith(".Channel"):
                yield _snscrape_channel(item)
            elif kind.endswith(".TelegramPost"):
                yield snscrape_post(item, path=context.path, line=number)
            else:
                context.warn(f"line {number}: an item of type {kind or 'unknown'!r} left out")
        except ParseError as error:
            raise ParseError(error.reason, path=context.path, line=number) from error


def read_jsonl(context) -> Iterator[Post | Channel]:
    """Another tool's JSON Lines, or a JSON array of objects, through the mapping.

    An array is read from the file's bytes, not its lines: ``json.dump`` writes one line.
    """
    rows: Iterator[tuple[int | str, dict[str, Any]]] = (
        json_array(decoded(context), context.path)
        if starts_array(context)
        else json_lines(context.text(), context.path)
    )
    reader: RowReader | None = None
    for number, row in rows:
        if reader is None:
            reader = _row_reader(context, row.keys())
        yield _row(row, reader, number)


def read_csv(context) -> Iterator[Post | Channel]:
    rows_text = lines(context.text())
    first = next(rows_text, None)
    if first is None:
        return
    delimiter = _delimiter(context, first)
    rows = csv.reader(itertools.chain([first], rows_text), delimiter=delimiter)
    try:
        header = [name.strip().lstrip("\ufeff") for name in next(rows)]
        reader = _row_reader(context, header)
        for row in rows:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ParseError(
                    f"{len(row)} cells where the header has {len(header)}",
                    path=context.path,
                    line=rows.line_num,
                )
            yield row_to_post(dict(zip(header, row, strict=True)), reader, rows.line_num)
    except csv.Error as error:
        raise ParseError(f"bad CSV: {error}", path=context.path, line=rows.line_num) from error


def _delimiter(context, header: str) -> str:
    """The delimiter the user named, else the one the header line is cut by (else a comma)."""
    if context.delimiter:
        return context.delimiter
    try:
        return csv.Sniffer().sniff(header, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _row_reader(context, columns: Iterable[str]) -> RowReader:
    mapping = resolve_mapping(context.mapping, columns, context.path, channel=context.channel)
    return RowReader(
        context.path,
        mapping,
        channel=context.channel,
        markdown=context.markdown,
        warn=context.warn,
    )


def _row(row: dict[str, Any], reader: RowReader, where: int | str) -> Post:
    if isinstance(where, int):
        return row_to_post(row, reader, where)
    try:
        return row_to_post(row, reader, None)
    except ParseError as error:  # an array's item: named by its place
        raise ParseError(f"{where}: {error.reason}", path=reader.path) from error


# -- snscrape ----------------------------------------------------------------------------


def snscrape_post(item: dict[str, Any], *, path: str, line: int) -> Post:
    """One snscrape ``TelegramPost`` (0.7 and the later fields when present)."""
    match = TME_POST.match(str(item.get("url", "")))
    if not match:
        raise ParseError(f"a post without a t.me URL: {item.get('url')!r}", path=path, line=line)
    channel, number = match.group(1).lower(), int(match.group(2))
    check_fields(item, _SNSCRAPE_FIELDS, "post")
    text = str(item.get("content") or "")
    preview = item.get("linkPreview") or None
    forwarded = item.get("forwarded") or None
    forwarded_url = TME_POST.match(str(item.get("forwardedUrl") or ""))
    views = item.get("views")
    try:
        date = parse_date(item.get("date"))
    except ValueError as error:
        raise ParseError(f"date: not a date: {item.get('date')!r}", path=path, line=line) from error
    return Post(
        key=f"{channel}/{number}",
        channel=channel,
        id=number,
        date=date,
        text=text,
        views=views if isinstance(views, int) else _snscrape_count(views, path, line),
        forwarded_from=(
            {
                "title": forwarded.get("title") if isinstance(forwarded, dict) else None,
                "channel": forwarded_url.group(1).lower() if forwarded_url else None,
                "id": int(forwarded_url.group(2)) if forwarded_url else None,
            }
            if forwarded or forwarded_url
            else None
        ),
        link_preview=(
            {
                "url": _string(preview.get("href")),
                "site_name": _string(preview.get("siteName")),
                "title": _string(preview.get("title")),
                "description": _string(preview.get("description")),
            }
            if isinstance(preview, dict)
            else None
        ),
        hashtags=extract_hashtags(text),
        mentions=extract_mentions(text),
        links=list(dict.fromkeys(filter(_is_text, item.get("outlinks") or [])))
        or extract_links(text),
    )


_SNSCRAPE_FIELDS = {
    "content": "a string",
    "date": "a string",
    "views": "a string or an integer",
    "outlinks": "a list",
    "forwardedUrl": "a string",
}


def _snscrape_count(value: Any, path: str, line: int) -> int | None:
    if value is None or value == "":
        return None
    try:
        return parse_count(str(value))
    except ValueError as error:
        raise ParseError(f"views: not a number: {value!r}", path=path, line=line) from error


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _snscrape_channel(item: dict[str, Any]) -> Channel:
    counters = {
        name: value
        for name, value in (
            ("subscribers", item.get("members")),
            ("photos", item.get("photos")),
            ("videos", item.get("videos")),
            ("links", item.get("links")),
            ("files", item.get("files")),
        )
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= INT64_MAX
    }
    return Channel(
        username=str(item.get("username") or "").lower() or None,
        title=_string(item.get("title")),
        description=_string(item.get("description")),
        verified=item.get("verified") if isinstance(item.get("verified"), bool) else None,
        counters=counters,
        avatar=_string(item.get("photo")),
    )


__all__ = [
    "FIELDS",
    "FIELD_NAMES",
    "MAPPABLE",
    "RowReader",
    "check_record",
    "parse_mapping",
    "resolve_mapping",
    "row_to_post",
    "snscrape_post",
]
