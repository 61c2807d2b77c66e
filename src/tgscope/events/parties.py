"""Who a post names: officials by name, officials by title alone resolved through the
dictionary at the post's date, states and blocs; each found with its place in the text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexicon import ADJECTIVE, COUNTRY, OCCASION, PERSON, RANKS, Lexicon, Mention, Official
from .model import Party

# a role phrase, folded; its rank in the dictionary
_ROLES_EN = (
    (
        r"(?:deputy|vice) (?:foreign minister|minister of foreign affairs"
        r"|minister for foreign affairs)",
        "deputy_foreign_minister",
    ),
    (r"(?:un )?secretary[- ]general|un chief", "secretary_general"),
    (
        r"state councillor and foreign minister|foreign minister|minister of foreign affairs"
        r"|minister for foreign affairs"
        r"|foreign affairs minister|secretary of state|foreign secretary|top diplomat"
        r"|head of (?:the )?foreign ministry",
        "foreign_minister",
    ),
    (
        r"prime minister|premier(?: of the state council)?|chancellor|head of government",
        "head_of_government",
    ),
    (r"president|head of state|king|emir|sultan|leader", "head_of_state"),
    (r"ambassador", "ambassador"),
    (r"(?:official )?spokes(?:person|woman|man)", "spokesperson"),
    (r"minister", "foreign_minister"),  # "the Russian Minister" in a foreign ministry's post
)
_ROLES_RU = (
    (r"генсек\w*|генеральн\w+ секретар\w*", "secretary_general"),
    (
        r"заместител\w* (?:министра|главы) (?:иностранных дел|мид)\w*|замминистра иностранных дел"
        r"|замглавы мид",
        "deputy_foreign_minister",
    ),
    (
        r"министр\w* иностранных дел|глав\w* мид|министр\w* по иностранным делам"
        r"|глав\w* внешнеполитическ\w+ ведомств\w*",
        "foreign_minister",
    ),
    (
        r"премьер-министр\w*|председател\w* правительства|премьер\w* госсовета|канцлер\w*",
        "head_of_government",
    ),
    (
        r"президент\w*|председател\w* кнр|глав\w* государств\w*|корол\w*|эмир\w*|султан\w*"
        r"|лидер\w*|глав[аеуы]\b|главой\b",
        "head_of_state",
    ),
    (r"посл(?:ом|ами|ов|ы|а|у|е)?\b|чрезвычайн\w+ и полномочн\w+ посл\w*", "ambassador"),
    (r"официальн\w+ представител\w+ мид\w*|официальн\w+ представител\w+", "spokesperson"),
)
ROLE_NAMES = {
    "head_of_state": "President",
    "head_of_government": "Prime Minister",
    "foreign_minister": "Minister of Foreign Affairs",
    "deputy_foreign_minister": "Deputy Minister of Foreign Affairs",
    "ambassador": "Ambassador",
    "spokesperson": "Spokesperson of the Ministry of Foreign Affairs",
}
ROLE = re.compile(
    "|".join(
        [f"(?P<{rank}{n}>\\b(?:{pattern})s?\\b)" for n, (pattern, rank) in enumerate(_ROLES_EN)]
        + [f"(?P<{rank}{n + 20}>{pattern})" for n, (pattern, rank) in enumerate(_ROLES_RU)]
    )
)
_COUNTERPART = re.compile(
    r"\b(?:his|her|their|its) (?P<adj>\w+) (?:counterpart|colleague|opposite number)s?\b"
    r"|(?P<ruadj>\w+) (?:коллег\w*|визави)"
)


@dataclass(slots=True)
class Found:
    """A party as the text names it: where, and who."""

    start: int
    end: int
    party: Party
    rank: str | None = None
    official: Official | None = None

    @property
    def key(self) -> str:
        return self.party["name"] or self.party["country"] or self.party.get("org") or "?"


_CLAUSE = re.compile(r"[.;:!?\n]| and | и |&| with | с ")


def person(lexicon: Lexicon, mention: Mention, day: str | None, folded: str = "") -> Found | None:
    """The official a name stands for on ``day``: the term then (the one the title next
    to the name gives, if several), else, without a day, the term of the title next to the
    name or the highest office they held."""
    officials = [lexicon.officials[int(e.key)] for e in mention.entries if e.kind == PERSON]
    if not officials:
        return None
    hint = rank_before(folded, mention.start) if folded else None
    serving = [official for official in officials if official.serves_on(day)] or officials
    titled = [official for official in serving if official.rank == hint]
    chosen = min(titled or serving, key=lambda o: (_rank(o.rank), _negated(o.start)))
    return Found(mention.start, mention.end, _party_of(chosen), chosen.rank, chosen)


def _rank(rank: str) -> int:
    return RANKS.index(rank) if rank in RANKS else len(RANKS)


def _negated(day: str) -> tuple[int, ...]:
    """Later days first."""
    return tuple(-ord(char) for char in day)


def rank_before(folded: str, start: int) -> str | None:
    """The rank of a title right before a name ("Foreign Minister of China Qin Gang")."""
    window_start = max(0, start - 70)
    last = None
    for match in ROLE.finditer(folded, window_start, start):
        last = match
    if last is None or _CLAUSE.search(folded, last.end(), start):
        return None
    return _rank_of(last)


def _party_of(official: Official) -> Party:
    party = Party(name=official.name, country=official.country, role=official.role)
    if official.org and not official.country:
        party["org"] = official.org
    return party


def country_of(mention: Mention) -> str | None:
    for entry in mention.entries:
        if entry.kind in (COUNTRY, ADJECTIVE):
            return str(entry.key)
    return None


def titles(
    lexicon: Lexicon,
    folded: str,
    mentions: list[Mention],
    people: list[Found],
    day: str | None,
    bounds: tuple[int, int],
    text: str | None = None,
) -> list[Found]:
    """Officials named by title alone within ``bounds``: "the Foreign Minister of Oman",
    «министр иностранных дел Омана», "Oman's Foreign Minister", "the Russian Minister",
    resolved to the holder on ``day``; a title next to a name is that name's, not another."""
    found: list[Found] = []
    start, end = bounds
    for match in ROLE.finditer(folded, start, end):
        rank = _rank_of(match)
        if _names_someone(match.start(), match.end(), people, folded, text or folded):
            continue
        if rank == "secretary_general":
            head = _secretary_general(lexicon, folded, mentions, match, day)
            if head is not None:
                found.append(head)
            continue
        countries = _countries_near(folded, mentions, match.start(), match.end())
        if not countries:  # "the foreign minister", "the minister": the one named before
            earlier = [p for p in people if p.end <= match.start() and p.rank == rank]
            if (earlier and match.group().endswith(("minister", "министр"))) or (
                earlier and rank in _HEADS
            ):
                known = earlier[-1]
                found.append(Found(match.start(), match.end(), known.party, rank, known.official))
            continue
        for country in countries:
            found.append(_office(lexicon, people, country, rank, day, match))
    return found


def _office(
    lexicon: Lexicon,
    people: list[Found],
    country: str,
    rank: str,
    day: str | None,
    match: re.Match[str],
) -> Found:
    """Who a title stands for: the person of that office the post names elsewhere, else
    the holder on ``day``."""
    named = _named(people, country, rank)
    if named is not None:
        return Found(match.start(), match.end(), named.party, rank, named.official)
    return _holder(lexicon, country, rank, day, match.start(), match.end(), match.group())


def _secretary_general(
    lexicon: Lexicon, folded: str, mentions: list[Mention], match: re.Match[str], day: str | None
) -> Found | None:
    """ "the Secretary-General" (of the UN, unless NATO's or another body's is named next to
    it) on ``day``."""
    body = "UN"
    for mention in mentions:
        if abs(mention.start - match.end()) <= 8 or abs(match.start() - mention.end) <= 8:
            orgs = [
                lexicon.occasions[str(e.key)].org for e in mention.entries if e.kind == OCCASION
            ]
            if orgs and orgs[0]:
                body = orgs[0]
                break
    holders = [
        official
        for official in lexicon.by_office.get((body, "other"), [])
        if "secretary" in official.role.lower() and official.serves_on(day)
    ]
    if len(holders) != 1:
        return None
    official = holders[0]
    return Found(match.start(), match.end(), _party_of(official), "other", official)


def _named(people: list[Found], country: str, rank: str) -> Found | None:
    """The person of that office whom the post names elsewhere ("Foreign Minister of China
    Qin Gang … his Chinese colleague")."""
    return next((p for p in people if p.party["country"] == country and p.rank == rank), None)


def _rank_of(match: re.Match[str]) -> str:
    for name, value in match.groupdict().items():
        if value:
            return name.rstrip("0123456789")
    raise AssertionError("a role match names its rank")


_TITLE_ROLES = (
    ("president", "President"),
    ("президент", "President"),
    ("председател", "President"),
    ("prime minister", "Prime Minister"),
    ("премьер", "Prime Minister"),
    ("premier", "Premier"),
    ("chancellor", "Chancellor"),
    ("канцлер", "Chancellor"),
    ("king", "King"),
    ("корол", "King"),
    ("emir", "Emir"),
    ("эмир", "Emir"),
    ("sultan", "Sultan"),
    ("султан", "Sultan"),
)
_HEADS = ("head_of_state", "head_of_government")


def _holder(
    lexicon: Lexicon,
    country: str,
    rank: str,
    day: str | None,
    start: int,
    end: int,
    title: str = "",
) -> Found:
    """Who held the office a title names on ``day``: "the President of Iran" is the one
    whose role is President (not the Supreme Leader), whichever rank the state gives it."""
    holders = lexicon.holders(country, rank, day) if day else []
    if rank in _HEADS and day:
        words = [role for word, role in _TITLE_ROLES if word in title]
        if words:
            both = [
                *lexicon.holders(country, _HEADS[0], day),
                *lexicon.holders(country, _HEADS[1], day),
            ]
            named = [o for o in both if words[0].lower() in o.role.lower()]
            holders = named or holders
    if rank == "head_of_state" and not holders and day:
        holders = lexicon.holders(country, "head_of_government", day)
    if len(holders) == 1:
        official = holders[0]
        return Found(start, end, _party_of(official), rank, official)
    if not day:  # no date: the only one who ever held it since 2014, if only one did
        everyone = lexicon.by_office.get((country, rank), [])
        if len({official.name for official in everyone}) == 1:
            return Found(start, end, _party_of(everyone[0]), rank, everyone[0])
    role = ROLE_NAMES.get(rank)
    return Found(start, end, Party(name=None, country=country, role=role), rank)


_TITLE_GAP = re.compile(
    r"(?:\s|,|'s\b|’s\b|\b(?:of|the|for|and|h\.e\.|mr|ms|mrs)\b|\b[A-ZА-ЯЁ][\w’'.-]*"
    r"|\b(?:иностранных|дел|по|и)\b)*"
)


def _names_someone(start: int, end: int, people: list[Found], folded: str, text: str) -> bool:
    """A title right before or after a name ("Foreign Minister Sergey Lavrov", "Lavrov,
    Russia's Foreign Minister", «Министр иностранных дел России Сергей Лавров», "President
    of the People's Republic of China Xi Jinping") is that person's; not when a word of a
    sentence comes between ("the Secretary-General met Foreign Minister Lavrov")."""
    for found in people:
        gap = text[end : found.start]
        if (
            0 <= found.start - end <= 60
            and not re.search(r"[.;:!?\n]| and | и |&| with | с ", folded[end : found.start])
            and _TITLE_GAP.fullmatch(gap)
        ):
            return True
        if not 0 <= start - found.end <= 30:
            continue
        between = folded[found.end : start]
        if "," in between and re.fullmatch(r"[,\s]*(?:the |\w+'s )?[\w\s]*", between):
            return True
    return False


def _countries_near(folded: str, mentions: list[Mention], start: int, end: int) -> list[str]:
    """The state a title belongs to: "X's Minister", "the X Minister", "Minister of X
    (and Y)", «министр X(gen)»."""
    before = [m for m in mentions if m.end <= start and start - m.end <= 3]
    if before and (country := country_of(before[-1])):
        gap = folded[before[-1].end : start]
        if gap.strip() in ("", "'s", "'"):
            return [country]
    after: list[str] = []
    position = end
    for mention in mentions:
        if mention.start < end:
            continue
        gap = folded[position : mention.start]
        if not re.fullmatch(r"(?:\s+of)?(?:\s+the)?\s*|\s+(?:and|и)\s+(?:the\s+)?|,\s+", gap):
            break
        country = country_of(mention)
        if country is None:
            break
        after.append(country)
        position = mention.end
    return after


def counterparts(
    lexicon: Lexicon,
    folded: str,
    mentions: list[Mention],
    people: list[Found],
    day: str | None,
    rank: str | None,
    bounds: tuple[int, int],
) -> list[Found]:
    """ "his Chinese colleague", «китайский коллега»: the holder of the same office as the
    sentence's other party, in the state the adjective names."""
    found = []
    for match in _COUNTERPART.finditer(folded, *bounds):
        word_start = match.start("adj") if match.group("adj") else match.start("ruadj")
        mention = next((m for m in mentions if m.start == word_start), None)
        country = country_of(mention) if mention else None
        if country and rank:
            found.append(_office(lexicon, people, country, rank, day, match))
    return found
