"""The event record (``shared/docs/events.md``): what ``tgscope events`` writes, one a line.

Parties, places and evidence are plain dicts (``TypedDict``) so that an event serialises to
JSON as it is; :func:`csv_row` flattens one for R and pandas (one event a row, parties as
``actor1_name, actor1_country, …`` columns).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, NotRequired, TypedDict

TYPES = (
    "CONSULT",
    "AGREE",
    "SUPPORT",
    "COOPERATE",
    "AID",
    "REQUEST",
    "ACCUSE",
    "REJECT",
    "PROTEST",
    "THREATEN",
    "SANCTION",
    "STATEMENT",
)
MODES = ("phone", "video", "visit", "third-party", "multilateral", "meet")
MODALITIES = ("factual", "future", "negated", "reported")


class Party(TypedDict):
    """Who acts or is addressed: a person (``name``), or a state or body alone."""

    name: str | None
    country: str | None  # ISO 3166-1 alpha-3; None for an international body or a bloc
    role: str | None
    org: NotRequired[str]  # UN, EU, NATO, …, WEST (the collective West) when country is None


class Place(TypedDict):
    name: str | None
    country: str | None


class Evidence(TypedDict):
    """The span of the post's text that states the event, offsets in code points."""

    start: int
    end: int
    text: str


@dataclass(slots=True)
class Event:
    """One event of a post.  Field meanings: ``shared/docs/events.md``."""

    post: str
    type: str
    mode: list[str] = field(default_factory=list)
    cameo: str | None = None
    actors: list[Party] = field(default_factory=list)
    recipients: list[Party] = field(default_factory=list)
    place: Place | None = None
    date: str | None = None
    date_min: str | None = None
    date_max: str | None = None
    occasion: str | None = None
    modality: str = "factual"
    evidence: Evidence = field(default_factory=lambda: Evidence(start=0, end=0, text=""))
    #: a day without its year (``On January 9`` in a post without a date), for the archive to
    #: place between the post's dated neighbours; not part of the record
    partial: tuple[int, int] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict, fields in the documented order."""
        return {name: getattr(self, name) for name in EVENT_FIELDS}

    def to_json(self) -> str:
        """One line of JSON, as ``tgscope events --format jsonl`` writes it."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        """An event from its record, ignoring fields this version does not know."""
        return cls(**{name: data[name] for name in EVENT_FIELDS if name in data})


EVENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Event) if f.name != "partial")

#: how many parties of each side a CSV row spells out (more are joined into the last)
CSV_PARTIES = 4
_PARTY_COLUMNS = ("name", "country", "role", "org")


def csv_header() -> list[str]:
    """The columns of ``tgscope events --format csv``."""
    columns = ["post", "type", "mode", "cameo", "modality", "date", "date_min", "date_max"]
    for side in ("actor", "recipient"):
        for number in range(1, CSV_PARTIES + 1):
            columns += [f"{side}{number}_{part}" for part in _PARTY_COLUMNS]
    columns += ["place_name", "place_country", "occasion"]
    columns += ["evidence_start", "evidence_end", "evidence_text"]
    return columns


def csv_row(event: Event) -> list[Any]:
    """One event as a CSV row: lists joined by ``;``, absent values empty."""
    row: list[Any] = [event.post, event.type, ";".join(event.mode), event.cameo]
    row += [event.modality, event.date, event.date_min, event.date_max]
    for parties in (event.actors, event.recipients):
        row += _party_cells(parties)
    place = event.place or Place(name=None, country=None)
    row += [place["name"], place["country"], event.occasion]
    evidence = event.evidence
    row += [evidence["start"], evidence["end"], evidence["text"]]
    return ["" if value is None else value for value in row]


def _party_cells(parties: list[Party]) -> list[Any]:
    cells: list[Any] = []
    for number in range(CSV_PARTIES):
        if number == CSV_PARTIES - 1 and len(parties) > CSV_PARTIES:  # the rest, joined by ;
            rest = parties[number:]
            cells += [";".join(str(p.get(part) or "") for p in rest) for part in _PARTY_COLUMNS]
        elif number < len(parties):
            party = parties[number]
            cells += [party.get(part) for part in _PARTY_COLUMNS]
        else:
            cells += [None] * len(_PARTY_COLUMNS)
    return cells
