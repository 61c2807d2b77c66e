"""``tgscope sync`` and ``tgscope auth``: collecting from Telegram into the archive."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from ..errors import TgscopeError
from .base import cli, console, db_option, err_console, reports_errors

DEFAULT_BASE_URL = "https://t.me"  # tgscope.collect.http.DEFAULT_BASE_URL (a test keeps them equal)


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
    from ..archive import Archive
    from ..collect.http import FetchPolicy, make_client
    from ..collect.web_sync import sync_channels

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
    from ..archive import Archive
    from ..collect.api_sync import (
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
    from ..collect.api_sync import sync_api_channel

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
    from ..collect.api_sync import (
        Credentials,
        keep_private,
        make_client,
        save_credentials,
        session_path,
    )

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
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from ..clean import normalize_channel

    columns = (SpinnerColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=err_console.get(), transient=True) as progress:
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
