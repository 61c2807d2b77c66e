"""The place dictionaries (data/countries.tsv, cities.tsv, occasions.tsv): compiled from
data/places/ by scripts/compile_places.py, checked row by row for the names the extractor needs."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import pycountry
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "tgscope" / "events" / "data"
SCRIPT = ROOT / "scripts" / "compile_places.py"
WIKI_ADJ = (
    "https://en.wikipedia.org/wiki/List_of_adjectival_and_demonymic_forms_for_countries_and_nations"
)
WIKI_CAPITALS = "https://en.wikipedia.org/wiki/List_of_national_capitals"
RU_OKSM = "https://ru.wikipedia.org/wiki/Общероссийский_классификатор_стран_мира"
COUNTRY_SOURCE = (
    "pycountry (ISO 3166-1; Russian names from its iso3166-1 ru locale)"
    f"|{WIKI_ADJ}|{WIKI_CAPITALS}|{RU_OKSM}"
)


def _load_script():
    spec = importlib.util.spec_from_file_location("compile_places", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


compile_places = _load_script()


def read(name: str) -> list[dict[str, str]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    assert (
        lines[0].startswith("# compiled by scripts/compile_places.py") and "do not edit" in lines[0]
    )
    header = lines[1].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[2:]]


def by(rows: list[dict[str, str]], key: str) -> dict[str, dict[str, str]]:
    return {row[key]: row for row in rows}


COUNTRIES = by(read("countries.tsv"), "alpha3")
CITIES = read("cities.tsv")
OCCASIONS = by(read("occasions.tsv"), "code")


def adjective(stem: str) -> str:
    """The compiled forms of a -ский adjective, in pymorphy3's lexeme order."""
    endings = ("ий", "ого", "ому", "им", "ом", "ая", "ой", "ую", "ою", "ое", "ие", "их", "ими")
    return "|".join(stem + ending for ending in endings)


# --- the compile ---------------------------------------------------------------------------


def test_check_passes_on_the_shipped_files(capsys):
    assert compile_places.main(["--check"]) == 0
    assert capsys.readouterr().err == ""


def test_check_fails_naming_a_stale_file(tmp_path, capsys):
    for name in ("countries.tsv", "cities.tsv", "occasions.tsv"):
        shutil.copy(DATA / name, tmp_path / name)
    stale = tmp_path / "cities.tsv"
    stale.write_text(stale.read_text(encoding="utf-8").replace("Денпасаре", "Денпасар"), "utf-8")
    assert compile_places.main(["--check", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "cities.tsv is not what the sources give" in err
    assert "countries.tsv" not in err


def test_a_bad_source_row_is_one_line_naming_file_and_line(tmp_path, capsys):
    sources = tmp_path / "places"
    shutil.copytree(DATA / "places", sources)
    path = sources / "cities.tsv"
    text = path.read_text(encoding="utf-8").replace("Denpasar\tIDN", "Denpasar\tXXX")
    path.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("Denpasar\t"))
    assert compile_places.main(["--check", "--sources", str(sources)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"places/cities.tsv:{line}: 'XXX' is not an ISO 3166-1 alpha-3 code" in err


def test_an_unlisted_ambiguity_fails_the_compile(tmp_path, capsys):
    sources = tmp_path / "places"
    shutil.copytree(DATA / "places", sources)
    path = sources / "countries.tsv"
    text = path.read_text(encoding="utf-8")
    changed = text.replace("\tDominican\t\tдоминикский", "\tDominican|Omani\t\tдоминикский")
    assert changed != text
    path.write_text(changed, "utf-8")
    assert compile_places.main(["--check", "--sources", str(sources)]) == 1
    assert "'Omani' names DMA, OMN: list it" in capsys.readouterr().err


# --- Russian forms -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "forms"),
    [
        ("Москва", ["Москва", "Москвы", "Москве", "Москву", "Москвой"]),
        # the words after the head noun stay; an appositive place name may also change
        ("Республика Корея", ["Республика Корея", "Республики Корея", "Республике Корея",
                              "Республику Корея", "Республикой Корея", "Республики Кореи",
                              "Республике Корее", "Республику Корею", "Республикой Кореей"]),
        ("Соединённые Штаты Америки", ["Соединённые Штаты Америки", "Соединённых Штатов Америки",
                                       "Соединённым Штатам Америки", "Соединёнными Штатами Америки",
                                       "Соединённых Штатах Америки"]),
        ("Босния и Герцеговина", ["Босния и Герцеговина", "Боснии и Герцеговины",
                                  "Боснии и Герцеговине", "Боснию и Герцеговину",
                                  "Боснией и Герцеговиной"]),
        ("Совет [Безопасности]", ["Совет Безопасности", "Совета Безопасности",
                                  "Совету Безопасности", "Советом Безопасности",
                                  "Совете Безопасности"]),
        ("Каспийский саммит", ["Каспийский саммит", "Каспийского саммита", "Каспийскому саммиту",
                               "Каспийским саммитом", "Каспийском саммите"]),
        ("=Нью-Дели", ["Нью-Дели"]),
        ("КНР", ["КНР"]),
    ],
)  # fmt: skip
def test_ru_forms(spec, forms):
    assert compile_places.ru_forms(spec) == forms


def test_spelling_variants_add_e_for_yo_and_both_apostrophes():
    assert compile_places.spelling_variants(["Соединённые Штаты", "Côte d'Ivoire"]) == [
        "Соединённые Штаты",
        "Соединенные Штаты",
        "Côte d'Ivoire",
        "Côte d’Ivoire",
    ]


# --- countries -----------------------------------------------------------------------------


def test_every_iso_country_once():
    assert sorted(COUNTRIES) == sorted(country.alpha_3 for country in pycountry.countries)
    for row in COUNTRIES.values():
        country = pycountry.countries.get(alpha_3=row["alpha3"])
        assert country is not None and row["alpha2"] == country.alpha_2
        assert row["name_en"] and row["source"]


def test_russia():
    assert COUNTRIES["RUS"] == {
        "alpha3": "RUS",
        "alpha2": "RU",
        "name_en": "Russia",
        "forms_en": "Russia|Russian Federation|the Russian Federation",
        "adjectives_en": "Russian",
        "forms_ru": "Российская Федерация|Российской Федерации|Российскую Федерацию"
        "|Российской Федерацией|Россия|России|Россию|Россией|РФ",
        "adjectives_ru": adjective("российск"),
        "capital": "Moscow",
        "source": COUNTRY_SOURCE,
    }


def test_china_with_both_apostrophes():
    assert COUNTRIES["CHN"] == {
        "alpha3": "CHN",
        "alpha2": "CN",
        "name_en": "China",
        "forms_en": "China|People's Republic of China|People’s Republic of China|PRC|the PRC"
        "|the People’s Republic of China|the People's Republic of China",
        "adjectives_en": "Chinese",
        "forms_ru": "Китай|Китая|Китаю|Китаем|Китае|Китайская Народная Республика"
        "|Китайской Народной Республики|Китайской Народной Республике"
        "|Китайскую Народную Республику|Китайской Народной Республикой|КНР",
        "adjectives_ru": adjective("китайск"),
        "capital": "Beijing",
        "source": COUNTRY_SOURCE,
    }


def test_indonesia():
    assert COUNTRIES["IDN"] == {
        "alpha3": "IDN",
        "alpha2": "ID",
        "name_en": "Indonesia",
        "forms_en": "Indonesia|Republic of Indonesia",
        "adjectives_en": "Indonesian",
        "forms_ru": "Индонезия|Индонезии|Индонезию|Индонезией|Республика Индонезия"
        "|Республики Индонезия|Республике Индонезия|Республику Индонезия|Республикой Индонезия"
        "|Республики Индонезии|Республике Индонезии|Республику Индонезию|Республикой Индонезией",
        "adjectives_ru": adjective("индонезийск"),
        "capital": "Jakarta",
        "source": COUNTRY_SOURCE,
    }


@pytest.mark.parametrize(
    ("alpha3", "name_en", "forms"),
    [
        ("USA", "United States", {"US", "the US", "U.S.", "USA", "United States of America"}),
        ("GBR", "United Kingdom", {"UK", "Britain", "Great Britain"}),
        ("KOR", "South Korea", {"Republic of Korea", "ROK"}),
        ("PRK", "North Korea", {"DPRK", "Democratic People’s Republic of Korea"}),
        ("ARE", "United Arab Emirates", {"UAE"}),
        ("SAU", "Saudi Arabia", {"KSA"}),
        ("IRN", "Iran", {"Islamic Republic of Iran"}),
        ("SYR", "Syria", {"Syrian Arab Republic"}),
        ("VNM", "Vietnam", {"Viet Nam"}),
        ("LAO", "Laos", {"Lao People’s Democratic Republic"}),
        ("TUR", "Türkiye", {"Turkey", "Republic of Türkiye"}),
    ],
)
def test_usual_names_and_official_forms(alpha3, name_en, forms):
    row = COUNTRIES[alpha3]
    assert row["name_en"] == name_en
    assert forms <= set(row["forms_en"].split("|"))


@pytest.mark.parametrize(
    ("alpha3", "forms", "adjectives"),
    [
        ("USA", {"США", "Соединённых Штатов", "Соединенных Штатов", "Соединённых Штатов Америки"},
         {"американский", "американских"}),
        ("GBR", {"Великобритании", "Соединённого Королевства", "Соединенном Королевстве"},
         {"британский", "британскими"}),
        ("KOR", {"Республикой Корея", "Южной Кореи"}, {"южнокорейского"}),
        ("PRK", {"КНДР", "Корейской Народно-Демократической Республики"}, {"северокорейской"}),
        ("ARE", {"ОАЭ", "Объединённые Арабские Эмираты", "Объединенных Арабских Эмиратов"},
         {"эмиратский"}),
        ("OMN", {"Оман", "Омана", "Султанат Оман", "Султаната Оман"}, {"оманский", "оманской"}),
    ],
)  # fmt: skip
def test_russian_forms(alpha3, forms, adjectives):
    row = COUNTRIES[alpha3]
    assert forms <= set(row["forms_ru"].split("|"))
    assert adjectives <= set(row["adjectives_ru"].split("|"))


def test_every_yo_form_is_also_written_with_e():
    for name in ("countries.tsv", "cities.tsv", "occasions.tsv"):
        for row in read(name):
            forms = {
                f for key in ("forms_ru", "adjectives_ru") for f in row.get(key, "").split("|")
            }
            for form in forms:
                if "ё" in form:
                    assert form.replace("ё", "е") in forms, (name, form)


def test_no_form_names_two_countries():
    owners: dict[str, set[str]] = defaultdict(set)
    for row in COUNTRIES.values():
        for key in ("forms_en", "adjectives_en", "forms_ru", "adjectives_ru"):
            for form in filter(None, row[key].split("|")):
                owners[form].add(row["alpha3"])
    assert {form: codes for form, codes in owners.items() if len(codes) > 1} == {}
    # the listed ambiguities are resolved: dropped, or kept for the country nearly always meant
    assert "Congo" not in owners and "Конго" not in owners
    assert owners["Dominican"] == {"DOM"} and owners["Korean"] == {"KOR"}


# --- cities --------------------------------------------------------------------------------


def test_city_with_russian_cases():
    denpasar = next(row for row in CITIES if row["name_en"] == "Denpasar")
    assert denpasar == {
        "name_en": "Denpasar",
        "country": "IDN",
        "forms_en": "Denpasar",
        "forms_ru": "Денпасар|Денпасара|Денпасару|Денпасаром|Денпасаре",
        "capital": "0",
        "source": "https://en.wikipedia.org/wiki/Denpasar",
        "note": "",
    }
    moscow = next(row for row in CITIES if row["name_en"] == "Moscow")
    assert moscow["forms_ru"].split("|")[:5] == ["Москва", "Москвы", "Москве", "Москву", "Москвой"]
    assert "Кремле" in moscow["forms_ru"].split("|")  # «переговоры в Кремле»
    tianjin = next(row for row in CITIES if row["name_en"] == "Tianjin")
    assert "Тяньцзине" in tianjin["forms_ru"].split("|")  # «В Тяньцзине проходит заседание…»
    assert moscow["capital"] == "1"


def test_every_city_country_is_an_alpha3_code():
    codes = {country.alpha_3 for country in pycountry.countries}
    for row in CITIES:
        assert row["country"] in codes, row["name_en"]
        assert row["capital"] in ("0", "1") and row["source"]


def test_every_capital_is_a_city():
    capitals = {(row["name_en"], row["country"]) for row in CITIES if row["capital"] == "1"}
    for row in COUNTRIES.values():
        if row["capital"]:
            assert (row["capital"], row["alpha3"]) in capitals, row["alpha3"]
    for code in ("RUS", "CHN", "USA", "IND", "IDN", "UZB", "KAZ", "OMN"):
        assert COUNTRIES[code]["capital"]


def test_no_city_form_names_two_cities():
    owners: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for row in CITIES:
        for form in row["forms_en"].split("|") + row["forms_ru"].split("|"):
            owners[form].add((row["name_en"], row["country"]))
    assert {form: places for form, places in owners.items() if len(places) > 1} == {}


def test_a_city_named_as_its_country_is_noted():
    notes = {row["name_en"]: row["note"] for row in CITIES}
    assert notes["Singapore"] == "also the name of a country: SGP"
    assert notes["Kuwait City"] == "also the name of a country: KWT"
    assert notes["Algiers"] == "also the name of a country: DZA"  # «Алжир»
    assert notes["Denpasar"] == ""


def test_diplomatic_venues_are_listed():
    names = {row["name_en"] for row in CITIES}
    venues = {
        *("New York", "Geneva", "Vienna", "Samarkand", "Denpasar", "Bali", "Sochi", "Kazan"),
        *("Saint Petersburg", "Vladivostok", "Astana", "Shanghai", "Hangzhou", "Xiamen"),
        *("Davos", "Munich", "Antalya", "Istanbul", "Doha", "Jeddah", "Riyadh", "Helsinki"),
        *("Minsk", "Bishkek", "Dushanbe", "Tashkent", "Ashgabat", "Baku", "Yerevan"),
        *("Tbilisi", "Nice", "New Delhi"),
    }
    assert venues <= names
    assert len(CITIES) >= 400


# --- occasions -----------------------------------------------------------------------------


def test_g20():
    assert OCCASIONS["G20"] == {
        "code": "G20",
        "kind": "summit",
        "org": "G20",
        "forms_en": "G20|Group of Twenty|Group of 20|G-20|G20 summit|G20 Summit"
        "|G20 Foreign Ministers’ Meeting|G20 Foreign Ministers' Meeting"
        "|G20 Leaders’ Summit|G20 Leaders' Summit",
        "forms_ru": "Группа двадцати|Группы двадцати|Группе двадцати|Группу двадцати"
        "|Группой двадцати|Большая двадцатка|Большой двадцатки|Большой двадцатке|Большую двадцатку"
        "|Большой двадцаткой|G20|Г20",
        "venue_city": "",
        "venue_country": "",
        "multilateral": "1",
        "source": "https://en.wikipedia.org/wiki/G20|https://ru.wikipedia.org/wiki/Большая_двадцатка",
    }


def test_unga():
    unga = OCCASIONS["UNGA"]
    forms_ru = unga.pop("forms_ru").split("|")
    assert unga == {
        "code": "UNGA",
        "kind": "summit",
        "org": "UN",
        "forms_en": "UNGA|UN General Assembly|United Nations General Assembly|General Assembly"
        "|the General Assembly|UN GA",
        "venue_city": "New York",
        "venue_country": "USA",
        "multilateral": "1",
        "source": "https://en.wikipedia.org/wiki/United_Nations_General_Assembly"
        "|https://ru.wikipedia.org/wiki/Генеральная_Ассамблея_ООН",
    }
    assert forms_ru[:5] == [
        "Генеральная Ассамблея ООН",
        "Генеральной Ассамблеи ООН",
        "Генеральной Ассамблее ООН",
        "Генеральную Ассамблею ООН",
        "Генеральной Ассамблеей ООН",
    ]
    assert {
        "Генассамблеи ООН",
        "ГА ООН",
        "Генеральной Ассамблеи Организации Объединенных Наций",
    } <= set(forms_ru)


def test_occasions_named_in_the_brief():
    codes = {"G20", "UNGA", "UNSC", "SCO", "BRICS", "ASEAN", "EAS", "APEC", "CICA", "CIS",
             "CSTO", "EAEU", "OSCE", "G7", "NATO", "EU", "AU", "OIC", "Arab League", "GCC",
             "Valdai", "SPIEF", "EEF", "Russia-Africa Summit", "COP", "MSC", "Raisina Dialogue",
             "Boao Forum", "Astana format", "Normandy format", "Minsk Group"}  # fmt: skip
    assert codes <= set(OCCASIONS)
    assert OCCASIONS["UNSC"]["org"] == "UN" and OCCASIONS["UNSC"]["venue_city"] == "New York"
    assert {"ШОС", "Шанхайской организации сотрудничества"} <= set(
        OCCASIONS["SCO"]["forms_ru"].split("|")
    )
    assert "ПМЭФ" in OCCASIONS["SPIEF"]["forms_ru"].split("|")
    assert OCCASIONS["2+2"]["multilateral"] == "0"
    for row in OCCASIONS.values():
        assert row["kind"] in ("summit", "organisation", "forum", "format", "event")
        assert row["source"]
        venue = (row["venue_city"], row["venue_country"])
        assert venue == ("", "") or venue in {(c["name_en"], c["country"]) for c in CITIES}


def test_compiled_forms_carry_no_notation():
    for name in ("countries.tsv", "cities.tsv", "occasions.tsv"):
        for row in read(name):
            for key in ("forms_en", "adjectives_en", "forms_ru", "adjectives_ru"):
                for form in row.get(key, "").split("|"):
                    assert not form.startswith("=") and "[" not in form and "]" not in form
                    assert form == form.strip() and "\t" not in form


def test_a_common_word_is_left_out():
    # «Того» starts sentences («Того же мнения…»): Togo keeps its full name and adjective
    togo = COUNTRIES["TGO"]
    assert "Того" not in togo["forms_ru"].split("|")
    assert {"Тоголезская Республика", "Тоголезской Республики"} <= set(togo["forms_ru"].split("|"))
    assert "тоголезский" in togo["adjectives_ru"].split("|")


GOLD = ROOT / "tests" / "data" / "events_gold"


def test_the_gold_sets_places_and_occasions_are_listed():
    """Every place and occasion the annotated events name is in the dictionaries, spelled
    as there (the extractor writes the dictionaries' names)."""
    places, occasions = set(), set()
    for path in sorted(GOLD.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            for event in json.loads(line).get("events", []):
                place = event.get("place") or {}
                if place.get("name"):
                    places.add((place["name"], place["country"]))
                if event.get("occasion"):
                    occasions.add(event["occasion"])
    assert places and occasions
    assert places - {(row["name_en"], row["country"]) for row in CITIES} == set()
    assert occasions - set(OCCASIONS) == set()
