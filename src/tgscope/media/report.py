"""What a run that keeps media did: files stored, bytes, and the media it could not store
(``tgscope media fetch``, ``--api``, and an export's files at import)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ..store.media import Fetched, Wanted

SHOWN_PROBLEMS = 20  # problems kept in a report, the first ones


@dataclass
class MediaReport:
    """Files stored, bytes, and every medium it could not store."""

    stored: int = 0  # files new to the store
    again: int = 0  # kept for a post, but the store had the same bytes already (another's)
    bytes: int = 0
    done_before: int = 0  # stored or given up by an earlier run: not asked again
    not_stored: Counter[str] = field(default_factory=Counter)  # status -> how many
    problems: list[str] = field(default_factory=list)  # "URL: reason", the first few
    first: dict[str, tuple[str, str]] = field(default_factory=dict)  # status -> (url, reason)
    seconds: float = 0.0
    verb: ClassVar[str] = "fetched"

    @property
    def taken(self) -> int:
        """Media of posts stored by this run (new files and files stored already)."""
        return self.stored + self.again

    def count(self, wanted: Wanted, fetched: Fetched, is_new: bool) -> None:
        """Count one medium's outcome (``is_new``: its file was new to the store)."""
        if fetched.status == "stored":
            self.bytes += fetched.size or 0
            if is_new:
                self.stored += 1
            else:
                self.again += 1
            return
        self.not_stored[fetched.status] += 1
        self.first.setdefault(fetched.status, (wanted.url, fetched.reason or ""))
        if len(self.problems) < SHOWN_PROBLEMS:
            self.problems.append(f"{wanted.url}: {fetched.reason}")

    def summary(self) -> str:
        line = f"{self.verb} {self.taken:,} file(s) ({self.bytes / 1e6:,.1f} MB)"
        if self.again:
            line += f", {self.again:,} of them already stored"
        if self.not_stored:
            line += "; not stored: " + ", ".join(
                f"{count:,} {status.replace('_', ' ')}"
                for status, count in sorted(self.not_stored.items())
            )
        if self.done_before:
            line += f"; {self.done_before:,} done before"
        return line + (f" in {self.seconds:.1f} s" if self.seconds else "")
