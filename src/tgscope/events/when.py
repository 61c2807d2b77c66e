"""Dates in event texts: explicit (``November 15, 2022``, «9 января 2023 года»), without a
year (``On January 9``), and relative (``today``, «вчера», ``on Monday``), in English and
Russian; resolved against the post's date, or left for the archive to bound by the post's
dated neighbours (:func:`year_within`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_MONTHS_EN = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTHS_RU = {
    stem: number
    for number, stem in enumerate(
        (
            "январ",
            "феврал",
            "март",
            "апрел",
            "ма",
            "июн",
            "июл",
            "август",
            "сентябр",
            "октябр",
            "ноябр",
            "декабр",
        ),
        start=1,
    )
}
_EN_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS_EN, key=len, reverse=True)) + r")\.?"
_RU_MONTH = (
    r"(?P<rumonth>январ[яь]|феврал[яь]|марта?|апрел[яь]|ма[яй]|июн[яь]|июл[яь]|августа?"
    r"|сентябр[яь]|октябр[яь]|ноябр[яь]|декабр[яь])"
)
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"

# texts are matched folded (lower case): see lexicon.fold
_PATTERNS = [
    re.compile(rf"\b{_EN_MONTH}\s+{_DAY}(?:\s*[-–]\s*\d\d?)?(?:,?\s+{_YEAR})?\b"),
    re.compile(rf"\b{_DAY}(?:\s*[-–]\s*\d\d?)?\s+{_EN_MONTH}(?:,?\s+{_YEAR})?\b"),
    re.compile(rf"(?<!\d)(?P<day>[0-3]?\d)(?:\s*[-–]\s*\d\d?)?\s+{_RU_MONTH}(?:\s+{_YEAR})?"),
    re.compile(r"\b(?P<day>[0-3]\d)\.(?P<num>[01]\d)\.(?P<year>(?:19|20)\d\d)\b"),
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<num>[01]\d)-(?P<day>[0-3]\d)\b"),
]
_RELATIVE = re.compile(
    r"\b(?P<word>today|yesterday|tomorrow|the day before yesterday|this morning|tonight"
    r"|сегодня|вчера|завтра|позавчера)\b"
    r"|\b(?:on|last|this)\s+(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    r"|\bв\s+(?P<ruweekday>понедельник|вторник|среду|четверг|пятницу|субботу|воскресенье)\b"
)
_OFFSETS = {
    "today": 0,
    "this morning": 0,
    "tonight": 0,
    "сегодня": 0,
    "yesterday": -1,
    "вчера": -1,
    "the day before yesterday": -2,
    "позавчера": -2,
    "tomorrow": 1,
    "завтра": 1,
}
_WEEKDAYS = {
    name: number
    for names in (
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        ("понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье"),
    )
    for number, name in enumerate(names)
}


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date in the text: ``year`` None when the text leaves it out; ``offset`` (days from
    the post's date) or ``weekday`` for relative ones."""

    start: int
    end: int
    month: int | None = None
    day: int | None = None
    year: int | None = None
    offset: int | None = None
    weekday: int | None = None
    last: bool = False  # "last Friday": never the post's own day

    def resolve(self, post_date: str | None, *, ahead: bool = False) -> str | None:
        """The day, ``YYYY-MM-DD``, when the text and the post's date fix it; ``ahead``: of
        what is to come, so "on Monday" is the next Monday, "November 24" the next one."""
        if self.year is not None and self.month and self.day:
            return _iso(self.year, self.month, self.day)
        anchor = _parse(post_date)
        if anchor is None:
            return None
        if self.offset is not None:
            return (anchor + timedelta(days=self.offset)).isoformat()
        if self.weekday is not None:
            if ahead:
                forward = (self.weekday - anchor.weekday()) % 7
                return (anchor + timedelta(days=forward)).isoformat()
            back = (anchor.weekday() - self.weekday) % 7 or (7 if self.last else 0)
            return (anchor - timedelta(days=back)).isoformat()
        if self.month and self.day:
            if ahead:
                return _earliest_not_before(self.month, self.day, anchor)
            return _latest_not_after(self.month, self.day, anchor)
        return None


def find_dates(folded: str) -> list[DateMention]:
    """Every date in a folded text, in text order (a span matched twice counts once)."""
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(folded):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            mention = _explicit(match)
            if mention is not None:
                found.append(mention)
                taken.append((match.start(), match.end()))
    for match in _RELATIVE.finditer(folded):
        if any(match.start() < end and start < match.end() for start, end in taken):
            continue
        found.append(_relative(match))
    found.sort(key=lambda mention: mention.start)
    return found


def _explicit(match: re.Match[str]) -> DateMention | None:
    groups = match.groupdict()
    if groups.get("month"):
        month = _MONTHS_EN[groups["month"]]
    elif groups.get("rumonth"):
        month = next(n for stem, n in _MONTHS_RU.items() if groups["rumonth"].startswith(stem))
        if groups["rumonth"].startswith("март"):
            month = 3
    else:
        month = int(groups["num"])
    day = int(groups["day"])
    year = int(groups["year"]) if groups.get("year") else None
    if not 1 <= day <= 31 or not 1 <= month <= 12:
        return None
    if year is not None and _iso(year, month, day) is None:
        return None
    return DateMention(match.start(), match.end(), month=month, day=day, year=year)


def _relative(match: re.Match[str]) -> DateMention:
    if match.group("word"):
        return DateMention(match.start(), match.end(), offset=_OFFSETS[match.group("word")])
    weekday = match.group("weekday") or match.group("ruweekday")
    last = match.group().startswith(("last", "в прошл"))
    return DateMention(match.start(), match.end(), weekday=_WEEKDAYS[weekday], last=last)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _parse(day: str | None) -> date | None:
    if not day:
        return None
    try:
        return date.fromisoformat(day[:10])
    except ValueError:
        return None


def _latest_not_after(month: int, day: int, anchor: date) -> str | None:
    """``January 9`` in a post of 2023-01-10 is 2023-01-09; in one of 2023-01-05, 2022-01-09
    (a post tells of what happened; "next" dates come with a year or a future tense)."""
    for year in (anchor.year, anchor.year - 1):
        found = _iso(year, month, day)
        if found is not None and found <= anchor.isoformat():
            return found
    return None


def _earliest_not_before(month: int, day: int, anchor: date) -> str | None:
    for year in (anchor.year, anchor.year + 1):
        found = _iso(year, month, day)
        if found is not None and found >= anchor.isoformat():
            return found
    return None


def year_within(month: int, day: int, low: str | None, high: str | None) -> str | None:
    """The one day ``month``/``day`` that falls within ``[low, high]``, or None when there
    is none or more than one (always, when a bound is open)."""
    if low is None or high is None:
        return None  # open at one end: every year beyond it fits
    first, last = int(low[:4]), int(high[:4])
    days = [
        found
        for year in range(first, last + 1)
        if (found := _iso(year, month, day)) is not None
        and (low is None or low <= found)
        and (high is None or found <= high)
    ]
    return days[0] if len(days) == 1 else None
