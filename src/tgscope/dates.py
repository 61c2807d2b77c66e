"""Dates as tgscope stores them: ISO 8601 strings in UTC (``2022-11-15T09:12:00+00:00``)."""

from __future__ import annotations

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
    """Half-open UTC bounds ``[since, until)`` as stored strings; a bare ``until`` date
    includes that whole day.  Raises :class:`QueryError` for a value that is not a date."""
    try:
        low, high = _day_bounds(since, until)
    except ValueError as error:
        raise QueryError(str(error)) from error
    except OverflowError as error:
        raise QueryError("date out of range: use dates from 0001-01-02 to 9999-12-30") from error
    if low and high and low >= high:
        raise QueryError(f"--since {since} is after --until {until}")
    return low, high


def _day_bounds(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    low = to_utc_iso(parse_bound(since)) if since else None
    high = None
    if until:
        moment = parse_bound(until)
        if _is_bare_date(until):
            moment += timedelta(days=1)
        else:
            moment += timedelta(microseconds=1)
        high = to_utc_iso(moment)
    return low, high


def to_utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def to_epoch(text: str) -> int:
    """Seconds since 1970 for a stored date string."""
    return int(parse_bound(text).timestamp())


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
        raise OptionError(f"--timezone: unknown time zone {name!r}") from error
