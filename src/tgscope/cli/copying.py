"""Moving an archive between engines: ``copy``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from .base import cli, console, err_console, reports_errors, safe_text


@cli.command(name="copy")
@click.argument("source", metavar="SRC")
@click.argument("target", metavar="DST")
@reports_errors
def copy_command(source, target):
    """Copy a whole archive into a new, empty one: SQLite to PostgreSQL, PostgreSQL to
    SQLite, or to the same engine.

    SRC and DST are each an archive file or a postgresql://user@host/dbname URL.  SRC is read
    in one snapshot, so collectors may go on writing to it; DST is created when missing, must
    be empty, and is written in one transaction: an interrupted copy leaves it empty, to be
    run again.  Every table is copied with its keys; DST keeps its own archive id, and its
    search (words or index) is built from the copied posts.
    """
    from ..archive import Archive

    with Archive.open(source, create=False) as archive, _status() as progress:
        report = archive.copy_to(target, progress=progress)
    width = max((len(name) for name in report.rows), default=0)
    for name, count in report.rows.items():
        if count:
            console.print(f"{name:<{width}}  {count:>10,}")
    for note in report.notes():
        err_console.print(safe_text(f"note: {note}"))
    console.print(safe_text(report.summary()))


@contextmanager
def _status() -> Iterator[Callable[[str, int], None] | None]:
    """A line on stderr saying which table is being copied, when stderr is a terminal."""
    if not err_console.is_terminal:
        yield None
        return
    with err_console.status("copying") as status:
        yield lambda table, done: status.update(f"copying {table}: {done:,} row(s)")
