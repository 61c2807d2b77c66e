"""Line- and row-shaped files: tgscope's own JSON Lines, snscrape's, and other tools' CSV/JSONL.

* ``tgscope-jsonl``: what ``tgscope export --format jsonl`` writes, read back losslessly
  (with each post's provenance), so an archive can move through JSONL and come back the same.
* ``snscrape``: ``snscrape --jsonl telegram-channel NAME`` output.
* ``jsonl`` and ``csv``: any other collector's rows, through a column mapping
  (``--map id=message_id,text=message``); columns named like the record's fields, and common
  aliases, are taken without one.  Compact counts such as ``5.37K`` are understood.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from ..clean import (
    extract_hashtags,
    extract_links,
    extract_mentions,
    normalize_channel,
    parse_count,
)
from ..errors import OptionError, ParseError, SourceError
from ..record import FIELD_NAMES, Channel, Post

TGSCOPE_JSONL = "tgscope-jsonl"
SNSCRAPE = "snscrape"
JSONL = "jsonl"
CSV = "csv"

_TME_POST = re.compile(r"^https?://t\.me/(?:s/)?([A-Za-z0-9_]+)/(\d+)")
#: the record fields a mapping can fill, and the column names taken for them without one
MAPPABLE = {
    "id": ("id", "message_id", "msg_id", "post_id"),
    "channel": ("channel", "channel_username", "username", "chat_username"),
    "channel_title": ("channel_title", "chat_title", "title"),
    "url": ("url", "link", "post_url"),
    "date": ("date", "datetime", "timestamp", "published", "created_at"),
    "text": ("text", "message", "content", "body"),
    "views": ("views", "view_count"),
    "forwards": ("forwards", "forward_count", "shares"),
    "replies": ("replies", "reply_count", "comments"),
    "author": ("author", "post_author", "signature"),
    "forwarded_from": ("forwarded_from", "fwd_from", "forwarded"),
    "reply_to": ("reply_to", "reply_to_msg_id", "reply_to_message_id"),
}


def looks_like_tgscope_jsonl(head: str) -> bool:
    first = _first_line_object(head)
    return first is not None and {"key", "channel", "text", "sources"} <= first.keys()


def looks_like_snscrape(head: str) -> bool:
    first = _first_line_object(head)
    return first is not None and str(first.get("_type", "")).startswith(
        "snscrape.modules.telegram."
    )


def looks_like_csv(head: str) -> bool:
    """A table whose header names a post's text, id or link in a way tgscope knows."""
    line = head.lstrip("\ufeff").split("\n", 1)[0].strip()
    if "," not in line:
        return False
    try:
        names = {name.strip().lower() for name in next(csv.reader([line]))}
    except (csv.Error, StopIteration):
        return False
    known = {*MAPPABLE["text"], *MAPPABLE["id"], *MAPPABLE["url"]}
    return len(names) >= 2 and bool(names & known)


def _first_line_object(head: str) -> dict | None:
    line = head.lstrip("\ufeff").split("\n", 1)[0]
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# -- readers ---------------------------------------------------------------------------


def read_tgscope_jsonl(context) -> Iterator[Post | Channel]:
    for number, record in _json_lines(context.text(), context.path):
        try:
            yield Post.from_dict(record)
        except (TypeError, ValueError) as error:
            raise ParseError(
                f"not a tgscope record: {error}", path=context.path, line=number
            ) from error


def read_snscrape(context) -> Iterator[Post | Channel]:
    for number, item in _json_lines(context.text(), context.path):
        kind = str(item.get("_type", ""))
        if kind.endswith(".Channel"):
            yield _snscrape_channel(item)
        elif kind.endswith(".TelegramPost"):
            yield snscrape_post(item, path=context.path, line=number)
        else:
            context.warn(f"line {number}: an item of type {kind or 'unknown'!r} left out")


def read_jsonl(context) -> Iterator[Post | Channel]:
    mapping: dict[str, str] | None = None
    for number, row in _json_lines(context.text(), context.path):
        if mapping is None:
            mapping = resolve_mapping(context.options.get("mapping"), row.keys(), context.path)
        yield row_to_post(row, mapping, context, number)


def read_csv(context) -> Iterator[Post | Channel]:
    rows = csv.reader(_lines(context.text()))
    try:
        header = next(rows)
    except StopIteration:
        return
    except csv.Error as error:
        raise ParseError(f"not CSV: {error}", path=context.path, line=1) from error
    header = [name.strip().lstrip("\ufeff") for name in header]
    mapping = resolve_mapping(context.options.get("mapping"), header, context.path)
    try:
        for row in rows:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ParseError(
                    f"{len(row)} cells where the header has {len(header)}",
                    path=context.path,
                    line=rows.line_num,
                )
            yield row_to_post(dict(zip(header, row, strict=True)), mapping, context, rows.line_num)
    except csv.Error as error:
        raise ParseError(f"bad CSV: {error}", path=context.path, line=rows.line_num) from error


# -- mapping rows to records -----------------------------------------------------------


def parse_mapping(spec: str) -> dict[str, str]:
    """``"id=message_id,text=message"`` -> ``{"id": "message_id", "text": "message"}``."""
    mapping: dict[str, str] = {}
    for part in filter(None, (piece.strip() for piece in spec.split(","))):
        field, sep, column = part.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not field or not column:
            raise OptionError(f"--map: {part!r} is not FIELD=COLUMN")
        if field not in MAPPABLE:
            raise OptionError(
                f"--map: {field!r} is not a field that can be mapped (one of {', '.join(MAPPABLE)})"
            )
        mapping[field] = column
    return mapping


def resolve_mapping(spec: object, columns: Iterable[str], path: str) -> dict[str, str]:
    """The mapping given (checked against the file's columns), completed by column names."""
    columns = list(columns)
    given = parse_mapping(spec) if isinstance(spec, str) else dict(spec or {})  # type: ignore[arg-type]
    missing = [column for column in given.values() if column not in columns]
    if missing:
        raise SourceError(
            f"{path}: --map names column(s) the file does not have: {', '.join(missing)}"
            f" (it has: {', '.join(columns)})"
        )
    mapping = dict(given)
    for field, aliases in MAPPABLE.items():
        if field == "id" and "url" in given:
            continue  # ids from the links the user named, not from a column that looks like one
        if field not in mapping:
            found = next((column for column in aliases if column in columns), None)
            if found is not None:
                mapping[field] = found
    if "text" not in mapping and "id" not in mapping and "url" not in mapping:
        raise SourceError(
            f"{path}: no column for the post's text or id (columns: {', '.join(columns)});"
            " name them with --map text=COLUMN,id=COLUMN"
        )
    return mapping


def row_to_post(row: dict[str, Any], mapping: dict[str, str], context, line: int) -> Post:
    """One row of another tool's file as a post record."""

    def cell(field: str) -> Any:
        column = mapping.get(field)
        value = row.get(column) if column else None
        return value.strip() if isinstance(value, str) else value

    url = str(cell("url") or "")
    from_url = _TME_POST.match(url)
    channel = cell("channel") or (from_url.group(1) if from_url else None) or context.channel
    try:
        channel = normalize_channel(str(channel)) if channel else None
    except ValueError as error:
        raise ParseError(str(error), path=context.path, line=line) from error
    if channel is None:
        raise ParseError(
            "no channel: give --channel NAME or map a channel or url column",
            path=context.path,
            line=line,
        )
    number = _count(cell("id"), "id", context.path, line)
    if from_url and number is not None and number != int(from_url.group(2)):
        raise ParseError(
            f"id {number} and the link's id {from_url.group(2)} disagree (--map url=COLUMN"
            " takes ids from the links, --map id=COLUMN from a column)",
            path=context.path,
            line=line,
        )
    if number is None and from_url:
        number = int(from_url.group(2))
    text = str(cell("text") or "")
    key = f"{channel}/{number}" if number is not None else _text_key(channel, text, cell("date"))
    forwarded = cell("forwarded_from")
    reply = _count(cell("reply_to"), "reply_to", context.path, line)
    return Post(
        key=key,
        channel=channel,
        channel_title=cell("channel_title") or None,
        id=number,
        date=_date(cell("date"), context.path, line),
        text=text,
        views=_count(cell("views"), "views", context.path, line),
        forwards=_count(cell("forwards"), "forwards", context.path, line),
        replies=_count(cell("replies"), "replies", context.path, line),
        forwarded_from={"title": str(forwarded), "channel": None, "id": None}
        if forwarded
        else None,
        reply_to={"channel": channel, "id": reply} if reply is not None else None,
        hashtags=extract_hashtags(text),
        mentions=extract_mentions(text),
        links=extract_links(text),
        author=cell("author") or None,
    )


def snscrape_post(item: dict[str, Any], *, path: str, line: int) -> Post:
    """One snscrape ``TelegramPost`` (0.7 and the later fields when present)."""
    match = _TME_POST.match(str(item.get("url", "")))
    if not match:
        raise ParseError(f"a post without a t.me URL: {item.get('url')!r}", path=path, line=line)
    channel, number = match.group(1).lower(), int(match.group(2))
    text = str(item.get("content") or "")
    preview = item.get("linkPreview") or None
    forwarded = item.get("forwarded") or None
    forwarded_url = _TME_POST.match(str(item.get("forwardedUrl") or ""))
    return Post(
        key=f"{channel}/{number}",
        channel=channel,
        id=number,
        date=_date(item.get("date"), path, line),
        text=text,
        views=_count(item.get("views"), "views", path, line),
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
                "url": preview.get("href"),
                "site_name": preview.get("siteName"),
                "title": preview.get("title"),
                "description": preview.get("description"),
            }
            if isinstance(preview, dict)
            else None
        ),
        hashtags=extract_hashtags(text),
        mentions=extract_mentions(text),
        links=list(dict.fromkeys(item.get("outlinks") or [])) or extract_links(text),
    )


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
        if isinstance(value, int)
    }
    return Channel(
        username=str(item.get("username") or "").lower() or None,
        title=item.get("title"),
        description=item.get("description"),
        verified=item.get("verified"),
        counters=counters,
        avatar=item.get("photo"),
    )


# -- cells -------------------------------------------------------------------------------


def _count(value: Any, field: str, path: str, line: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ParseError(f"{field}: not a number: {value!r}", path=path, line=line)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return parse_count(str(value))
    except ValueError as error:
        raise ParseError(f"{field}: not a number: {value!r}", path=path, line=line) from error


def _date(value: Any, path: str, line: int) -> str | None:
    """ISO 8601 (a date and time without zone is UTC), or Unix seconds, as UTC."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, (int, float)) or str(value).isdigit():
            moment = datetime.fromtimestamp(int(value), UTC)
        else:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    except (ValueError, OverflowError, OSError) as error:
        raise ParseError(f"date: not a date: {value!r}", path=path, line=line) from error


def _text_key(channel: str, text: str, date: Any) -> str:
    """A stable key for a row without a message id: what it says, and when."""
    digest = hashlib.blake2b(f"{date}\n{text}".encode(), digest_size=8).hexdigest()
    return f"{channel}/row-{digest}"


def _json_lines(text: Iterable[str], path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as error:
            raise ParseError(f"not JSON: {error}", path=path, line=number) from error
        if not isinstance(value, dict):
            raise ParseError("a JSON line that is not an object", path=path, line=number)
        yield number, value


def _lines(text: Iterable[str]) -> Iterator[str]:
    """Whole lines from chunks cut at line ends (as the importer reads files).

    Only ``\n`` ends a line: JSON strings and CSV cells may hold other line separators.
    """
    for chunk in text:
        lines = chunk.split("\n")
        for line in lines[:-1]:
            yield line + "\n"
        if lines[-1]:
            yield lines[-1]


__all__ = ["FIELD_NAMES", "MAPPABLE", "parse_mapping", "row_to_post", "snscrape_post"]
