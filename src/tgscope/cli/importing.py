"""``tgscope import``: files and folders into the archive."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import TgscopeError
from .base import cli, console, db_option, err_console, reports_errors

if TYPE_CHECKING:
    from ..archive import FileReport

#: the format names of ``tgscope.sources.SOURCES`` (listed here so --help imports no parser;
#: a test keeps the two equal)
FORMATS = (
    "csv",
    "desktop-html",
    "desktop-json",
    "jsonl",
    "snscrape",
    "textdump",
    "tgscope-jsonl",
    "web",
)


@cli.command(name="import")
@db_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "format_", type=click.Choice(FORMATS), help="Skip detection.")
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
    from ..archive import Archive
    from ..sources.tabular import parse_mapping

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


@contextmanager
def _progress(paths: tuple[Path, ...]) -> Iterator[Callable[[int], None] | None]:
    """A byte-progress bar on stderr when it is a terminal; nothing otherwise."""
    if not err_console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    total = sum(p.stat().st_size for p in _files(paths) if p.is_file())
    columns = (BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console.get(), transient=True) as progress:
        task = progress.add_task("import", total=total)
        yield lambda size: progress.advance(task, size)


def _files(paths: tuple[Path, ...]) -> list[Path]:
    from ..archive import expand_path

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
