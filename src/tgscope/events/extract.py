"""Events from one post's text: offline, English and Russian, by rules over dictionaries.

A post is cut into sentences; in each, a cue (:mod:`.cues`) says what kind of event it
states, and the parties around it (:mod:`.parties`) say who.  Telegram's own marks help:
flag pairs (🇷🇺🇨🇳) and dyad hashtags (#RussiaChina) give the two sides when the text says
only "the ministers"; a ``📍City, Month D, YYYY`` dateline gives the place and day; ``📞``
a call; ``💬 Name:`` the speaker of a quote, whose "I" and "you" are then known.  The same
meeting told in the headline and again in the body is one event.
"""

from __future__ import annotations

import re

from . import cues as C
from .acts import directed
from .lexicon import Lexicon, fold, load
from .meetings import consult, shared_setting, visits
from .model import MODES, Event
from .parties import ROLE, Found, person
from .reading import (
    FLAG,
    Reading,
    find_dateline,
    find_dyad,
    find_speakers,
    parties_in,
    sentences,
)
from .timing import dated_by_main
from .when import find_dates

__all__ = ["MAX_TEXT", "extract_events", "sentences"]

#: the most of a post's text that is read (a Telegram text is at most 4,096 characters; a
#: dump's run-on post or a hostile file is read this far, so that no post costs more)
MAX_TEXT = 12_000


def extract_events(
    key: str, text: str, day: str | None = None, lexicon: Lexicon | None = None
) -> list[Event]:
    """The events a post states (``day``: the post's date, ``YYYY-MM-DD…``, when known)."""
    text = text[:MAX_TEXT]
    if not text:
        return []
    lexicon = lexicon or load()
    folded = fold(text)
    mentions = lexicon.find(text, folded)
    if not mentions and not FLAG.search(text):
        return []  # no one, no state, no place named: nothing to tell of
    day = day[:10] if day else None
    post = Reading(key, text, folded, day, lexicon, mentions, find_dates(folded))
    post.people = [
        found
        for mention in post.mentions
        if (found := person(lexicon, mention, day, folded)) is not None
    ]
    post.dyad = find_dyad(post)
    find_dateline(post)
    if day is None:
        post.text_day = next((d.resolve(None) for d in post.dates if d.year), None)
    find_speakers(post)
    events: list[Event] = []
    previous: list[Found] = []
    for start, end in sentences(text):
        told, here = _sentence_events(post, start, end, previous)
        for event in told:
            if event.type == "CONSULT" and post.main is None and event.modality == "factual":
                post.main = event
        events.extend(told)
        if here is None and (
            len(post.people_in(start, end)) > 1 or ROLE.search(folded, start, end)
        ):
            here = parties_in(post, start, end)  # "the leaders of Russia and China …"
        if here is not None and len(here) >= 2:
            previous = here  # … "Their latest meeting"
    dated_by_main(post, events)
    shared_setting(events)
    return _merged(post, events)


def _sentence_events(
    post: Reading, start: int, end: int, previous: list[Found]
) -> tuple[list[Event], list[Found] | None]:
    """The events of one sentence, and its parties when they were needed."""
    hits = [
        (cue, match) for cue in C.CUES for match in cue.pattern.finditer(post.folded, start, end)
    ]
    events = []
    by_type: dict[str, list[tuple[C.Cue, re.Match[str]]]] = {}
    for cue, match in hits:
        by_type.setdefault(cue.type, []).append((cue, match))
    if "ACCUSE" in by_type and "REJECT" in by_type:
        del by_type["REJECT"]  # "rejected the policy of": a criticism
    accepted = ACCEPTED.search(post.folded, start, end)
    if "AGREE" in by_type and "CONSULT" in by_type and not accepted:
        # "invited … to visit": not yet a visit; "accepted an invitation to visit": planned
        by_type["CONSULT"] = [hit for hit in by_type["CONSULT"] if hit[0].strong]
        if not by_type["CONSULT"]:
            del by_type["CONSULT"]
    parties = parties_in(post, start, end)
    for type_, found in by_type.items():
        found.sort(key=lambda hit: hit[1].start())
        if type_ == "CONSULT":
            events += visits(post, start, end, found, parties) or consult(
                post, start, end, found, parties, previous
            )
        elif (event := directed(post, start, end, found, parties, previous)) is not None:
            events.append(event)
    return events, parties


ACCEPTED = re.compile(r"\baccepted (?:an |the )?invitation|принял\w* приглашение")


def _merged(post: Reading, events: list[Event]) -> list[Event]:
    """The same meeting told twice (headline and body, a quote) is one event: same type,
    modality and states; what one telling lacks the other gives."""
    kept: list[Event] = []
    for event in events:
        twin = next((other for other in kept if _same(other, event)), None)
        if twin is None:
            kept.append(event)
            continue
        _absorb(twin, event)
    return kept


def _sides(event: Event) -> frozenset[str]:
    return frozenset(
        p["country"] or p.get("org") or "?" for p in (*event.actors, *event.recipients)
    )


def _same(one: Event, other: Event) -> bool:
    """One event told twice: same type, modality and states, and no state represented by
    different people in the two ("Mishustin called Turchin"; "Putin called Lukashenko");
    an act aimed at others told twice names the same parties ("thanked Xi", then "thanked
    the Chinese side": two thanks)."""
    if one.type != other.type or one.modality != other.modality or _sides(one) != _sides(other):
        return False
    if one.type != "CONSULT":
        return _names(one) == _names(other)
    for state in _sides(one):
        names = [
            {p["name"] for p in (*e.actors, *e.recipients) if p["name"] and p["country"] == state}
            for e in (one, other)
        ]
        if names[0] and names[1] and not names[0] & names[1]:
            return False
    return True


def _names(event: Event) -> tuple[frozenset, frozenset]:
    return (
        frozenset(p["name"] for p in event.actors),
        frozenset(p["name"] for p in event.recipients),
    )


def _absorb(into: Event, event: Event) -> None:
    """What the second telling adds: a person for a state the first named only as a state
    (not a second person for a state it already named: that is another meeting's)."""
    named = {p["country"] for p in into.actors if p["name"]}
    for party in event.actors:
        if party["name"] and party["country"] not in named:
            into.actors.append(party)
            named.add(party["country"])
    countries_named = {p["country"] for p in into.actors if p["name"]}
    into.actors = [p for p in into.actors if p["name"] or p["country"] not in countries_named]
    into.mode = [m for m in MODES if m in set(into.mode) | set(event.mode)]
    if "meet" in into.mode and len(into.mode) > 1:
        into.mode.remove("meet")
    into.place = into.place or event.place
    into.occasion = into.occasion or event.occasion
    if into.date is None and event.date is not None:
        into.date, into.date_min, into.date_max = event.date, event.date_min, event.date_max
