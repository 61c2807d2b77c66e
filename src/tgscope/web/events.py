"""``/events`` and ``/events/timeline``: the diplomatic events of the archive's posts.

The app reads the events table as it is: import and sync bring it up to date, and so does
``serve`` before it starts; the pages say when it is behind the archive.  Each event links
to its post's page, anchored at it (``/posts/<key>#event-N``, N counting the post's events
in the order :func:`post_events` lists them), where its evidence is highlighted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any
from urllib.parse import quote, urlencode

from ..errors import QueryError
from ..events.model import MODALITIES, MODES, TYPES
from ..store.events import EventFilter, EventTables
from .data import Reader, WebArchive
from .params import Page, bad, int_param, text_param

PAGE_SIZE = 50
MAX_OFFSET = 1_000_000  # far enough to page through any archive's events (not search's cap)
SHOWN = 500  # meetings a timeline lists (its chart counts them all)
#: a meeting is counted once, under the first of its modes in this order
MODE_ORDER = ("phone", "video", "visit", "multilateral", "third-party", "meet")
UNSPECIFIED = "unspecified"
FILTERS = ("channel", "since", "until", "type", "actor", "country", "dyad", "mode", "modality")
_LOWER = ("mode", "modality")  # values the filters know in lower case only
OPTIONS = {"type": TYPES, "mode": MODES, "modality": MODALITIES}  # the form's choices


def events_page(archive: WebArchive, params: Mapping[str, str]) -> Page:
    query = _query(params, FILTERS)
    chosen = _filter(query)
    limit = int_param(params, "limit", PAGE_SIZE, 1, 500) or PAGE_SIZE
    offset = int_param(params, "offset", 0, 0, MAX_OFFSET) or 0
    with archive.read() as reader:
        tables = EventTables(reader.db)
        index = index_state(reader, tables)
        total = tables.count(chosen)
        events = _linked(tables, list(tables.select(chosen, limit=limit, offset=offset)))
    following = offset + limit
    shown = {**query, **({"limit": limit} if limit != PAGE_SIZE else {})}
    data = {
        "query": query,
        "filter": _shown_filter(chosen),
        "index": public(index),
        "total": total,
        "offset": offset,
        "events": events,
        "timeline": _url("/events/timeline", _timeline_query(query)) if chosen.dyad else None,
        "next": _url("/events", {**shown, "offset": following})
        if following < total and following <= MAX_OFFSET
        else None,
        "options": OPTIONS,
    }
    return Page("events.html", data, title="Events")


def timeline_page(archive: WebArchive, params: Mapping[str, str]) -> Page:
    query = _query(params, ("dyad", "channel", "since", "until"))
    chosen = _filter({**query, "type": "CONSULT"})
    with archive.read() as reader:
        tables = EventTables(reader.db)
        index = index_state(reader, tables)
        if chosen.dyad is None:
            found: dict[str, Any] = _timeline([])
        else:
            key = ("events-timeline", index["held"], index["version"], chosen)
            found = archive.cached(key, reader, lambda views: _timeline_of(views.db, chosen))
    pair = " – ".join(chosen.dyad) if chosen.dyad else None
    data = {"query": query, "dyad": list(chosen.dyad) if chosen.dyad else None}
    data |= {"index": public(index), **found}
    title = f"Meetings {pair}" if pair else "Meetings between two countries"
    return Page("timeline.html", data, title=title)


def post_events(reader: Reader, key: str) -> list[dict[str, Any]]:
    """A post's events as records, in the order their ``#event-N`` anchors count them."""
    return list(EventTables(reader.db).select(EventFilter(post=key)))


def evidence_marks(text: str, events: list[dict[str, Any]]) -> list[list[int]]:
    """``[start, end, N]`` of each event whose evidence is the post's text there (a post
    edited since its events were extracted may no longer hold it)."""
    marks = []
    for number, event in enumerate(events, 1):
        evidence = event.get("evidence") or {}
        start, end = evidence.get("start"), evidence.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
            continue
        if text[start:end] == evidence.get("text"):
            marks.append([start, end, number])
    return marks


def index_state(reader: Reader, tables: EventTables) -> dict[str, Any]:
    """Whether the events table was filled, and how many writes it is behind the archive."""
    from ..events.lexicon import load

    state = tables.state()
    if "seq" not in state:
        return {"built": False, "behind": None, "outdated": False, "held": None, "version": None}
    held = int(state["seq"])
    # writes of posts since (an import that changed nothing moves the archive's counter only)
    behind = max(reader.views.last_seq() - held, 0) if tables.written_after(held) else 0
    version = state.get("version")
    outdated = version != load().version  # the dictionaries changed: serve extracts anew
    return {
        "built": True,
        "behind": behind,
        "outdated": outdated,
        "held": state["seq"],
        "version": version,
    }


def public(index: dict[str, Any]) -> dict[str, Any]:
    """What a page shows of :func:`index_state` (not what only keys the cache)."""
    return {name: value for name, value in index.items() if name not in ("held", "version")}


# -- the filters ---------------------------------------------------------------------------


def _query(params: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    """The filters given, as typed (stripped): the page's URL parameters."""
    query = {}
    for name in names:
        value = text_param(params, name)
        if value is not None:
            query[name] = value.lower() if name in _LOWER else value
    return query


def _filter(query: Mapping[str, Any]) -> EventFilter:
    """The filter of ``tgscope events``; a bad value is a 400 naming its parameter."""
    from ..events.filters import event_filter

    for name, value in query.items():
        alone: dict[str, Any] = {name: value}
        try:
            event_filter(**alone)
        except QueryError as error:
            message = str(error)
            raise bad(message if message.startswith(f"{name}:") else f"{name}: {message}") from None
    try:
        return event_filter(**query)
    except QueryError as error:  # since after until
        raise bad(f"since, until: {error}") from None


def _shown_filter(chosen: EventFilter) -> dict[str, Any]:
    """The filter as applied (countries as alpha-3, whole dates), without what is not set."""
    shown = {name: value for name, value in asdict(chosen).items() if value is not None}
    if chosen.dyad:
        shown["dyad"] = list(chosen.dyad)
    return shown


def _timeline_query(query: Mapping[str, str]) -> dict[str, str]:
    return {name: query[name] for name in ("dyad", "channel", "since", "until") if name in query}


# -- the timeline --------------------------------------------------------------------------


def _timeline_of(db: Any, chosen: EventFilter) -> dict[str, Any]:
    tables = EventTables(db)
    found = _timeline(list(tables.select(chosen)))
    found["meetings"] = _linked(tables, found["meetings"])
    found["other"] = {name: _linked(tables, rows) for name, rows in found["other"].items()}
    return found


def _timeline(consults: list[dict[str, Any]]) -> dict[str, Any]:
    """The meetings that happened by month and mode, and those planned, reported or denied."""
    factual = [event for event in consults if event["modality"] == "factual"]
    counts: Counter[tuple[str, str]] = Counter()
    unplaced = 0
    for event in factual:
        month = event_month(event)
        if month is None:
            unplaced += 1
        else:
            counts[month, main_mode(event["mode"])] += 1
    months = _months(sorted({month for month, _ in counts}))
    modes = [mode for mode in (*MODE_ORDER, UNSPECIFIED) if any(m == mode for _, m in counts)]
    other = {
        modality: [event for event in consults if event["modality"] == modality]
        for modality in MODALITIES
        if modality != "factual"
    }
    return {
        "chart": {
            "months": months,
            "series": [  # a list: the modes in their order (Jinja's tojson sorts keys)
                {"mode": mode, "counts": [counts[month, mode] for month in months]}
                for mode in modes
            ],
        },
        "total": len(factual),
        "unplaced": unplaced,
        "meetings": factual[:SHOWN],
        "other": {modality: rows[:SHOWN] for modality, rows in other.items()},
        "other_total": {modality: len(rows) for modality, rows in other.items()},
    }


def event_month(event: Mapping[str, Any]) -> str | None:
    """``YYYY-MM`` of the day it happened, or of its bounds when both fall in one month."""
    if event.get("date"):
        return str(event["date"])[:7]
    low, high = event.get("date_min"), event.get("date_max")
    if low and high and low[:7] == high[:7]:
        return str(low)[:7]
    return None


def main_mode(modes: list[str]) -> str:
    """The mode a meeting is counted under: the first of :data:`MODE_ORDER` it has."""
    return next((mode for mode in MODE_ORDER if mode in modes), UNSPECIFIED)


def _months(present: list[str]) -> list[str]:
    """Every month from the first to the last, the empty ones too."""
    if not present:
        return []
    year, month = (int(part) for part in present[0].split("-"))
    months = []
    while (label := f"{year:04d}-{month:02d}") <= present[-1]:
        months.append(label)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


# -- links to the posts ----------------------------------------------------------------------


def _linked(tables: EventTables, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events, each with its ``link``: its post's page at ``#event-N``."""
    numbers: dict[str, list[dict[str, Any]]] = {}
    linked = []
    for event in events:
        key = event["post"]
        if key not in numbers:
            numbers[key] = list(tables.select(EventFilter(post=key)))
        number = _number(numbers[key], event)
        anchor = f"#event-{number}" if number else ""
        linked.append({**event, "link": f"/posts/{quote(key, safe='/')}{anchor}"})
    return linked


def _number(siblings: list[dict[str, Any]], event: dict[str, Any]) -> int | None:
    plain = {name: value for name, value in event.items() if name != "link"}
    for number, sibling in enumerate(siblings, 1):
        if sibling == plain:
            return number
    return None


def _url(path: str, params: Mapping[str, object]) -> str:
    return f"{path}?{urlencode(params)}" if params else path
