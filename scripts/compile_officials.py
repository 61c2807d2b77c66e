"""Compile the officials dictionary: data/officials/*.tsv → data/officials.tsv.

Each source file is UTF-8, tab-separated, its first line the header ``COLUMNS`` (one row per
person per office term).  Every row is checked (columns, rank, ISO alpha-3 codes, dates, a
source URL, no two rows for one (name_en, role, start)); an error is one line naming the
file and line.  The compiled file holds the same columns plus ``forms_en`` and ``forms_ru``:
every surface form the extractor should match, the Russian ones in each of the six cases
(pymorphy3 for the names its dictionary knows, the rules for foreign names for the rest; see
``name_forms``), so that extraction never loads pymorphy3.  Rows are sorted (country, org,
rank, start, name_en, role) so that the output is stable.

    python scripts/compile_officials.py            # write the compiled file
    python scripts/compile_officials.py --check    # exit 1 when it is not what the sources give
    python scripts/compile_officials.py --sources DIR --out FILE
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from tgscope.errors import ParseError
from tgscope.events.forms import CASES
from tgscope.events.lexicon import RANKS

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "tgscope" / "events" / "data"
SOURCES = DATA / "officials"
OUT = DATA / "officials.tsv"

COLUMNS = (
    "country",
    "org",
    "rank",
    "role",
    "name_en",
    "aliases_en",
    "short_en",
    "name_ru",
    "aliases_ru",
    "short_ru",
    "gender",
    "ru_fixed",
    "start",
    "end",
    "posted_to",
    "source",
    "note",
)
COMPILED_COLUMNS = (*COLUMNS, "forms_en", "forms_ru")
HEADER_COMMENT = "# compiled by scripts/compile_officials.py from data/officials/*.tsv; do not edit"

_ALPHA3 = re.compile(r"[A-Z]{3}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_URL = re.compile(r"https?://\S+")
_ORG = re.compile(r"[A-Z][A-Za-z0-9-]{1,15}")  # UN, EU, NATO, SCO, BRICS, ASEAN, AU, …


@dataclass(frozen=True)
class SourceRow:
    """One row of a source file, with where it came from (for error messages)."""

    values: dict[str, str]
    path: Path
    line: int


def _alpha3_codes() -> frozenset[str] | None:
    """The ISO 3166-1 alpha-3 codes, from pycountry when it is installed; else None (then a
    code is only checked to be three capital letters)."""
    try:
        import pycountry  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    return frozenset(country.alpha_3 for country in pycountry.countries)


def read_sources(directory: Path) -> tuple[list[SourceRow], list[ParseError]]:
    """Every good row of every ``*.tsv`` in ``directory``, and a ParseError for each bad one
    (blank lines and lines that start with ``#`` are skipped)."""
    files = sorted(directory.glob("*.tsv"))
    if not files:
        return [], [ParseError("no *.tsv source files", path=str(directory))]
    codes = _alpha3_codes()
    rows: list[SourceRow] = []
    errors: list[ParseError] = []
    for path in files:
        _read_file(path, codes, rows, errors)
    errors.extend(_duplicates(rows))
    return rows, errors


def _read_file(
    path: Path, codes: frozenset[str] | None, rows: list[SourceRow], errors: list[ParseError]
) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    header_seen = False
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if not header_seen:
            if tuple(fields) != COLUMNS:
                message = f"header must be: {' '.join(COLUMNS)}"
                errors.append(ParseError(message, path=str(path), line=number))
                return
            header_seen = True
            continue
        if len(fields) != len(COLUMNS):
            message = f"{len(fields)} columns, expected {len(COLUMNS)}"
            errors.append(ParseError(message, path=str(path), line=number))
            continue
        values = {column: field.strip() for column, field in zip(COLUMNS, fields, strict=True)}
        problem = row_problem(values, codes)
        if problem:
            errors.append(ParseError(problem, path=str(path), line=number))
        else:
            rows.append(SourceRow(values, path, number))


def row_problem(row: dict[str, str], codes: frozenset[str] | None = None) -> str | None:
    """What is wrong with a row, in a few words; None when it is fine."""
    checks = (
        _where_problem,
        _rank_problem,
        _names_problem,
        _dates_problem,
        _source_problem,
    )
    for check in checks:
        problem = check(row, codes)
        if problem:
            return problem
    return None


def _code_problem(field: str, value: str, codes: frozenset[str] | None) -> str | None:
    if not _ALPHA3.fullmatch(value):
        return f"{field} {value!r} is not an ISO 3166-1 alpha-3 code"
    if codes is not None and value not in codes:
        return f"{field} {value!r} is not an ISO 3166-1 alpha-3 code"
    return None


def _where_problem(row: dict[str, str], codes: frozenset[str] | None) -> str | None:
    country, org, posted_to = row["country"], row["org"], row["posted_to"]
    if bool(country) == bool(org):
        return "give either country (a state's official) or org (an international body's)"
    if country and (problem := _code_problem("country", country, codes)):
        return problem
    if org and not _ORG.fullmatch(org):
        return f"org {org!r} is not an abbreviation such as UN, EU, NATO"
    if posted_to and (problem := _code_problem("posted_to", posted_to, codes)):
        return problem
    if posted_to and row["rank"] != "ambassador":
        return "posted_to is for ambassadors only"
    return None


def _rank_problem(row: dict[str, str], codes: frozenset[str] | None) -> str | None:
    if row["rank"] not in RANKS:
        return f"rank {row['rank']!r} is not one of {' '.join(RANKS)}"
    if not row["role"]:
        return "role is empty"
    return None


def _names_problem(row: dict[str, str], codes: frozenset[str] | None) -> str | None:
    for column in ("name_en", "name_ru"):
        if not row[column]:
            return f"{column} is empty"
    if not row["name_en"].isascii():
        return f"name_en {row['name_en']!r} has diacritics (put that spelling in aliases_en)"
    if row["gender"] not in ("m", "f"):
        return f"gender {row['gender']!r} is not m or f"
    if row["ru_fixed"] not in ("", "1"):
        return f"ru_fixed {row['ru_fixed']!r} is not 1 or empty"
    for column in ("aliases_en", "aliases_ru"):
        if row[column] and any(not alias.strip() for alias in row[column].split("|")):
            return f"{column} has an empty alias"
    return None


def _parse_date(value: str) -> date | None:
    if not _ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _dates_problem(row: dict[str, str], codes: frozenset[str] | None) -> str | None:
    start = _parse_date(row["start"])
    if start is None:
        return f"start {row['start']!r} is not a YYYY-MM-DD date"
    if not row["end"]:
        return None
    end = _parse_date(row["end"])
    if end is None:
        return f"end {row['end']!r} is not a YYYY-MM-DD date"
    if end < start:
        return f"end {row['end']} is before start {row['start']}"
    return None


def _source_problem(row: dict[str, str], codes: frozenset[str] | None) -> str | None:
    if not _URL.fullmatch(row["source"]):
        return f"source {row['source']!r} is not a URL"
    return None


def _duplicates(rows: list[SourceRow]) -> list[ParseError]:
    seen: dict[tuple[str, str, str], SourceRow] = {}
    errors = []
    for row in rows:
        key = (row.values["name_en"], row.values["role"], row.values["start"])
        if key in seen:
            first = seen[key]
            message = f"{key[0]} / {key[1]} / {key[2]} is also at {first.path.name}:{first.line}"
            errors.append(ParseError(message, path=str(row.path), line=row.line))
        else:
            seen[key] = row
    return errors


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split("|") if part.strip()]


def _unique(forms: list[str]) -> list[str]:
    return list(dict.fromkeys(forms))


def forms_en(row: dict[str, str]) -> list[str]:
    """The English forms: the name, its aliases and the short form, each once."""
    return _unique([row["name_en"], *_split(row["aliases_en"]), *_split(row["short_en"])])


# Russian person names in each case.  pymorphy3 inflects the names its dictionary knows
# (Сергей, Лавров, Захарова, Джон); for the rest it guesses from endings of ordinary words
# («Олаф» → «Олафы», «Милей» → «Миля», «Драги» → «Драг», «Мевлют» → «Мевлютый»), so
# unknown words follow the rules Russian grammar gives foreign names instead: a name ending
# in -о, -е, -и, -у, -ю, -э, -ы does not decline (Моди, Конте, Чавушоглу); a man's name in a
# consonant, -й or -ь declines as a masculine noun (Шольц → Шольца, Шольцем); a name in -а or
# -я declines as «мама» / «Маня» (Зума → Зумы, Небензя → Небензи); a woman's name in a
# consonant does not (Меркель).

_NAME_TAGS = ("Name", "Surn", "Patr")
_FIXED_ENDINGS = frozenset("оеёэиыуюОЕЁЭИЫУЮ")
_ARABIC_PARTICLES = (
    "аль",
    "ад",
    "ар",
    "ас",
    "ат",
    "эд",
    "эль",
    "бен",
    "бин",
    "ибн",
    "абдель",
    "абуль",
)
_EUROPEAN_PARTICLES = ("да", "де", "дель", "дер", "ди", "дос", "дю", "ду", "ла", "ле", "фон", "ван")
_PARTICLES = frozenset((*_ARABIC_PARTICLES, *_EUROPEAN_PARTICLES))
_HUSHING = frozenset("жшчщц")
_VOWELS = frozenset("аеёиоуыэюя")
_VELAR_OR_HUSHING = frozenset("гкхжшчщ")


@cache
def _analyzer() -> Any:
    """pymorphy3's analyser (loaded once; only this script needs it)."""
    import pymorphy3
    import pymorphy3_dicts_ru  # type: ignore[import-untyped]

    return pymorphy3.MorphAnalyzer(path=pymorphy3_dicts_ru.get_path())


def name_forms(name: str, *, gender: str) -> list[str]:
    """``name`` (nominative) in each case, the given form first, every word in the same case."""
    words = name.split()
    forms = [name]
    for case in CASES[1:]:
        last = len(words) - 1
        inflected = (_name_word(word, case, gender, i == last) for i, word in enumerate(words))
        forms.append(" ".join(inflected))
    return _unique(forms)


def _name_word(word: str, case: str, gender: str, last: bool) -> str:
    if "-" in word.strip("-"):  # «Жан-Марк», «аль-Джубейр»: the last part declines
        head, _, tail = word.rpartition("-")
        return f"{head}-{_name_word(tail, case, gender, last)}"
    if not word.isalpha() or (word.isupper() and len(word) > 1):
        return word  # II, III, abbreviations
    if word.lower() in _PARTICLES:
        return word  # «бен», «Аль», «фон», «де»; «Абдель» in «Абдель Азиз»
    if word.islower():
        return _known_word(word, case, gender) or word
    return _known_word(word, case, gender) or _foreign_word(word, case, gender, last)


def _known_word(word: str, case: str, gender: str) -> str | None:
    """``word`` in ``case`` when pymorphy3's dictionary knows it as a nominative name (or as
    a common noun, for lower-case words such as «король»); else None."""
    lower = word.lower()
    want_name = not word.islower()
    for parse in _analyzer().parse(lower):
        tag = parse.tag
        if not parse.is_known or "nomn" not in tag or "sing" not in tag:
            continue
        if want_name and not any(name_tag in tag for name_tag in _NAME_TAGS):
            continue
        if want_name and ("masc" if gender == "m" else "femn") not in tag:
            continue
        inflected = parse.inflect({case, "sing"})
        if inflected is None:
            return None
        return _capitalised_as(word, inflected.word)
    return None


def _capitalised_as(model: str, word: str) -> str:
    return word[:1].upper() + word[1:] if model[:1].isupper() else word


# the endings of each case after the stem, for (the kind of word) → (gent, datv, accs, ablt, loct)
_ENDINGS = {
    "adj_ova": ("ой", "ой", "у", "ой", "ой"),  # Захарова: stem «Захаров»
    "adj_skaya": ("ой", "ой", "ую", "ой", "ой"),  # Лавровская: stem «Лавровск»
    "adj_skiy": ("ого", "ому", "ого", "им", "ом"),  # Любинский: stem «Любинск»
    "adj_yy": ("ого", "ому", "ого", "ым", "ом"),  # Трубецкой: stem «Трубецк»
    "ov": ("а", "у", "а", "ым", "е"),  # Рябков: stem as is
    "cons": ("а", "у", "а", "ом", "е"),  # Фидан
    "cons_hush": ("а", "у", "а", "ем", "е"),  # Шольц
    "iy": ("я", "ю", "я", "ем", "е"),  # Милей: stem «Миле»
    "soft": ("я", "ю", "я", "ем", "е"),  # Габриэль: stem «Габриэл»
    "ij": ("я", "ю", "я", "ем", "и"),  # Георгий: stem «Георги»
    "a": ("ы", "е", "у", "ой", "е"),  # Зума: stem «Зум»
    "a_velar": ("и", "е", "у", "ой", "е"),  # Кисида… Фуэнтеха, Лука: stem «Лук»
    "a_hush": ("и", "е", "у", "ей", "е"),  # Саша-type: stem «Саш»
    "ya": ("и", "е", "ю", "ей", "е"),  # Небензя: stem «Небенз»
    "iya": ("и", "и", "ю", "ей", "и"),  # Мария: stem «Мари»
}


def _foreign_word(word: str, case: str, gender: str, last: bool) -> str:
    """A name pymorphy3 does not know, in ``case`` by the rules for foreign names (``last``:
    the name's last word, where a Russian surname in -ов or -ин takes -ым)."""
    found = _stem_and_kind(word, gender, last)
    if found is None:
        return word
    stem, kind = found
    return stem + _ENDINGS[kind][CASES.index(case) - 1]


def _stem_and_kind(word: str, gender: str, last: bool) -> tuple[str, str] | None:
    lower = word.lower()
    if len(lower) < 3 or lower[-1] in _FIXED_ENDINGS:
        return None  # Ба, Ли; Моди, Конте, Чавушоглу
    if lower[-1] == "а" and lower[-2] in _VOWELS:
        return None  # Жомаа, Мутуа: a vowel before the final -а
    if lower[-1] in "ая":
        return _feminine_type(word, lower, gender)
    if gender == "f":
        return None  # Меркель, Бербок, Пейн
    return _masculine_type(word, lower, last)


def _feminine_type(word: str, lower: str, gender: str) -> tuple[str, str]:
    """Words in -а / -я, of either gender (Зума, Кисида, Небензя, Захарова)."""
    adjectival = lower.endswith(("ова", "ева", "ёва")) and len(lower) > 4
    if gender == "f" and adjectival:  # Чапутова; a man's name in -ова is a noun
        return word[:-1], "adj_ova"
    if lower.endswith(("ская", "цкая")):
        return word[:-2], "adj_skaya"
    if lower.endswith("ия"):
        return word[:-1], "iya"
    if lower.endswith("я"):
        return word[:-1], "ya"
    stem_last = lower[-2] if len(lower) > 1 else ""
    if stem_last in _HUSHING - {"ц"}:
        return word[:-1], "a_hush"
    if stem_last in _VELAR_OR_HUSHING:
        return word[:-1], "a_velar"
    return word[:-1], "a"


def _masculine_type(word: str, lower: str, last: bool) -> tuple[str, str]:
    """A man's name in a consonant, -й or -ь (Шольц, Милей, Габриэль, Рябков)."""
    if lower.endswith(("ский", "цкий")):
        return word[:-2], "adj_skiy"
    if lower.endswith(("ской", "цкой")):
        return word[:-2], "adj_yy"
    if lower.endswith("ий"):
        return word[:-1], "ij"
    if lower.endswith("й"):
        return word[:-1], "iy"
    if lower.endswith("ь"):
        return word[:-1], "soft"
    if last and lower.endswith(("ов", "ев", "ёв", "ин", "ын")) and len(lower) > 4:
        return word, "ov"
    if lower[-1] in _HUSHING:
        return word, "cons_hush"
    return word, "cons"


def _last_word_forms(name: str) -> list[str]:
    """A Chinese, Korean or Vietnamese man's name: only its last syllable declines, and
    only when it ends in a consonant (Си Цзиньпина, Цинь Гана; Ван И stays)."""
    head, _, last = name.rpartition(" ")
    if not last or last[-1].lower() in _VOWELS or not last.isalpha():
        return []
    forms = []
    for case in CASES[1:]:
        word = _foreign_word(last, case, "m", False)
        forms.append(f"{head} {word}".strip())
    return forms


def forms_ru(row: dict[str, str]) -> list[str]:
    """The Russian forms: every case of the name, its aliases and the short form (as given
    when ``ru_fixed``), and each with ё written as е too."""
    names = [row["name_ru"], *_split(row["aliases_ru"]), *_split(row["short_ru"])]
    forms: list[str] = []
    for name in names:
        if row["ru_fixed"] == "1":
            forms.append(name)
            if row["gender"] == "m":  # «Си Цзиньпином», «Цинь Ганом», «Ким Чен Ына»
                forms.extend(_last_word_forms(name))
        else:
            forms.extend(name_forms(name, gender=row["gender"]))
    with_e = []
    for form in forms:
        with_e.append(form)
        if "ё" in form or "Ё" in form:
            with_e.append(form.replace("ё", "е").replace("Ё", "Е"))
    return _unique(with_e)


def _sort_key(values: dict[str, str]) -> tuple[str, str, int, str, str, str]:
    return (
        values["country"],
        values["org"],
        RANKS.index(values["rank"]),
        values["start"],
        values["name_en"],
        values["role"],
    )


def compile_text(rows: list[SourceRow]) -> str:
    """The compiled file's text: a comment line, the header, the rows sorted by (country,
    org, rank, start, name_en, role) so that the output is stable."""
    lines = [HEADER_COMMENT, "\t".join(COMPILED_COLUMNS)]
    for values in sorted((row.values for row in rows), key=_sort_key):
        extra = ["|".join(forms_en(values)), "|".join(forms_ru(values))]
        lines.append("\t".join([*(values[column] for column in COLUMNS), *extra]))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, default=SOURCES, help="folder of *.tsv parts")
    parser.add_argument("--out", type=Path, default=OUT, help="the compiled file")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the compiled file is out of date"
    )
    args = parser.parse_args(argv)
    rows, errors = read_sources(args.sources)
    if errors:
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        return 1
    text = compile_text(rows)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else None
        if current != text:
            print(
                f"{args.out} is not what {args.sources} gives: "
                "run python scripts/compile_officials.py",
                file=sys.stderr,
            )
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"{args.out}: {len(rows)} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
