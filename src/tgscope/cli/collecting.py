"""``tgscope sync`` and ``tgscope auth``: collecting from Telegram into the archive."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import click

from ..errors import OptionError, TgscopeError
from .base import (
    cli,
    console,
    db_option,
    err_console,
    reports_errors,
    safe_text,
    seconds_option,
    visible,
)

if TYPE_CHECKING:
    import httpx

    from ..collect.http import FetchPolicy, Wait
    from ..collect.report import SyncReport

DEFAULT_BASE_URL = "https://t.me"  # tgscope.collect.http.DEFAULT_BASE_URL (a test keeps them equal)


def base_url_option(command: Callable) -> Callable:
    """``--base-url`` (or ``$TGSCOPE_BASE_URL``): the host of the t.me/s pages."""
    return click.option(
        "--base-url",
        envvar="TGSCOPE_BASE_URL",
        default=DEFAULT_BASE_URL,
        show_default=True,
        help="Host that serves the t.me/s pages (a mirror or a replay server).",
    )(command)


def web_client(base_url: str, policy: FetchPolicy) -> httpx.Client:
    """The HTTP client of ``--base-url`` (a bad address: one line naming the option)."""
    from ..collect.http import make_client

    try:
        return make_client(base_url, policy=policy)
    except OptionError as error:
        raise OptionError(f"--base-url: {error}") from error


INTERRUPTED = "interrupted: each saved page is kept; run the same command again to resume"


@cli.command()
@db_option
@click.argument("channels", nargs=-1, required=True)
@click.option("--all", "all_pages", is_flag=True, help="Walk the whole history again.")
@click.option("--since", metavar="DATE", help="Stop at posts older than DATE (YYYY-MM-DD).")
@click.option("--until", metavar="DATE", help="Only posts up to DATE: seek there first.")
@click.option("--keep-raw", is_flag=True, help="Keep every fetched page (compressed) as evidence.")
@base_url_option
@seconds_option("--delay", 1.0, "Seconds between requests, plus up to half as much at random.")
@seconds_option(
    "--max-wait",
    60.0,
    "Longest single wait in seconds (backoff, Retry-After, FloodWait); a server asking"
    " for longer stops that channel (run sync again later to resume).",
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
@click.option(
    "--media",
    "with_media",
    is_flag=True,
    help="Then fetch the synced channels' media, as tgscope media fetch does.",
)
@click.option(
    "--media-types",
    metavar="LIST",
    help="With --media: only these types, comma-separated (photo,video).",
)
@reports_errors
def sync(
    db,
    channels,
    all_pages,
    since,
    until,
    keep_raw,
    base_url,
    delay,
    max_wait,
    jobs,
    gaps,
    use_api,
    with_media,
    media_types,
):
    """Archive public channels from their web preview (t.me/s), without an account,
    or with --api through the Telegram API (exact views, forwards, comments).

    CHANNELS are usernames or links: name, @name, t.me/name, https://t.me/s/name,
    https://t.me/name/123.  Walks from the newest post back; by default stops at the newest
    post already archived.  Each page is saved with its cursor, so an interrupted sync
    continues where it stopped.  On a terminal a progress line shows each channel; otherwise
    one line per page goes to stderr.  The summaries go to stdout.
    """
    types = _media_types(with_media, media_types)  # checked before anything is synced
    dates = {"since": since, "until": until}
    try:
        if use_api:
            failed = _sync_api(db, channels, all_pages, max_wait, gaps)
            if types is not None:
                failed |= _fetch_synced_media(db, channels, types, max_wait, dates)
        else:
            options = dict(all_pages=all_pages, since=since, until=until, keep_raw=keep_raw)
            failed = _sync_web(db, channels, base_url, delay, max_wait, jobs, gaps, options)
            if types is not None:
                failed |= _fetch_synced_media(db, channels, types, max_wait, dates, delay=delay)
    except KeyboardInterrupt:  # after the progress line is gone, so this stands on its own
        err_console.print(INTERRUPTED, markup=False)
        sys.exit(130)
    if failed:
        sys.exit(1)


def _sync_web(db, channels, base_url, delay, max_wait, jobs, gaps, options) -> bool:
    from ..archive import Archive
    from ..collect.http import FetchPolicy
    from ..collect.web_sync import sync_channels

    policy = FetchPolicy(delay=delay, max_wait=max_wait)
    client = web_client(base_url, policy)
    with client, Archive.open(db) as archive, _SyncOutput(channels) as out:
        outcomes = sync_channels(
            archive,
            list(channels),
            client=client,
            jobs=jobs,
            policy=policy,
            on_page=out.page,
            on_wait=out.wait,
            **options,
        )
        with contextlib.closing(outcomes):  # every worker stops before the archive closes
            return out.outcomes(outcomes, gaps)


def _media_types(with_media: bool, given: str | None) -> list[str] | None:
    """``--media-types``, checked: [] for all of them, None without ``--media``."""
    if given is not None and not with_media:
        raise OptionError("--media-types goes with --media")
    if not with_media:
        return None
    from ..collect.media import checked_types

    chosen = given.split(",") if given else []
    try:
        checked_types(chosen or None)
    except OptionError as error:
        raise OptionError(f"--media-types: {error}") from error
    return chosen


def _fetch_synced_media(db, channels, types: list[str], max_wait, dates, *, delay=None) -> bool:
    """``sync --media``: the synced channels' media, channel by channel, once the posts are
    in (through the Telegram API when ``delay`` is None, as ``sync --api`` syncs)."""
    from ..archive import Archive
    from ..clean import normalize_channel
    from .media import print_problems

    fetch_one, session = _media_fetcher(delay, max_wait, dates, types or None)
    failed = False
    with Archive.open(db) as archive, session as client:
        for name in channels:
            try:
                channel = normalize_channel(name)
            except ValueError:
                continue  # a bad name: the sync said so already
            if channel is None or not archive.media.has_channel(channel):
                continue  # nothing archived of it: the sync said why
            try:
                report = fetch_one(archive, client, channel)
            except TgscopeError as error:
                err_console.print(safe_text(f"Error: {name}: media: {error}"))
                failed = True
                continue
            console.print(safe_text(f"{channel}: media: {report.summary()}"))
            print_problems(report)
        archive.media.update_hashes()
    return failed


def _media_fetcher(delay, max_wait, dates, types):
    """The function fetching one channel's media, and the client it needs."""

    def announce(wait) -> None:
        err_console.print(safe_text(str(wait)))

    if delay is None:
        from ..collect.api_media import fetch_api_media
        from ..collect.api_sync import api_session

        def through_api(archive, client, channel):
            return fetch_api_media(
                archive,
                client=client,
                channel=channel,
                types=types,
                max_wait=max_wait,
                on_wait=announce,
                **dates,
            )

        return through_api, api_session()
    from ..collect.http import FetchPolicy, make_client
    from ..collect.media import fetch_media

    policy = FetchPolicy(delay=delay, max_wait=max_wait)

    def from_the_web(archive, client, channel):
        return fetch_media(
            archive,
            client=client,
            policy=policy,
            channel=channel,
            types=types,
            on_wait=announce,
            **dates,
        )

    return from_the_web, make_client(policy=policy)


def _sync_api(db, channels, all_pages: bool, max_wait: float, gaps: bool) -> bool:
    from ..archive import Archive
    from ..collect.api_sync import api_session, sync_api

    with api_session() as client, Archive.open(db) as archive, _SyncOutput(channels) as out:
        outcomes = sync_api(
            archive,
            channels,
            client=client,
            all_pages=all_pages,
            max_wait=max_wait,
            on_batch=out.page,
            on_wait=out.wait,
        )
        return out.outcomes(outcomes, gaps)


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
    from ..collect.api_sync import Credentials, login

    # Telethon asks for the code Telegram sends (and a password if one is set)
    path = login(Credentials(api_id, api_hash), phone)
    console.print(f"logged in; credentials and session stored in {path.parent}", markup=False)


class _SyncOutput:
    """What a sync shows while it runs.  On a terminal: a transient progress line per channel
    on stderr, with every other line printed above it (never glued to it).  Otherwise: one
    plain line per page on stderr.  Summaries go to stdout either way."""

    def __init__(self, channels: tuple[str, ...]):
        self.channels = channels
        self.progress: Any = None
        self.tasks: dict[str | None, Any] = {}

    def __enter__(self) -> _SyncOutput:
        if err_console.is_terminal:
            self._start_progress()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def _start_progress(self) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn

        from ..clean import normalize_channel

        columns = (SpinnerColumn(), TextColumn("{task.description}", markup=False))
        self.progress = Progress(
            *columns, console=err_console.get(), transient=True, redirect_stdout=False
        )
        self.progress.start()
        for name in self.channels:
            with contextlib.suppress(ValueError):  # a bad name is reported by the sync itself
                self.tasks[normalize_channel(name)] = self.progress.add_task(f"{name}: waiting")

    def page(self, report: SyncReport) -> None:
        if self.progress is None:
            click.echo(report.page_line(), err=True)
            return
        task = self.tasks.get(report.channel)
        if task is not None:
            self.progress.update(
                task,
                description=f"{report.channel}: {report.pages} page(s), {report.added} new post(s)",
            )

    def wait(self, wait: Wait) -> None:
        self.note(str(wait))

    def note(self, line: str) -> None:
        """A line on stderr (above the progress line on a terminal)."""
        if self.progress is None:
            click.echo(visible(line), err=True)
        else:
            self.progress.console.print(safe_text(line), highlight=False)

    def result(self, line: str) -> None:
        """A line on stdout; when stdout is the terminal the progress is on, above it."""
        if self.progress is not None and console.is_terminal:
            self.progress.console.print(safe_text(line), highlight=False)
        else:
            console.print(safe_text(line))

    def _done(self, channel: str) -> None:
        """A channel's progress line gives way to its summary."""
        task = self.tasks.pop(channel, None)
        if self.progress is not None and task is not None:
            self.progress.remove_task(task)
            self.progress.refresh()

    def outcomes(self, outcomes: Iterable[tuple[str, SyncReport | TgscopeError]], gaps) -> bool:
        """Print each channel's summary (or error) as it ends; whether any failed."""
        failed = False
        for channel, outcome in outcomes:
            if isinstance(outcome, TgscopeError):  # one channel failing does not stop the others
                self.note(f"Error: {outcome}")
                failed = True
                continue
            for warning in outcome.warnings:
                self.note(f"warning: {channel}: {warning}")
            self._done(outcome.channel)
            self.result(outcome.summary())
            for line in outcome.missing_lines() if gaps else ():
                self.result(f"  missing {line}")
        return failed
