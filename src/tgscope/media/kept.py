"""The media an archive keeps: what each post carried, the files, and the images alike.

``archive.media`` is one of these: the Python API under ``tgscope media`` (verify),
``tgscope images`` (similar, reposts), ``show`` and the web app's images.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OptionError, StoreError
from . import images
from .files import MediaStore, file_sha256
from .probe import describe

if TYPE_CHECKING:
    from ..archive import Archive
    from ..record import Post
    from ..store.media import FileRow, MediaTables, Medium

_HASH_BATCH = 200
_HEX = frozenset("0123456789abcdef")
_POST_KEY = re.compile(r"[A-Za-z]\w{3,31}/[\w-]+")  # mfarussia/123, a dump's channel/dump-…


@dataclass
class VerifyReport:
    """What rehashing every stored file found."""

    checked: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)  # hashes whose file is gone
    altered: list[str] = field(default_factory=list)  # whose bytes no longer match
    set_aside: list[Path] = field(default_factory=list)  # where the altered ones were moved

    @property
    def ok(self) -> bool:
        return not self.missing and not self.altered

    def summary(self) -> str:
        line = f"checked {self.checked:,} file(s) ({self.bytes / 1e6:,.1f} MB)"
        if self.ok:
            return line + ": all intact"
        return line + f": {len(self.missing):,} missing, {len(self.altered):,} altered"


@dataclass(frozen=True, slots=True)
class Carrier:
    """A post (or channel picture) that carried a file."""

    post: str
    channel: str | None
    date: str | None
    position: int
    part: str
    sha256: str
    url: str | None = None  # where it was fetched from (or the export's path)
    fetched_at: str | None = None


@dataclass
class ImageGroup:
    """Visually the same picture: its files (``sha256``), every post that carried one of
    them, oldest first, and the channels they came from."""

    files: list[str]
    carriers: list[Carrier]
    distance: int = 0  # for a similar image: how far from the one asked about

    @property
    def channels(self) -> list[str]:
        return sorted({c.channel for c in self.carriers if c.channel})

    @property
    def first(self) -> Carrier | None:
        dated = [c for c in self.carriers if c.date]
        return min(dated, key=lambda c: (c.date, c.post)) if dated else None

    def to_dict(self) -> dict[str, Any]:
        first = self.first
        return {
            "files": self.files,
            "channels": self.channels,
            "first": first.post if first else None,
            "first_date": first.date if first else None,
            "distance": self.distance,
            "posts": [
                {"post": c.post, "channel": c.channel, "date": c.date, "sha256": c.sha256}
                for c in self.carriers
            ],
        }


class ArchiveMedia:
    """The media of one archive: its files beside it, its rows in it."""

    def __init__(self, archive: Archive):
        store: Any = archive.store
        self.tables: MediaTables = store.media
        self._archive = archive
        self._files: MediaStore | None = None

    @property
    def files(self) -> MediaStore:
        """The media folder, found when a file is first needed (a PostgreSQL archive may have
        none set, and still show its posts)."""
        if self._files is None:
            self._files = self._archive.media_files()
        return self._files

    # -- what posts carried -------------------------------------------------------------

    def of_post(self, key: str) -> list[Medium]:
        """The media fetched for one post (or ``@channel`` for its picture), in order."""
        return self.tables.of_posts([key]).get(key, [])

    def of_posts(self, keys: Iterable[str]) -> dict[str, list[Medium]]:
        return self.tables.of_posts(keys)

    def path(self, sha256: str) -> Path | None:
        """The stored file with this hash, or None when the archive keeps no such file."""
        sha256 = sha256.lower()
        if len(sha256) != 64 or not _HEX.issuperset(sha256):
            return None
        if self.tables.file(sha256) is None:
            return None
        path = self.files.path_of(sha256)
        return path if path.is_file() else None

    def file(self, sha256: str) -> FileRow | None:
        return self.tables.file(sha256.lower())

    def carrying(self, sha256: str) -> list[Medium]:
        """Every post that carried this file, oldest first."""
        return self.tables.carrying(sha256.lower())

    def gallery(self, channel: str, *, limit: int = 60, offset: int = 0) -> list[Medium]:
        """The channel's stored images, newest post first."""
        return self.tables.gallery(channel, limit=limit, offset=offset)

    def has_channel(self, name: str) -> bool:
        """Whether the archive holds this channel (a username)."""
        return self.tables.has_channel(name)

    def counts(self) -> dict[str, int]:
        return self.tables.counts()

    def annotated(
        self, posts: list[Post], export: MediaExport | None = None, *, check: bool = False
    ) -> list[dict]:
        """The posts' records with each stored medium's ``sha256`` and ``path`` (a poster's
        ``thumb_sha256``/``thumb_path``, a preview image's ``image_sha256``/``image_path`` in
        ``link_preview``), and the ``fetch_status`` of media tried but not stored (or
        ``file_missing``, ``file_altered``).  Only the archive's own tables say so: such keys
        that came with a post's record (an imported export) are dropped.  With ``export`` the
        files are copied into its folder, checked, and ``path`` points there; with ``check``
        each stored file is rehashed (a few posts' worth: ``show``)."""
        fetched = self.tables.of_posts(post.key for post in posts)
        records = []
        for post in posts:
            record = post.to_dict()
            media = [_without_marks(item) for item in post.media]
            preview = _without_marks(post.link_preview) if post.link_preview else None
            for medium in fetched.get(post.key, []):
                self._mark(medium, media, preview, export, check)
            record["media"], record["link_preview"] = media, preview
            records.append(record)
        return records

    def _mark(
        self,
        medium: Medium,
        media: list[dict],
        preview: dict | None,
        export: MediaExport | None,
        check: bool,
    ) -> None:
        if medium.part == "link_preview":
            target, prefix = preview, "image_"
        elif 0 <= medium.position < len(media):
            target = media[medium.position]
            prefix = "thumb_" if medium.part == "thumb" else ""
        else:
            return
        if target is None:
            return
        if medium.status != "stored" or medium.sha256 is None:
            target[f"{prefix}fetch_status"] = medium.status
            return
        path, state = self._stored(medium.sha256, medium.size, export, check)
        if path is None:
            target[f"{prefix}fetch_status"] = f"file_{state}"
            return
        target[f"{prefix}sha256"], target[f"{prefix}path"] = medium.sha256, path

    def _stored(
        self, sha256: str, size: int | None, export: MediaExport | None, check: bool
    ) -> tuple[str | None, str]:
        """Where a stored file is (or its export's copy), or None and why: missing, altered."""
        if export is not None:
            copied = export.take(self.files, sha256)
            return copied, "missing" if copied is None and not self.files.has(sha256) else "altered"
        path = self.files.path_of(sha256)
        if not path.is_file():
            return None, "missing"
        if check and self.files.check(sha256, size if size is not None else -1) != "ok":
            return None, "altered"
        return str(path), "ok"

    # -- evidence -----------------------------------------------------------------------

    def verify(self, on_file: Callable[[VerifyReport], None] | None = None) -> VerifyReport:
        """Rehash every stored file and report the missing and altered ones.  An altered file
        is moved aside (``<db>.media/altered/``), so that no page serves it as the evidence
        and the next ``media fetch`` of the same bytes puts the right file back."""
        report = VerifyReport()
        for row in self.tables.files():
            state = self.files.check(row.sha256, row.size)
            report.checked += 1
            if state == "ok":
                report.bytes += row.size
            elif state == "missing":
                report.missing.append(row.sha256)
            else:
                report.altered.append(row.sha256)
                report.set_aside.append(self.files.set_aside(row.sha256))
            if on_file is not None:
                on_file(report)
        return report

    # -- the same picture ---------------------------------------------------------------

    def update_hashes(self, on_batch: Callable[[int], None] | None = None) -> int:
        """Compute the perceptual hashes of the stored images not hashed yet; return how
        many files were read.  Incremental: each file is hashed once."""
        done = 0
        while batch := self.tables.unhashed(_HASH_BATCH):
            rows = [(sha, *self._hashes_of(sha, mime)) for sha, mime in batch]
            with self.tables.writing():
                self.tables.save_hashes(rows)
            done += len(rows)
            if on_batch is not None:
                on_batch(done)
        return done

    def _hashes_of(self, sha256: str, mime: str | None) -> tuple:
        """``(phash, dhash, width, height)`` of an image file; Nones for other files."""
        if not (mime or "").startswith("image/"):
            return None, None, None, None
        path = self.files.path_of(sha256)
        found = images.image_hashes(path)
        if found is None:
            return None, None, None, None
        facts = describe(path)
        return found.phash, found.dhash, facts.width, facts.height

    def reposts(self, *, min_channels: int = 2, channel: str | None = None) -> list[ImageGroup]:
        """Groups of visually identical or near-identical images carried by posts of at
        least ``min_channels`` channels (with ``channel``: groups it is part of), the
        most widely carried first.  Hashes are brought up to date first."""
        if min_channels < 1:
            raise OptionError(f"min channels: {min_channels} is below 1")
        if channel is not None and not self.tables.has_channel(channel):
            raise OptionError(f"no channel {channel!r} in the archive")
        self.update_hashes()
        hashes = self._detailed_hashes()
        channels_of: dict[str, set[str]] = {}
        for sha, name in self.tables.file_channels():
            channels_of.setdefault(sha, set()).add(name)
        clustered = images.clusters(hashes)
        grouped = {sha for files in clustered for sha in files}
        # the same bytes carried by several posts are a group of one file
        singles = [[sha] for sha in channels_of if sha not in grouped]
        chosen = []
        for files in [*clustered, *singles]:
            names = set().union(*(channels_of.get(sha, set()) for sha in files))
            if len(names) >= min_channels and (channel is None or channel in names):
                group = self._group(files)
                if len(group.carriers) > 1:
                    chosen.append(group)
        chosen.sort(key=lambda g: (-len(g.channels), -len(g.carriers), _first_key(g)))
        return chosen

    def similar(self, target: str, *, limit: int = 20) -> list[ImageGroup]:
        """The stored images that look like ``target``: a file's SHA-256 (a unique start of
        it will do), a post's key (its first image), or the path of an image file; nearest
        first.  The target's own file comes first when the archive has it (distance 0, with
        every post that carried those very bytes)."""
        wanted, own = self._target_hashes(target)
        found = images.similar_to(wanted, self._detailed_hashes())
        found.sort(key=lambda pair: (pair[1], pair[0] != own))  # its own file first
        found = found[:limit]
        groups = []
        for sha, distance in found:
            group = self._group([sha])
            group.distance = distance
            groups.append(group)
        return groups

    def _detailed_hashes(self) -> list[tuple[str, str, str]]:
        """The stored pictures' hashes, blank ones left out (identical files still group)."""
        return [row for row in self.tables.image_hashes() if not images.is_blank(*row[1:])]

    def _target_hashes(self, target: str) -> tuple[images.ImageHashes, str | None]:
        """The hashes to look for, and the SHA-256 of the target's own file."""
        self.update_hashes()
        if os.path.isfile(target):
            found = images.image_hashes(target)
            if found is None:
                raise OptionError(f"{target}: not an image tgscope can read")
            return found, file_sha256(target)[0]
        hashes = {sha: (p, d) for sha, p, d in self.tables.image_hashes()}
        sha = target.lower()
        if _HEX.issuperset(sha) and len(sha) <= 64 and not _POST_KEY.fullmatch(target):
            if len(sha) < 8:
                raise OptionError(f"{target}: give at least 8 characters of a SHA-256")
            chosen = [known for known in hashes if known.startswith(sha)]
            if len(chosen) > 1:
                raise OptionError(f"{target}: {len(chosen)} stored images start so: give more")
            if not chosen:
                raise OptionError(f"{target}: the archive keeps no image with that hash")
            sha = chosen[0]
        elif _POST_KEY.fullmatch(target):
            sha = self._first_image(target)
        else:
            raise OptionError(
                f"{target}: no such file, post key (channel/123) or SHA-256 of a stored image"
            )
        return images.ImageHashes(*hashes[sha]), sha

    def _first_image(self, key: str) -> str:
        stored = [
            m.sha256 for m in self.of_post(key) if m.sha256 and (m.mime or "").startswith("image/")
        ]
        if not stored:
            raise OptionError(
                f"{key}: no stored image (no such post, or its media not fetched yet:"
                " tgscope media fetch)"
            )
        return stored[0]

    def _group(self, files: list[str]) -> ImageGroup:
        carriers = [Carrier(*row) for row in self.tables.carriers(files)]
        return ImageGroup(sorted(files), carriers)


class MediaExport:
    """The files an export hands over (``export --with-media DIR``): each copied into the
    folder once, named by its hash and checked as it is copied; ``path`` written relative to
    ``relative_to`` (the export file's folder) when given."""

    def __init__(self, folder: str | os.PathLike, relative_to: str | os.PathLike | None = None):
        self.folder = Path(folder)
        self.relative_to = relative_to
        self.names: set[str] = set()
        self.unreadable: list[str] = []  # stored files missing or altered: left out

    def take(self, files: MediaStore, sha256: str) -> str | None:
        """The path of the file's copy; None when the stored file is missing or altered."""
        if not self.names:  # made with the first file: a failed export leaves no folder
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(f"{self.folder}: cannot create the folder ({error})") from error
        if sha256 not in self.names:
            if files.copy_out(sha256, self.folder) is None:
                if sha256 not in self.unreadable:
                    self.unreadable.append(sha256)
                return None
            self.names.add(sha256)
        path = self.folder / sha256
        if self.relative_to is not None:
            return os.path.relpath(path, self.relative_to)
        return str(path)

    def write_checksums(self) -> int:
        """``SHA256SUMS`` of the files this export copied, for ``sha256sum -c``."""
        if not self.names and not self.folder.is_dir():
            return 0
        try:
            Path(self.folder, "SHA256SUMS").write_text(
                "".join(f"{name}  {name}\n" for name in sorted(self.names)), encoding="ascii"
            )
        except OSError as error:
            raise StoreError(f"{self.folder}: cannot write SHA256SUMS ({error})") from error
        return len(self.names)


#: what annotated() adds to a medium: never taken from a record itself
_MARKS = frozenset(
    f"{prefix}{name}"
    for prefix in ("", "thumb_", "image_")
    for name in ("sha256", "path", "fetch_status")
)


def _without_marks(item: Any) -> dict:
    return {name: value for name, value in item.items() if name not in _MARKS}


def _first_key(group: ImageGroup) -> tuple[str, str]:
    first = group.first
    return (first.date or "", first.post) if first else ("~", group.files[0])
