"""Acts aimed at others (invitations, praise, criticism, protests, expulsions, threats)
and acts of all their parties together (agreements, signatures)."""

from __future__ import annotations

import re

from . import cues as C
from .model import Event, Party
from .parties import Found, country_of
from .reading import (
    WE,
    YOU,
    Reading,
    as_found,
    distinct,
    evidence_of,
    main_parties,
    speaker_at,
    states_in,
    without_reporters,
)
from .timing import bound_by_terms, dated, modality_of

#: acts of a state rather than a person: the ministry summons, the state expels
_STATE_ACTS = ("PROTEST", "SANCTION")


_MINISTRY = re.compile(
    r"\bforeign ministry\b|\bministry of foreign affairs\b|\bforeign affairs ministry\b"
    r"|\bforeign office\b|\bstate department\b|\bмид\b|\bминистерств\w* иностранных дел\b"
    r"|\bвнешнеполитическ\w+ ведомств\w*"
)


_MISSION = re.compile(
    r"\bembassy\b|\bambassadors?\b|\bdiplomats?\b|\bdiplomatic mission\b|\bmission\b"
    r"|\bchar(?:g|gé)e? d'affaires\b|\bconsulate(?: general)?\b|посольств\w*|посл(?:а|у|ом|ов|ы)?\b"
    r"|дипломат\w*|поверенн\w+ в делах|консульств\w*|постпредств\w*|генконсульств\w*"
)


def _institutions(post: Reading, start: int, end: int, pattern: re.Pattern[str]) -> list[Found]:
    """The states whose ministry or mission a sentence names: "the Russian Foreign
    Ministry", "Ministry of Foreign Affairs of Ukraine", «посольства США», "US Embassy"."""
    found = []
    for match in pattern.finditer(post.folded, start, end):
        for mention in post.mentions_in(max(0, match.start() - 40), match.end() + 60):
            country = country_of(mention)
            if country is None:
                continue
            gap_before = post.folded[mention.end : match.start()]
            gap_after = post.folded[match.end() : mention.start]
            adjacent = mention.end <= match.start() and re.fullmatch(
                r"\s*(?:'s\s*)?(?:[\w-]+\s+)?", gap_before
            )
            adjacent = adjacent or (
                mention.start >= match.end()
                and re.fullmatch(
                    r"\s*(?:of\s+(?:the\s+)?|in\s+|to\s+)?(?:[\w'-]+\s+){0,2}?", gap_after
                )
            )
            if adjacent:
                party = Party(name=None, country=country, role=None)
                found.append(Found(mention.start, mention.end, party))
                break
    return distinct(found)


def _jointly(post, start, end, hits, parties, previous) -> Event | None:
    """An act of all its parties together: they agreed, they signed."""
    cue, match = hits[0]
    sides = list(parties)
    if len(sides) < 2 and C.TWO_SIDES.search(post.folded, start, end):
        sides = distinct([*sides, *(previous or main_parties(post))])
    if len(sides) < 2:
        sides = distinct([*sides, *states_in(post, start, end)])
    sides = without_reporters(post, sides)
    if len({s.party["country"] or s.party.get("org") for s in sides}) < 2:
        return None
    event = Event(post=post.key, type=cue.type, cameo=cue.cameo)
    event.actors = [found.party for found in sides]
    event.modality = modality_of(post, start, end, match, cue)
    event.evidence = evidence_of(post, start, end)
    dated(post, event, start, end)
    bound_by_terms(post, event, sides, start, end)
    return event


def directed(post, start, end, hits, parties, previous) -> Event | None:
    cue, match = hits[0]
    if cue.who == "all":
        return _jointly(post, start, end, hits, parties, previous)
    folded = post.folded
    before = [p for p in parties if p.start < match.start()]
    after = [p for p in parties if p.start >= match.start()]
    speaker = speaker_at(post, start)
    if not before:
        if speaker is not None and WE.search(folded[start : match.end()] + " "):
            before = [speaker]
        elif C.TWO_SIDES.search(folded, start, match.start()):
            before = main_parties(post) or list(previous)
        elif speaker is not None:
            before = [speaker]
    if not before and cue.type not in _STATE_ACTS:  # "Russia extends its condolences"
        before = states_in(post, start, match.start())
    if not before and cue.type in _STATE_ACTS:
        before = _institutions(post, start, end, _MINISTRY) or states_in(post, start, match.start())
    own = {b.key for b in before} | {b.party["country"] for b in before}
    recipients = []
    if cue.type in _STATE_ACTS:
        recipients += [m for m in _institutions(post, start, end, _MISSION) if m.key not in own]
    if speaker is not None and YOU.search(folded, match.start(), end) and post.main:
        recipients = [as_found(p) for p in post.main.actors if p["name"] != speaker.party["name"]]
    recipients += [p for p in after if p.key not in own]
    object_end = _object_end(folded, match.end(), end)
    west = C.WEST.search(folded, match.start(), object_end)
    if west and cue.type in ("ACCUSE", "REJECT", "PROTEST", "SANCTION", "THREATEN"):
        recipients.append(as_found(Party(name=None, country=None, role=None, org="WEST")))
    if not recipients or (west and not any(r.party["name"] for r in recipients)):
        states = states_in(post, match.start(), object_end)
        recipients += [s for s in states if s.key not in own]
    if not before or not recipients:
        return None
    if cue.type == "REJECT" and not cue.strong and len(hits) == 1:
        pass
    event = Event(post=post.key, type=cue.type, cameo=cue.cameo)
    event.actors = [found.party for found in before]
    event.recipients = [found.party for found in distinct(recipients)]
    event.modality = modality_of(post, start, end, match, cue)
    event.evidence = evidence_of(post, start, end)
    dated(post, event, start, end)
    bound_by_terms(post, event, [*before, *recipients], start, end)
    return event


def _object_end(folded: str, start: int, end: int) -> int:
    """Where the object of a directed cue ends: the next comma, semicolon or clause."""
    match = re.compile(r"[,;:]|\s(?:and|which|who|while|но|который|которые)\s").search(
        folded, start + 1, end
    )
    return match.start() if match and match.start() - start > 8 else min(end, start + 120)
