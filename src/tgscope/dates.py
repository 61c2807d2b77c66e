"""Dates as tgscope stores them: ISO 8601 strings in UTC (``2022-11-15T09:12:00+00:00``)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import OptionError, QueryError


def parse_bound(text: str) -> datetime:
    """A ``--since``/``--until`` value: ``2022-11-15`` or a full ISO datetime (UTC if no offset)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD or ISO 8601)") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def day_bounds(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """Half-open UTC bounds ``[low, high)`` as stored strings, in whole seconds: the one
    definition of ``since``/``until`` that the store and the search index both apply.

    ``until`` includes what it names: a bare date that whole day, a time that whole second
    (``2022-11-15T09:12:00`` keeps a post dated 09:12:00 or 09:12:00.5).  ``since`` starts at
    the beginning of its second.  Whole seconds make the bounds compare alike as stored
    strings (the store) and as epoch seconds (the index).  Raises :class:`QueryError` for a
    value that is not a date."""
    try:
        low, high = _day_bounds(since, until)
    except ValueError as error:
        raise QueryError(str(error)) from error
    except OverflowError as error:
        raise QueryError("date out of range: use dates from 0001-01-02 to 9999-12-30") from error
    if low and high and low >= high:
        raise QueryError(f"the since date {since} is after the until date {until}")
    return low, high


def _day_bounds(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    low = to_utc_iso(parse_bound(since).replace(microsecond=0)) if since else None
    high = None
    if until:
        moment = parse_bound(until).replace(microsecond=0)
        moment += timedelta(days=1) if _is_bare_date(until) else timedelta(seconds=1)
        high = to_utc_iso(moment)
    return low, high


def to_utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def to_epoch(text: str) -> int:
    """Whole seconds since 1970 for a stored date string (rounded down, as the bounds are)."""
    return math.floor(parse_bound(text).timestamp())


def _is_bare_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) <= 10


def time_zone(name: object) -> tzinfo | None:
    """``--timezone``: an IANA zone name (``Europe/Moscow``), or None."""
    if name is None:
        return None
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise OptionError(f"timezone: unknown time zone {name!r}") from error
