"""What the archive's jobs report: an import file by file, and a search's results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .record import Post


@dataclass(slots=True)
class FileReport:
    """What importing one file did."""

    path: str
    format: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    channels: int = 0
    merged: int = 0  # copies without ids (text dumps) merged into posts with ids
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # why the file was not imported (then nothing of it was)
    media: int = 0  # media files that came with an export, taken into the media store

    @property
    def posts(self) -> int:
        """Posts the file held: added, updated and unchanged."""
        return self.added + self.updated + self.unchanged

    def summary(self) -> str:
        """One line: the file, its format and what happened to its posts (or its error)."""
        if self.error:
            return self.error
        merged = f"; {self.merged} copies without ids merged into posts" if self.merged else ""
        media = f"; {self.media} media file(s) stored" if self.media else ""
        return (
            f"{self.path} ({self.format}): {self.posts} post(s): {self.added} added, "
            f"{self.updated} updated, {self.unchanged} unchanged{merged}{media}"
        )


@dataclass(slots=True)
class ImportReport:
    """What importing several files did, file by file."""

    files: list[FileReport] = field(default_factory=list)

    def total(self, name: str) -> int:
        """The sum of one count (``added``, ``posts``...) over the files."""
        return sum(getattr(report, name) for report in self.files)

    @property
    def failures(self) -> list[FileReport]:
        """The files that failed, each with its one-line ``error``; nothing of them was kept."""
        return [report for report in self.files if report.error]

    @property
    def imported(self) -> list[FileReport]:
        """The files that were imported (whole: a file is imported whole or not at all)."""
        return [report for report in self.files if not report.error]

    def add(self, file: FileReport, on_file: Callable[[FileReport], None] | None = None) -> None:
        """Record one file's report and tell ``on_file``."""
        self.files.append(file)
        if on_file:
            on_file(file)

    def summary(self) -> str:
        """One line of totals over the files."""
        failed = f", {len(self.failures)} file(s) failed" if self.failures else ""
        media = self.total("media")
        stored = f"; {media} media file(s) stored" if media else ""
        return (
            f"{len(self.files)} file(s), {self.total('posts')} post(s): "
            f"{self.total('added')} added, {self.total('updated')} updated, "
            f"{self.total('unchanged')} unchanged{stored}{failed}"
        )


@dataclass(frozen=True, slots=True)
class SearchResult:
    post: Post
    score: float | None
    snippet: str  # HTML with <b> around matched words


@dataclass(frozen=True, slots=True)
class SearchResults:
    total: int
    results: list[SearchResult]
    undated_left_out: int = 0  # posts without a date that a date filter could not match
