"""``tgscope media`` (fetch, verify) and ``tgscope images`` (similar, reposts): the media
kept as evidence, and the same picture across channels."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..errors import OptionError
from .base import (
    cli,
    console,
    db_option,
    err_console,
    json_text,
    reports_errors,
    safe_text,
    seconds_option,
)


@cli.group()
def media() -> None:
    """Keep the photos, videos and files of archived posts, checkably."""


@media.command("fetch")
@db_option
@click.option("--channel", help="Only posts of this channel (username).")
@click.option("--since", metavar="DATE", help="Only posts on or after DATE (YYYY-MM-DD).")
@click.option("--until", metavar="DATE", help="Only posts on or before DATE.")
@click.option(
    "--types",
    metavar="LIST",
    help="Only these media types, comma-separated: photo, video, gif, round_video, voice,"
    " audio, document, sticker (default: all).",
)
@click.option(
    "--max-size",
    metavar="SIZE",
    default="50MB",
    show_default=True,
    help="Larger files are recorded as too large, not fetched (KB, MB, GB: powers of 1024).",
)
@seconds_option("--delay", 0.5, "Seconds between downloads, plus up to half as much at random.")
@seconds_option("--max-wait", 60.0, "Longest single wait in seconds (backoff, Retry-After).")
@click.option(
    "--api",
    "use_api",
    is_flag=True,
    help="The files of posts synced through the Telegram API, downloaded through it"
    " (tgscope auth first; --delay does not apply: Telethon paces itself).",
)
@reports_errors
def media_fetch(db, channel, since, until, types, max_size, delay, max_wait, use_api):
    """Download the media the archive knows a link for into DB.media/, named by SHA-256.

    Photos, videos and their posters, round videos, voice, stickers, link preview images
    and channel pictures of web-preview posts.  Each file is stored once however many posts
    carry it.  Resumable: run it again after a stop and it fetches only what is missing.
    Expired links (403/410) and missing ones (404) are recorded, not asked again until a
    new sync gives the post a new link."""
    try:
        _media_fetch(db, channel, since, until, types, max_size, delay, max_wait, use_api)
    except KeyboardInterrupt:
        err_console.print(
            "interrupted: every file fetched so far is kept; run the same command again to"
            " fetch the rest"
        )
        sys.exit(130)


def _media_fetch(db, channel, since, until, types, max_size, delay, max_wait, use_api):
    from ..archive import Archive
    from ..collect.http import FetchPolicy, make_client
    from ..collect.media import fetch_media

    policy = FetchPolicy(delay=delay, max_wait=max_wait)
    chosen = types.split(",") if types else None
    if use_api:
        _fetch_api(db, _channel(channel), since, until, chosen, parse_size(max_size), max_wait)
        return
    with Archive.open(db, create=False) as archive, make_client(policy=policy) as client:
        with _Progress("media") as progress:
            report = fetch_media(
                archive,
                client=client,
                policy=policy,
                channel=_channel(channel),
                since=since,
                until=until,
                types=chosen,
                max_size=parse_size(max_size),
                on_item=progress.item,
                on_wait=lambda wait: err_console.print(safe_text(str(wait))),
            )
        hashed = archive.media.update_hashes()
    _print_fetched(report, hashed)


def _fetch_api(db, channel, since, until, types, max_size: int, max_wait: float) -> None:
    from ..archive import Archive
    from ..collect.api_media import fetch_api_media
    from ..collect.api_sync import api_session

    with Archive.open(db, create=False) as archive, api_session() as client:
        with _Progress("media") as progress:
            report = fetch_api_media(
                archive,
                client=client,
                channel=channel,
                since=since,
                until=until,
                types=types,
                max_size=max_size,
                max_wait=max_wait,
                on_item=progress.item,
                on_wait=lambda wait: err_console.print(safe_text(str(wait))),
            )
        hashed = archive.media.update_hashes()
    _print_fetched(report, hashed)


def _print_fetched(report: Any, hashed: int) -> None:
    console.print(safe_text(report.summary()))
    if hashed:
        console.print(f"perceptual hashes of {hashed:,} new file(s)")
    print_problems(report)


@media.command("verify")
@db_option
@reports_errors
def media_verify(db):
    """Rehash every stored file; list those missing or altered (exit status 1 if any)."""
    from ..archive import Archive

    with Archive.open(db, create=False) as archive, _Progress("files") as progress:
        report = archive.media.verify(on_file=progress.item)
        console.print(safe_text(report.summary()))
        for sha in report.missing:
            console.print(safe_text(f"  missing {sha} ({_carried_by(archive, sha)})"))
        for sha, aside in zip(report.altered, report.set_aside, strict=True):
            carried = _carried_by(archive, sha)
            console.print(safe_text(f"  altered {sha} ({carried}), moved to {aside}"))
    if not report.ok:
        err_console.print(
            "note: tgscope media fetch fetches them again where their links still work;"
            " importing an export again takes its files in again"
        )
        sys.exit(1)


def _carried_by(archive: Any, sha: str) -> str:
    """``mfarussia/12`` or ``mfarussia/12 and 2 more``: the posts that carried a file."""
    posts = list(dict.fromkeys(medium.post for medium in archive.media.carrying(sha)))
    if not posts:
        return "no post"
    return posts[0] + (f" and {len(posts) - 1} more" if len(posts) > 1 else "")


@cli.group()
def images() -> None:
    """The same picture across posts and channels (perceptual hashes of stored images)."""


@images.command("similar")
@db_option
@click.argument("target")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@click.option("--format", "format_", type=click.Choice(["table", "jsonl"]), default="table")
@reports_errors
def images_similar(db, target, limit, format_):
    """Stored images that look like TARGET: a post's key (its first image), a file's
    SHA-256, or an image file; resized, recompressed, cropped or watermarked copies too."""
    from ..archive import Archive
    from .display import print_table

    with Archive.open(db, create=False) as archive:
        groups = archive.media.similar(target, limit=limit)
    if format_ == "jsonl":
        for group in groups:
            click.echo(json_text(group.to_dict()))
        return
    rows = [
        (str(g.distance), g.files[0][:12], _first_post(g), str(len(g.carriers)), _names(g))
        for g in groups
    ]
    print_table(
        f"{len(groups)} similar image(s)",
        ("distance", "sha256", "first", "posts", "channels"),
        rows,
    )


@images.command("reposts")
@db_option
@click.option("--min-channels", type=click.IntRange(1), default=2, show_default=True)
@click.option("--channel", help="Only pictures this channel's posts carried.")
@click.option("--format", "format_", type=click.Choice(["table", "jsonl"]), default="table")
@reports_errors
def images_reposts(db, min_channels, channel, format_):
    """Pictures carried by posts of several channels: each group of identical or
    near-identical images with its posts, its channels and where it appeared first."""
    from ..archive import Archive
    from .display import print_table

    with Archive.open(db, create=False) as archive:
        groups = archive.media.reposts(min_channels=min_channels, channel=_channel(channel))
    if format_ == "jsonl":
        for group in groups:
            click.echo(json_text(group.to_dict()))
        return
    rows = [
        (
            g.first.date[:10] if g.first and g.first.date else "?",
            _first_post(g),
            str(len(g.carriers)),
            str(len(g.files)),
            _names(g),
        )
        for g in groups
    ]
    print_table(
        f"{len(groups)} picture(s) in {min_channels}+ channels",
        ("first seen", "first", "posts", "files", "channels"),
        rows,
    )


def parse_size(text: str) -> int:
    """``50MB`` -> bytes (KB, MB, GB are powers of 1024; a bare number is bytes)."""
    from ..clean import parse_size as parse

    try:
        size = parse(text)
    except (ValueError, OverflowError):
        size = None
    if size is None or size <= 0:
        raise OptionError(f"max size: {text!r} is not a size (50MB, 2GB, 500KB)")
    return size


def _channel(name: str | None) -> str | None:
    if name is None:
        return None
    from ..clean import normalize_channel

    try:
        return normalize_channel(name)
    except ValueError as error:
        raise OptionError(str(error)) from error


def _first_post(group: Any) -> str:
    first = group.first
    return first.post if first else group.carriers[0].post if group.carriers else "-"


def _names(group: Any) -> str:
    names = group.channels
    return ", ".join(names[:5]) + (f" +{len(names) - 5}" if len(names) > 5 else "")


def print_problems(report: Any) -> None:
    """The first media not stored, one line each on stderr, and how many more."""
    for line in report.problems:  # the report keeps the first few (media.report)
        err_console.print(safe_text(f"not stored: {line}"))
    hidden = sum(report.not_stored.values()) - len(report.problems)
    if hidden > 0:
        err_console.print(f"… and {hidden:,} more (the media_fetches table lists them all)")


class _Progress:
    """A transient count on a terminal's stderr; nothing otherwise."""

    def __init__(self, what: str):
        self.what = what
        self.progress: Any = None
        self.task: Any = None

    def __enter__(self) -> _Progress:
        if err_console.is_terminal:
            from rich.progress import Progress, SpinnerColumn, TextColumn

            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                console=err_console.get(),
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task(f"{self.what}: starting")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def item(self, report: Any) -> None:
        if self.progress is None:
            return
        done = getattr(report, "checked", None)
        if done is None:
            done = report.stored + report.again + sum(report.not_stored.values())
        self.progress.update(self.task, description=f"{self.what}: {done:,} done")
