"""Writing posts out: JSON Lines (the full record) and CSV (flat, spreadsheet-friendly).

A file is written beside its destination and renamed over it when complete: an export that
fails leaves what was there, and a symlink at the destination is replaced, never followed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from .errors import OptionError, TgscopeError
from .record import Post, reaction_label

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


#: turns a batch of posts into the records written for them (the media's files added, say)
Annotate = Callable[[list[Post]], list[dict[str, Any]]]
_ANNOTATED_BATCH = 500


def write_jsonl(posts: Iterable[Post], out: TextIO, *, annotate: Annotate | None = None) -> int:
    count = 0
    if annotate is not None:
        for batch in _batched(posts, _ANNOTATED_BATCH):
            for record in annotate(batch):
                out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
                out.write("\n")
                count += 1
        return count
    for post in posts:
        out.write(post.to_json())
        out.write("\n")
        count += 1
    return count


def _batched(posts: Iterable[Post], size: int) -> Iterator[list[Post]]:
    batch: list[Post] = []
    for post in posts:
        batch.append(post)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_csv(posts: Iterable[Post], out: TextIO, *, formula_guard: bool = True) -> int:
    """One row per post; with ``formula_guard``, text a spreadsheet would run as a formula
    gets a leading ``'`` (see :func:`guard_formula`)."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for post in posts:
        row = csv_row(post)
        writer.writerow([guard_formula(cell) for cell in row] if formula_guard else row)
        count += 1
    return count


_FORMULA_START = ("=", "+", "-", "@")
_RISKY_START = (*_FORMULA_START, "\t", "\r", "\n")


def guard_formula(cell: object) -> object:
    """A text cell that starts like a formula (``=``, ``+``, ``-``, ``@``, a tab or a line
    break, or spaces then a formula sign) with ``'`` in front, as OWASP advises against
    CSV injection (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``): spreadsheets then show
    it as text.  Numbers (counts, ids) are never text cells here and stay numbers."""
    if isinstance(cell, str) and (
        cell.startswith(_RISKY_START) or cell.lstrip().startswith(_FORMULA_START)
    ):
        return "'" + cell
    return cell


def csv_row(post: Post) -> list:
    """One flat row: lists joined with spaces, reactions as ``👍 16; ❤ 3``."""
    forward: Mapping[str, Any] = post.forwarded_from or {}
    reply: Mapping[str, Any] = post.reply_to or {}
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
        "; ".join(f"{reaction_label(r)} {r['count']}" for r in post.reactions),
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


def _media_label(media) -> str:
    label = media["type"]
    if media.get("unsupported"):
        label += " (not shown)"
    return f"{label} {media['url']}" if media.get("url") else label


EXPORTERS = {"jsonl": write_jsonl, "csv": write_csv, "parquet": None}


def export_posts(
    posts: Iterable[Post],
    format: str,
    output: str | os.PathLike[str] | None = None,
    *,
    bom: bool = False,
    formula_guard: bool = True,
    annotate: Annotate | None = None,
) -> int:
    """Write ``posts`` to ``output`` (standard output when None); return how many.

    ``bom`` starts a CSV file with a UTF-8 byte order mark (for Excel); ``formula_guard``
    (CSV only) keeps spreadsheets from running cells as formulas.  JSON Lines and Parquet
    always hold the exact text.  ``annotate`` (JSON Lines only) makes the records written
    from each batch of posts.
    """
    output = Path(output) if output is not None else None
    if annotate is not None and format != "jsonl":
        raise OptionError("the media's files go with a JSON Lines export only")
    if format == "parquet":
        return _export_parquet(posts, output)
    if format not in EXPORTERS:
        raise OptionError(f"unknown export format {format!r}")
    try:
        if output is None:
            return _write_text(posts, format, sys.stdout, bom, formula_guard, annotate)
        with replacing_file(output) as raw, io.TextIOWrapper(raw, "utf-8", newline="") as out:
            return _write_text(posts, format, out, bom, formula_guard, annotate)
    except BrokenPipeError:
        raise  # the reader closed the pipe (`| head`): click handles it, quietly
    except OSError as error:
        raise TgscopeError(
            f"{output or '<stdout>'}: cannot write: {error.strerror or error}"
        ) from error


def _write_text(
    posts: Iterable[Post],
    format: str,
    out: TextIO,
    bom: bool,
    formula_guard: bool,
    annotate: Annotate | None,
) -> int:
    if bom:
        out.write("\ufeff")
    if format == "csv":
        return write_csv(posts, out, formula_guard=formula_guard)
    return write_jsonl(posts, out, annotate=annotate)


@contextmanager
def replacing_file(output: Path) -> Iterator[BinaryIO]:
    """A new file beside ``output`` that takes its place once the block ends without error
    (and is removed if it does not).  A symlink at ``output`` is replaced, its target left
    alone; a file there keeps its permissions.  A pipe or a device (``/dev/null``,
    ``/dev/stdout``) is written to as it is: there is nothing there to replace."""
    if _written_in_place(output):
        with output.open("wb") as direct:
            yield direct
        return
    try:
        existing = output.lstat()
    except FileNotFoundError:
        existing = None
    partial, handle = _new_file_beside(output)
    try:
        with handle:
            if existing is not None and stat.S_ISREG(existing.st_mode):
                os.chmod(handle.fileno(), stat.S_IMODE(existing.st_mode))
            yield handle
        partial.replace(output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _written_in_place(output: Path) -> bool:
    """Whether ``output`` is a pipe or a device, or a name for one (``/dev/stdout`` is a
    symlink into ``/proc``, to whatever standard output is, a file too)."""
    if output.absolute().parts[1:2] in (("dev",), ("proc",)):
        return True
    try:
        mode = output.stat().st_mode  # through a symlink: a link to a FIFO is written into
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _new_file_beside(output: Path) -> tuple[Path, BinaryIO]:
    """A file of a fresh name in ``output``'s folder, made by us (O_EXCL: never an existing
    file or a symlink planted there), with the permissions a new file gets."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    while True:
        partial = output.with_name(f".{output.name}.{secrets.token_hex(4)}.partial")
        try:
            descriptor = os.open(partial, flags, 0o666)
        except FileExistsError:
            continue
        return partial, os.fdopen(descriptor, "wb")


def _export_parquet(posts: Iterable[Post], output: Path | None) -> int:
    from .parquet import write_parquet  # pyarrow loads in a second: only when asked

    if output is None:
        raise OptionError("Parquet is written to a file, not a stream: give an output path")
    try:
        return write_parquet(posts, output)
    except OSError as error:
        raise TgscopeError(f"{output}: cannot write: {error.strerror or error}") from error
