"""When an event happened, and whether it did: its modality (factual, future, negated,
reported), its day from the text or the post, and the bounds of an undated post's events
from its officials' terms of office."""

from __future__ import annotations

import re
from datetime import date

from . import cues as C
from .model import Event
from .parties import Found
from .reading import Reading
from .when import year_within

UNGA_SESSION = re.compile(
    r"\b(\d{2})(?:st|nd|rd|th) session of the un(?:ited nations)? general assembly"
    r"|\bunga ?(\d{2})\b|(\d{2})-[йи] сесси\w* генеральн\w+ ассамбле\w+"
)


_PAST_PERIOD = re.compile(
    r"\bin (?P<month>january|february|march|april|may|june|july|august|september|october"
    r"|november|december)\b|\bв (?P<rumonth>январе|феврале|марте|апреле|мае|июне|июле|августе"
    r"|сентябре|октябре|ноябре|декабре)\b|\b(?:in|в) (?P<year>(?:19|20)\d\d)(?: году)?\b"
)


_MONTH_NAMES = (
    "january february march april may june july august september october november december",
    "январе феврале марте апреле мае июне июле августе сентябре октябре ноябре декабре",
)


def bound_by_terms(post: Reading, event: Event, sides: list[Found], start: int, end: int) -> None:
    """In a post without a date, an event without one happened while its officials all
    held the offices the text gives them (any of their terms in it), and in the UN General
    Assembly session it names: the earliest and latest days that allows."""
    if post.day is not None or event.date is not None:
        return
    spans: list[tuple[str, str]] = [("0000-00-00", "9999-99-99")]
    for found in sides:
        if found.official is not None:
            terms = post.lexicon.terms_of(found.official)
            spans = [span for one in spans for term in terms if (span := _overlap(one, term))]
    session = UNGA_SESSION.search(post.folded, start, end) or UNGA_SESSION.search(post.folded)
    if session and event.occasion == "UNGA":
        year = 1945 + int(next(group for group in session.groups() if group))
        within = (f"{year}-09-01", f"{year + 1}-09-15")
        spans = [span for one in spans if (span := _overlap(one, within))]
    if not spans:
        return
    low, high = min(s[0] for s in spans), max(s[1] for s in spans)
    event.date_min = None if low == "0000-00-00" else low
    event.date_max = None if high == "9999-99-99" else high
    if event.partial:
        day = year_within(*event.partial, event.date_min, event.date_max)
        if day:
            event.date = event.date_min = event.date_max = day


def _overlap(one: tuple[str, str], other: tuple[str, str]) -> tuple[str, str] | None:
    low, high = max(one[0], other[0]), min(one[1], other[1])
    return (low, high) if low <= high else None


def modality_of(post: Reading, start: int, end: int, match: re.Match[str], cue: C.Cue) -> str:
    window = post.folded[start : min(end, match.end() + 80)]
    if cue.type == "REJECT":  # a denial is said: what it denies is not its modality
        return "future" if C.FUTURE.search(window) else "factual"
    if C.NEGATED.search(post.folded, start, min(end, match.end() + 160)):
        return "negated"
    if cue.modality:
        return cue.modality
    if C.FUTURE.search(window):
        return "future"
    if C.REPORTED.search(window):
        return "reported"
    return "factual"


def _told_later(post: Reading, day: str | None, start: int, end: int) -> bool:
    """Whether a post tells of a meeting well before it was written: a day more than three
    days before the post's, an earlier month or year ("in June", «в 2025 году»)."""
    if post.day is None:
        return False
    if day is not None:
        return (date.fromisoformat(post.day) - date.fromisoformat(day)).days > 3
    match = _PAST_PERIOD.search(post.folded, start, end)
    if match is None:
        return False
    if match.group("year"):
        return int(match.group("year")) < int(post.day[:4])
    word = match.group("month") or match.group("rumonth")
    names = _MONTH_NAMES[0 if match.group("month") else 1].split()
    return names.index(word) + 1 < int(post.day[5:7])


def dated(post: Reading, event: Event, start: int, end: int, anchor: int | None = None) -> None:
    """The day the sentence gives (the last date before ``anchor``, the party it is about,
    when the sentence lists meetings on several days); else the dateline's or the post's
    for what happened; a day without a year is kept for the archive to place."""
    here = [d for d in post.dates_in(start, end)]
    if anchor is not None:
        before = [d for d in here if d.start < anchor]
        here = before[-1:] + [d for d in here if d not in before[-1:]]
    day = None
    ahead = event.modality == "future"
    for mention in here:
        day = mention.resolve(post.day, ahead=ahead)
        if day:
            break
    if event.modality == "factual" and _told_later(post, day, start, end):
        event.modality = "reported"  # "On May 6, Lavrov held…" in a post of June: a memory
    if day is None and event.modality == "factual" and post.main is None:
        day = post.place_day or post.day  # told the day it happened, unless it says otherwise
    if day is None and here and here[0].month and here[0].day and not post.day:
        event.partial = (here[0].month, here[0].day)
    event.date = day
    event.date_min = event.date_max = day
    if day is None and post.day and event.modality in ("factual", "reported"):
        event.date_max = post.day


def dated_by_main(post: Reading, events: list[Event]) -> None:
    """What a post tells of its meeting (congratulations, criticism voiced there) happened
    on the meeting's day, unless the text gives another."""
    main = post.main
    if main is None:
        return
    for event in events:
        if event is main or event.date or event.partial:
            continue
        if event.type == "CONSULT" and event.modality != "factual":
            continue  # a meeting planned, denied or remembered is not the one told
        event.date, event.date_min, event.date_max = main.date, main.date_min, main.date_max
        event.partial = main.partial
