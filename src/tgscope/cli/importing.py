"""``tgscope import``: files and folders into the archive."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import OptionError, TgscopeError
from .base import cli, console, db_option, err_console, reports_errors, safe_text

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


#: the record fields ``--map`` fills (``tgscope.sources.columns.FIELDS``, listed here so --help
#: imports no parser; a test keeps the two equal)
MAP_FIELDS = (
    "id",
    "channel",
    "channel_title",
    "url",
    "date",
    "text",
    "views",
    "forwards",
    "replies",
    "reactions",
    "author",
    "forwarded_from",
    "forwarded_from_channel",
    "forwarded_from_id",
    "reply_to",
    "links",
    "media",
    "album_id",
)
#: the library's names of the import options -> the flags that set them
_FLAGS = {
    "channel": "--channel",
    "timezone": "--timezone",
    "chat": "--chat",
    "mapping": "--map",
    "encoding": "--encoding",
    "delimiter": "--delimiter",
}
#: files at least this big are announced on stderr when it is not a terminal (a smaller
#: file's summary line follows within a moment)
ANNOUNCE_BYTES = 1 << 20


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
    help="Columns (or JSON keys) of another tool's CSV/JSON file, e.g. id=message_id,text=message."
    f" FIELD is one of: {', '.join(MAP_FIELDS)}.",
)
@click.option(
    "--encoding",
    metavar="NAME",
    help="The files' encoding when not UTF-8 (e.g. cp1251); text dumps, CSV and JSON Lines.",
)
@click.option(
    "--delimiter",
    metavar="CHAR",
    help="A CSV file's delimiter (';', 'tab'...); found from the header otherwise.",
)
@click.option(
    "--markdown",
    is_flag=True,
    help="Texts are in Telegram's markdown as Telethon writes it (**bold**, [text](url)):"
    " keep the words, make the formatting entities.",
)
@click.option(
    "--no-events",
    is_flag=True,
    help="Leave the diplomatic events table behind (a bulk load: tgscope events or serve"
    " catches it up later).",
)
@reports_errors
def import_command(
    db, paths, format_, channel, timezone, chat, mapping, encoding, delimiter, markdown, no_events
):
    """Import files or folders: text dumps, saved t.me/s pages, Telegram Desktop exports
    (JSON or HTML), tgscope and snscrape JSON Lines, other tools' CSV, JSON Lines and JSON
    arrays.

    The format is detected from each file's content.  Each file is imported whole
    or not at all, and importing the same file again changes nothing.
    """
    from ..archive import Archive
    from ..store.pgdb import is_url

    target = db  # a file, or a postgresql:// URL
    on_disk = not is_url(db)
    created = on_disk and not Path(db).exists()
    index_created = on_disk and not Path(f"{db}.index").exists()
    status = _Status()
    try:
        with Archive.open(target) as archive, _progress(paths) as (advance, show):
            status.show = show
            report = archive.import_paths(
                list(paths),
                format=format_,
                channel=channel,
                timezone=timezone,
                chat=chat,
                mapping=mapping,
                encoding=encoding,
                delimiter=delimiter,
                markdown=markdown,
                events=not no_events,
                progress=advance,
                on_start=status.start,
                on_file=lambda file: status.done(file, hint=encoding is None),
            )
    except OptionError as error:  # the library names the option; the user typed a flag
        name, _, rest = str(error).partition(": ")
        raise OptionError(f"{_FLAGS[name]}: {rest}" if name in _FLAGS else str(error)) from error
    except KeyboardInterrupt:
        if status.current is not None and _saved_since(target, status.current, status.started):
            status.current, status.imported = None, status.imported + 1  # stopped after its commit
        err_console.print(safe_text(status.interrupted()))
        sys.exit(130)
    finally:
        if created and not status.imported:
            _remove_empty_archive(Path(target), index_created)
    if len(report.files) > 1:
        console.print(safe_text(f"total: {report.summary()}"))
    if report.failures:
        sys.exit(1)


class _Status:
    """What the import is doing, told one line per file."""

    def __init__(self) -> None:
        self.current: Path | None = None
        self.imported = 0
        self.started = ""  # when the current file began (UTC, as the archive writes times)
        self.show: Callable[[str, bool], None] = _show

    def start(self, path: Path) -> None:
        self.current, self.started = path, datetime.now(UTC).isoformat(timespec="seconds")
        if not err_console.is_terminal:
            with contextlib.suppress(OSError):
                size = path.stat().st_size
                if size >= ANNOUNCE_BYTES:
                    err_console.print(safe_text(f"importing {path} ({size / 1e6:.1f} MB)…"))

    def done(self, file: FileReport, *, hint: bool) -> None:
        """One line per file as it completes; its warnings and errors go to stderr."""
        self.current = None
        for warning in file.warnings:
            self.show(f"warning: {file.path}: {warning}", True)
        if file.error:
            advice = ""
            if hint and "not UTF-8 text" in file.error:
                advice = "; if it is in another encoding, try --encoding cp1251"
            self.show(f"Error: {file.error}{advice} (nothing of it was imported)", True)
        else:
            self.imported += 1
            self.show(file.summary(), False)

    def interrupted(self) -> str:
        """What Ctrl-C left: the file being read is rolled back, those done are kept."""
        stopped = f"{self.current} was rolled back" if self.current else "nothing was lost"
        if not self.imported:
            return f"interrupted: {stopped}. Run the same import again to do it."
        return (
            f"interrupted: {stopped}; the {self.imported} file(s) imported before it are kept."
            " Run the same import again to finish: files already imported change nothing."
        )


def _show(line: str, error: bool) -> None:
    (err_console if error else console).print(safe_text(line))


def _remove_empty_archive(target: Path, index_created: bool) -> None:
    """An import that created the archive and imported nothing leaves no archive behind
    (``--db typo.db nosuch.txt`` is a typo, not a new archive), unless the archive holds a
    source after all: another process's import meanwhile, or this one's last file committed
    just before Ctrl-C."""
    if _sources_in(target) != 0:
        return
    for leftover in (target, *(target.with_name(target.name + end) for end in ("-wal", "-shm"))):
        with contextlib.suppress(OSError):
            leftover.unlink()
    import shutil

    index = target.with_name(target.name + ".index")
    if index_created and index.is_dir() and not index.is_symlink():
        shutil.rmtree(index, ignore_errors=True)


def _sources_in(target: str | Path, ref: str | None = None, since: str = "") -> int | None:
    """How many sources the archive records (those of ``ref`` imported at ``since`` or later,
    when given); None when that cannot be told (locked, or no archive)."""
    from ..archive import Archive

    return Archive.count_sources(target, ref, since)


def _saved_since(target: str, path: Path, started: str) -> bool:
    """Whether ``path``, begun at ``started``, reached the archive (Ctrl-C can come while
    the search index commits, after the archive did)."""
    ref = os.fsencode(path.resolve()).decode("utf-8", "backslashreplace")
    return bool(_sources_in(target, ref, started))


@contextmanager
def _progress(
    paths: tuple[Path, ...],
) -> Iterator[tuple[Callable[[int], None] | None, Callable[[str, bool], None]]]:
    """A byte-progress bar on stderr when it is a terminal, and how to print a line then.

    While the bar is shown, lines for a terminal go through its console, above the bar (a line
    written to stdout beside it would be glued to the bar).
    """
    if not err_console.is_terminal:
        yield None, _show
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    total = sum(p.stat().st_size for p in _files(paths) if p.is_file())
    columns = (BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console.get(), transient=True) as progress:
        task = progress.add_task("import", total=total)

        def show(line: str, error: bool) -> None:
            if error or console.is_terminal:
                progress.console.print(safe_text(line))
            else:
                console.print(safe_text(line))

        yield (lambda size: progress.advance(task, size)), show


def _files(paths: tuple[Path, ...]) -> list[Path]:
    from ..inputs import expand_path

    found = []
    for path in paths:
        try:
            found.extend(expand_path(path))
        except TgscopeError:
            continue  # reported when it is imported
    return found
