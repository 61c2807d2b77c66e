"""The extractor's dictionaries, loaded from the compiled data files under ``data/``.

Every name and form (officials, countries and their adjectives, cities, summits and
organisations, English and Russian, each Russian case form listed) goes into one
Aho-Corasick automaton (pyahocorasick) over folded text, so that finding them all in a post
is one pass however many there are.  :attr:`Lexicon.version` is a digest of the data files
and of the extractor's rules: an archive whose events were extracted with another version
extracts them all again.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import NamedTuple

import ahocorasick

from ..errors import TgscopeError

#: bump when a change of the rules (not of the data) changes what is extracted
RULES_VERSION = "2"

#: the kinds of office in the officials dictionary, highest first (a name without a date is
#: taken in the highest office its holder held)
RANKS = (
    "head_of_state",
    "head_of_government",
    "foreign_minister",
    "deputy_foreign_minister",
    "spokesperson",
    "ambassador",
    "other",
)

DATA_FILES = ("officials.tsv", "countries.tsv", "cities.tsv", "occasions.tsv")

PERSON, COUNTRY, ADJECTIVE, CITY, OCCASION = "person", "country", "adjective", "city", "occasion"

# one character for one: offsets in folded text are offsets in the text
_FOLD = str.maketrans(
    {
        "ё": "е",
        "Ё": "е",
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "“": '"',
        "”": '"',
        "«": '"',
        "»": '"',
        "„": '"',
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\t": " ",
        "‐": "-",
        "‑": "-",
        "–": "-",
    }
)


def fold(text: str) -> str:
    """Lower case, ``ё`` as ``е``, one apostrophe, one quote and one space: the form the
    dictionaries are matched in.  Always as long as ``text``."""
    translated = text.translate(_FOLD)
    folded = translated.lower()
    if len(folded) == len(translated):
        return folded
    return "".join(low if len(low := char.lower()) == 1 else char for char in translated)


class DataError(TgscopeError):
    """A dictionary file that cannot be read."""


@dataclass(frozen=True, slots=True)
class Official:
    """One person in one office for one term."""

    country: str | None
    org: str | None
    rank: str
    role: str
    name: str
    start: str
    end: str | None
    posted_to: str | None

    def serves_on(self, day: str | None) -> bool:
        """In office on ``day`` (``YYYY-MM-DD``); any term serves when the day is unknown."""
        if day is None:
            return True
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class Occasion:
    code: str
    kind: str
    org: str | None
    venue: tuple[str, str] | None  # (city, alpha-3) where it always takes place
    multilateral: bool


class Entry(NamedTuple):
    """What one surface form stands for."""

    kind: str
    key: int | str  # an official's index, an alpha-3, a city's index, an occasion's code
    upper: bool  # an acronym (US, РФ, КНР): must be upper case in the text too
    lower: bool = False  # written in lower case in the dictionary («нормандский формат»)


class Mention(NamedTuple):
    start: int
    end: int
    entries: tuple[Entry, ...]


class Lexicon:
    """The loaded dictionaries.  :func:`load` gives the shipped one (loaded once)."""

    def __init__(self, tables: dict[str, list[dict[str, str]]], version: str):
        self.version = version
        self.officials: list[Official] = []
        self.country_names: dict[str, str] = {}
        self.alpha2: dict[str, str] = {}  # "RU" -> "RUS", for flags
        self.cities: list[tuple[str, str]] = []
        self.occasions: dict[str, Occasion] = {}
        self.orgs: set[str] = {"WEST"}  # bodies and blocs that act (UN, EU, NATO, …)
        self._forms: dict[str, set[Entry]] = defaultdict(set)
        self._load_officials(tables["officials.tsv"])
        self._load_countries(tables["countries.tsv"])
        self._load_cities(tables["cities.tsv"])
        self._load_occasions(tables["occasions.tsv"])
        self.by_office: dict[tuple[str, str], list[Official]] = defaultdict(list)
        for official in self.officials:
            self.by_office[(official.country or official.org or "", official.rank)].append(official)
        self._automaton = self._build()

    # -- loading --------------------------------------------------------------------------

    def _add(self, forms: str, kind: str, key: int | str) -> None:
        for form in forms.split("|"):
            form = form.strip()
            if len(form) < 2:
                continue
            letters = [char for char in form if char.isalpha()]
            upper = len(letters) > 1 and all(char.isupper() for char in letters)
            self._forms[fold(form)].add(Entry(kind, key, upper, form[:1].islower()))

    def _load_officials(self, rows: list[dict[str, str]]) -> None:
        for row in rows:
            index = len(self.officials)
            official = Official(
                country=row["country"] or None,
                org=row["org"] or None,
                rank=row["rank"],
                role=row["role"],
                name=row["name_en"],
                start=row["start"] or "0000-00-00",
                end=row["end"] or None,
                posted_to=row.get("posted_to") or None,
            )
            self.officials.append(official)
            if official.org:
                self.orgs.add(official.org)
            self._add(row.get("forms_en", ""), PERSON, index)
            self._add(row.get("forms_ru", ""), PERSON, index)

    def _load_countries(self, rows: list[dict[str, str]]) -> None:
        for row in rows:
            alpha3 = row["alpha3"]
            self.country_names[alpha3] = row["name_en"]
            self.alpha2[row["alpha2"]] = alpha3
            self._add("|".join((row["name_en"], row["forms_en"], row["forms_ru"])), COUNTRY, alpha3)
            self._add("|".join((row["adjectives_en"], row["adjectives_ru"])), ADJECTIVE, alpha3)

    def _load_cities(self, rows: list[dict[str, str]]) -> None:
        for row in rows:
            index = len(self.cities)
            self.cities.append((row["name_en"], row["country"]))
            self._add("|".join((row["name_en"], row["forms_en"], row["forms_ru"])), CITY, index)

    def _load_occasions(self, rows: list[dict[str, str]]) -> None:
        for row in rows:
            code = row["code"]
            venue = (row["venue_city"], row["venue_country"]) if row.get("venue_city") else None
            if row.get("org"):
                self.orgs.add(row["org"])
            self.occasions[code] = Occasion(
                code=code,
                kind=row["kind"],
                org=row.get("org") or None,
                venue=venue,
                multilateral=row.get("multilateral", "1") != "0",
            )
            self._add("|".join((code, row["forms_en"], row["forms_ru"])), OCCASION, code)

    def _build(self) -> ahocorasick.Automaton:
        automaton = ahocorasick.Automaton()
        for form, entries in self._forms.items():
            automaton.add_word(form, (len(form), tuple(sorted(entries, key=str))))
        automaton.make_automaton()
        return automaton

    # -- finding --------------------------------------------------------------------------

    def find(self, text: str, folded: str) -> list[Mention]:
        """Every dictionary form in the text, whole words only, the longest where several
        overlap, in text order.  Names must start with a capital letter as written
        («Мира» the city, not «мира» the peace); acronyms must be all capitals."""
        found: list[Mention] = []
        for end_index, (length, entries) in self._automaton.iter(folded):
            end = end_index + 1
            start = end - length
            if not _whole_word(folded, start, end):
                continue
            kept = tuple(entry for entry in entries if _cased(text, start, end, entry))
            if kept and all(e.kind == PERSON for e in kept) and _longer_name(text, start, end):
                continue
            if kept:
                found.append(Mention(start, end, kept))
        return _longest(found)

    def country_named(self, word: str) -> str | None:
        """The state one word names (``Russia``, ``Китай``), when it names one."""
        entries = self._forms.get(fold(word), ())
        return next((str(e.key) for e in entries if e.kind == COUNTRY), None)

    def split_dyad(self, tag: str) -> tuple[str, str] | None:
        """The two states a dyad hashtag names: ``RussiaChina`` → (RUS, CHN), «РоссияКитай»."""
        for cut in range(2, len(tag) - 1):
            if not tag[cut].isupper():
                continue
            first, second = self.country_named(tag[:cut]), self.country_named(tag[cut:])
            if first and second and first != second:
                return first, second
        return None

    def occasion_of_hashtag(self, tag: str) -> str | None:
        """The summit a hashtag names: ``UNGA77`` → UNGA, ``G20Indonesia`` → G20."""
        folded = fold(tag)
        for cut in range(len(folded), 1, -1):
            entries = self._forms.get(folded[:cut], ())
            code = next((str(e.key) for e in entries if e.kind == OCCASION), None)
            if code and (cut == len(folded) or not folded[cut].isalpha() or tag[cut].isupper()):
                return code
        return None

    def terms_of(self, official: Official) -> list[tuple[str, str]]:
        """Every term of that person in that kind of office, ``(start, end)``."""
        return [
            (other.start, other.end or "9999-99-99")
            for other in self.by_office.get(
                (official.country or official.org or "", official.rank), ()
            )
            if other.name == official.name
        ]

    def holders(self, office: str, rank: str, day: str | None) -> list[Official]:
        """Who held the office (a country's alpha-3 or a body's code, and a rank) on ``day``."""
        return [
            official
            for official in self.by_office.get((office, rank), ())
            if official.serves_on(day)
        ]


_NAME_GOES_ON = re.compile(r" ([A-ZА-ЯЁ][a-zа-яё]+)")
_HEADLINE_WORDS = frozenset(
    [
        "meets",
        "holds",
        "says",
        "said",
        "talks",
        "calls",
        "visits",
        "arrives",
        "discusses",
        "has",
        "will",
        "to",
        "and",
        "in",
        "on",
        "with",
        "at",
        "of",
        "for",
        "from",
        "as",
        "is",
        "was",
        "says:",
        "urges",
        "warns",
    ]
)


def _longer_name(text: str, start: int, end: int) -> bool:
    """A one-word name that runs on into another capitalised word is someone else's:
    "Abdullah" alone is Abdullah Abdullah, "Abdullah Bou Habib" is not (a title-case
    headline's "Lavrov Meets" goes on with a verb, and stays Lavrov)."""
    if " " in text[start:end]:
        return False
    following = _NAME_GOES_ON.match(text, end)
    return following is not None and following.group(1).lower() not in _HEADLINE_WORDS


def _whole_word(folded: str, start: int, end: int) -> bool:
    before = folded[start - 1] if start > 0 else " "
    after = folded[end] if end < len(folded) else " "
    return not (before.isalnum() or after.isalnum())


def _cased(text: str, start: int, end: int, entry: Entry) -> bool:
    span = text[start:end]
    if entry.upper:
        return span.isupper()
    if entry.kind == ADJECTIVE or entry.lower:
        return True
    if entry.kind == PERSON and len(span) > 2 and span[:2].isupper():
        return False  # «МИДа» is the ministry's, not «Мида» (Meade's): names are not shouted
    return span[:1].isupper() or not span[:1].isalpha()


def _longest(mentions: list[Mention]) -> list[Mention]:
    """Of overlapping forms, the longest ("UN General Assembly" over "the UN")."""
    mentions.sort(key=lambda mention: (mention.start - mention.end, mention.start))
    kept: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for mention in mentions:
        if any(mention.start < end and start < mention.end for start, end in taken):
            continue
        kept.append(mention)
        taken.append((mention.start, mention.end))
    kept.sort(key=lambda mention: mention.start)
    return kept


def _read_table(folder: Traversable, name: str) -> tuple[list[dict[str, str]], bytes]:
    try:
        raw = folder.joinpath(name).read_bytes()
    except FileNotFoundError as error:
        raise DataError(f"{folder}/{name}: the events dictionary file is missing") from error
    lines = [line for line in raw.decode("utf-8").splitlines() if not line.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    rows = list(reader)
    for number, row in enumerate(rows, 2):
        if None in row or None in row.values():
            raise DataError(f"{folder}/{name}: row {number}: not as many fields as the header")
    return rows, raw


def load_folder(folder: Traversable | Path) -> Lexicon:
    """The dictionaries of a folder holding the compiled data files (tests use their own)."""
    digest = hashlib.sha256(RULES_VERSION.encode())
    tables = {}
    for name in DATA_FILES:
        rows, raw = _read_table(folder, name)
        tables[name] = rows
        digest.update(raw)
    return Lexicon(tables, digest.hexdigest()[:16])


@cache
def load() -> Lexicon:
    """The dictionaries shipped with tgscope (read once a process)."""
    return load_folder(resources.files("tgscope.events").joinpath("data"))
