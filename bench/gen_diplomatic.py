"""Generated posts of a foreign ministry's Telegram channels, for the events benchmark.

English and Russian, in the styles of the Russian MFA's channels: talks, telephone
conversations, videoconferences, visits, meetings on the sidelines of a summit,
congratulations, protests and criticism, quotes (``💬``), flag pairs, dyad hashtags and
``📍City, Month D, YYYY`` datelines; and about half ordinary posts that state no event
(briefing schedules, anniversaries, exhibitions, consular notices).  The officials are the
real ones of ``src/tgscope/events/data/officials.tsv``, each in office on the post's date;
the cities come from ``cities.tsv``.  Everything is derived from a seed.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from tgscope.record import Post

DATA = Path(__file__).resolve().parent.parent / "src" / "tgscope" / "events" / "data"
START, DAYS = date(2015, 1, 1), 11 * 365

MONTHS_EN = "January February March April May June July August September October November December"
MONTHS_RU = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"

# the counterparts' countries: alpha-3 -> (Russian genitive, Russian adjective's genitive
# plural, English adjective); names, capitals and officials come from the data files
COUNTRIES_RU = {
    "CHN": ("Китайской Народной Республики", "китайских", "Chinese"),
    "IND": ("Республики Индия", "индийских", "Indian"),
    "TUR": ("Турецкой Республики", "турецких", "Turkish"),
    "IRN": ("Исламской Республики Иран", "иранских", "Iranian"),
    "EGY": ("Арабской Республики Египет", "египетских", "Egyptian"),
    "ZAF": ("Южно-Африканской Республики", "южноафриканских", "South African"),
    "BRA": ("Федеративной Республики Бразилия", "бразильских", "Brazilian"),
    "IDN": ("Республики Индонезия", "индонезийских", "Indonesian"),
    "SAU": ("Королевства Саудовская Аравия", "саудовских", "Saudi"),
    "KAZ": ("Республики Казахстан", "казахстанских", "Kazakh"),
    "UZB": ("Республики Узбекистан", "узбекских", "Uzbek"),
    "VNM": ("Социалистической Республики Вьетнам", "вьетнамских", "Vietnamese"),
    "PAK": ("Исламской Республики Пакистан", "пакистанских", "Pakistani"),
    "MNG": ("Монголии", "монгольских", "Mongolian"),
    "BLR": ("Республики Беларусь", "белорусских", "Belarusian"),
    "SRB": ("Республики Сербия", "сербских", "Serbian"),
    "HUN": ("Венгрии", "венгерских", "Hungarian"),
    "DZA": ("Алжирской Народной Демократической Республики", "алжирских", "Algerian"),
    "ETH": ("Федеративной Демократической Республики Эфиопия", "эфиопских", "Ethiopian"),
    "OMN": ("Султаната Оман", "оманских", "Omani"),
    "QAT": ("Государства Катар", "катарских", "Qatari"),
    "ARG": ("Аргентинской Республики", "аргентинских", "Argentine"),
    "MEX": ("Мексиканских Соединённых Штатов", "мексиканских", "Mexican"),
    "CUB": ("Республики Куба", "кубинских", "Cuban"),
    "VEN": ("Боливарианской Республики Венесуэла", "венесуэльских", "Venezuelan"),
    "NIC": ("Республики Никарагуа", "никарагуанских", "Nicaraguan"),
    "LAO": ("Лаосской Народно-Демократической Республики", "лаосских", "Lao"),
    "MMR": ("Республики Союз Мьянма", "мьянманских", "Myanmar"),
    "SYR": ("Сирийской Арабской Республики", "сирийских", "Syrian"),
    "IRQ": ("Республики Ирак", "иракских", "Iraqi"),
    "KGZ": ("Киргизской Республики", "киргизских", "Kyrgyz"),
    "TJK": ("Республики Таджикистан", "таджикских", "Tajik"),
    "ARM": ("Республики Армения", "армянских", "Armenian"),
    "AZE": ("Азербайджанской Республики", "азербайджанских", "Azerbaijani"),
    "DEU": ("Федеративной Республики Германия", "германских", "German"),
    "FRA": ("Французской Республики", "французских", "French"),
    "USA": ("Соединённых Штатов Америки", "американских", "American"),
    "GBR": ("Соединённого Королевства", "британских", "British"),
    "JPN": ("Японии", "японских", "Japanese"),
}
#: countries a protest or criticism is aimed at
UNFRIENDLY = ("USA", "GBR", "DEU", "FRA", "JPN")
RANK_RU = {  # a rank's title in Russian, instrumental and nominative, before "of <country>"
    "foreign_minister": ("Министром иностранных дел", "Министр иностранных дел"),
    "head_of_government": ("Премьер-министром", "Премьер-министр"),
    "head_of_state": ("Президентом", "Президент"),
}
SUMMITS = (  # occasion as written in English and Russian, and where it met
    ("the SCO summit", "саммита ШОС", "Samarkand"),
    ("the BRICS summit", "саммита БРИКС", "Johannesburg"),
    ("the G20 summit", "саммита «Группы двадцати»", "Bali"),
    ("the 77th session of the UN General Assembly", "77-й сессии Генассамблеи ООН", "New York"),
    ("the East Asia Summit", "Восточноазиатского саммита", "Phnom Penh"),
    ("the OSCE Ministerial Council", "СМИД ОБСЕ", "Skopje"),
)
TOPICS_EN = (
    "current issues of bilateral cooperation",
    "the situation in the Middle East",
    "cooperation within the UN, BRICS and the SCO",
    "the implementation of agreements reached at the highest level",
    "trade, economic and energy ties",
    "the Ukrainian crisis",
    "preparations for upcoming contacts",
)
TOPICS_RU = (
    "актуальные вопросы двусторонней повестки дня",
    "ситуацию на Ближнем Востоке",
    "взаимодействие в ООН, БРИКС и ШОС",
    "ход реализации договорённостей, достигнутых на высшем уровне",
    "торгово-экономическое и энергетическое сотрудничество",
    "ситуацию вокруг Украины",
    "график предстоящих контактов",
)


@dataclass(frozen=True, slots=True)
class Official:
    country: str
    rank: str
    role: str
    name_en: str
    short_en: str
    ru: tuple[str, str, str, str, str]  # nominative, genitive, dative, instrumental, prepositional
    start: str
    end: str

    def serves(self, day: str) -> bool:
        return self.start <= day and (not self.end or day <= self.end)


def _rows(name: str) -> list[dict[str, str]]:
    lines = [
        line
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
    ]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


_INSTRUMENTAL = ("ом", "ем", "ём", "ым", "им", "ой", "ей", "ёй")


def _cases(row: dict[str, str]) -> tuple[str, str, str, str, str]:
    """The name's nominative, genitive, dative, instrumental and prepositional forms, from
    the first five of ``forms_ru`` (their order varies: a feminine name's dative is its
    prepositional, so its accusative comes fourth); an indeclinable name is all five."""
    forms = row["forms_ru"].split("|")[:5]
    if row["ru_fixed"] == "1" or len(forms) < 5 or forms[0] != row["name_ru"]:
        return (row["name_ru"],) * 5
    instrumental = next((f for f in forms[1:] if f.endswith(_INSTRUMENTAL)), forms[3])
    prepositional = next((f for f in reversed(forms[1:]) if f.endswith("е")), forms[2])
    return (forms[0], forms[1], forms[2], instrumental, prepositional)


@cache
def officials() -> tuple[Official, ...]:
    return tuple(
        Official(
            row["country"],
            row["rank"],
            row["role"],
            row["name_en"],
            row["short_en"] or row["name_en"],
            _cases(row),
            row["start"],
            row["end"],
        )
        for row in _rows("officials.tsv")
        if row["country"] and row["name_ru"] and row["start"]
    )


@cache
def countries() -> dict[str, tuple[str, str]]:
    """alpha-3 -> (English name, alpha-2)."""
    return {row["alpha3"]: (row["name_en"], row["alpha2"]) for row in _rows("countries.tsv")}


@cache
def capitals() -> dict[str, tuple[str, str, str]]:
    """alpha-3 -> the capital in English, in Russian (nominative, prepositional)."""
    found = {}
    for row in _rows("cities.tsv"):
        if row["capital"] != "1" or row["country"] in found:
            continue
        forms = row["forms_ru"].split("|")
        locative = next((f for f in forms[1:5] if f.endswith(("е", "и"))), forms[0])
        found[row["country"]] = (row["name_en"], forms[0], locative)
    return found


def flag(alpha3: str) -> str:
    return "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in countries()[alpha3][1])


class DiplomaticGenerator:
    """Posts of the ministry's channels, oldest first; ``event_share`` of them tell of an event."""

    def __init__(self, seed: int = 3, event_share: float = 0.5):
        self.random = random.Random(seed)
        self.event_share = event_share
        self.staff = officials()
        self.kinds: Counter[str] = Counter()  # what was written: an event's kind, or plain
        self.counterparts = [c for c in COUNTRIES_RU if c in capitals() and c in countries()]

    # -- people in office -------------------------------------------------------------

    def holder(self, country: str, ranks: tuple[str, ...], day: str) -> Official | None:
        found = [
            o for o in self.staff if o.country == country and o.rank in ranks and o.serves(day)
        ]
        return self.random.choice(found) if found else None

    def russian(self, day: str, rank: str = "foreign_minister") -> Official:
        found = self.holder("RUS", (rank,), day)
        assert found is not None, (rank, day)
        return found

    # -- the posts ----------------------------------------------------------------------

    def posts(
        self,
        count: int,
        channels: dict[str, bool] | None = None,
        *,
        start: date = START,
        days: int = DAYS,
        last_ids: dict[str, int] | None = None,
    ) -> Iterator[Post]:
        """``count`` posts over ``days`` days from ``start``; ``channels``: username -> writes
        in Russian (default: the MFA's two channels).  Ids go on after ``last_ids`` (default
        0) in each channel."""
        channels = channels or {"mfarussia": False, "mid_russia": True}
        ids = {name: (last_ids or {}).get(name, 0) for name in channels}
        names = list(channels)
        for number in range(count):
            day = start + timedelta(days=number * days // max(count, 1))
            channel = self.random.choice(names)
            ids[channel] += 1
            yield self.post(channel, ids[channel], day, channels[channel])

    def post(self, channel: str, number: int, day: date, russian: bool) -> Post:
        hour = self.random.randint(6, 20)
        text = self.text(day, russian)
        return Post(
            key=f"{channel}/{number}",
            channel=channel,
            id=number,
            date=f"{day.isoformat()}T{hour:02d}:{self.random.randrange(60):02d}:00+00:00",
            text=text,
        )

    def text(self, day: date, russian: bool) -> str:
        r = self.random
        if r.random() >= self.event_share:
            return (self.plain_ru if russian else self.plain_en)(day)
        other = r.choice(self.counterparts)
        kinds = (self.talks, self.call, self.video, self.sidelines, self.praise, self.protest)
        kind = r.choices(kinds, weights=(30, 22, 6, 12, 18, 12))[0]
        plain = self.kinds["plain"]
        text = kind(day, other, russian)
        if self.kinds["plain"] == plain:  # not a plain post for want of a counterpart
            self.kinds[kind.__name__] += 1
        return text

    # -- the pieces of a post ----------------------------------------------------------

    def when(self, day: date, russian: bool, *, dateline: bool = False) -> str:
        """The day as the text gives it: with or without a year, "today", "yesterday"."""
        r = self.random
        choice = r.random()
        if russian:
            named = f"{day.day} {MONTHS_RU.split()[day.month - 1]}"
            if dateline or choice < 0.3:
                return f"{named} {day.year} года"
            return r.choice(("Сегодня", "Вчера")) if choice < 0.45 else named
        named = f"{MONTHS_EN.split()[day.month - 1]} {day.day}"
        if dateline or choice < 0.3:
            return f"{named}, {day.year}"
        return r.choice(("Today", "Yesterday")) if choice < 0.45 else f"On {named}"

    def head(self, other: str, russian: bool) -> str:
        r = self.random
        if r.random() < 0.6:
            return f"{flag('RUS')}{flag(other)} "
        return "" if r.random() < 0.7 else ("⚡️ " if russian else "🔹 ")

    def tags(self, other: str, russian: bool) -> str:
        r = self.random
        name = countries()[other][0]
        picked = []
        stem = _ru_stem(other) if russian else name
        if stem and " " not in stem and r.random() < 0.5:
            picked.append(f"#Россия{stem}" if russian else f"#Russia{stem}")
        if r.random() < 0.3:
            picked.append(r.choice(("#Лавров", "#МИД", "#Дипломатия")) if russian else "#Lavrov")
        return ("\n\n" + " ".join(picked)) if picked else ""

    def counterpart(self, other: str, day: str, ranks: tuple[str, ...]) -> Official | None:
        return self.holder(other, ranks, day)

    def en_party(self, person: Official) -> str:
        country = countries()[person.country][0]
        article = "the " if country.split()[0] in ("United", "Republic", "Kingdom") else ""
        return f"{person.role} of {article}{country} {person.name_en}"

    def ru_party(self, person: Official, case: int = 3) -> str:
        title = RANK_RU.get(person.rank, ("", ""))[0 if case == 3 else 1]
        genitive = COUNTRIES_RU[person.country][0]
        return f"{title} {genitive} {person.ru[case]}".strip() if title else person.ru[case]

    # -- events --------------------------------------------------------------------------

    def talks(self, day: date, other: str, russian: bool) -> str:
        r = self.random
        iso = day.isoformat()
        ours, theirs = self.russian(iso), self.counterpart(other, iso, ("foreign_minister",))
        if theirs is None:
            return self.plain_ru(day) if russian else self.plain_en(day)
        abroad = r.random() < 0.4
        city_en, city_ru, city_in = capitals()[other] if abroad else ("Moscow", "Москва", "Москве")
        topic = r.choice(TOPICS_RU if russian else TOPICS_EN)
        if russian:
            lines = [
                f"📍{city_ru}, {self.when(day, True, dateline=True)}" if r.random() < 0.4 else "",
                f"{self.head(other, True)}{self.when(day, True)} в {city_in} состоялись переговоры"
                f" Министра иностранных дел Российской Федерации {ours.ru[1]} с"
                f" {self.ru_party(theirs)}.",
                f"Министры обсудили {topic}.",
            ]
            if r.random() < 0.3:
                lines.append(
                    f"💬 {ours.ru[0]}: «Мы высоко ценим сотрудничество с нашими"
                    f" {_ru_with(other)} друзьями»."
                )
        else:
            visit = ", who is in Moscow on an official visit" if not abroad else ""
            lines = [
                f"📍{city_en}, {self.when(day, False, dateline=True)}" if r.random() < 0.4 else "",
                f"{self.head(other, False)}{self.when(day, False)}, Foreign Minister {ours.name_en}"
                f" held talks with {self.en_party(theirs)}{visit}.",
                f"The ministers discussed {topic}.",
            ]
            if r.random() < 0.3:
                adjective = COUNTRIES_RU[other][2]
                lines.append(
                    f"💬 {ours.short_en}: We are grateful to our {adjective} friends for their"
                    " balanced position. We agreed to continue close coordination."
                )
        return "\n\n".join(line for line in lines if line) + self.tags(other, russian)

    def call(self, day: date, other: str, russian: bool) -> str:
        r = self.random
        iso = day.isoformat()
        leaders = r.random() < 0.3
        rank = "head_of_state" if leaders else "foreign_minister"
        ours = self.russian(iso, rank)
        theirs = self.counterpart(other, iso, (rank, "head_of_government") if leaders else (rank,))
        if theirs is None:
            return self.plain_ru(day) if russian else self.plain_en(day)
        topic = r.choice(TOPICS_RU if russian else TOPICS_EN)
        if russian:
            who = "Президента России" if leaders else "Министра иностранных дел России"
            return (
                f"📞 {self.head(other, True)}{self.when(day, True)} состоялся телефонный разговор"
                f" {who} {ours.ru[1]} с {self.ru_party(theirs)}.\n\nОбсуждались {topic}."
                + self.tags(other, True)
            )
        who = "President" if leaders else "Foreign Minister"
        return (
            f"📞 {self.head(other, False)}{self.when(day, False)}, {who} {ours.name_en} had a"
            f" telephone conversation with {self.en_party(theirs)}.\n\nThe parties discussed"
            f" {topic}." + self.tags(other, False)
        )

    def video(self, day: date, other: str, russian: bool) -> str:
        iso = day.isoformat()
        ours = self.russian(iso, "head_of_state")
        theirs = self.counterpart(other, iso, ("head_of_state", "head_of_government"))
        if theirs is None:
            return self.plain_ru(day) if russian else self.plain_en(day)
        if russian:
            return (
                f"{self.head(other, True)}{self.when(day, True)} {ours.ru[0]} провёл переговоры"
                f" в режиме видеоконференции с {self.ru_party(theirs)}." + self.tags(other, True)
            )
        return (
            f"{self.head(other, False)}{self.when(day, False)}, President {ours.name_en} held talks"
            f" with {self.en_party(theirs)} via videoconference." + self.tags(other, False)
        )

    def sidelines(self, day: date, other: str, russian: bool) -> str:
        r = self.random
        iso = day.isoformat()
        ours, theirs = self.russian(iso), self.counterpart(other, iso, ("foreign_minister",))
        if theirs is None:
            return self.plain_ru(day) if russian else self.plain_en(day)
        summit_en, summit_ru, city = r.choice(SUMMITS)
        if russian:
            return (
                f"{self.head(other, True)}{self.when(day, True)} на полях {summit_ru}"
                f" {ours.ru[0]} встретился с {self.ru_party(theirs)}." + self.tags(other, True)
            )
        return (
            f"📍{city}, {self.when(day, False, dateline=True)}\n\n{self.head(other, False)}"
            f"{ours.name_en} met with {self.en_party(theirs)} on the sidelines of {summit_en}."
            + self.tags(other, False)
        )

    def praise(self, day: date, other: str, russian: bool) -> str:
        iso = day.isoformat()
        ours = self.russian(iso, "head_of_state")
        theirs = self.counterpart(other, iso, ("head_of_state", "head_of_government"))
        if theirs is None:
            return self.plain_ru(day) if russian else self.plain_en(day)
        if russian:
            return (
                f"{self.when(day, True)} {ours.ru[0]} направил поздравительную телеграмму"
                f" {theirs.ru[2]} по случаю национального праздника.\n\n«Убеждён, что"
                " дальнейшее развитие наших отношений отвечает коренным интересам наших"
                " народов», — говорится в послании." + self.tags(other, True)
            )
        return (
            f"{self.when(day, False)}, President {ours.name_en} congratulated"
            f" {self.en_party(theirs)} on the national holiday and praised the strategic"
            " partnership between our countries." + self.tags(other, False)
        )

    def protest(self, day: date, other: str, russian: bool) -> str:
        r = self.random
        target = r.choice(UNFRIENDLY)
        name = countries()[target][0]
        spokesperson = self.russian(day.isoformat(), "spokesperson")
        if russian:
            genitive = COUNTRIES_RU[target][0]
            if r.random() < 0.5:
                return (
                    f"{self.when(day, True)} в МИД России был вызван посол {genitive}. Ему"
                    " заявлен решительный протест в связи с высылкой российских дипломатов."
                )
            return (
                f"💬 {spokesperson.ru[0]}: Мы решительно осуждаем очередные антироссийские"
                f" санкции {genitive}. Ответ последует."
            )
        article = "the " if name.startswith("United") else ""
        if r.random() < 0.5:
            return (
                f"{self.when(day, False)}, the Ambassador of {article}{name} was summoned to the"
                " Russian Foreign Ministry. A strong protest was lodged over the expulsion of"
                " Russian diplomats."
            )
        return (
            f"💬 {spokesperson.name_en}: We strongly condemn the new sanctions of {article}{name}."
            " Certain Western countries continue their policy of blackmail."
        )

    # -- posts that state no event -------------------------------------------------------

    def plain_en(self, day: date) -> str:
        r = self.random
        self.kinds["plain"] += 1
        city = r.choice(list(capitals().values()))[0]
        return r.choice(
            (
                f"🗓 {self.when(day, False)}, the Russian House in {city} opened an exhibition of"
                " photographs dedicated to the history of Russian diplomacy.",
                "Today we celebrate the Day of the Diplomatic Worker. Happy holiday, colleagues!",
                f"The Consular Section in {city} will be closed on"
                f" {MONTHS_EN.split()[day.month - 1]} {day.day} due to a public holiday.",
                "📺 Watch the weekly briefing by the Foreign Ministry Spokesperson on our website."
                "\n\n#Briefing",
                f"🏛 In {day.year - 80}, the first Russian school opened in {city}. It still"
                " teaches more than 300 pupils.",
                "❄️ Winter in Moscow: photographs from our readers. Share yours in the comments!",
            )
        )

    def plain_ru(self, day: date) -> str:
        r = self.random
        self.kinds["plain"] += 1
        city = r.choice(list(capitals().values()))[2]
        return r.choice(
            (
                f"🗓 В Русском доме в {city} открылась фотовыставка, посвящённая истории"
                " российской дипломатии.",
                "Сегодня отмечается День дипломатического работника. С праздником, коллеги!",
                f"Консульский отдел в {city} не будет работать"
                f" {day.day} {MONTHS_RU.split()[day.month - 1]} в связи с праздником.",
                "📺 Смотрите еженедельный брифинг официального представителя МИД России на нашем"
                " сайте.\n\n#Брифинг",
                f"🏛 В {city} прошёл фестиваль русской культуры. Гости увидели выступления"
                " фольклорных ансамблей.",
                "❄️ Зима в Москве: фотографии наших читателей. Делитесь своими в комментариях!",
            )
        )


def _ru_stem(alpha3: str) -> str | None:
    """A country's name in a Russian dyad hashtag (#РоссияКитай), for those that have one."""
    return {"CHN": "Китай", "IND": "Индия", "TUR": "Турция", "IRN": "Иран", "EGY": "Египет"}.get(
        alpha3
    )


def _ru_with(alpha3: str) -> str:
    """The country's adjective, instrumental plural (китайскими)."""
    return COUNTRIES_RU[alpha3][1][:-2] + "ими"
