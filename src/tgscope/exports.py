"""Writing posts out: JSON Lines (the full record) and CSV (flat, spreadsheet-friendly)."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable
from contextlib import nullcontext
from pathlib import Path
from typing import TextIO

from .errors import OptionError, TgscopeError
from .record import Post

CSV_COLUMNS = (
    "key",
    "channel",
    "channel_title",
    "id",
    "date",
    "text",
    "views",
    "forwards",
    "replies",
    "reactions",
    "reactions_total",
    "forwarded_from",
    "forwarded_from_channel",
    "forwarded_from_id",
    "reply_to_channel",
    "reply_to_id",
    "media",
    "hashtags",
    "mentions",
    "links",
    "buttons",
    "author",
    "via_bot",
    "edited",
    "service",
    "album_id",
    "sources",
)


def write_jsonl(posts: Iterable[Post], out: TextIO) -> int:
    count = 0
    for post in posts:
        out.write(post.to_json())
        out.write("\n")
        count += 1
    return count


def write_csv(posts: Iterable[Post], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for post in posts:
        writer.writerow(csv_row(post))
        count += 1
    return count


def csv_row(post: Post) -> list:
    """One flat row: lists joined with spaces, reactions as ``👍 16; ❤ 3``."""
    forward = post.forwarded_from or {}
    reply = post.reply_to or {}
    return [
        post.key,
        post.channel,
        post.channel_title,
        post.id,
        post.date,
        post.text,
        post.views,
        post.forwards,
        post.replies,
        "; ".join(f"{_reaction_label(r)} {r['count']}" for r in post.reactions),
        sum(r["count"] for r in post.reactions),
        forward.get("title"),
        forward.get("channel"),
        forward.get("id"),
        reply.get("channel"),
        reply.get("id"),
        "; ".join(_media_label(m) for m in post.media),
        " ".join(f"#{tag}" for tag in post.hashtags),
        " ".join(f"@{name}" for name in post.mentions),
        " ".join(post.links),
        "; ".join(f"{b['text']} <{b['url']}>" if b.get("url") else b["text"] for b in post.buttons),
        post.author,
        post.via_bot,
        int(post.edited),
        post.service,
        post.album_id,
        "; ".join(f"{s['kind']}:{s['ref']}" for s in post.sources),
    ]


def _reaction_label(reaction) -> str:
    if reaction.get("paid"):
        return "⭐(paid)"
    return reaction.get("emoji") or f"custom:{reaction.get('custom_emoji_id')}"


def _media_label(media) -> str:
    label = media["type"]
    if media.get("unsupported"):
        label += " (not shown)"
    return f"{label} {media['url']}" if media.get("url") else label


EXPORTERS = {"jsonl": write_jsonl, "csv": write_csv, "parquet": None}


def export_posts(
    posts: Iterable[Post], format: str, output: Path | None = None, *, bom: bool = False
) -> int:
    """Write ``posts`` to ``output`` (standard output when None); return how many."""
    if format == "parquet":
        return _export_parquet(posts, output)
    writer = EXPORTERS[format]
    encoding = "utf-8-sig" if bom else "utf-8"
    try:
        target = (
            output.open("w", encoding=encoding, newline="") if output else nullcontext(sys.stdout)
        )
        with target as out:
            if output is None and bom:
                out.write("\ufeff")
            return writer(posts, out)
    except BrokenPipeError:
        raise  # the reader closed the pipe (`| head`): click handles it, quietly
    except OSError as error:
        raise TgscopeError(
            f"{output or '<stdout>'}: cannot write: {error.strerror or error}"
        ) from error


def _export_parquet(posts: Iterable[Post], output: Path | None) -> int:
    from .parquet import write_parquet  # pyarrow loads in a second: only when asked

    if output is None:
        raise OptionError("--format parquet writes a file: give it with --output FILE")
    try:
        return write_parquet(posts, output)
    except OSError as error:
        raise TgscopeError(f"{output}: cannot write: {error.strerror or error}") from error
