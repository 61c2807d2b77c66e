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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from . import cues as C
from .lexicon import CITY, COUNTRY, OCCASION, Lexicon, Mention, fold, load
from .model import MODES, Event, Evidence, Party, Place
from .parties import Found, counterparts, country_of, person, titles
from .when import DateMention, find_dates, year_within

_ABBREVIATIONS = re.compile(
    r"(?:\b(?:mr|mrs|ms|dr|st|no|gen|col|lt|sen|rep|prof|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct"
    r"|nov|dec|vs|etc|e\.g|i\.e|u\.s|u\.k|u\.n)"
    r"|\b[a-zа-я]|\bг|\bгг|\bт\.е|\bт\.д|\bим)\.$",
    re.IGNORECASE,
)
_BOUNDARY = re.compile(r"\n+|(?<=[.!?…])[\"»”)]?\s+")
_FLAG = re.compile(r"([\U0001F1E6-\U0001F1FF])([\U0001F1E6-\U0001F1FF])")
_HASHTAG = re.compile(r"#(\w+)")
# 📍City, Month D, YYYY; a news agency's "VIENNA, November 23. /TASS/"; a closing
# "Geneva, 1 March 2016" line
_DATELINE = re.compile(
    r"📍\s*([^\n,]{2,60}),\s*([^\n]{4,40})"
    r"|^[ \t]*([A-ZА-ЯЁ][A-ZА-ЯЁ .'-]{2,30}),"
    r"\s*((?:\d{1,2} )?[A-Za-zА-Яа-яё]{3,9}\.? ?\d{0,2}(?:,? \d{4})?)\b"
    r"|^[ \t]*([A-ZА-ЯЁ][\w .'-]{2,30}),\s*(\d{1,2} [A-Za-zА-Яа-яё]+ \d{4}"
    r"|[A-Za-z]+ \d{1,2}, \d{4})[ \t]*$",
    re.MULTILINE,
)
_SPEAKER = re.compile(r"^[ \t]*💬[ \t]*(?P<who>[^:\n]{3,90}):", re.MULTILINE)
_REMARKS_BY = re.compile(
    r"'s (?:opening |closing |introductory )?(?:remarks|statement|speech|address|answers)"
    r"|(?:выступлени\w+|вступительн\w+ слов\w+|ответ\w* на вопросы)"
)
_LOCATIVE = re.compile(r"(?:\bin|\bat|\bto|\bв|\bво|📍)\s*$")
_PRONOUN = re.compile(r"\b(?:he|she)\b|(?<!\w)(?:он|она)(?!\w)")
_TOPIC = re.compile(r"(?:\bon|\babout|\bover|\bregarding|\bconcerning|\bпо|\bо|\bоб|\bвокруг)\s+$")
_YOU = re.compile(r"\byou\b|\byour\b|\bвас\b|\bвам\b|\bвы\b|\bваш\w*|\bтебя\b")
_WE = re.compile(r"\bwe\b|\bour\b|\bi\b|\bмы\b|\bнаш\w*|\bя\b")
_UNGA_SESSION = re.compile(
    r"\b(\d{2})(?:st|nd|rd|th) session of the un(?:ited nations)? general assembly"
    r"|\bunga ?(\d{2})\b|(\d{2})-[йи] сесси\w* генеральн\w+ ассамбле\w+"
)


@dataclass(slots=True)
class _Post:
    """What every sentence of a post may draw on."""

    key: str
    text: str
    folded: str
    day: str | None
    lexicon: Lexicon
    mentions: list[Mention]
    dates: list[DateMention]
    people: list[Found] = field(default_factory=list)
    dyad: list[str] = field(default_factory=list)
    place: Place | None = None
    place_day: str | None = None
    speakers: list[tuple[int, int, Found]] = field(default_factory=list)
    main: Event | None = None
    text_day: str | None = None  # the first full date the text gives, for an undated post


def extract_events(
    key: str, text: str, day: str | None = None, lexicon: Lexicon | None = None
) -> list[Event]:
    """The events a post states (``day``: the post's date, ``YYYY-MM-DD…``, when known)."""
    if not text or not _may_state_events(text):
        return []
    lexicon = lexicon or load()
    folded = fold(text)
    day = day[:10] if day else None
    post = _Post(key, text, folded, day, lexicon, lexicon.find(text, folded), find_dates(folded))
    post.people = [
        found
        for mention in post.mentions
        if (found := person(lexicon, mention, day, folded)) is not None
    ]
    post.dyad = _dyad(post)
    _dateline(post)
    if day is None:
        post.text_day = next((d.resolve(None) for d in post.dates if d.year), None)
    _speakers(post)
    events: list[Event] = []
    previous: list[Found] = []
    for start, end in sentences(text):
        told = _sentence_events(post, start, end, previous)
        for event in told:
            if event.type == "CONSULT" and post.main is None and event.modality == "factual":
                post.main = event
        events.extend(told)
        here = _parties_in(post, start, end)
        if len(here) >= 2:
            previous = here
    _dated_by_main(post, events)
    _shared_setting(events)
    return _merged(post, events)


def _shared_setting(events: list[Event]) -> None:
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


def _dated_by_main(post: _Post, events: list[Event]) -> None:
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


_QUICK = re.compile(
    r"(?i)meet|met\b|talk|phone|call|video|visit|invit|congrat|prais|condol|thank|condemn|critic"
    r"|accus|"
    r"protest|summon|expel|sanction|sign|agree|receiv|host|remarks|consult|blackmail|"
    r"встреч|встрет|перегов|телефон|видео|визит|посет|пригла|поздрав|соболез|благодар|осуд|критик"
    r"|обвин|"
    r"протест|высыл|санкц|подпис|договор|принял|консульт|бесед|разговор"
)


def _may_state_events(text: str) -> bool:
    """A cheap first look: most posts of a channel state no event at all."""
    return _QUICK.search(text) is not None


def sentences(text: str) -> Iterable[tuple[int, int]]:
    """``(start, end)`` of each sentence and each line: a dot after an abbreviation or an
    initial ("Mr.", "S.", «г.») does not end one."""
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start()
        if "\n" not in match.group() and _ABBREVIATIONS.search(text[max(start, end - 8) : end]):
            continue
        if text[start:end].strip():
            yield start, end
        start = match.end()
    if text[start:].strip():
        yield start, len(text)


# -- the post's cues --------------------------------------------------------------------------


def _dyad(post: _Post) -> list[str]:
    """The two states a post is about, from a flag pair or a dyad hashtag."""
    alpha2 = post.lexicon.alpha2
    head = post.text[:400]
    for match in _FLAG.finditer(head):
        codes = []
        for flag in re.findall(r"[\U0001F1E6-\U0001F1FF]{2}", head[match.start() :][:16]):
            code = "".join(chr(ord(char) - 0x1F1E6 + ord("A")) for char in flag)
            if code in alpha2 and alpha2[code] not in codes:
                codes.append(alpha2[code])
        if len(codes) >= 2:
            return codes
        break
    for match in _HASHTAG.finditer(post.text):
        pair = post.lexicon.split_dyad(match.group(1))
        if pair:
            return list(pair)
    return []


def _dateline(post: _Post) -> None:
    """The place and day of a dateline, the post's main event's unless it says others."""
    for match in _DATELINE.finditer(post.text):
        groups = [n for n in range(1, 7, 2) if match.group(n)]
        where, when = groups[0], groups[0] + 1
        places = [
            place
            for mention in post.mentions
            if match.start(where) <= mention.start < match.end(where)
            and (place := _place_of(post, mention)) is not None
        ]
        days = [
            day
            for date in post.dates
            if match.start(when) <= date.start < match.end(when)
            and (day := date.resolve(post.day)) is not None
        ]
        if places and (days or where == 1):
            post.place = places[0]
            post.place_day = days[0] if days else None
            return


def _speakers(post: _Post) -> None:
    """Who says what: ``💬 Name:`` lines, else the headline's "X's remarks"."""
    headline = None
    remarks = _REMARKS_BY.search(post.folded, 0, 600)
    if remarks:
        near = [
            p for p in post.people if p.end <= remarks.start() + 1 and remarks.start() - p.end < 5
        ]
        near += [
            p for p in post.people if p.start >= remarks.end() and p.start - remarks.end() < 60
        ]
        headline = near[0] if near else None
    marks = list(_SPEAKER.finditer(post.text))
    bounds = [m.start() for m in marks] + [len(post.text)]
    for index, mark in enumerate(marks):
        named = [p for p in post.people if mark.start("who") <= p.start < mark.end("who")]
        speaker = named[0] if named else headline
        if speaker is not None:
            post.speakers.append((mark.start(), bounds[index + 1], speaker))
    if headline is not None and not marks:
        post.speakers.append((remarks.end() if remarks else 0, len(post.text), headline))
    for start, end in [
        (m.start(), m.end()) for m in re.finditer(r"^[ \t]*💬[^\n]*", post.text, re.MULTILINE)
    ]:
        if headline is not None and not any(s <= start < e for s, e, _ in post.speakers):
            post.speakers.append((start, end, headline))


def _speaker_at(post: _Post, offset: int) -> Found | None:
    for start, end, speaker in post.speakers:
        if start <= offset < end:
            return speaker
    return None


# -- one sentence -------------------------------------------------------------------------------


def _parties_in(post: _Post, start: int, end: int) -> list[Found]:
    """Officials by name or title, in text order, one each."""
    people = [p for p in post.people if start <= p.start < end]
    day = post.place_day or post.day or post.text_day
    people += titles(post.lexicon, post.folded, post.mentions, post.people, day, (start, end))
    rank = people[0].rank if people else None
    people += counterparts(
        post.lexicon, post.folded, post.mentions, post.people, day, rank, (start, end)
    )
    people.sort(key=lambda found: found.start)
    return _distinct(people)


def _distinct(found: list[Found]) -> list[Found]:
    kept: list[Found] = []
    for item in found:
        if any(item.key == other.key for other in kept):
            continue
        kept.append(item)
    named = {item.party["country"] for item in kept if item.party["name"]}
    return [item for item in kept if item.party["name"] or item.party["country"] not in named]


def _states_in(post: _Post, start: int, end: int) -> list[Found]:
    """States named as actors (not as places: "in Russia", «в Китае»)."""
    found = []
    for mention in post.mentions:
        if not (start <= mention.start < end):
            continue
        country = country_of(mention)
        if country is None or _LOCATIVE.search(
            post.folded[max(0, mention.start - 4) : mention.start]
        ):
            continue
        party = Party(name=None, country=country, role=None)
        found.append(Found(mention.start, mention.end, party))
    return _distinct(found)


def _sentence_events(post: _Post, start: int, end: int, previous: list[Found]) -> list[Event]:
    hits = [
        (cue, match) for cue in C.CUES for match in cue.pattern.finditer(post.folded, start, end)
    ]
    if not hits:
        return []
    events = []
    by_type: dict[str, list[tuple[C.Cue, re.Match[str]]]] = {}
    for cue, match in hits:
        by_type.setdefault(cue.type, []).append((cue, match))
    if "ACCUSE" in by_type and "REJECT" in by_type:
        del by_type["REJECT"]  # "rejected the policy of": a criticism
    accepted = _ACCEPTED.search(post.folded, start, end)
    if "AGREE" in by_type and "CONSULT" in by_type and not accepted:
        # "invited … to visit": not yet a visit; "accepted an invitation to visit": planned
        by_type["CONSULT"] = [hit for hit in by_type["CONSULT"] if hit[0].strong]
        if not by_type["CONSULT"]:
            del by_type["CONSULT"]
    parties = _parties_in(post, start, end)
    for type_, found in by_type.items():
        found.sort(key=lambda hit: hit[1].start())
        if type_ == "CONSULT":
            events += _visits(post, start, end, found, parties) or _consult(
                post, start, end, found, parties, previous
            )
        elif (event := _directed(post, start, end, found, parties, previous)) is not None:
            events.append(event)
    return events


_ACCEPTED = re.compile(r"\baccepted (?:an |the )?invitation|принял\w* приглашение")
_TRAVEL = re.compile(
    r"\b(?:(?:official |state |working |first )?visit(?:ed|s|ing)?(?: to)?|arrived in|arrives in"
    r"|travel(?:led|ed|s)? to|went to|goes to|go to|trip to|tour of|headed to|came to|come to)\b"
    r"|посети\w*|посещени\w*|визит\w* (?:в|во|на)\b|прибыл\w* (?:в|во|на)\b|поездк\w* (?:в|во|на)\b"
    r"|отправи\w* (?:в|во|на)\b|турне по|приезд\w* (?:в|во|на)\b"
)
_LIST_GAP = re.compile(r"\s*(?:,|and|и|,\s*and|&)?\s*(?:the\s+)?")


def _visits(post: _Post, start: int, end: int, hits, parties: list[Found]) -> list[Event]:
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
        travellers = _main_parties(post)[:1] or post.people[:1]
    if not travellers:
        return []
    traveller = (
        travellers[-1] if len(travellers) > 1 and travellers[-1].party["name"] else travellers[0]
    )
    home = traveller.party["country"]
    cue = next((cue for cue, hit in hits if hit.start() <= match.start() < hit.end()), hits[0][0])
    modality = _modality(post, start, end, match, cue)
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
        event.evidence = _evidence(post, start, end)
        modes = {"visit"}
        _occasion(post, event, start, end, modes)
        event.mode = [mode for mode in MODES if mode in modes]
        _date(post, event, start, end)
        _bound_by_terms(post, event, [traveller, *hosts], start, end)
        events.append(event)
    return events


def _destinations(post: _Post, after: int, end: int) -> list[Place]:
    """The places named right after a travel cue, as a list ("Kenya and Burundi")."""
    places: list[Place] = []
    position = after
    for mention in post.mentions:
        if mention.start < after:
            continue
        if mention.start >= end:
            break
        gap = post.folded[position : mention.start]
        if not _LIST_GAP.fullmatch(gap):
            break
        place = _place_of(post, mention)
        if place is None:
            break
        if place["name"] is None and places and places[-1]["country"] == place["country"]:
            position = mention.end  # "Nairobi, the capital of Kenya"
            continue
        places.append(place)
        position = mention.end
    return places


def _consult(post, start, end, hits, parties, previous) -> list[Event]:
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
            sides = [*sides, _found(Party(name=None, country=None, role=None, org=body))]
    countries = {found.party["country"] or found.party.get("org") for found in sides}
    if len(sides) < 2 or (not strong and len(countries) < 2):
        return []
    cue, match = (strong or hits)[0]
    modality = _modality(post, start, end, match, cue)
    groups = _bilateral(sides, match, sentence)
    return [_consult_event(post, start, end, group, cue, modality, set(modes)) for group in groups]


def _body_at(post: _Post, start: int, end: int) -> str | None:
    """The international body whose summit, session or forum a sentence names."""
    for mention in post.mentions:
        if start <= mention.start < end:
            for entry in mention.entries:
                if entry.kind == OCCASION:
                    occasion = post.lexicon.occasions.get(str(entry.key))
                    if occasion is not None:
                        return occasion.org or occasion.code
    return None


def _consult_sides(post, start, end, parties, previous, strong: bool) -> list[Found]:
    sentence = post.folded[start:end]
    sides = list(parties)
    speaker = _speaker_at(post, start)
    if speaker is not None and _WE.search(sentence):
        sides = _distinct([speaker, *sides])
        if _YOU.search(sentence) and post.main is not None:
            sides = _distinct([*sides, *[_found(p) for p in post.main.actors]])
    if len(sides) < 2 and C.TWO_SIDES.search(sentence):
        sides = _distinct([*sides, *(previous or _main_parties(post) or _dyad_parties(post))])
    if len(sides) < 2 and _PRONOUN.search(sentence) and post.people:
        # "he will meet his Turkish colleague": the post's first-named official
        sides = _distinct([*(_main_parties(post)[:1] or post.people[:1]), *sides])
    if len(sides) < 2:
        sides = _distinct([*sides, *_states_in(post, start, end)])
    if len(sides) < 2 and strong and post.dyad:
        sides = _distinct([*sides, *_dyad_parties(post)])
    return _without_reporters(post, sides)


_TOGETHER = re.compile(r"\bbetween\b|\bamong\b|trilateral|joint|между|трехсторон|совместн")


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
    event.evidence = _evidence(post, start, end)
    _occasion(post, event, start, end, modes)
    _place(post, event, start, end)
    others = [found.start for found in sides[1:] if found.start >= 0]
    _date(post, event, start, end, anchor=min(others) if others else None)
    event.mode = [mode for mode in MODES if mode in _modes(event, modes)]
    event.cameo = _consult_cameo(event)
    _bound_by_terms(post, event, sides, start, end)
    return event


_REPORTING = re.compile(
    r"^\s*:|^\W*(?:\w+\W+){0,3}?(?:said|says|told|stated|noted|announced|added|stressed|commented"
    r"|refuted|confirmed|reported|explained|emphasi[sz]ed|refrained|declined|сказал\w*|заявил\w*"
    r"|сообщил\w*|отметил\w*|подчеркнул\w*|рассказал\w*|пояснил\w*|добавил\w*"
    r"|прокомментировал\w*|анонсировал\w*)\b"
)
_REPORTED_BY = re.compile(
    r"(?:according to|по словам|said|told reporters|заявил\w*|сообщил\w*|отметил\w*"
    r"|рассказал\w*)[^.;]{0,50}$"
)


def _without_reporters(post: _Post, sides: list[Found]) -> list[Found]:
    """Those who only tell of a meeting ("Zakharova said that Lavrov would hold talks…",
    «сообщил пресс-секретарь Дмитрий Песков») are not its parties, unless without them
    fewer than two sides are left ("Lavrov said at a meeting with Zarif")."""

    def reporting(found: Found) -> bool:
        if found.start < 0:
            return False
        after = post.folded[found.end : found.end + 40]
        before = post.folded[max(0, found.start - 60) : found.start]
        aside = found.rank in ("spokesperson", "other")
        told = _REPORTED_BY.search(before)
        if told and re.search(r"\b(?:that|что|как)\b", told.group()):
            told = None  # "said that Lavrov met…": Lavrov is what was said, not who said it
        return aside or bool(_REPORTING.search(after) or told)

    kept = [found for found in sides if not reporting(found)]
    states = {found.party["country"] or found.party.get("org") for found in kept}
    if len(kept) >= 2 and len(states) >= 2:
        return kept
    # spokespersons and aides speak of meetings; they hold them only when nobody else can
    asides = [f for f in sides if f.rank in ("spokesperson", "other") and f.start >= 0]
    others = [f for f in sides if f not in asides]
    if len({f.party["country"] or f.party.get("org") for f in others}) >= 2:
        return others
    return sides


def _found(party: Party) -> Found:
    return Found(-1, -1, party)


def _main_parties(post: _Post) -> list[Found]:
    return [_found(party) for party in post.main.actors] if post.main else []


def _dyad_parties(post: _Post) -> list[Found]:
    return [_found(Party(name=None, country=country, role=None)) for country in post.dyad]


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


def _institutions(post: _Post, start: int, end: int, pattern: re.Pattern[str]) -> list[Found]:
    """The states whose ministry or mission a sentence names: "the Russian Foreign
    Ministry", "Ministry of Foreign Affairs of Ukraine", «посольства США», "US Embassy"."""
    found = []
    for match in pattern.finditer(post.folded, start, end):
        for mention in post.mentions:
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
    return _distinct(found)


def _jointly(post, start, end, hits, parties, previous) -> Event | None:
    """An act of all its parties together: they agreed, they signed."""
    cue, match = hits[0]
    sides = list(parties)
    if len(sides) < 2 and C.TWO_SIDES.search(post.folded, start, end):
        sides = _distinct([*sides, *(previous or _main_parties(post))])
    if len(sides) < 2:
        sides = _distinct([*sides, *_states_in(post, start, end)])
    sides = _without_reporters(post, sides)
    if len({s.party["country"] or s.party.get("org") for s in sides}) < 2:
        return None
    event = Event(post=post.key, type=cue.type, cameo=cue.cameo)
    event.actors = [found.party for found in sides]
    event.modality = _modality(post, start, end, match, cue)
    event.evidence = _evidence(post, start, end)
    _date(post, event, start, end)
    _bound_by_terms(post, event, sides, start, end)
    return event


def _directed(post, start, end, hits, parties, previous) -> Event | None:
    cue, match = hits[0]
    if cue.who == "all":
        return _jointly(post, start, end, hits, parties, previous)
    folded = post.folded
    before = [p for p in parties if p.start < match.start()]
    after = [p for p in parties if p.start >= match.start()]
    speaker = _speaker_at(post, start)
    if not before:
        if speaker is not None and _WE.search(folded[start : match.end()] + " "):
            before = [speaker]
        elif C.TWO_SIDES.search(folded, start, match.start()):
            before = _main_parties(post) or list(previous)
        elif speaker is not None:
            before = [speaker]
    if not before and cue.type not in _STATE_ACTS:  # "Russia extends its condolences"
        before = _states_in(post, start, match.start())
    if not before and cue.type in _STATE_ACTS:
        before = _institutions(post, start, end, _MINISTRY) or _states_in(
            post, start, match.start()
        )
    own = {b.key for b in before} | {b.party["country"] for b in before}
    recipients = []
    if cue.type in _STATE_ACTS:
        recipients += [m for m in _institutions(post, start, end, _MISSION) if m.key not in own]
    if speaker is not None and _YOU.search(folded, match.start(), end) and post.main:
        recipients = [_found(p) for p in post.main.actors if p["name"] != speaker.party["name"]]
    recipients += [p for p in after if p.key not in own]
    object_end = _object_end(folded, match.end(), end)
    west = C.WEST.search(folded, match.start(), object_end)
    if west and cue.type in ("ACCUSE", "REJECT", "PROTEST", "SANCTION", "THREATEN"):
        recipients.append(_found(Party(name=None, country=None, role=None, org="WEST")))
    if not recipients or (west and not any(r.party["name"] for r in recipients)):
        states = _states_in(post, match.start(), object_end)
        recipients += [s for s in states if s.key not in own]
    if not before or not recipients:
        return None
    if cue.type == "REJECT" and not cue.strong and len(hits) == 1:
        pass
    event = Event(post=post.key, type=cue.type, cameo=cue.cameo)
    event.actors = [found.party for found in before]
    event.recipients = [found.party for found in _distinct(recipients)]
    event.modality = _modality(post, start, end, match, cue)
    event.evidence = _evidence(post, start, end)
    _date(post, event, start, end)
    _bound_by_terms(post, event, [*before, *recipients], start, end)
    return event


def _bound_by_terms(post: _Post, event: Event, sides: list[Found], start: int, end: int) -> None:
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
    session = _UNGA_SESSION.search(post.folded, start, end) or _UNGA_SESSION.search(post.folded)
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


def _object_end(folded: str, start: int, end: int) -> int:
    """Where the object of a directed cue ends: the next comma, semicolon or clause."""
    match = re.compile(r"[,;:]|\s(?:and|which|who|while|но|который|которые)\s").search(
        folded, start + 1, end
    )
    return match.start() if match and match.start() - start > 8 else min(end, start + 120)


def _modality(post: _Post, start: int, end: int, match: re.Match[str], cue: C.Cue) -> str:
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


def _evidence(post: _Post, start: int, end: int) -> Evidence:
    text = post.text[start:end]
    stripped = text.strip()
    offset = start + text.index(stripped[:1]) if stripped else start
    return Evidence(start=offset, end=offset + len(stripped), text=stripped)


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


def _occasion(post: _Post, event: Event, start: int, end: int, modes: set[str]) -> None:
    """The summit or session the sentence places the event in: an organisation named as
    the setting ("on the sidelines of the SCO", "at the G20 summit", «на саммите БРИКС»),
    not one named as a topic ("discussed UN reform")."""
    sidelines = C.SIDELINES.search(post.folded, start, end) is not None
    for mention in post.mentions:
        if not (start <= mention.start < end):
            continue
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
        for match in _HASHTAG.finditer(post.text):
            code = post.lexicon.occasion_of_hashtag(match.group(1))
            if code:
                event.occasion = code
                break
    if event.occasion is None:
        return
    occasion = post.lexicon.occasions.get(event.occasion)
    if (occasion is not None and occasion.multilateral) or sidelines:
        modes.add("multilateral")


def _place_of(post: _Post, mention: Mention) -> Place | None:
    for entry in mention.entries:
        if entry.kind == CITY:
            name, country = post.lexicon.cities[int(entry.key)]
            return Place(name=name, country=country)
    for entry in mention.entries:
        if entry.kind == COUNTRY:
            return Place(name=None, country=str(entry.key))
    return None


def _place(post: _Post, event: Event, start: int, end: int) -> None:
    for mention in post.mentions:
        if not (start <= mention.start < end):
            continue
        if not _LOCATIVE.search(post.folded[max(0, mention.start - 4) : mention.start]):
            continue
        place = _place_of(post, mention)
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


def _first_place(post: _Post, after: int) -> Place | None:
    """Where the post's first meeting took place when its sentence does not say: the first
    city named as a place ("in Beijing", «в Пекине») in the next sentences or the headline."""
    for mention in post.mentions:
        if mention.start < after and mention.start > 200:
            continue
        if not _LOCATIVE.search(post.folded[max(0, mention.start - 4) : mention.start]):
            continue
        place = _place_of(post, mention)
        if place is not None and place["name"]:
            return place
    return None


_PAST_PERIOD = re.compile(
    r"\bin (?P<month>january|february|march|april|may|june|july|august|september|october"
    r"|november|december)\b|\bв (?P<rumonth>январе|феврале|марте|апреле|мае|июне|июле|августе"
    r"|сентябре|октябре|ноябре|декабре)\b|\b(?:in|в) (?P<year>(?:19|20)\d\d)(?: году)?\b"
)
_MONTH_NAMES = (
    "january february march april may june july august september october november december",
    "январе феврале марте апреле мае июне июле августе сентябре октябре ноябре декабре",
)


def _told_later(post: _Post, day: str | None, start: int, end: int) -> bool:
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


def _date(post: _Post, event: Event, start: int, end: int, anchor: int | None = None) -> None:
    """The day the sentence gives (the last date before ``anchor``, the party it is about,
    when the sentence lists meetings on several days); else the dateline's or the post's
    for what happened; a day without a year is kept for the archive to place."""
    here = [d for d in post.dates if start <= d.start < end]
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


# -- one event per meeting ----------------------------------------------------------------------


def _merged(post: _Post, events: list[Event]) -> list[Event]:
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
    return (
        one.type == other.type and one.modality == other.modality and _sides(one) == _sides(other)
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
