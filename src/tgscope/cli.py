"""The ``tgscope`` command: each command is a few lines over :class:`tgscope.archive.Archive`."""

from __future__ import annotations

import contextlib
import functools
import html
import json
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from . import __version__
from .archive import Archive, FileReport, expand_path
from .clean import normalize_channel
from .errors import TgscopeError
from .exports import EXPORTERS, export_posts
from .http import DEFAULT_BASE_URL, FetchPolicy, make_client
from .record import Post
from .sources import SOURCES
from .sources.tabular import parse_mapping
from .store import PostFilter
from .sync import sync_channels

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def db_option(command: Callable) -> Callable:
    return click.option(
        "--db",
        type=click.Path(dir_okay=False),
        help="Archive file (default: $TGSCOPE_DB, else ./tgscope.db).",
    )(command)


def filter_options(command: Callable) -> Callable:
    for option in reversed(
        [
            click.option("--channel", help="Only posts of this channel (username)."),
            click.option(
                "--since", metavar="DATE", help="Only posts on or after DATE (YYYY-MM-DD)."
            ),
            click.option(
                "--until", metavar="DATE", help="Only posts on or before DATE (YYYY-MM-DD)."
            ),
            click.option("--hashtag", help="Only posts with this hashtag (with or without #)."),
        ]
    ):
        command = option(command)
    return command


def reports_errors(command: Callable) -> Callable:
    """Turn tgscope's errors into a one-line message and a non-zero exit, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except TgscopeError as error:
            raise click.ClickException(str(error)) from error
        except sqlite3.DatabaseError as error:  # damage found in the middle of a read, say
            raise click.ClickException(f"archive error: {error}") from error
        except KeyboardInterrupt:
            err_console.print("interrupted: whatever was being written was rolled back")
            sys.exit(130)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tgscope")
def cli() -> None:
    """Collect, archive, clean, search and analyze public Telegram channels."""


@cli.command(name="import")
@db_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "format_", type=click.Choice(sorted(SOURCES)), help="Skip detection.")
@click.option(
    "--channel", help="The channel's username, for files that do not say it (dumps, exports)."
)
@click.option(
    "--timezone",
    metavar="ZONE",
    help="Where a Desktop export was made (e.g. Europe/Berlin), for exports without UTC times.",
)
@click.option("--chat", type=int, metavar="ID", help="Only this chat of a whole-account export.")
@click.option(
    "--map",
    "mapping",
    metavar="FIELD=COLUMN,...",
    help="Columns of another tool's CSV/JSONL file, e.g. id=message_id,text=message.",
)
@reports_errors
def import_command(db, paths, format_, channel, timezone, chat, mapping):
    """Import files or folders: text dumps, saved t.me/s pages, Telegram Desktop exports
    (JSON or HTML), tgscope and snscrape JSON Lines, other tools' CSV/JSONL.

    The format is detected from each file's content.  Each file is imported whole
    or not at all, and importing the same file again changes nothing.
    """
    options = {"timezone": timezone, "chat": chat, "mapping": mapping}
    if mapping:
        parse_mapping(mapping)  # a bad --map is one error, not one per file
    with Archive.open(db) as archive, _progress(paths) as advance:
        report = archive.import_paths(
            list(paths),
            format=format_,
            channel=channel,
            progress=advance,
            on_file=_print_file,
            options={name: value for name, value in options.items() if value is not None},
        )
    if len(report.files) > 1:
        console.print(f"total: {report.summary()}")
    if report.failures:
        sys.exit(1)


@cli.command()
@db_option
@click.argument("channels", nargs=-1, required=True)
@click.option("--all", "all_pages", is_flag=True, help="Walk the whole history again.")
@click.option("--since", metavar="DATE", help="Stop at posts older than DATE (YYYY-MM-DD).")
@click.option("--until", metavar="DATE", help="Only posts up to DATE: seek there first.")
@click.option("--keep-raw", is_flag=True, help="Keep every fetched page (compressed) as evidence.")
@click.option(
    "--base-url",
    envvar="TGSCOPE_BASE_URL",
    default=DEFAULT_BASE_URL,
    show_default=True,
    help="Host that serves the t.me/s pages (a mirror or a replay server).",
)
@click.option(
    "--delay",
    type=click.FloatRange(0),
    default=1.0,
    show_default=True,
    help="Seconds between requests, plus up to half as much at random.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 16),
    default=2,
    show_default=True,
    help="Channels synced at the same time (each waits --delay between its requests).",
)
@click.option("--gaps", is_flag=True, help="List the missing ids and why, after the summary.")
@click.option(
    "--api", "use_api", is_flag=True, help="Through the Telegram API (tgscope auth first)."
)
@reports_errors
def sync(db, channels, all_pages, since, until, keep_raw, base_url, delay, jobs, gaps, use_api):
    """Archive public channels from their web preview (t.me/s), without an account,
    or with --api through the Telegram API (exact views, forwards, comments).

    Walks from the newest post back; by default stops at the newest post already archived.
    Each page is saved with its cursor, so an interrupted sync continues where it stopped.
    """
    if use_api:
        _sync_api(db, channels, all_pages)
        return
    policy = FetchPolicy(delay=delay)
    failed = False
    with (
        Archive.open(db) as archive,
        make_client(base_url, policy=policy) as client,
        _sync_progress(channels) as on_page,
    ):
        for channel, outcome in sync_channels(
            archive,
            list(channels),
            client=client,
            jobs=jobs,
            on_page=on_page,
            policy=policy,
            all_pages=all_pages,
            since=since,
            until=until,
            keep_raw=keep_raw,
        ):
            if isinstance(outcome, TgscopeError):  # one channel failing does not stop the others
                err_console.print(f"Error: {outcome}")
                failed = True
                continue
            for warning in outcome.warnings:
                err_console.print(f"warning: {channel}: {warning}")
            console.print(outcome.summary())
            for line in outcome.missing_lines() if gaps else ():
                console.print(f"  missing {line}")
    if failed:
        sys.exit(1)


def _sync_api(db: str | None, channels: tuple[str, ...], all_pages: bool) -> None:
    from .api_sync import (
        keep_private,
        load_credentials,
        make_client,
        session_path,
    )

    client = make_client(load_credentials())
    failed = False
    client.connect()  # not start(): that would ask for a phone number here
    try:
        if not client.is_user_authorized():
            raise click.ClickException("not logged in to Telegram: run tgscope auth first")
        with Archive.open(db) as archive:
            failed = _sync_api_channels(archive, client, channels, all_pages)
    finally:
        client.disconnect()
        keep_private(session_path())
    if failed:
        sys.exit(1)


def _sync_api_channels(archive, client, channels, all_pages) -> bool:
    from .api_sync import sync_api_channel

    failed = False
    for channel in channels:
        try:
            report = sync_api_channel(archive, channel, client=client, all_pages=all_pages)
        except TgscopeError as error:  # one channel failing does not stop the others
            err_console.print(f"Error: {error}")
            failed = True
            continue
        console.print(report.summary())
    return failed


@cli.command()
@click.option("--api-id", type=int, prompt="API id (from my.telegram.org)", help="API id.")
@click.option(
    "--api-hash", prompt="API hash", hide_input=True, help="API hash (never shown or logged)."
)
@click.option("--phone", prompt="Phone number (international format)", help="For the login.")
@reports_errors
def auth(api_id, api_hash, phone):
    """Log in to the Telegram API once, for sync --api.

    The API id and hash and the login session are stored in ~/.config/tgscope (or
    $TGSCOPE_CONFIG), readable by you only, never in the archive.
    """
    from .api_sync import Credentials, keep_private, make_client, save_credentials, session_path

    credentials = Credentials(api_id, api_hash)
    client = make_client(credentials)
    client.start(phone=phone)  # asks for the code Telegram sends (and a password if set)
    client.disconnect()
    keep_private(session_path())
    path = save_credentials(credentials)
    console.print(f"logged in; credentials and session stored in {path.parent}")


@contextmanager
def _sync_progress(channels: tuple[str, ...]) -> Iterator[Callable | None]:
    """One line per channel on stderr when it is a terminal: pages and new posts so far."""
    if not err_console.is_terminal:
        yield None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=err_console, transient=True) as progress:
        tasks = {}
        for name in channels:
            with contextlib.suppress(ValueError):  # a bad name is reported by the sync itself
                tasks[normalize_channel(name)] = progress.add_task(f"{name}: waiting")

        def on_page(report) -> None:
            task = tasks.get(report.channel)
            if task is None:
                return
            progress.update(
                task,
                description=f"{report.channel}: {report.pages} page(s), {report.added} new post(s)",
            )

        yield on_page


@cli.command()
@db_option
@click.argument("query")
@filter_options
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--sort",
    type=click.Choice(["relevance", "newest", "oldest"]),
    default="relevance",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="One JSON record per line, with snippet.")
@reports_errors
def search(db, query, channel, since, until, hashtag, limit, sort, as_json):
    """Full-text search in any word form (English and Russian).

    QUERY is words (all must match), "a phrase", OR, -excluded; empty ("") lists all.
    """
    with Archive.open(db, create=False) as archive:
        found = archive.search(
            query,
            channel=channel,
            since=since,
            until=until,
            hashtag=hashtag,
            limit=limit,
            order=sort,
        )
    if as_json:
        for result in found.results:
            record = result.post.to_dict()
            record["search"] = {"score": result.score, "snippet": result.snippet}
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    console.print(f"{found.total} match(es), showing {len(found.results)}")
    for result in found.results:
        _print_hit(result.post, result.snippet)
    if (since or until) and found.undated_left_out:
        err_console.print(
            f"note: {found.undated_left_out} post(s) here have no date (text dumps carry none)"
            " and never match --since/--until"
        )


@cli.command()
@db_option
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="The whole record as JSON.")
@click.option(
    "--sources", "with_sources", is_flag=True, help="Who said what: each source's version."
)
@reports_errors
def show(db, key, as_json, with_sources):
    """Show one post by its key (as printed by search)."""
    with Archive.open(db, create=False) as archive:
        post = archive.get(key)
        provenance = archive.provenance(key) if with_sources else []
    if post is None:
        raise click.ClickException(f"{archive.path}: no post with key {key!r}")
    if as_json:
        record = post.to_dict() | ({"provenance": provenance} if with_sources else {})
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    _print_post(post)
    if with_sources:
        _print_provenance(provenance)


@cli.command()
@db_option
@filter_options
@click.option(
    "--format", "format_", type=click.Choice(sorted(EXPORTERS)), default="jsonl", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of standard output.",
)
@click.option("--bom", is_flag=True, help="CSV: start with a UTF-8 byte order mark (for Excel).")
@click.option("--query", "-q", help="Only posts matching this search (as in tgscope search).")
@reports_errors
def export(db, channel, since, until, hashtag, format_, output, bom, query):
    """Export posts as JSON Lines (the full record, lossless), CSV (one flat row per post)
    or Parquet (typed columns, for pandas, DuckDB, R)."""
    filters = PostFilter(channel=channel, since=since, until=until, hashtag=hashtag)
    with Archive.open(db, create=False) as archive:
        count = export_posts(archive.posts(filters, query=query), format_, output, bom=bom)
    if output:
        err_console.print(f"{count} post(s) written to {output}")


@cli.command()
@db_option
@filter_options
@reports_errors
def stats(db, channel, since, until, hashtag):
    """Posts per channel, date range, top hashtags and reaction totals."""
    with Archive.open(db, create=False) as archive:
        summary = archive.stats(
            PostFilter(channel=channel, since=since, until=until, hashtag=hashtag)
        )
    dated = (
        f"dated {summary.first_date} .. {summary.last_date}" if summary.first_date else "none dated"
    )
    undated = summary.undated if summary.first_date else 0
    undated = f", {undated} without a date" if undated else ""
    console.print(
        f"{summary.posts} post(s) from {summary.sources} source file(s); {dated}{undated}"
    )
    _print_table(
        "posts per channel",
        ("channel", "title", "posts"),
        [(c or "(unknown)", t or "", n) for c, t, n in summary.channels],
    )
    _print_table(
        "top hashtags", ("hashtag", "posts"), [(f"#{t}", n) for t, n in summary.top_hashtags]
    )
    _print_table("reactions", ("reaction", "total"), summary.reactions)


@cli.command()
@db_option
@reports_errors
def reindex(db):
    """Rebuild the search index from the archive (after a crash or an upgrade)."""
    with Archive.open(db, create=False) as archive:
        count = archive.reindex()
    console.print(f"{count} post(s) indexed")


@contextmanager
def _progress(paths: tuple[Path, ...]) -> Iterator[Callable[[int], None] | None]:
    """A byte-progress bar on stderr when it is a terminal; nothing otherwise."""
    if not err_console.is_terminal:
        yield None
        return
    total = sum(p.stat().st_size for p in _files(paths) if p.is_file())
    columns = (BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("import", total=total)
        yield lambda size: progress.advance(task, size)


def _files(paths: tuple[Path, ...]) -> list[Path]:
    found = []
    for path in paths:
        try:
            found.extend(expand_path(path))
        except TgscopeError:
            continue  # reported when it is imported
    return found


def _print_file(file: FileReport) -> None:
    """One line per file as it completes; its warnings and errors go to stderr."""
    for warning in file.warnings:
        err_console.print(f"warning: {file.path}: {warning}")
    if file.error:
        err_console.print(f"Error: {file.error} (nothing of it was imported)")
    else:
        console.print(file.summary())


def _print_table(title: str, columns: tuple[str, ...], rows) -> None:
    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name, justify="right" if name in ("posts", "total") else "left")
    for row in rows:
        table.add_row(*(str(value) for value in row))
    console.print(table)


def _print_post(post: Post) -> None:
    forward = post.forwarded_from or {}
    console.print(Text(post.key, style="bold"))
    details = {
        "channel": post.channel
        and f"{post.channel} ({post.channel_title or ''})".replace(" ()", ""),
        "id": post.id,
        "date": post.date,
        "forwarded from": forward.get("title") or forward.get("channel"),
        "views": post.views,
        "reactions": _reactions(post),
        "hashtags": " ".join(f"#{t}" for t in post.hashtags),
        "media": ", ".join(
            m["type"] + (" (not shown by the source)" if m.get("unsupported") else "")
            for m in post.media
        ),
        "sources": "; ".join(f"{s['kind']} {s['ref']} at {s['observed_at']}" for s in post.sources),
    }
    for name, value in details.items():
        if value not in (None, ""):
            console.print(Text(f"{name}: ", style="dim") + Text(str(value)))
    console.print()
    console.print(Text(post.text))


def _print_provenance(provenance: list[dict]) -> None:
    """Each kind of source: when it last saw the post, its observations, what it gave."""
    console.print()
    console.print("Sources:")
    for source in provenance:
        console.print(f"  {source['kind']}, last seen {source['latest'] or '-'}")
        for seen in source["observations"]:
            console.print(Text(f"    {seen['ref']} at {seen['observed_at']}", style="dim"))
        given = ", ".join(source["fields"]) or "nothing the others did not"
        console.print(f"    gave: {given}")


def _print_hit(post: Post, snippet: str) -> None:
    forward = (post.forwarded_from or {}).get("title")
    about = [post.date, forward and f"forwarded from {forward}", _reactions(post)]
    console.print()
    console.print(
        Text(post.key, style="bold cyan") + Text("  " + "  ·  ".join(filter(None, about)))
    )
    if post.text.strip():
        console.print(Text("  ") + _snippet(snippet))
    else:
        console.print(f"  (no text; media: {', '.join(m['type'] for m in post.media) or 'none'})")


def _reactions(post: Post) -> str:
    parts = []
    for reaction in post.reactions:
        label = reaction.get("emoji") or ("⭐" if reaction.get("paid") else "custom")
        parts.append(f"{label}{reaction['count']}")
    return " ".join(parts)


_BOLD = re.compile(r"<b>(.*?)</b>", re.S)


def _snippet(snippet_html: str) -> Text:
    snippet_html = " ".join(snippet_html.split())
    text = Text()
    position = 0
    for match in _BOLD.finditer(snippet_html):
        text.append(html.unescape(snippet_html[position : match.start()]))
        word = html.unescape(match.group(1))
        text.append(word if console.is_terminal else f"[{word}]", style="bold yellow")
        position = match.end()
    text.append(html.unescape(snippet_html[position:]))
    return text


def main() -> None:
    cli(prog_name="tgscope")  # click quiets a closed pipe (`tgscope export | head`) itself


if __name__ == "__main__":
    main()
