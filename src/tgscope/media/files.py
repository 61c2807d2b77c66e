"""The content-addressed folder beside the archive where media files are kept.

A file lives at ``<archive>.media/ab/cd/<sha256>``, named by the SHA-256 of its bytes, so the
same picture carried by a thousand posts is kept once, and anyone can check a file by hashing
it again (``tgscope media verify``).  Downloads are written to ``tmp/`` first and moved into
place whole, so a killed fetch never leaves half a file under a hash's name.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import OptionError, StoreError

_READ = 1 << 20
_READ_ONLY = 0o444  # a stored file is evidence: not to be changed in place by mistake
_DOWNLOADING: set[str] = set()  # the temporary files this process is writing now


@dataclass(frozen=True, slots=True)
class Stored:
    """A file in the store: its hash, its size and where it is."""

    sha256: str
    size: int
    path: Path


class MediaStore:
    """The media folder of one archive."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self._tmp_made: Path | None = None
        self._levels_made = False
        self._names = itertools.count()
        self._prefix = f"part-{os.getpid()}-{secrets.token_hex(4)}-"

    @classmethod
    def beside(cls, archive_path: str | os.PathLike) -> MediaStore:
        """The folder of the archive at ``archive_path``: ``<archive>.media``."""
        return cls(os.path.abspath(f"{os.fspath(archive_path)}.media"))

    @classmethod
    def of_archive(cls, archive_path: Path | None, location: str) -> MediaStore:
        """The media folder of an archive: ``<archive>.media`` beside a file; for an archive
        in PostgreSQL (no file: ``archive_path`` None), the folder ``$TGSCOPE_MEDIA`` names,
        shared by the machines that fetch and serve its files."""
        if archive_path is not None:
            return cls.beside(archive_path)
        folder = os.environ.get("TGSCOPE_MEDIA")
        if not folder:
            raise OptionError(
                f"{location}: an archive in PostgreSQL keeps its media files in the folder"
                " that $TGSCOPE_MEDIA names; set it"
            )
        return cls(folder)

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    @contextlib.contextmanager
    def download(self) -> Iterator[Download]:
        """A temporary file to download into, hashed as it is written; removed afterwards
        unless :meth:`keep` took it."""
        download = Download(self._tmp() / f"{self._prefix}{next(self._names)}")
        try:
            yield download
        finally:
            download.close()
            if not download.kept:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(download.name)

    def keep(self, download: Download) -> Stored:
        """Move a finished download into place under its hash, read-only.  When the store
        has the file already it is kept, unless its bytes were altered: then the download
        takes its place (a repair).

        Not synced to disk one by one: like the archive's own commits (WAL, synchronous
        NORMAL) a file survives a killed process, and ``tgscope media verify`` finds any
        that a power cut damaged."""
        download.flush()
        sha256, size = download.digest()
        target = self.path_of(sha256)
        if target.is_file() and self.check(sha256, size) == "ok":
            return Stored(sha256, size, target)
        os.fchmod(download.fileno(), _READ_ONLY)
        self._place(Path(download.name), target)
        download.kept = True
        return Stored(sha256, size, target)

    def put_file(self, source: str | os.PathLike) -> Stored:
        """Take in a copy of a file from elsewhere (an export's folder), hashed as it is
        copied; the original is never changed, and later changes to it never reach the
        store (a hard link would share them)."""
        with self.download() as part, open(source, "rb") as original:
            while piece := original.read(_READ):
                part.write(piece)
            return self.keep(part)

    def copy_out(self, sha256: str, folder: str | os.PathLike) -> Path | None:
        """A copy of a stored file in ``folder``, named by its hash, checked as it is
        copied; None when the stored file is missing or its bytes are no longer its hash."""
        target = Path(folder, sha256)
        if target.is_file() and file_sha256(target)[0] == sha256:
            return target
        temporary = Path(folder, f".{sha256}.part")
        digest = hashlib.sha256()
        try:
            with open(self.path_of(sha256), "rb") as stored, open(temporary, "wb") as copy:
                while piece := stored.read(_READ):
                    digest.update(piece)
                    copy.write(piece)
        except FileNotFoundError:
            temporary.unlink(missing_ok=True)
            return None
        except OSError as error:
            temporary.unlink(missing_ok=True)
            raise StoreError(f"{target}: cannot write the file ({error})") from error
        if digest.hexdigest() != sha256:
            temporary.unlink()
            return None
        os.replace(temporary, target)
        return target

    @contextlib.contextmanager
    def fetching(self) -> Iterator[None]:
        """Held by a run that downloads into the store: a second run at the same time would
        download every file again.  Released by the system if the run is killed."""
        self._tmp()
        with open(self.root / "fetch.lock", "a+b") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as error:
                raise StoreError(
                    f"{self.root}: another media fetch is running on this archive;"
                    " run this one when it has finished"
                ) from error
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def check(self, sha256: str, size: int) -> str:
        """``ok``, ``missing`` or ``altered`` (its bytes no longer hash to its name)."""
        path = self.path_of(sha256)
        if not path.is_file():
            return "missing"
        try:
            found, found_size = file_sha256(path)
        except OSError:
            return "missing"
        return "ok" if found == sha256 and found_size == size else "altered"

    def set_aside(self, sha256: str) -> Path:
        """Move an altered file out of the way, to ``altered/<sha256>.<n>``: kept to look at,
        and the next fetch of the same bytes takes its place."""
        folder = self.root / "altered"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            number = sum(1 for _ in folder.glob(f"{sha256}.*"))
            target = folder / f"{sha256}.{number + 1}"
            os.replace(self.path_of(sha256), target)
        except OSError as error:
            raise StoreError(f"{self.path_of(sha256)}: cannot move it aside ({error})") from error
        return target

    def clean(self) -> int:
        """Remove what killed downloads left in ``tmp/`` (those of processes no longer
        running: another process may be downloading into the same store); return how many."""
        folder = self.root / "tmp"
        if not folder.is_dir():
            return 0
        removed = 0
        for leftover in folder.glob("part-*"):
            if _owner_alive(leftover.name):
                continue
            with contextlib.suppress(OSError):
                leftover.unlink()
                removed += 1
        return removed

    def _first_level(self) -> None:
        """The 256 folders ``00/`` to ``ff/``, made at once in a new store (a new store's
        files would otherwise each make their ``ab/`` as well as their ``ab/cd/``)."""
        if self._levels_made or (self.root / "ff").is_dir():
            self._levels_made = True
            return
        for number in range(256):
            os.makedirs(self.root / f"{number:02x}", exist_ok=True)
        self._levels_made = True

    def _tmp(self) -> Path:
        if self._tmp_made is not None:
            return self._tmp_made
        folder = self.root / "tmp"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"{self.root}: cannot create the media folder ({error})") from error
        self._tmp_made = folder
        return folder

    def _place(self, source: Path, target: Path) -> None:
        try:
            try:
                os.replace(source, target)
            except FileNotFoundError:  # the first file of its folder
                self._first_level()
                os.makedirs(target.parent, exist_ok=True)
                os.replace(source, target)
        except OSError as error:
            raise StoreError(f"{target}: cannot store the file ({error})") from error


class Download:
    """A file being downloaded: written in order, it is hashed as it goes, and its first
    bytes are kept to tell what it is.  Starting again (``seek(0)`` and ``truncate()``, as a
    retry does) starts the hash again; any other seek makes :meth:`digest` read the file."""

    HEAD = 8192

    def __init__(self, path: Path):
        self.name = str(path)
        self._file: IO[bytes] = open(path, "xb")  # noqa: SIM115  (closed by the store)
        _DOWNLOADING.add(path.name)
        self.kept = False  # moved into the store under its hash
        self._restart()

    def _restart(self) -> None:
        self._hash, self.size, self.head, self._in_order = hashlib.sha256(), 0, b"", True

    def write(self, data: bytes) -> int:
        written = self._file.write(data)
        if self._in_order:
            self._hash.update(data)
            if len(self.head) < self.HEAD:
                self.head += data[: self.HEAD - len(self.head)]
        self.size += len(data)
        return written

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        position = self._file.seek(offset, whence)
        if position == 0:
            self._restart()
        else:
            self._in_order = False
        return position

    def truncate(self, size: int | None = None) -> int:
        return self._file.truncate(size)

    def tell(self) -> int:
        return self._file.tell()

    def flush(self) -> None:
        self._file.flush()

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()
        _DOWNLOADING.discard(Path(self.name).name)

    def digest(self) -> tuple[str, int]:
        """The SHA-256 and size of what was written."""
        if self._in_order:
            return self._hash.hexdigest(), self.size
        self._file.flush()
        return file_sha256(self.name)


def _owner_alive(name: str) -> bool:
    """Whether the process that named a temporary file ``part-<pid>-...`` still runs."""
    pid = name.split("-")[1] if name.count("-") >= 2 else ""
    if not pid.isdigit():
        return False  # not named by a download: a leftover
    if int(pid) == os.getpid():
        return name in _DOWNLOADING  # another thread's, under way
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: running
        return True
    return True


def file_sha256(path: str | os.PathLike) -> tuple[str, int]:
    """The SHA-256 (hex) and size of a file, read in pieces."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while piece := handle.read(_READ):
            digest.update(piece)
            size += len(piece)
    return digest.hexdigest(), size
