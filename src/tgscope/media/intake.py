"""The media files a Telegram Desktop export brings along, taken in as evidence.

A Desktop export names each file by its path inside the export's folder
(``photos/photo_1@09-01-2023_10-00-00.jpg``, a video's poster in ``thumbnail``).  Importing
the export takes copies of those files into the archive's content-addressed store and
records each as a fetch: status ``stored``, the path as the export gives it as its URL, no
HTTP status.  A file the export names but its
folder lacks is recorded as ``missing``; a path leading out of the folder (``../``, an
absolute path, a link to elsewhere) is never opened, since an export may come from anyone,
and is recorded as ``refused``.  Importing the same export again changes nothing: media
stored before are not read again (unless their file has gone from the store: then they are
taken in again), and an outcome the archive holds already is not rewritten.
"""

from __future__ import annotations

import itertools
import re
import stat
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PureWindowsPath
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import unquote

from ..record import Channel, Post
from ..store.media import Fetched, FileRow, Wanted
from .files import MediaStore
from .probe import describe, file_row, refusal
from .report import MediaReport

if TYPE_CHECKING:
    from ..archive import Archive
    from ..reports import FileReport
    from ..store.media import MediaTables

#: the media types whose entries name a file (a poll or a place names none)
FILE_TYPES = frozenset(
    {"photo", "video", "gif", "round_video", "voice", "audio", "document", "sticker"}
)
MISSING = "not in the export folder"
OUTSIDE = "outside the export folder: not read"
_PARTS = (("file", "url"), ("thumb", "thumb"))  # the part, and the medium's field naming it
_SEPARATORS = re.compile(r"[\\/]")
_BATCH = 200


class IntakeReport(MediaReport):
    """What taking in an export's files did."""

    verb: ClassVar[str] = "took in"


def exported_files(post: Post) -> Iterator[Wanted]:
    """The files a post of an export names, as paths inside the export's folder (media not
    included in the export have none; a link to the web is for ``tgscope media fetch``)."""
    for position, item in enumerate(post.media):
        kind = item.get("type") or "document"
        if kind not in FILE_TYPES:
            continue
        for part, name in _PARTS:
            path = item.get(name)
            if not isinstance(path, str) or not path or _is_web(path):
                continue
            if part == "thumb":  # a poster: the video's sizes are not its own
                yield Wanted(post.key, position, part, kind, path)
                continue
            numbers = {key: _int(item.get(key)) for key in ("duration", "width", "height")}
            yield Wanted(post.key, position, part, kind, path, **numbers)


class ExportMedia:
    """Notes the files an export's posts name as they pass on to the store, then takes them
    in once the posts are saved (:meth:`take_in`)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.wanted: list[Wanted] = []

    def watch(self, items: Iterable[Post | Channel]) -> Iterator[Post | Channel]:
        for item in items:
            if isinstance(item, Post) and item.media:
                self.wanted.extend(exported_files(item))
            yield item

    def take_in(self, archive: Archive, report: FileReport) -> IntakeReport | None:
        """Take the files in; whatever goes wrong is a warning on the import's ``report``
        (its posts are saved already and stay saved)."""
        try:
            done = take_in_export(archive, self.folder, self.wanted)
        except Exception as error:  # the import is committed: nothing here may undo it
            detail = " ".join(str(error).split())[:200] or type(error).__name__
            report.warnings.append(
                f"{self.folder}: the export's media files not taken in: {detail}"
            )
            return None
        report.media = done.taken
        report.warnings.extend(_warnings(done, self.folder))
        return done


def take_in_export(
    archive: Archive, export_path: str | Path, wanted: Iterable[Wanted]
) -> IntakeReport:
    """Take the files ``wanted`` names (paths inside the export's folder: ``export_path``,
    or the folder of the export file it names) into the archive's media store."""
    folder = Path(export_path)
    if not folder.is_dir():
        folder = folder.parent
    base = folder.resolve()
    store = archive.media_files()
    tables: MediaTables = archive.store.media  # type: ignore[attr-defined]
    report = IntakeReport()
    chunks = iter(wanted)
    while batch := list(itertools.islice(chunks, _BATCH)):
        tried = tables.tried((w.post, w.position, w.part) for w in batch)
        outcomes = []
        for one in batch:
            previous = tried.get((one.post, one.position, one.part))
            if previous is not None and previous[0] == "stored" and store.has(previous[4]):
                report.done_before += 1  # stored, and its file is there: not read again
                continue
            fetched, row = take_in_one(store, base, one)
            if previous is not None and tuple(previous[:2]) == (fetched.status, one.url):
                report.done_before += 1  # as the last import found it: nothing to rewrite
                continue
            outcomes.append((one, fetched, row))
        _save(tables, outcomes, report)
    return report


def take_in_one(store: MediaStore, base: Path, wanted: Wanted) -> tuple[Fetched, FileRow | None]:
    """One file of the export (``base``: its folder, resolved): stored, or why not."""
    source = _inside(base, wanted.url)
    if source is None:
        return Fetched("refused", reason=OUTSIDE), None
    try:
        mode = source.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return Fetched("missing", reason=MISSING), None
    except OSError as error:
        return Fetched("failed", reason=f"cannot read it ({error.strerror or error})"), None
    if not stat.S_ISREG(mode):
        return Fetched("refused", reason="not a file"), None
    try:
        facts = describe(source)
    except OSError as error:
        return Fetched("failed", reason=f"cannot read it ({error.strerror or error})"), None
    why = refusal("photo" if wanted.part != "file" else wanted.type, facts)
    if why is not None:
        return Fetched("refused", reason=why), None
    stored = store.put_file(source)
    return Fetched("stored", stored.sha256, None, stored.size), file_row(stored, facts, wanted)


def _save(tables: MediaTables, outcomes: list, report: IntakeReport) -> None:
    if not outcomes:
        return
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with tables.writing():
        for wanted, fetched, row in outcomes:
            is_new = row is not None and not tables.has_file(row.sha256)
            if row is not None:
                tables.add_file(row, now)
            tables.record(wanted, fetched, now)
            report.count(wanted, fetched, is_new)


def _inside(base: Path, given: str) -> Path | None:
    """The file at ``given`` inside the folder ``base``; None for a path that leads out of
    it, to be left unread.  A path not found as written is tried URL-decoded too (an HTML
    export writes its links as URLs)."""
    for candidate in dict.fromkeys((given, unquote(given))):
        parts = _SEPARATORS.split(candidate)
        if (
            not candidate
            or "\x00" in candidate
            or candidate.startswith(("/", "\\", "~"))
            or PureWindowsPath(candidate).drive
            or ".." in parts
        ):
            return None
        try:
            found = (base / candidate).resolve()
        except (OSError, RuntimeError):  # a loop of links
            return None
        if not found.is_relative_to(base):  # a link inside the folder to elsewhere
            return None
        if found.exists() or candidate == unquote(given):
            return found
    return None


def _warnings(done: IntakeReport, folder: Path) -> list[str]:
    """A warning for the files not taken in that were there to take (a path leading out of
    the folder, a file that is not what its post says, one that cannot be read), naming the
    first.  Files the folder lacks are only recorded: an export is often moved without them."""
    warnings = []
    for status, count in sorted(done.not_stored.items()):
        if status == "missing":
            continue
        path, reason = done.first[status]
        warnings.append(f"{folder}: {count:,} media file(s) not taken in (first: {path}: {reason})")
    return warnings


def _is_web(path: str) -> bool:
    return path.startswith(("http://", "https://", "//", "tg://", "mailto:"))


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
