"""Compile the place dictionaries: data/places/*.tsv (+ pycountry) → data/countries.tsv,
data/cities.tsv and data/occasions.tsv.

The sources are hand-written, UTF-8, tab-separated, each row with a ``source``.  Values that
hold several forms are ``|``-separated.  A Russian form is written in the nominative and
compiled into every case:

* ``Российская Федерация`` — the words up to and including the first noun take the case, the
  rest stay as written («Соединённые Штаты Америки» → «Соединённых Штатов Америки»); when the
  rest is one nominative place name, the form where it takes the case too is added
  («Республика Корея» → «Республики Корея», «Республики Кореи»);
* ``Организация [Договора о коллективной безопасности]`` — bracketed words stay as written,
  every other word takes the case;
* ``=Нью-Дели`` — the form as written, nothing more (for names pymorphy3 gets wrong, give
  each case so).

(``tgscope.events.forms.phrase_forms`` puts every word of a phrase in the case, which turns
the genitive in «Соединённые Штаты Америки» into «Америку», and its accusative of a plural
place takes the animate form, «Соединённых Штаты»: names of places and bodies need the head
noun phrase alone, inanimate.)

Every Russian form with «ё» is also written with «е», and every form with an apostrophe in
both spellings (' and ’).  Russian adjectives (``adjectives_ru``) are given as the masculine
nominative and compiled into every gender, number and case.  ``ambiguities.tsv`` lists forms
that would name two countries, or a country and something else, and what to do with them (drop
it everywhere, or keep it for one country); the compile fails on a form under two countries
that it does not list.

    python scripts/compile_places.py            # write the compiled files
    python scripts/compile_places.py --check    # exit 1 when they are not what the sources give
"""

from __future__ import annotations

import argparse
import gettext
import re
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pycountry

from tgscope.errors import ParseError
from tgscope.events.forms import CASES

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "tgscope" / "events" / "data"
SOURCES = DATA / "places"

FORM_COLUMNS = ("forms_en", "adjectives_en", "forms_ru", "adjectives_ru")
COUNTRY_SOURCE = ("alpha3", "name_en", *FORM_COLUMNS, "capital", "source")
COUNTRY_COLUMNS = ("alpha3", "alpha2", "name_en", *FORM_COLUMNS, "capital", "source")
CITY_COLUMNS = ("name_en", "country", "forms_en", "forms_ru", "capital", "source", "note")
OCCASION_COLUMNS = (
    *("code", "kind", "org", "forms_en", "forms_ru"),
    *("venue_city", "venue_country", "multilateral", "source"),
)
AMBIGUITY_COLUMNS = ("form", "countries", "decision", "source", "note")
KINDS = ("summit", "organisation", "forum", "format", "event")  # event: Victory Day, the Olympics
PYCOUNTRY_SOURCE = "pycountry (ISO 3166-1; Russian names from its iso3166-1 ru locale)"

Record = dict[str, Any]  # a compiled row: for each column a string or a list of forms


# --- reading the sources -------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    path: Path
    line: int
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def error(self, message: str) -> ParseError:
        return ParseError(message, path=_shown(self.path), line=self.line)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def read_tsv(path: Path, columns: tuple[str, ...]) -> list[Row]:
    """The rows of a source file (``#`` lines and blank lines skipped), checked for their
    columns and a source."""
    rows: list[Row] = []
    header: list[str] | None = None
    with path.open(encoding="utf-8", newline="") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.split("\t")
            if header is None:
                header = cells
                if tuple(header) != columns:
                    message = f"the header must be: {' '.join(columns)}"
                    raise ParseError(message, path=_shown(path), line=number)
                continue
            if len(cells) != len(columns):
                message = f"{len(cells)} columns, expected {len(columns)}"
                raise ParseError(message, path=_shown(path), line=number)
            row = Row(path, number, dict(zip(columns, map(str.strip, cells), strict=True)))
            if "source" in row.values and not row["source"]:
                raise row.error("no source")
            rows.append(row)
    return rows


def split(value: str) -> list[str]:
    return [part.strip() for part in value.split("|") if part.strip()]


def unique(forms: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(form for form in forms if form))


# --- surface forms -------------------------------------------------------------------------


def spelling_variants(forms: Iterable[str]) -> list[str]:
    """Each form, then its «е» spelling when it has «ё», and its other apostrophe."""
    out: list[str] = []
    for form in forms:
        variants = [form]
        if "ё" in form or "Ё" in form:
            variants.append(form.replace("ё", "е").replace("Ё", "Е"))
        for variant in list(variants):
            if "'" in variant:
                variants.append(variant.replace("'", "’"))
            elif "’" in variant:
                variants.append(variant.replace("’", "'"))
        out.extend(variants)
    return unique(out)


@cache
def _analyzer() -> Any:
    import pymorphy3
    import pymorphy3_dicts_ru  # type: ignore[import-untyped]

    return pymorphy3.MorphAnalyzer(path=pymorphy3_dicts_ru.get_path())


ADJECTIVE_ENDING = re.compile(r"(?:ый|ий|ой|ая|яя|ое|ее|ые|ие)$")


def _nominative_parse(word: str) -> Any:
    """The analysis to inflect from: a place name's, else a noun's, else any nominative one;
    None for a word that does not change (abbreviations, indeclinable names)."""
    if not word[:1].isalpha() or any(c.isupper() for c in word[1:]) or "'" in word or "’" in word:
        return None  # abbreviations (РФ, БиГ), МакДональд, Кот-д'Ивуар
    parses = [parse for parse in _analyzer().parse(word) if "nomn" in parse.tag]
    if ADJECTIVE_ENDING.search(word):  # «Каспийский», «Примаковские»: not the place or surname
        parses.sort(key=lambda parse: parse.tag.POS not in ("ADJF", "PRTF"))
    else:  # stable: pymorphy3's order otherwise
        parses.sort(key=lambda parse: "Geox" not in parse.tag)
    for parse in parses:
        if parse.tag.POS in ("NOUN", "ADJF", "PRTF"):
            return None if "Fixd" in parse.tag else parse
    return None


def _same_case_as(model: str, word: str) -> str:
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def inflect_word(word: str, case: str) -> str:
    """``word`` (nominative) in ``case``; a hyphenated word changes its last part only, a
    quoted one («квартет») inside its quotes."""
    quoted = re.fullmatch(r"(«?)([^«»]+)(»?)", word)
    if quoted and (quoted[1] or quoted[3]):
        return f"{quoted[1]}{inflect_word(quoted[2], case)}{quoted[3]}"
    if "-" in word:
        head, _, tail = word.rpartition("-")
        return f"{head}-{inflect_word(tail, case)}"
    parse = _nominative_parse(word)
    if parse is None:
        return word
    grammemes = {case}
    adjective = parse.tag.POS in ("ADJF", "PRTF")
    if case == "accs" and adjective and ("masc" in parse.tag or "plur" in parse.tag):
        grammemes.add("inan")  # names of places and bodies: «Объединённые Арабские Эмираты»
    inflected = parse.inflect(grammemes)
    return word if inflected is None else _same_case_as(word, inflected.word)


def _is_noun(word: str, *grammemes: str) -> bool:
    parse = _nominative_parse(word.rpartition("-")[2].strip("«»"))
    return parse is not None and parse.tag.POS == "NOUN" and all(g in parse.tag for g in grammemes)


def _tokens(spec: str) -> list[tuple[str, bool]]:
    """(word or bracketed group, takes the case?) for a form's specification."""
    found = re.findall(r"\[[^\]]*\]|[^\s\[\]]+", spec)
    if any(token.startswith("[") for token in found):
        return [(token.strip("[]"), not token.startswith("[")) for token in found]
    tokens: list[tuple[str, bool]] = []
    head_seen = False
    for token in found:
        # «Босния и Герцеговина»: a conjunction after a word that changed starts a new part
        after_changed = token == "и" and bool(tokens) and tokens[-1][1]
        tokens.append((token, not head_seen))
        head_seen = not after_changed and (head_seen or _is_noun(token))
    return tokens


def ru_forms(spec: str) -> list[str]:
    """Every case of one Russian form's specification (see the module's docstring)."""
    if spec.startswith("="):
        return [spec[1:]]
    variants = [_tokens(spec)]
    rest = [token for token, changes in variants[0] if not changes]
    if (
        len(rest) == 1
        and len(variants[0]) > 1
        and "[" not in spec
        and _is_noun(rest[0], "Geox", "sing")
    ):
        variants.append([(token, True) for token, _ in variants[0]])
    forms = [spec.replace("[", "").replace("]", "")]
    for number, tokens in enumerate(variants):
        for case in CASES:
            words = [inflect_word(t, case) if c else t for t, c in tokens]
            if number and words[0] == tokens[0][0] and case != "nomn":
                continue  # not «Государство Эритрею»: the appositive follows its head
            forms.append(" ".join(words))
    return unique(forms)


def ru_adjective_forms(adjective: str) -> list[str]:
    """Every gender, number and case of a (masculine nominative) adjective."""
    for parse in _analyzer().parse(adjective):
        if parse.tag.POS == "ADJF" and {"masc", "nomn"} <= parse.tag.grammemes:
            words = [form.word for form in parse.lexeme if form.tag.POS == "ADJF"]
            return unique([adjective, *words])
    return [adjective]


def compile_ru(specs: Iterable[str]) -> list[str]:
    return spelling_variants(form for spec in specs for form in ru_forms(spec))


def compile_ru_adjectives(adjectives: Iterable[str]) -> list[str]:
    return spelling_variants(f for adjective in adjectives for f in ru_adjective_forms(adjective))


# --- countries -----------------------------------------------------------------------------


def _plain(text: str) -> str:
    """pycountry's Russian names carry stress marks («Осо́бый»): drop them."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).replace("\u0301", ""))


def _usable(name: str) -> bool:
    """ISO's inverted names («Korea, Republic of») and bracketed notes are not how texts
    name a country."""
    return "," not in name and "(" not in name


def pycountry_names(country: Any) -> tuple[list[str], list[str]]:
    """(English names, Russian names) pycountry gives for a country."""
    russian = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ru"])
    english = [getattr(country, key, "") for key in ("common_name", "name", "official_name")]
    names_ru = [_plain(russian.gettext(name)) for name in english if name]
    english = [name.removeprefix("the ") for name in english if name]
    return [n for n in unique(english) if _usable(n)], [n for n in unique(names_ru) if _usable(n)]


def country_rows(source_rows: list[Row], path: Path) -> list[Record]:
    """One compiled row (lists for the multi-valued columns) per ISO 3166-1 country."""
    by_code: dict[str, Row] = {}
    for row in source_rows:
        if pycountry.countries.get(alpha_3=row["alpha3"]) is None:
            raise row.error(f"{row['alpha3']!r} is not an ISO 3166-1 alpha-3 code")
        if row["alpha3"] in by_code:
            raise row.error(f"{row['alpha3']} is listed twice")
        by_code[row["alpha3"]] = row
    return [_country_row(c, by_code.get(c.alpha_3), path) for c in pycountry.countries]


def _country_row(country: Any, row: Row | None, path: Path) -> Record:
    names_en, names_ru = pycountry_names(country)
    extra = row.values if row else dict.fromkeys(COUNTRY_SOURCE, "")
    name_en = extra["name_en"] or (names_en[0] if names_en else "")
    if not name_en:
        raise ParseError(f"{country.alpha_3} needs a name_en", path=_shown(path))
    return {
        "alpha3": country.alpha_3,
        "alpha2": country.alpha_2,
        "name_en": name_en,
        "forms_en": spelling_variants([name_en, *names_en, *split(extra["forms_en"])]),
        "adjectives_en": spelling_variants(split(extra["adjectives_en"])),
        "forms_ru": compile_ru(_with_overrides(names_ru, split(extra["forms_ru"]))),
        "adjectives_ru": compile_ru_adjectives(split(extra["adjectives_ru"])),
        "capital": extra["capital"],
        "source": unique([PYCOUNTRY_SOURCE, *split(extra["source"])]),
    }


def _with_overrides(names: list[str], specs: list[str]) -> list[str]:
    """pycountry's names, then the source's specifications; a name the source gives a
    specification for (``=Кот-д'Ивуар``, ``Республика [Кот-д'Ивуар]``) is left to it."""
    given = {re.sub(r"[\[\]]", "", spec.removeprefix("=")) for spec in specs}
    return [*(name for name in names if name not in given), *specs]


def read_ambiguities(path: Path) -> dict[str, tuple[frozenset[str], str]]:
    """form → (the countries it could name, the decision: ``drop`` or ``keep:ALPHA3``)."""
    out: dict[str, tuple[frozenset[str], str]] = {}
    for row in read_tsv(path, AMBIGUITY_COLUMNS):
        decision = row["decision"]
        if decision != "drop" and not re.fullmatch(r"keep:[A-Z]{3}", decision):
            raise row.error(f"decision must be drop or keep:ALPHA3, not {decision!r}")
        out[row["form"]] = (frozenset(split(row["countries"])), decision)
    return out


def resolve_ambiguities(rows: list[Record], path: Path) -> None:
    """Apply ``ambiguities.tsv`` to the compiled rows; raise on a form that names two
    countries and is not listed, or on a listed form that names none or others."""
    ambiguities = read_ambiguities(path)
    owners: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for column in FORM_COLUMNS:
            for form in row[column]:
                owners[form].add(row["alpha3"])
    for form, codes in owners.items():
        if len(codes) > 1 and form not in ambiguities:
            raise ParseError(
                f"{form!r} names {', '.join(sorted(codes))}: list it", path=_shown(path)
            )
    for form, (listed, decision) in ambiguities.items():
        if not owners.get(form) or not owners[form] <= listed:
            found = ", ".join(sorted(owners.get(form, ()))) or "nothing"
            message = f"{form!r} is listed for {', '.join(sorted(listed))} but names {found}"
            raise ParseError(message, path=_shown(path))
        kept = decision.removeprefix("keep:") if decision != "drop" else None
        for row in rows:
            if row["alpha3"] != kept:
                for column in FORM_COLUMNS:
                    row[column] = [f for f in row[column] if f != form]


# --- cities and occasions ------------------------------------------------------------------


def city_rows(source_rows: list[Row], countries: list[Record], path: Path) -> list[Record]:
    """The compiled cities, each checked (an ISO country, one row per city) and noted when a
    name is also a country's («Сингапур», «Алжир»)."""
    codes = {row["alpha3"] for row in countries}
    country_of = {
        form: row["alpha3"] for row in countries for form in row["forms_en"] + row["forms_ru"]
    }
    rows: list[Record] = []
    seen: set[tuple[str, str]] = set()
    for row in source_rows:
        if row["country"] not in codes:
            raise row.error(f"{row['country']!r} is not an ISO 3166-1 alpha-3 code")
        if row["capital"] not in ("0", "1"):
            raise row.error("capital must be 1 or 0")
        if (row["name_en"], row["country"]) in seen:
            raise row.error(f"{row['name_en']} ({row['country']}) is listed twice")
        seen.add((row["name_en"], row["country"]))
        forms_en = spelling_variants([row["name_en"], *split(row["forms_en"])])
        forms_ru = compile_ru(split(row["forms_ru"]))
        note = [row["note"]] if row["note"] else []
        same = sorted({country_of[form] for form in forms_en + forms_ru if form in country_of})
        if same:
            note.append("also the name of a country: " + ", ".join(same))
        compiled = {"forms_en": forms_en, "forms_ru": forms_ru, "note": "; ".join(note)}
        rows.append({**row.values, **compiled})
    _check_capitals(rows, countries, path.with_name("countries.tsv"))
    _check_city_forms(rows, path)
    return rows


def _check_capitals(cities: list[Record], countries: list[Record], path: Path) -> None:
    capitals = {(row["name_en"], row["country"]) for row in cities if row["capital"] == "1"}
    for country in countries:
        if country["capital"] and (country["capital"], country["alpha3"]) not in capitals:
            message = (
                f"{country['alpha3']}'s capital {country['capital']} is no capital in cities.tsv"
            )
            raise ParseError(message, path=_shown(path))


def _check_city_forms(cities: list[Record], path: Path) -> None:
    owners: dict[str, str] = {}
    for row in cities:
        city = f"{row['name_en']} ({row['country']})"
        for form in row["forms_en"] + row["forms_ru"]:
            other = owners.setdefault(form, city)
            if other != city:
                raise ParseError(f"{form!r} names both {other} and {city}", path=_shown(path))


def occasion_rows(source_rows: list[Row], cities: list[Record]) -> list[Record]:
    """The compiled occasions, each checked (kind, venue in cities.tsv, one row per code)."""
    places = {(row["name_en"], row["country"]) for row in cities}
    rows: list[Record] = []
    seen: set[str] = set()
    for row in source_rows:
        if row["kind"] not in KINDS:
            raise row.error(f"kind must be one of {', '.join(KINDS)}")
        if row["multilateral"] not in ("0", "1"):
            raise row.error("multilateral must be 1 or 0")
        venue = (row["venue_city"], row["venue_country"])
        if any(venue) and venue not in places:
            raise row.error(f"venue {venue[0]} ({venue[1]}) is not in cities.tsv")
        if row["code"] in seen:
            raise row.error(f"{row['code']} is listed twice")
        seen.add(row["code"])
        forms_en = spelling_variants([row["code"], *split(row["forms_en"])])
        rows.append(
            {**row.values, "forms_en": forms_en, "forms_ru": compile_ru(split(row["forms_ru"]))}
        )
    return rows


# --- writing -------------------------------------------------------------------------------


def render(rows: list[Record], columns: tuple[str, ...], sources: str) -> str:
    """A compiled file's text: the comment line, the header, one line per row."""
    lines = [
        f"# compiled by scripts/compile_places.py from {sources}; do not edit",
        "\t".join(columns),
    ]
    for row in rows:
        cells = ["|".join(row[c]) if isinstance(row[c], list) else row[c] for c in columns]
        bad = next((cell for cell in cells if "\t" in cell or "\n" in cell), None)
        if bad is not None:
            raise ParseError(f"a tab or a line break in {bad!r}", path=sources)
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def compile_all(sources: Path = SOURCES) -> dict[str, str]:
    """File name → compiled text, for the three compiled files."""
    countries_path, cities_path = sources / "countries.tsv", sources / "cities.tsv"
    countries = country_rows(read_tsv(countries_path, COUNTRY_SOURCE), countries_path)
    resolve_ambiguities(countries, sources / "ambiguities.tsv")
    cities = city_rows(read_tsv(cities_path, CITY_COLUMNS), countries, cities_path)
    occasions = occasion_rows(read_tsv(sources / "occasions.tsv", OCCASION_COLUMNS), cities)
    from_countries = (
        f"pycountry {version('pycountry')}, places/countries.tsv, places/ambiguities.tsv"
    )
    return {
        "countries.tsv": render(countries, COUNTRY_COLUMNS, from_countries),
        "cities.tsv": render(cities, CITY_COLUMNS, "places/cities.tsv"),
        "occasions.tsv": render(occasions, OCCASION_COLUMNS, "places/occasions.tsv"),
    }


def stale(compiled: dict[str, str], out: Path) -> Iterator[str]:
    """The compiled files in ``out`` that are missing or differ from ``compiled``."""
    for name, text in compiled.items():
        path = out / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            yield _shown(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a compiled file is stale")
    parser.add_argument("--sources", type=Path, default=SOURCES, help="the source folder")
    parser.add_argument("--out", type=Path, default=DATA, help="the folder of the compiled files")
    args = parser.parse_args(argv)
    try:
        compiled = compile_all(args.sources)
    except ParseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.check:
        outdated = list(stale(compiled, args.out))
        for path in outdated:
            print(
                f"{path} is not what the sources give: run scripts/compile_places.py",
                file=sys.stderr,
            )
        return 1 if outdated else 0
    for name, text in compiled.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"{_shown(args.out / name)}: {text.count(chr(10)) - 2} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
