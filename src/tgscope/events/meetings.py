"""Meetings, calls and visits (CONSULT): every party, how they met (mode), where and at
which summit (occasion); journeys split by destination, a host's meetings in turn split
into bilateral ones."""

from __future__ import annotations

import re

from . import cues as C
from .lexicon import OCCASION
from .model import MODES, Event, Party, Place
from .parties import Found
from .reading import (
    HASHTAG,
    LOCATIVE,
    WE,
    YOU,
    Reading,
    as_found,
    distinct,
    dyad_parties,
    evidence_of,
    main_parties,
    place_of,
    speaker_at,
    states_in,
    without_reporters,
)
from .timing import bound_by_terms, dated, modality_of

_PRONOUN = re.compile(r"\b(?:he|she)\b|(?<!\w)(?:он|она)(?!\w)")


_TRAVEL = re.compile(
    r"\b(?:(?:official |state |working |first )?visit(?:ed|s|ing)?(?: to)?|arrived in|arrives in"
    r"|travel(?:led|ed|s)? to|went to|goes to|go to|trip to|tour of|headed to|came to|come to)\b"
    r"|посети\w*|посещени\w*|визит\w* (?:в|во|на)\b|прибыл\w* (?:в|во|на)\b|поездк\w* (?:в|во|на)\b"
    r"|отправи\w* (?:в|во|на)\b|турне по|приезд\w* (?:в|во|на)\b"
)


_LIST_GAP = re.compile(r"\s*(?:,|and|и|,\s*and|&)?\s*(?:the\s+)?")


_TOGETHER = re.compile(r"\bbetween\b|\bamong\b|trilateral|joint|между|трехсторон|совместн")


_AT_OCCASION = re.compile(
    r"(?:\bsidelines of|\bmargins of|\bframework of|\bmeeting of|\bsession of|\bsummit of"
    r"|\bheadquarters|штаб-квартир\w*|\bполях|\bкулуарах|\bв рамках|\bсаммит\w*|\bзаседани\w*"
    r"|\bсовещани\w*|\bфорум\w*|\bсесси\w*|\bминистерск\w*)"
    r"(?:\s+[\w'’-]+){0,4}\s*$"
)


_AT_UN = re.compile(r"(?:\bat the|\bв|\bin the)\s+$")  # "at the UN", «в ООН»: its seat


_OCCASION_AFTER = re.compile(
    r"\s*(?:[\w'’-]+\s+){0,2}?(?:summit|ministerial|meeting|session|forum|conference|council"
    r"|саммит|заседани|совещани|сесси|форум|конференци|встреч|министерск)"
)


def visits(post: Reading, start: int, end: int, hits, parties: list[Found]) -> list[Event]:
    """A journey: "Lavrov visited Kenya and Burundi", "will visit South Africa, Eswatini,
    Botswana and Angola", «прибыл в Пекин»: one visit a country it names, the traveller
    and the host (named in the sentence, else the state)."""
    match = _TRAVEL.search(post.folded, start, end)
    if match is None:
        return []
    destinations = _destinations(post, match.end(), end)
    if not destinations:
        return []
    travellers = [p for p in parties if p.start < match.start()]
    if not travellers:
        travellers = main_parties(post)[:1] or post.people[:1]
    if not travellers:
        return []
    traveller = (
        travellers[-1] if len(travellers) > 1 and travellers[-1].party["name"] else travellers[0]
    )
    home = traveller.party["country"]
    cue = next((cue for cue, hit in hits if hit.start() <= match.start() < hit.end()), hits[0][0])
    modality = modality_of(post, start, end, match, cue)
    events = []
    for place in destinations:
        country = place["country"]
        if country is None or country == home:
            continue
        hosts = [p for p in parties if p.party["country"] == country and p is not traveller]
        event = Event(post=post.key, type="CONSULT", cameo="042", modality=modality)
        host_parties = [h.party for h in hosts] or [Party(name=None, country=country, role=None)]
        event.actors = [traveller.party, *host_parties]
        event.place = place
        event.evidence = evidence_of(post, start, end)
        modes = {"visit"}
        _occasion(post, event, start, end, modes)
        event.mode = [mode for mode in MODES if mode in modes]
        dated(post, event, start, end)
        bound_by_terms(post, event, [traveller, *hosts], start, end)
        events.append(event)
    return events


def _destinations(post: Reading, after: int, end: int) -> list[Place]:
    """The places named right after a travel cue, as a list ("Kenya and Burundi")."""
    places: list[Place] = []
    position = after
    for mention in post.mentions_in(after, end):
        gap = post.folded[position : mention.start]
        if not _LIST_GAP.fullmatch(gap):
            break
        place = place_of(post, mention)
        if place is None:
            break
        if place["name"] is None and places and places[-1]["country"] == place["country"]:
            position = mention.end  # "Nairobi, the capital of Kenya"
            continue
        places.append(place)
        position = mention.end
    return places


def consult(post, start, end, hits, parties, previous) -> list[Event]:
    """A meeting or call: every party to it, how, where and when; a list of bilateral
    meetings when one side met several others in turn ("with the foreign ministers of
    Lebanon and Indonesia")."""
    strong = [hit for hit in hits if hit[0].strong]
    modes = {mode for cue, _ in hits for mode in cue.modes}
    sentence = post.folded[start:end]
    if "📞" in post.text[start:end] or (post.text[:12].count("📞") and start < 20):
        modes.add("phone")
    sides = _consult_sides(post, start, end, parties, previous, bool(strong))
    if not strong:  # "summit", "talks" alone: only between the parties the sentence names
        sides = [found for found in sides if found.start >= start]
    if "multilateral" in modes and len({s.party["country"] for s in sides}) < 2:
        body = _body_at(post, start, end)  # "took part in the BRICS summit": with BRICS
        if body is not None and sides:
            sides = [*sides, as_found(Party(name=None, country=None, role=None, org=body))]
    countries = {found.party["country"] or found.party.get("org") for found in sides}
    if len(sides) < 2 or (not strong and len(countries) < 2):
        return []
    cue, match = (strong or hits)[0]
    modality = modality_of(post, start, end, match, cue)
    groups = _bilateral(sides, match, sentence)
    return [_consult_event(post, start, end, group, cue, modality, set(modes)) for group in groups]


def _body_at(post: Reading, start: int, end: int) -> str | None:
    """The international body whose summit, session or forum a sentence names."""
    for mention in post.mentions_in(start, end):
        for entry in mention.entries:
            occasion = post.lexicon.occasions.get(str(entry.key))
            if entry.kind == OCCASION and occasion is not None:
                return occasion.org or occasion.code
    return None


def _consult_sides(post, start, end, parties, previous, strong: bool) -> list[Found]:
    sentence = post.folded[start:end]
    sides = list(parties)
    speaker = speaker_at(post, start)
    if speaker is not None and WE.search(sentence):
        sides = distinct([speaker, *sides])
        if YOU.search(sentence) and post.main is not None:
            sides = distinct([*sides, *[as_found(p) for p in post.main.actors]])
    if len(sides) < 2 and C.TWO_SIDES.search(sentence):
        sides = distinct([*sides, *(previous or main_parties(post) or dyad_parties(post))])
    if len(sides) < 2 and _PRONOUN.search(sentence) and post.people:
        # "he will meet his Turkish colleague": the post's first-named official
        sides = distinct([*(main_parties(post)[:1] or post.people[:1]), *sides])
    if len(sides) < 2:
        sides = distinct([*sides, *states_in(post, start, end)])
    if len(sides) < 2 and strong and post.dyad:
        sides = distinct([*sides, *dyad_parties(post)])
    return without_reporters(post, sides)


def _bilateral(sides: list[Found], cue: re.Match[str], sentence: str) -> list[list[Found]]:
    """One host meeting several guests one by one is several meetings: one person before
    the cue and parties of two or more states after it, unless the text says they met
    together ("between", "trilateral")."""
    before = [s for s in sides if 0 <= s.start < cue.start()]
    after = [s for s in sides if s.start >= cue.end()]
    states = {s.party["country"] for s in after}
    if len(before) != 1 or len(states) < 2 or len(after) + 1 != len(sides):
        return [sides]
    if _TOGETHER.search(sentence):
        return [sides]
    own = before[0].party["country"]
    groups = []
    for state in dict.fromkeys(s.party["country"] for s in after):
        if state != own:
            groups.append([before[0], *[s for s in after if s.party["country"] == state]])
    return groups or [sides]


def _consult_event(post, start, end, sides, cue, modality, modes) -> Event:
    event = Event(post=post.key, type="CONSULT", cameo=cue.cameo, modality=modality)
    event.actors = [found.party for found in sides]
    event.evidence = evidence_of(post, start, end)
    _occasion(post, event, start, end, modes)
    _place(post, event, start, end)
    others = [found.start for found in sides[1:] if found.start >= 0]
    dated(post, event, start, end, anchor=min(others) if others else None)
    event.mode = [mode for mode in MODES if mode in _modes(event, modes)]
    event.cameo = _consult_cameo(event)
    bound_by_terms(post, event, sides, start, end)
    return event


def _occasion(post: Reading, event: Event, start: int, end: int, modes: set[str]) -> None:
    """The summit or session the sentence places the event in: an organisation named as
    the setting ("on the sidelines of the SCO", "at the G20 summit", «на саммите БРИКС»),
    not one named as a topic ("discussed UN reform")."""
    sidelines = C.SIDELINES.search(post.folded, start, end) is not None
    for mention in post.mentions_in(start, end):
        codes = [str(e.key) for e in mention.entries if e.kind == OCCASION]
        if not codes:
            continue
        occasion = post.lexicon.occasions.get(codes[0])
        setting = (
            sidelines
            or (occasion is not None and occasion.kind in ("summit", "forum"))
            or _AT_OCCASION.search(post.folded, max(start, mention.start - 60), mention.start)
            or _OCCASION_AFTER.match(post.folded, mention.end)
            or (
                codes[0] == "UN"
                and _AT_UN.search(post.folded, max(start, mention.start - 8), mention.start)
            )
        )
        if setting:
            event.occasion = codes[0]
            break
    if event.occasion is None and sidelines:
        for match in HASHTAG.finditer(post.text):
            code = post.lexicon.occasion_of_hashtag(match.group(1))
            if code:
                event.occasion = code
                break
    if event.occasion is None:
        return
    occasion = post.lexicon.occasions.get(event.occasion)
    if (occasion is not None and occasion.multilateral) or sidelines:
        modes.add("multilateral")


def _place(post: Reading, event: Event, start: int, end: int) -> None:
    for mention in post.mentions_in(start, end):
        if not LOCATIVE.search(post.folded[max(0, mention.start - 4) : mention.start]):
            continue
        place = place_of(post, mention)
        if place is not None and (place["name"] or event.place is None):
            event.place = place
            if place["name"]:
                break
    if event.place is None and event.modality == "factual" and post.main is None:
        event.place = post.place or _first_place(post, end)
    if event.place is None and event.modality != "factual":
        # "Lavrov arrived in Ankara … Today he will meet his Turkish colleague": a visit there
        where = post.place or _first_place(post, len(post.text))
        states = {p["country"] for p in event.actors}
        if where is not None and where["country"] in states and len(states) > 1:
            event.place = where
    if event.place is None and event.occasion:
        occasion = post.lexicon.occasions.get(event.occasion)
        if occasion is not None and occasion.venue is not None:
            event.place = Place(name=occasion.venue[0], country=occasion.venue[1])
        elif event.occasion == "UN" or (occasion is not None and occasion.org == "UN"):
            event.place = Place(name="New York", country="USA")  # "at the UN headquarters"


def _first_place(post: Reading, after: int) -> Place | None:
    """Where the post's first meeting took place when its sentence does not say: the first
    city named as a place ("in Beijing", «в Пекине») in the next sentences or the headline."""
    for mention in post.mentions:
        if mention.start < after and mention.start > 200:
            continue
        if not LOCATIVE.search(post.folded[max(0, mention.start - 4) : mention.start]):
            continue
        place = place_of(post, mention)
        if place is not None and place["name"]:
            return place
    return None


def _modes(event: Event, modes: set[str]) -> set[str]:
    """The modes the cues gave, completed by the place: in one party's country, a visit
    (not for an ambassador, who lives there); in neither's, a third country (not for a
    meeting with an international body's head, whose seat is nobody's country)."""
    if "video" in modes:
        modes.discard("phone")  # a video call
    if "phone" in modes or "video" in modes:
        event.place = None  # where each side sat is not where they met
        return modes & {"phone", "video", "multilateral"}
    countries = {p["country"] for p in event.actors if p["country"]}
    bodies = [p for p in event.actors if not p["country"]]
    envoys = any((p["role"] or "").startswith("Ambassador") for p in event.actors)
    where = event.place["country"] if event.place else None
    if where and countries:
        if where in countries and len(countries) > 1 and not envoys:
            modes.add("visit")
        elif where not in countries and not bodies:
            modes.discard("visit")
            modes.add("third-party")
    if envoys:
        modes.discard("visit")
    if not modes & {"visit", "third-party", "multilateral"} and event.modality == "factual":
        modes.add("meet")  # in person, nothing more said; a plan or a memory says nothing
    return modes


def _consult_cameo(event: Event) -> str:
    if "phone" in event.mode:
        return "041"
    if "visit" in event.mode:
        return "042"
    if "third-party" in event.mode:
        return "044"
    return "040"


def shared_setting(events: list[Event]) -> None:
    """A post that tells of a summit's bilateral meetings names the summit once ("on the
    sidelines of the UN General Assembly") and the meetings after it: each in-person
    meeting of the same day and kind is at that summit, in its city."""
    setting = next(
        (e for e in events if e.type == "CONSULT" and e.occasion and "multilateral" in e.mode),
        None,
    )
    if setting is None:
        return
    for event in events:
        if event.type != "CONSULT" or event.occasion or event.modality != setting.modality:
            continue
        if {"phone", "video"} & set(event.mode) or event.date not in (None, setting.date):
            continue
        event.occasion = setting.occasion
        if event.place is None and setting.place is not None:
            event.place = setting.place
        modes = set(event.mode) - {"meet"} | {"multilateral"}
        countries = {p["country"] for p in event.actors if p["country"]}
        where = event.place["country"] if event.place else None
        if where and countries and where not in countries:
            modes.add("third-party")
        elif where and where in countries and len(countries) > 1:
            modes.add("visit")
        event.mode = [mode for mode in MODES if mode in modes]
        event.cameo = _consult_cameo(event)
