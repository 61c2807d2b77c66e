"""Checking what a user asks of the events: one-line errors naming the value."""

from __future__ import annotations

from datetime import date

from ..errors import QueryError
from ..store.events import EventFilter
from .lexicon import Lexicon, load
from .model import MODALITIES, MODES, TYPES


def event_filter(
    *,
    channel: str | None = None,
    since: str | None = None,
    until: str | None = None,
    type: str | None = None,
    actor: str | None = None,
    country: str | None = None,
    dyad: str | tuple[str, str] | list[str] | None = None,
    mode: str | None = None,
    modality: str | None = None,
    post: str | None = None,
    lexicon: Lexicon | None = None,
) -> EventFilter:
    """An :class:`EventFilter` from what a user typed: dates ``YYYY-MM-DD`` (or ``YYYY``,
    ``YYYY-MM``), countries as alpha-3 or names (``RUS``, ``Russia``, «Россия»), a dyad as
    ``"RUS,CHN"``; a value that is none of these raises :class:`QueryError`."""
    lexicon = lexicon or load()
    low = _day(since, "since", first=True)
    high = _day(until, "until", first=False)
    if low and high and low > high:
        raise QueryError(f"the since date {since} is after the until date {until}")
    if type is not None and type.upper() not in TYPES:
        raise QueryError(f"unknown event type {type!r}: one of {', '.join(TYPES)}")
    if mode is not None and mode not in MODES:
        raise QueryError(f"unknown mode {mode!r}: one of {', '.join(MODES)}")
    if modality is not None and modality not in MODALITIES:
        raise QueryError(f"unknown modality {modality!r}: one of {', '.join(MODALITIES)}")
    pair = None
    if dyad:
        parts = dyad.split(",") if isinstance(dyad, str) else list(dyad)
        if len(parts) != 2:
            raise QueryError(f"a dyad is two countries, as RUS,CHN: not {dyad!r}")
        pair = (state(parts[0], lexicon), state(parts[1], lexicon))
    return EventFilter(
        channel=channel,
        since=low,
        until=high,
        type=type.upper() if type else None,
        actor=actor,
        country=state(country, lexicon) if country else None,
        dyad=pair,
        mode=mode,
        modality=modality,
        post=post,
    )


def state(text: str, lexicon: Lexicon) -> str:
    """A country's alpha-3 from its code or a name the dictionaries know; bodies and blocs
    (UN, EU, WEST…) as they are."""
    word = text.strip()
    if word.upper() in lexicon.country_names or word.upper() in lexicon.orgs:
        return word.upper()
    found = lexicon.country_named(word)
    if found is None:
        raise QueryError(f"unknown country {text!r}: use its ISO 3166 alpha-3 code, as RUS")
    return found


def _day(text: str | None, name: str, *, first: bool) -> str | None:
    if not text:
        return None
    parts = text.strip().split("-")
    try:
        if len(parts) == 1:
            day = date(int(parts[0]), 1 if first else 12, 1 if first else 31)
        elif len(parts) == 2:
            year, month = int(parts[0]), int(parts[1])
            day = date(year, month, 1)
            if not first:
                following = date(year + month // 12, month % 12 + 1, 1)
                day = date.fromordinal(following.toordinal() - 1)
        else:
            day = date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise QueryError(f"{name}: not a date: {text!r} (use YYYY-MM-DD)") from None
    return day.isoformat()
