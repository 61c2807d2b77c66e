"""Query parameters read strictly: a bad one is a 400 naming it, never a 500."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..dates import parse_bound

MAX_QUERY = 1000  # characters of a search query
MAX_OFFSET = 10_000  # results paged through by offset (a search's)


@dataclass(frozen=True, slots=True)
class Page:
    """What a route answers: its template and the data both it and the JSON twin show."""

    template: str
    data: dict
    title: str = ""


class HTTPProblem(Exception):
    """A request that cannot be answered: 400 (a bad parameter) or 404 (nothing there)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def bad(message: str) -> HTTPProblem:
    return HTTPProblem(400, message)


def not_found(message: str) -> HTTPProblem:
    return HTTPProblem(404, message)


def text_param(params: Mapping[str, str], name: str, *, longest: int = 200) -> str | None:
    """A text parameter, stripped; None when absent or empty."""
    value = params.get(name)
    if value is None or not value.strip():
        return None
    if len(value) > longest:
        raise bad(f"{name}: too long ({len(value)} characters, at most {longest})")
    if "\x00" in value:
        raise bad(f"{name}: contains a NUL character")
    return value.strip()


def int_param(
    params: Mapping[str, str], name: str, default: int | None, low: int, high: int
) -> int | None:
    """An integer parameter within ``[low, high]``; ``default`` when absent."""
    value = text_param(params, name, longest=30)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad(f"{name}: {value!r} is not a whole number") from None
    if not low <= number <= high:
        raise bad(f"{name}: {number} is out of range ({low} to {high})")
    return number


def float_param(
    params: Mapping[str, str], name: str, default: float, low: float, high: float
) -> float:
    """A number within ``[low, high]``; ``default`` when absent."""
    value = text_param(params, name, longest=30)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise bad(f"{name}: {value!r} is not a number") from None
    if not low <= number <= high:  # NaN is in no range
        raise bad(f"{name}: {value} is out of range ({low:g} to {high:g})")
    return number


def date_param(params: Mapping[str, str], name: str) -> str | None:
    """A date (``2023-01-09``) or ISO time parameter, checked."""
    value = text_param(params, name, longest=40)
    if value is None:
        return None
    try:
        parse_bound(value)
    except (ValueError, OverflowError):
        raise bad(f"{name}: {value!r} is not a date (use YYYY-MM-DD)") from None
    return value


def choice_param(
    params: Mapping[str, str], name: str, choices: tuple[str, ...], default: str | None = None
) -> str | None:
    value = text_param(params, name, longest=40)
    if value is None:
        return default
    if value.lower() not in choices:
        raise bad(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return value.lower()


def zone_param(params: Mapping[str, str], name: str = "tz") -> str:
    """An IANA time zone name (``Europe/Moscow``); UTC when absent."""
    value = text_param(params, name, longest=64) or "UTC"
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad(f"{name}: unknown time zone {value!r} (use a name like Europe/Moscow)") from None
    return value
