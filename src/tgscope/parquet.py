"""Parquet export through pyarrow: one row per post, with real types.

Dates are UTC timestamps; hashtags, mentions and links are lists of strings; reactions,
entities, media, buttons and sources are lists of structs; the forward, the reply and the
link preview are structs.  What varies between kinds of media (a poll, a size, a place)
goes into each media item's ``extra`` (JSON), so the schema stays the same for every file.
Rows are written in batches: an export of millions of posts keeps memory bounded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import TgscopeError
from .exports import replacing_file
from .record import Post

_BATCH = 5000
_STRING, _INT = pa.string(), pa.int64()
_TIME = pa.timestamp("us", tz="UTC")
_MEDIA_FIELDS = {
    "type": _STRING,
    "url": _STRING,
    "file_name": _STRING,
    "mime_type": _STRING,
    "duration": _INT,
    "width": _INT,
    "height": _INT,
    "size": _INT,
    "unsupported": pa.bool_(),
    "reason": _STRING,
}
SCHEMA = pa.schema(
    [
        ("key", _STRING),
        ("channel", _STRING),
        ("channel_title", _STRING),
        ("id", _INT),
        ("date", _TIME),
        ("text", _STRING),
        (
            "entities",
            pa.list_(
                pa.struct(
                    [
                        ("type", _STRING),
                        ("offset", _INT),
                        ("length", _INT),
                        ("url", _STRING),
                        ("document_id", _STRING),
                        ("user_id", _INT),
                        ("language", _STRING),
                    ]
                )
            ),
        ),
        ("views", _INT),
        ("forwards", _INT),
        ("replies", _INT),
        (
            "reactions",
            pa.list_(
                pa.struct(
                    [
                        ("emoji", _STRING),
                        ("custom_emoji_id", _STRING),
                        ("paid", pa.bool_()),
                        ("count", _INT),
                    ]
                )
            ),
        ),
        ("forwarded_from", pa.struct([("title", _STRING), ("channel", _STRING), ("id", _INT)])),
        ("reply_to", pa.struct([("channel", _STRING), ("id", _INT)])),
        ("media", pa.list_(pa.struct([*_MEDIA_FIELDS.items(), ("extra", _STRING)]))),
        (
            "link_preview",
            pa.struct(
                [
                    ("url", _STRING),
                    ("site_name", _STRING),
                    ("title", _STRING),
                    ("description", _STRING),
                ]
            ),
        ),
        ("buttons", pa.list_(pa.struct([("text", _STRING), ("url", _STRING)]))),
        ("hashtags", pa.list_(_STRING)),
        ("mentions", pa.list_(_STRING)),
        ("links", pa.list_(_STRING)),
        ("author", _STRING),
        ("via_bot", _STRING),
        ("edited", pa.bool_()),
        ("service", _STRING),
        ("album_id", _STRING),
        (
            "sources",
            pa.list_(pa.struct([("kind", _STRING), ("ref", _STRING), ("observed_at", _TIME)])),
        ),
    ]
)


def write_parquet(posts: Iterable[Post], output: Path) -> int:
    """Write ``posts`` to the Parquet file ``output``; return how many.  The file appears
    whole or not at all: it is written beside and renamed when complete (a symlink at
    ``output`` is replaced, not followed)."""
    try:
        with replacing_file(output) as sink:
            return _write(posts, sink)
    except (pa.ArrowException, ValueError, TypeError) as error:
        raise TgscopeError(f"{output}: cannot write Parquet: {error}") from error


def _write(posts: Iterable[Post], sink: BinaryIO) -> int:
    count = 0
    with pq.ParquetWriter(sink, SCHEMA, compression="zstd") as writer:
        rows: list[dict[str, Any]] = []
        for post in posts:
            rows.append(_row(post))
            if len(rows) >= _BATCH:
                writer.write_table(pa.Table.from_pylist(rows, schema=SCHEMA))
                count, rows = count + len(rows), []
        if rows or count == 0:
            writer.write_table(pa.Table.from_pylist(rows, schema=SCHEMA))
            count += len(rows)
    return count


def _row(post: Post) -> dict[str, Any]:
    row = post.to_dict()
    row["date"] = _time(post.date)
    row["entities"] = [_entity(entity) for entity in post.entities]
    row["media"] = [_media(item) for item in post.media]
    row["sources"] = [
        {**source, "observed_at": _time(source["observed_at"])} for source in post.sources
    ]
    return row


def _entity(entity: Mapping[str, Any]) -> dict[str, Any]:
    document = entity.get("document_id")
    return {**entity, "document_id": None if document is None else str(document)}


def _media(item: Mapping[str, Any]) -> dict[str, Any]:
    """Typed columns for what most media have; the rest (a poll, a place...) as JSON."""
    typed = {name: item.get(name) for name in _MEDIA_FIELDS}
    odd_size = typed["size"] is not None and not isinstance(typed["size"], int)
    rest = {
        name: value
        for name, value in item.items()
        if name not in _MEDIA_FIELDS or (name == "size" and odd_size)
    }
    if odd_size:
        typed["size"] = None
    typed["extra"] = json.dumps(rest, ensure_ascii=False) if rest else None
    return typed


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
