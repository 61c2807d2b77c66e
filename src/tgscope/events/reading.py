"""A post being read: its text, what the dictionaries found in it, and its Telegram cues
(flag pairs, dyad hashtags, datelines, quoted speakers); the parties of a stretch of it.

Finding things by offset is by bisection: a long post (or a hostile one) costs in
proportion to what it holds, not to its square.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field

from .lexicon import CITY, COUNTRY, Lexicon, Mention
from .model import Event, Evidence, Party, Place
from .parties import Found, counterparts, country_of, titles
from .when import DateMention

_ABBREVIATIONS = re.compile(
    r"(?:\b(?:mr|mrs|ms|dr|st|no|gen|col|lt|sen|rep|prof|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct"
    r"|nov|dec|vs|etc|e\.g|i\.e|u\.s|u\.k|u\.n)"
    r"|\b[a-zа-я]|\bг|\bгг|\bт\.е|\bт\.д|\bим)\.$",
    re.IGNORECASE,
)


_BOUNDARY = re.compile(r"\n+|(?<=[.!?…])[\"»”)]?\s+")


FLAG = re.compile(r"([\U0001F1E6-\U0001F1FF])([\U0001F1E6-\U0001F1FF])")


HASHTAG = re.compile(r"#(\w+)")


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


LOCATIVE = re.compile(r"(?:\bin|\bat|\bto|\bв|\bво|📍)\s*$")


TOPIC = re.compile(r"(?:\bon|\babout|\bover|\bregarding|\bconcerning|\bпо|\bо|\bоб|\bвокруг)\s+$")


YOU = re.compile(r"\byou\b|\byour\b|\bвас\b|\bвам\b|\bвы\b|\bваш\w*|\bтебя\b")


WE = re.compile(r"\bwe\b|\bour\b|\bi\b|\bмы\b|\bнаш\w*|\bя\b")


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


@dataclass(slots=True)
class Reading:
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

    def mentions_in(self, start: int, end: int) -> list[Mention]:
        """The dictionary forms that start within ``[start, end)``."""
        return _within(self.mentions, start, end)

    def people_in(self, start: int, end: int) -> list[Found]:
        return _within(self.people, start, end)

    def dates_in(self, start: int, end: int) -> list[DateMention]:
        return _within(self.dates, start, end)


#: people a title may refer back to ("the minister": the one named before); a long post
#: names more, but a title is resolved among the first ones
_KNOWN = 300


def _within(items: list, start: int, end: int) -> list:
    """Items sorted by ``.start``, those starting in ``[start, end)``, by bisection."""
    first = bisect_left(items, start, key=lambda item: item.start)
    last = bisect_left(items, end, lo=first, key=lambda item: item.start)
    return items[first:last]


def sentences(text: str) -> Iterable[tuple[int, int]]:
    """``(start, end)`` of each sentence and each line: a dot after an abbreviation or an
    initial ("Mr.", "S.", «г.») does not end one; a run-on stretch is read in pieces of
    :data:`MAX_SENTENCE` characters."""
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start()
        if "\n" not in match.group() and _ABBREVIATIONS.search(text[max(start, end - 8) : end]):
            continue
        if text[start:end].strip():
            yield from _pieces(start, end)
        start = match.end()
    if text[start:].strip():
        yield from _pieces(start, len(text))


#: the longest sentence read whole (a sentence of a ministry's post is a few hundred)
MAX_SENTENCE = 2_000


def _pieces(start: int, end: int) -> Iterable[tuple[int, int]]:
    for at in range(start, end, MAX_SENTENCE):
        yield at, min(end, at + MAX_SENTENCE)


def find_dyad(post: Reading) -> list[str]:
    """The two states a post is about, from a flag pair or a dyad hashtag."""
    alpha2 = post.lexicon.alpha2
    head = post.text[:400]
    for match in FLAG.finditer(head):
        codes = []
        for flag in re.findall(r"[\U0001F1E6-\U0001F1FF]{2}", head[match.start() :][:16]):
            code = "".join(chr(ord(char) - 0x1F1E6 + ord("A")) for char in flag)
            if code in alpha2 and alpha2[code] not in codes:
                codes.append(alpha2[code])
        if len(codes) >= 2:
            return codes
        break
    for match in HASHTAG.finditer(post.text):
        pair = post.lexicon.split_dyad(match.group(1))
        if pair:
            return list(pair)
    return []


def find_dateline(post: Reading) -> None:
    """The place and day of a dateline, the post's main event's unless it says others."""
    for match in _DATELINE.finditer(post.text):
        groups = [n for n in range(1, 7, 2) if match.group(n)]
        where, when = groups[0], groups[0] + 1
        places = [
            place
            for mention in post.mentions_in(match.start(where), match.end(where))
            if (place := place_of(post, mention)) is not None
        ]
        days = [
            day
            for date in post.dates_in(match.start(when), match.end(when))
            if (day := date.resolve(post.day)) is not None
        ]
        if places and (days or where == 1):
            post.place = places[0]
            post.place_day = days[0] if days else None
            return


def find_speakers(post: Reading) -> None:
    """Who says what: ``💬 Name:`` lines, else the headline's "X's remarks"."""
    headline = None
    remarks = _REMARKS_BY.search(post.folded, 0, 600)
    if remarks:
        near = [
            p
            for p in post.people_in(remarks.start() - 120, remarks.start() + 1)
            if p.end <= remarks.start() + 1 and remarks.start() - p.end < 5
        ]
        near += [p for p in post.people_in(remarks.end(), remarks.end() + 60)]
        headline = near[0] if near else None
    marks = list(_SPEAKER.finditer(post.text))
    bounds = [m.start() for m in marks] + [len(post.text)]
    for index, mark in enumerate(marks):
        named = post.people_in(mark.start("who"), mark.end("who"))
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


def speaker_at(post: Reading, offset: int) -> Found | None:
    for start, end, speaker in post.speakers:
        if start <= offset < end:
            return speaker
    return None


def parties_in(post: Reading, start: int, end: int) -> list[Found]:
    """Officials by name or title, in text order, one each."""
    people = post.people_in(start, end)
    near = post.mentions_in(max(0, start - 60), end + 60)
    known = [*post.people[:_KNOWN], *post.people_in(max(0, start - 60), end + 60)]
    day = post.place_day or post.day or post.text_day
    people += titles(post.lexicon, post.folded, near, known, day, (start, end), post.text)
    rank = people[0].rank if people else None
    people += counterparts(post.lexicon, post.folded, near, known, day, rank, (start, end))
    people.sort(key=lambda found: found.start)
    return distinct(people)


def distinct(found: list[Found]) -> list[Found]:
    kept: list[Found] = []
    for item in found:
        if any(item.key == other.key for other in kept):
            continue
        kept.append(item)
    named = {item.party["country"] for item in kept if item.party["name"]}
    return [item for item in kept if item.party["name"] or item.party["country"] not in named]


def states_in(post: Reading, start: int, end: int) -> list[Found]:
    """States named as actors (not as places: "in Russia", «в Китае»)."""
    found = []
    for mention in post.mentions_in(start, end):
        country = country_of(mention)
        if country is None or LOCATIVE.search(
            post.folded[max(0, mention.start - 4) : mention.start]
        ):
            continue
        party = Party(name=None, country=country, role=None)
        found.append(Found(mention.start, mention.end, party))
    return distinct(found)


def as_found(party: Party) -> Found:
    return Found(-1, -1, party)


def main_parties(post: Reading) -> list[Found]:
    return [as_found(party) for party in post.main.actors] if post.main else []


def dyad_parties(post: Reading) -> list[Found]:
    return [as_found(Party(name=None, country=country, role=None)) for country in post.dyad]


def without_reporters(post: Reading, sides: list[Found]) -> list[Found]:
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


def evidence_of(post: Reading, start: int, end: int) -> Evidence:
    text = post.text[start:end]
    stripped = text.strip()
    offset = start + text.index(stripped[:1]) if stripped else start
    return Evidence(start=offset, end=offset + len(stripped), text=stripped)


def place_of(post: Reading, mention: Mention) -> Place | None:
    for entry in mention.entries:
        if entry.kind == CITY:
            name, country = post.lexicon.cities[int(entry.key)]
            return Place(name=name, country=country)
    for entry in mention.entries:
        if entry.kind == COUNTRY:
            return Place(name=None, country=str(entry.key))
    return None
