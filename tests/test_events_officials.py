"""The officials dictionary: its compile script, the compiled file, and the data's sanity."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

SCRIPT = ROOT / "scripts" / "compile_officials.py"
COMPILED = ROOT / "src" / "tgscope" / "events" / "data" / "officials.tsv"
HEADER = (
    "country\torg\trank\trole\tname_en\taliases_en\tshort_en\tname_ru\taliases_ru\tshort_ru\t"
    "gender\tru_fixed\tstart\tend\tposted_to\tsource\tnote"
)
SINGLE_HOLDER_RANKS = ("head_of_state", "head_of_government", "foreign_minister")


def _load_script():
    spec = importlib.util.spec_from_file_location("compile_officials", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["compile_officials"] = module
    spec.loader.exec_module(module)
    return module


compile_officials = _load_script()


def _compiled_rows() -> list[dict[str, str]]:
    lines = [line for line in COMPILED.read_text(encoding="utf-8").splitlines()]
    assert lines[0].startswith("# compiled by scripts/compile_officials.py")
    header = lines[1].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[2:]]


def _row(name_en: str, rank: str, start: str) -> dict[str, str]:
    found = [
        row
        for row in _compiled_rows()
        if (row["name_en"], row["rank"], row["start"]) == (name_en, rank, start)
    ]
    assert len(found) == 1, (name_en, rank, start)
    return found[0]


def test_the_compiled_file_is_what_the_sources_give(capsys):
    assert compile_officials.main(["--check"]) == 0, capsys.readouterr().err


def test_lavrov_in_every_case():
    row = _row("Sergey Lavrov", "foreign_minister", "2004-03-09")
    assert row == {
        "country": "RUS",
        "org": "",
        "rank": "foreign_minister",
        "role": "Minister of Foreign Affairs",
        "name_en": "Sergey Lavrov",
        "aliases_en": "Sergei Lavrov|S. Lavrov|Sergey Viktorovich Lavrov",
        "short_en": "Lavrov",
        "name_ru": "Сергей Лавров",
        "aliases_ru": "Сергей Викторович Лавров|С. Лавров",
        "short_ru": "Лавров",
        "gender": "m",
        "ru_fixed": "",
        "start": "2004-03-09",
        "end": "",
        "posted_to": "",
        "source": "https://en.wikipedia.org/wiki/Sergey_Lavrov",
        "note": "",
        "forms_en": "Sergey Lavrov|Sergei Lavrov|S. Lavrov|Sergey Viktorovich Lavrov|Lavrov",
        "forms_ru": "|".join(
            [
                "Сергей Лавров",
                "Сергея Лаврова",
                "Сергею Лаврову",
                "Сергеем Лавровым",
                "Сергее Лаврове",
                "Сергей Викторович Лавров",
                "Сергея Викторовича Лаврова",
                "Сергею Викторовичу Лаврову",
                "Сергеем Викторовичем Лавровым",
                "Сергее Викторовиче Лаврове",
                "С. Лавров",
                "С. Лаврова",
                "С. Лаврову",
                "С. Лавровым",
                "С. Лаврове",
                "Лавров",
                "Лаврова",
                "Лаврову",
                "Лавровым",
                "Лаврове",
            ]
        ),
    }


def test_a_chinese_name_declines_only_in_its_last_consonant_syllable():
    """Russian declines a Chinese man's name in its last syllable when that ends in a
    consonant («переговоры с Цинь Ганом», «Си Цзиньпина»); Ван И stays as it is."""
    row = _row("Qin Gang", "foreign_minister", "2022-12-30")
    assert (row["country"], row["end"], row["ru_fixed"]) == ("CHN", "2023-07-25", "1")
    assert row["forms_en"] == "Qin Gang"
    assert row["forms_ru"] == "Цинь Ган|Цинь Гана|Цинь Гану|Цинь Ганом|Цинь Гане"
    assert _row("Wang Yi", "foreign_minister", "2013-03-16")["forms_ru"] == "Ван И"


def test_zakharova_declines_as_a_woman():
    row = _row("Maria Zakharova", "spokesperson", "2015-08-10")
    assert row["role"] == "Spokesperson of the Ministry of Foreign Affairs"
    assert row["forms_ru"].split("|") == [
        "Мария Захарова",
        "Марии Захаровой",
        "Марию Захарову",
        "Марией Захаровой",
        "Мария Владимировна Захарова",
        "Марии Владимировны Захаровой",
        "Марии Владимировне Захаровой",
        "Марию Владимировну Захарову",
        "Марией Владимировной Захаровой",
        "Захарова",
        "Захаровой",
        "Захарову",
    ]


def test_an_ambassador_names_the_host_country():
    row = _row("Anatoly Antonov", "ambassador", "2017-08-21")
    assert (row["country"], row["posted_to"], row["role"]) == (
        "RUS",
        "USA",
        "Ambassador to the United States",
    )


def test_an_international_body_has_no_country():
    row = _row("Antonio Guterres", "other", "2017-01-01")
    assert (row["country"], row["org"], row["role"]) == ("", "UN", "Secretary-General")
    assert "Гутерриша" in row["forms_ru"].split("|")


@pytest.mark.parametrize(
    ("name", "gender", "forms"),
    [
        # names pymorphy3 does not know decline by the rules for foreign names
        ("Олаф Шольц", "m", ["Олафа Шольца", "Олафу Шольцу", "Олафом Шольцем", "Олафе Шольце"]),
        ("Хавьер Милей", "m", ["Хавьера Милея", "Хавьеру Милею", "Хавьером Милеем"]),
        ("Джейкоб Зума", "m", ["Джейкоба Зумы", "Джейкобу Зуме", "Джейкоба Зуму"]),
        ("Нарендра Моди", "m", ["Нарендры Моди", "Нарендре Моди", "Нарендрой Моди"]),
        ("Анналена Бербок", "f", ["Анналены Бербок", "Анналену Бербок"]),
        ("Адель аль-Джубейр", "m", ["Аделя аль-Джубейра", "Аделем аль-Джубейром"]),
        ("Мухаммед бен Сальман", "m", ["Мухаммеда бен Сальмана"]),
        ("король Карл III", "m", ["короля Карла III", "королём Карлом III"]),
    ],
)
def test_russian_name_forms(name, gender, forms):
    made = compile_officials.name_forms(name, gender=gender)
    assert made[0] == name
    assert set(forms) <= set(made), made


@pytest.mark.parametrize(
    "name", ["Марио Драги", "Мевлют Чавушоглу", "Джузеппе Конте", "Тосимицу Мотэги"]
)
def test_names_in_vowels_do_not_decline(name):
    """pymorphy3 alone makes «Драг», «Чавушогла», «Конт»: forms that match other words."""
    made = compile_officials.name_forms(name, gender="m")
    surname = name.split()[-1]
    assert all(form.endswith(" " + surname) for form in made), made


def _write_part(directory: Path, *rows: str) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / "part.tsv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


GOOD = (
    "RUS\t\tforeign_minister\tMinister of Foreign Affairs\tSergey Lavrov\t\tLavrov\t"
    "Сергей Лавров\t\tЛавров\tm\t\t2004-03-09\t\t\thttps://en.wikipedia.org/wiki/Sergey_Lavrov\t"
)


def test_a_part_file_compiles_to_the_given_output(tmp_path):
    _write_part(tmp_path / "parts", GOOD)
    out = tmp_path / "officials.tsv"
    assert compile_officials.main(["--sources", str(tmp_path / "parts"), "--out", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == compile_officials.HEADER_COMMENT
    assert lines[1] == HEADER + "\tforms_en\tforms_ru"
    assert lines[2].split("\t")[-2:] == [
        "Sergey Lavrov|Lavrov",
        "Сергей Лавров|Сергея Лаврова|Сергею Лаврову|Сергеем Лавровым|Сергее Лаврове"
        "|Лавров|Лаврова|Лаврову|Лавровым|Лаврове",
    ]
    assert len(lines) == 3
    args = ["--sources", str(tmp_path / "parts"), "--out", str(out), "--check"]
    assert compile_officials.main(args) == 0


def test_check_fails_when_the_output_is_stale(tmp_path, capsys):
    _write_part(tmp_path / "parts", GOOD)
    out = tmp_path / "officials.tsv"
    out.write_text("# stale\n", encoding="utf-8")
    args = ["--sources", str(tmp_path / "parts"), "--out", str(out), "--check"]
    assert compile_officials.main(args) == 1
    assert capsys.readouterr().err == (
        f"{out} is not what {tmp_path / 'parts'} gives: run python scripts/compile_officials.py\n"
    )


def _bad(column: str, value: str) -> str:
    fields = GOOD.split("\t")
    fields[compile_officials.COLUMNS.index(column)] = value
    return "\t".join(fields)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (_bad("rank", "boss"), "rank 'boss' is not one of head_of_state head_of_government"),
        (_bad("country", "Russia"), "country 'Russia' is not an ISO 3166-1 alpha-3 code"),
        (_bad("country", ""), "give either country (a state's official) or org"),
        (_bad("start", "2004-13-01"), "start '2004-13-01' is not a YYYY-MM-DD date"),
        (_bad("end", "2003-01-01"), "end 2003-01-01 is before start 2004-03-09"),
        (_bad("source", ""), "source '' is not a URL"),
        (_bad("gender", "x"), "gender 'x' is not m or f"),
        (_bad("name_en", "Mevlüt Çavuşoğlu"), "name_en 'Mevlüt Çavuşoğlu' has diacritics"),
        (_bad("posted_to", "USA"), "posted_to is for ambassadors only"),
        (GOOD + "\textra", "18 columns, expected 17"),
        (GOOD, "Sergey Lavrov / Minister of Foreign Affairs / 2004-03-09 is also at part.tsv:2"),
    ],
)
def test_a_bad_row_is_one_line_naming_file_and_line(tmp_path, capsys, row, message):
    path = _write_part(tmp_path / "parts", GOOD, row)
    out = tmp_path / "officials.tsv"
    assert compile_officials.main(["--sources", str(tmp_path / "parts"), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}:3: {message}"), err
    assert err.count("\n") == 1
    assert not out.exists()


def test_a_bad_header_is_named(tmp_path, capsys):
    path = tmp_path / "parts" / "part.tsv"
    path.parent.mkdir()
    path.write_text("name\trank\n", encoding="utf-8")
    assert (
        compile_officials.main(["--sources", str(path.parent), "--out", str(tmp_path / "o")]) == 1
    )
    assert capsys.readouterr().err.startswith(f"error: {path}:1: header must be: country org")


def _overlaps(rows: list[dict[str, str]]) -> list[str]:
    by_office: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for row in rows:
        if row["rank"] in SINGLE_HOLDER_RANKS:
            by_office.setdefault((row["country"], row["org"], row["rank"]), []).append(row)
    found = []
    for office, holders in sorted(by_office.items()):
        holders.sort(key=lambda row: row["start"])
        for i, first in enumerate(holders):
            for second in holders[i + 1 :]:
                if first["name_en"] == second["name_en"] or first["note"] or second["note"]:
                    continue  # one person's two rows; or a note that says why (co-holders)
                if second["start"] < (first["end"] or "9999") and first["start"] < (
                    second["end"] or "9999"
                ):
                    found.append(f"{office}: {first['name_en']} / {second['name_en']}")
    return found


def test_one_holder_at_a_time_unless_a_note_says_why():
    assert _overlaps(_compiled_rows()) == []


def test_the_overlap_check_sees_an_overlap():
    base = {"country": "USA", "org": "", "rank": "head_of_state", "note": ""}
    rows = [
        {**base, "name_en": "Joe Biden", "start": "2021-01-20", "end": "2025-01-20"},
        {**base, "name_en": "Donald Trump", "start": "2024-01-20", "end": ""},
        {**base, "name_en": "Barack Obama", "start": "2009-01-20", "end": "2017-01-20"},
    ]
    assert _overlaps(rows) == ["('USA', '', 'head_of_state'): Joe Biden / Donald Trump"]
