"""What every command shares: the group, common options, error reporting and the consoles.

Nothing heavy is imported here (no rich, no archive): ``tgscope --help`` stays fast, and each
command imports what it needs when it runs.
"""

from __future__ import annotations

import functools
import sqlite3
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from .. import __version__
from ..errors import TgscopeError

if TYPE_CHECKING:
    from rich.console import Console


class _LazyConsole:
    """A rich Console made on first use (importing rich costs ~40 ms that --help never needs)."""

    def __init__(self, *, stderr: bool):
        self._stderr = stderr
        self._console: Console | None = None

    def get(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False, soft_wrap=True)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


console: Any = _LazyConsole(stderr=False)
err_console: Any = _LazyConsole(stderr=True)


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


def main() -> None:
    cli(prog_name="tgscope")  # click quiets a closed pipe (`tgscope export | head`) itself
