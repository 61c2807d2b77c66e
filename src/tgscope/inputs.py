"""Reading input files: folders expanded, files checked and hashed, text decoded with the line
of any bad byte, bytes counted for progress bars.  Every file import starts here."""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from .errors import ParseError, SourceError

_HASH_CHUNK = 1 << 20
_READ_CHUNK = 1 << 20
#: the longest line a reader takes (a Telegram text is at most 4,096 characters; the
#: parsers after this one hold 20-27 times a line's size while they read it)
MAX_LINE = 4 << 20

Progress = Callable[[int], None]  # called with the number of bytes just read


_DESKTOP_EXPORT = re.compile(r"result\.json|messages\d*\.html")
#: the folders Telegram Desktop writes beside an export: its files, not inputs
_EXPORT_FOLDERS = frozenset(
    {
        "css",
        "files",
        "images",
        "js",
        "photos",
        "round_video_messages",
        "stickers",
        "video_files",
        "voice_messages",
    }
)


def expand_path(raw: str | os.PathLike) -> list[Path]:
    """A file as given, or the files inside a folder (not hidden ones), by name.  Beside a
    Telegram Desktop export (``result.json``, ``messages*.html``) the folders of its media
    and styles (``photos/``, ``video_files/``, ``css/``...) are left out: they come with it."""
    path = Path(raw)
    if not path.is_dir():
        return [path]
    inside: list[Path] = []
    for folder, subfolders, names in os.walk(path):
        if any(_DESKTOP_EXPORT.fullmatch(name) for name in names):
            subfolders[:] = [name for name in subfolders if name not in _EXPORT_FOLDERS]
        inside += (Path(folder, name) for name in names if not name.startswith("."))
    inside.sort()
    if not inside:
        raise SourceError(f"{path}: folder has no files to import")
    return inside


def inspect_file(path: Path, encoding: str | None = None) -> tuple[bytes, str, str]:
    """The file's first bytes, SHA-256 and modification time; clear errors when unreadable."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
            digest.update(head)
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
            modified = os.fstat(handle.fileno()).st_mtime
    except FileNotFoundError as error:
        raise SourceError(f"{path}: no such file") from error
    except IsADirectoryError as error:
        raise SourceError(f"{path}: is a directory") from error
    except OSError as error:
        raise SourceError(f"{path}: cannot read: {error.strerror or error}") from error
    if not head.strip():
        raise ParseError("file is empty", path=str(path))
    wide = encoding is not None and encoding.startswith(("utf-16", "utf-32"))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and not wide:
        raise ParseError("UTF-16 text: save it as UTF-8 and import it again", path=str(path))
    if b"\x00" in head and not wide:
        raise ParseError("binary data, not a text file", path=str(path))
    observed = datetime.fromtimestamp(modified, UTC).isoformat(timespec="seconds")
    return head, digest.hexdigest(), observed


def read_text(path: Path, progress: Progress | None, encoding: str | None = None) -> Iterator[str]:
    """Decode the file in large chunks of whole lines, naming the line of any bad byte.

    A line longer than :data:`MAX_LINE` is refused (a ParseError naming it) as it grows,
    before it is held whole."""
    if encoding is not None:
        yield from _read_encoded(path, progress, encoding)
        return
    carry, offset = b"", 0  # offset: where ``data`` starts in the file
    with path.open("rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            if progress:
                progress(len(chunk))
            data = carry + chunk
            cut = data.rfind(b"\n") + 1 if len(chunk) == _READ_CHUNK else len(data)
            data, carry = data[:cut], data[cut:]
            if len(carry) > MAX_LINE:
                raise _long_line(path, offset + len(data))
            if data:
                yield _decode(data, path, offset)
            offset += len(data)
    if carry:
        yield _decode(carry, path, offset)


def _long_line(path: Path, position: int) -> ParseError:
    """The error for a line that starts at byte ``position`` and runs past :data:`MAX_LINE`."""
    return ParseError(
        f"a line longer than {MAX_LINE >> 20} MB (no post is that long)",
        path=str(path),
        line=_line_number(path, position),
    )


def _read_encoded(path: Path, progress: Progress | None, encoding: str) -> Iterator[str]:
    """Like :func:`_read_text` for a file in another encoding (its incremental decoder)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    carry, offset, first = "", 0, True  # offset: bytes of the file decoded so far
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_READ_CHUNK)
            if progress and chunk:
                progress(len(chunk))
            try:
                text = carry + decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                position = offset + max(error.start, 0)
                bad = error.object[error.start : error.start + 1]
                shown = f"byte 0x{bad[0]:02x}" if bad else "a character cut short"
                raise ParseError(
                    f"not {encoding} text ({shown})",
                    path=str(path),
                    line=_line_number(path, position),
                ) from error
            offset += len(chunk)
            cut = text.rfind("\n") + 1 if chunk else len(text)
            text, carry = text[:cut], text[cut:]
            if len(carry) > MAX_LINE:  # characters: a bound of the same order as bytes
                raise _long_line(path, offset - 1)  # the carry holds no line end
            if text:
                yield text.removeprefix("\ufeff") if first else text
                first = False
            if not chunk:
                return


@contextlib.contextmanager
def open_binary(path: Path, progress: Progress | None) -> Iterator[BinaryIO]:
    """The file's bytes; every read is counted towards the progress display."""
    with path.open("rb") as handle:
        yield _CountingReader(handle, progress) if progress else handle  # type: ignore[misc]


class _CountingReader(io.RawIOBase):
    """A binary file that reports how many bytes each read took (for progress bars)."""

    def __init__(self, handle: BinaryIO, progress: Progress):
        self.handle, self.progress = handle, progress

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.progress(len(data))
        return data

    def readinto(self, buffer) -> int:
        count = self.handle.readinto(buffer)  # type: ignore[attr-defined]
        self.progress(count or 0)
        return count or 0

    def tell(self) -> int:
        return self.handle.tell()


def _decode(data: bytes, path: Path, offset: int) -> str:
    """``data`` as text; a ParseError naming the line and column of a NUL or non-UTF-8 byte."""
    bad = data.find(b"\x00")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        bad, reason = error.start, "not UTF-8 text"
    else:
        if bad < 0:
            return text.removeprefix("\ufeff") if offset == 0 else text
        reason = "binary data (NUL byte)"
    line_start = data.rfind(b"\n", 0, bad) + 1
    column = len(data[line_start:bad].decode("utf-8", "replace")) + 1
    raise ParseError(
        f"{reason} (byte 0x{data[bad]:02x} at column {column})",
        path=str(path),
        line=_line_number(path, offset + bad),
    )


def _line_number(path: Path, position: int) -> int:
    """The line holding byte ``position`` of the file (counted only when reporting an error)."""
    lines = 1
    with path.open("rb") as handle:
        while position > 0 and (chunk := handle.read(min(_READ_CHUNK, position))):
            lines += chunk.count(b"\n")
            position -= len(chunk)
    return lines
