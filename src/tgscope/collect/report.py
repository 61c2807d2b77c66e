"""What a sync did: :class:`SyncReport`, with the ids it saw and missed kept as ranges.

A page may show ids 1 and 1,000,000,000; a set of every id in between would take gigabytes,
so ids live in :class:`IdRanges` (sorted, disjoint, inclusive ranges) and the gaps are
computed range by range.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

NEVER_SHOWN = "never shown (deleted before it was archived, or a message the preview hides)"
DELETED = "deleted after it was archived"

Run = tuple[int, int, str]  # first id, last id, why they are missing


class IdRanges:
    """A set of ids as sorted, disjoint, inclusive ``(first, last)`` ranges."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()):
        self._starts: list[int] = []
        self._ends: list[int] = []
        for first, last in ranges:
            self.add(first, last)

    def add(self, first: int, last: int) -> None:
        """Add the ids ``first..last``, merging with ranges they overlap or touch."""
        if last < first:
            return
        i = bisect_left(self._ends, first - 1)  # the first range that ends at first-1 or later
        j = bisect_right(self._starts, last + 1)  # ranges i..j-1 overlap or touch
        if i < j:
            first, last = min(first, self._starts[i]), max(last, self._ends[j - 1])
        self._starts[i:j] = [first]
        self._ends[i:j] = [last]

    def update(self, ids: Iterable[int]) -> None:
        """Add single ids (runs of consecutive ids become one range)."""
        run: list[int] = []
        for number in sorted(set(ids)):
            if run and number == run[1] + 1:
                run[1] = number
                continue
            if run:
                self.add(*run)
            run = [number, number]
        if run:
            self.add(*run)

    def __sub__(self, other: IdRanges) -> IdRanges:
        """The ids here that are not in ``other``."""
        result, theirs, j = IdRanges(), list(other), 0
        for first, last in self:
            while j < len(theirs) and theirs[j][1] < first:
                j += 1
            start, k = first, j
            while k < len(theirs) and theirs[k][0] <= last:
                if theirs[k][0] > start:
                    result.add(start, theirs[k][0] - 1)
                start = max(start, theirs[k][1] + 1)
                k += 1
            if start <= last:
                result.add(start, last)
        return result

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self._starts, self._ends, strict=True)

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, int):
            return False
        i = bisect_right(self._starts, number) - 1
        return i >= 0 and self._ends[i] >= number

    def __bool__(self) -> bool:
        return bool(self._starts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdRanges) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"IdRanges({list(self)!r})"

    @property
    def count(self) -> int:
        """How many ids (not ranges)."""
        return sum(last - first + 1 for first, last in self)

    @property
    def first(self) -> int | None:
        return self._starts[0] if self._starts else None

    @property
    def last(self) -> int | None:
        return self._ends[-1] if self._ends else None


@dataclass
class SyncReport:
    """What one channel's sync did, and how complete the archive now is."""

    channel: str
    pages: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    ids_seen: IdRanges = field(default_factory=IdRanges)
    covered: IdRanges = field(default_factory=IdRanges)  # id ranges the pages spanned
    stopped: str = ""
    deleted: list[int] = field(default_factory=list)  # archived posts the preview no longer has
    warnings: list[str] = field(default_factory=list)
    gone_since: dict[int, str] = field(default_factory=dict)  # archived, now missing: when
    page_posts: int = 0  # the page just saved: posts it showed
    page_added: int = 0  # ... and how many of them were new

    @property
    def newest_id(self) -> int | None:
        return self.ids_seen.last

    @property
    def oldest_id(self) -> int | None:
        return self.ids_seen.first

    @property
    def missing(self) -> list[tuple[int, int]]:
        """Ids in the ranges this sync walked that no page showed, as ``(first, last)``."""
        return list(self.covered - self.ids_seen)

    def missing_runs(self) -> list[Run]:
        """The missing ids as ``(first, last, reason)``, as far as the archive knows why."""
        gone = sorted(self.gone_since)
        runs: list[Run] = []
        for first, last in self.missing:
            start = first
            for number in gone[bisect_left(gone, first) : bisect_right(gone, last)]:
                if number > start:
                    runs.append((start, number - 1, NEVER_SHOWN))
                reason = f"{DELETED} (gone since {self.gone_since[number][:10]})"
                if runs and runs[-1][1] == number - 1 and runs[-1][2] == reason:
                    runs[-1] = (runs[-1][0], number, reason)
                else:
                    runs.append((number, number, reason))
                start = number + 1
            if start <= last:
                runs.append((start, last, NEVER_SHOWN))
        return runs

    def summary(self) -> str:
        span = f"ids {self.oldest_id}..{self.newest_id}" if self.ids_seen else "no posts"
        missing = IdRanges(self.missing)
        known = sum(1 for number in self.gone_since if number in missing)
        never = missing.count - known
        gaps = f", {never} id(s) not shown" if never else ""
        gone = f", {len(self.deleted)} deleted since archived" if self.deleted else ""
        earlier = len(set(self.gone_since) - set(self.deleted))
        gone += f", {earlier} deleted earlier" if earlier else ""
        return (
            f"{self.channel}: {self.pages} page(s), {self.added} added, {self.updated} updated,"
            f" {self.unchanged} unchanged; {span}{gaps}{gone}; {self.stopped}"
        )

    def missing_lines(self, limit: int = 20) -> list[str]:
        """The missing ids as ranges with their reason, at most ``limit`` lines."""
        runs = self.missing_runs()
        lines = [
            f"{first}" + (f"-{last}" if last != first else "") + f": {reason}"
            for first, last, reason in runs[:limit]
        ]
        if len(runs) > limit:
            lines.append(f"... and {len(runs) - limit} more range(s)")
        return lines

    def page_line(self) -> str:
        """One plain line about the page just saved (for logs and pipes)."""
        return f"{self.channel}: page {self.pages}, {self.page_posts} posts, {self.page_added} new"
