"""What every command shares: the group, common options, error reporting and the consoles.

Nothing heavy is imported here (no rich, no archive): ``tgscope --help`` stays fast, and each
command imports what it needs when it runs.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from .. import __version__
from ..errors import TgscopeError
from ..store.dbapi import DATABASE_ERRORS

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


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
        type=str,
        envvar="TGSCOPE_DB",
        default="tgscope.db",
        metavar="FILE|URL",
        help="Archive file, or a postgresql://user@host/dbname URL"
        " (default: $TGSCOPE_DB, else ./tgscope.db).",
    )(command)


def seconds_option(name: str, default: float, help: str) -> Callable[[Callable], Callable]:
    """A number of seconds, zero or more (``--delay``, ``--max-wait``)."""
    return click.option(
        name, type=click.FloatRange(0), default=default, show_default=True, help=help
    )


def filter_options(command: Callable) -> Callable:
    for option in reversed(
        [
            click.option("--channel", help="Only posts of this channel (username)."),
            click.option(
                "--since",
                metavar="DATE",
                help="Only posts on or after DATE (YYYY-MM-DD, or an ISO time, UTC if no offset).",
            ),
            click.option(
                "--until",
                metavar="DATE",
                help="Only posts on or before DATE (a whole day, or an ISO time to the second).",
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
        _check_utf8(kwargs)
        try:
            return command(*args, **kwargs)
        except TgscopeError as error:  # messages quote files and input: shown, never acted on
            raise click.ClickException(visible(error)) from error
        except DATABASE_ERRORS as error:  # damage found in the middle of a read, say
            raise click.ClickException(visible(f"archive error: {error}")) from error
        except KeyboardInterrupt:
            err_console.print("interrupted: whatever was being written was rolled back")
            sys.exit(130)

    return wrapper


def _check_utf8(values: dict[str, Any]) -> None:
    """Refuse an argument that is not UTF-8 (Python hands such bytes over as lone surrogates,
    which would fail much later with a traceback): one line naming the option."""
    for name, value in values.items():
        if name in _ANY_FILE_NAME:
            continue  # a file's name is bytes: one from a cp1251 archive is still that file
        for item in value if isinstance(value, tuple | list) else (value,):
            text = os.fspath(item) if isinstance(item, str | os.PathLike) else None
            if not isinstance(text, str):
                continue
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as error:
                byte = ord(text[error.start]) - 0xDC00
                detail = f" (byte 0x{byte:02x})" if 0x80 <= byte <= 0xFF else ""
                raise click.ClickException(
                    f"{_param_label(name)}: not valid UTF-8{detail}"
                ) from None


#: the parameters that name files to read, whatever bytes their names hold
_ANY_FILE_NAME = frozenset({"paths"})


def _param_label(name: str) -> str:
    context = click.get_current_context(silent=True)
    for param in context.command.params if context else ():
        if param.name == name:
            if isinstance(param, click.Option):
                return max(param.opts, key=len)
            return param.human_readable_name
    return name


# What a terminal would act on rather than show: C0 and C1 controls (ESC starts colours,
# cursor moves and OSC 52 clipboard writes; U+009B is a one-character CSI), DEL, the bidi
# embeddings, overrides and isolates that reorder what follows ("Trojan Source"), and lone
# surrogates, which cannot be written as UTF-8 at all.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = {
    "line": f"[\t\n{_CONTROLS}]",
    "text": f"[{_CONTROLS}]",  # a post's text keeps its tabs and line breaks
    "json": "[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]",  # JSON escapes C0 itself
}


@functools.cache
def _unsafe(kind: str) -> re.Pattern[str]:
    return re.compile(_UNSAFE[kind])  # compiled when first needed: --help stays fast


def visible(value: object, *, multiline: bool = False) -> str:
    """``value`` as text safe to print: each control character written as its Python escape
    (``\\x1b``, ``\\x9b``, ``\\u202e``); ``multiline`` keeps tabs and line breaks."""
    return _unsafe("text" if multiline else "line").sub(_escape, str(value))


def safe_text(value: object, style: str = "", *, multiline: bool = False) -> Text:
    """A rich Text of ``value`` (never read as markup) with control characters shown as
    escapes, in reverse video on a terminal so that they stand apart from the text."""
    from rich.text import Text

    raw = str(value)
    text = Text(style=style)
    position = 0
    for match in _unsafe("text" if multiline else "line").finditer(raw):
        text.append(raw[position : match.start()])
        text.append(_escape(match), style="reverse")
        position = match.end()
    text.append(raw[position:])
    return text


def json_text(value: Any, *, indent: int | None = None) -> str:
    """JSON of ``value`` that decodes to exactly the same text, with the characters a
    terminal would act on (C1 controls, bidi overrides) written as ``\\u`` escapes; JSON
    escapes the C0 controls itself."""
    import json

    return _unsafe("json").sub(
        lambda match: f"\\u{ord(match.group()):04x}",
        json.dumps(value, ensure_ascii=False, indent=indent),
    )


def _escape(match: re.Match[str]) -> str:
    return ascii(match.group())[1:-1]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tgscope")
def cli() -> None:
    """Collect, archive, clean, search and analyze public Telegram channels."""


def main() -> None:
    cli(prog_name="tgscope")  # click quiets a closed pipe (`tgscope export | head`) itself
