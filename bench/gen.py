"""Generated posts for the benchmarks: English and Russian diplomatic prose with real word forms.

Word frequencies follow Zipf's law, so some terms are rare and some are in most posts, as in real
channels.  Everything is derived from a seed: the same arguments give the same posts.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from tgscope.record import Post

EN_STEMS = (
    "meet minister foreign talk relation partner cooperat agree summit sanction visit negotiat "
    "secur trade energy develop support discuss confirm strateg invest project region council "
    "assembl president embass ambassador deleg statement position interest sovereign stabilit "
    "economi militar technolog infrastructur exchang cultur educat student youth media confer "
    "forum initiativ approach principl dialog consult mechan format platform agenda prioriti"
).split()
EN_SUFFIXES = ("", "s", "ed", "ing", "ion", "ions", "al", "ly")
EN_WORDS = (
    "the of and to in on with for at by from that this as was were will would is are be "
    "Russia China Beijing Moscow Lavrov Wang Putin Xi BRICS SCO G20 UN ASEAN Samarkand Delhi "
    "bilateral global multipolar international western hegemony friendship congratulat"
).split()
RU_STEMS = (
    "встреч переговор министр посол сотрудничеств партнёрств отношени визит заявлени "
    "соглашени саммит делегаци безопасност торговл энергетик развити поддержк позици "
    "интерес суверенитет стабильност экономик технологи инфраструктур обмен культур "
    "образовани студент молодёж форум инициатив подход принцип диалог консультаци механизм "
    "формат платформ повестк приоритет регион совет ассамбле президент"
).split()
RU_SUFFIXES = ("а", "и", "у", "ой", "ам", "ами", "ах", "е", "ы", "ов")
RU_WORDS = (
    "и в на с по для о к от что как это был была были будет также "
    "Россия России Россией Китай Китая Китаем Пекин Пекине Москва Москве Лавров Лаврова Лаврову "
    "Лавровым Ван И Путин Путина Си Цзиньпин БРИКС ШОС ООН АСЕАН Самарканд двусторонн "
    "многополярн международн западн гегемони дружб"
).split()
HASHTAGS = ("RussiaChina", "РоссияКитай", "UNGA77", "BRICS", "SCO", "G20", "Дипломатия", "Брифинг")
CHANNELS = (*(f"embassy_{n:02d}" for n in range(40)), "mfarussia", "mid_russia")
RARE_WORDS = ("Zhongnanhai", "Тяньцзинь", "Vladivostok", "Хабаровск")


def _vocabulary(stems, suffixes, words) -> list[str]:
    return [stem + suffix for stem in stems for suffix in suffixes] + list(words)


class PostGenerator:
    def __init__(self, seed: int = 7):
        self.random = random.Random(seed)
        self.en = _vocabulary(EN_STEMS, EN_SUFFIXES, EN_WORDS)
        self.ru = _vocabulary(RU_STEMS, RU_SUFFIXES, RU_WORDS)
        self.en_weights = list(accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(self.en))))
        self.ru_weights = list(accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(self.ru))))
        self.random.shuffle(self.en)
        self.random.shuffle(self.ru)

    def sentence(self, russian: bool) -> str:
        words, weights = (self.ru, self.ru_weights) if russian else (self.en, self.en_weights)
        count = self.random.randint(8, 22)
        chosen = self.random.choices(words, cum_weights=weights, k=count)
        if self.random.random() < 0.0005:
            chosen[self.random.randrange(count)] = self.random.choice(RARE_WORDS)
        return " ".join(chosen).capitalize() + "."

    def body_lines(self) -> tuple[list[str], list[str]]:
        russian = self.random.random() < 0.5
        flag = "🇷🇺🇨🇳 " if self.random.random() < 0.6 else ""
        lines = [flag + self.sentence(russian)]
        for _ in range(self.random.randint(1, 4)):
            lines.append(" ".join(self.sentence(russian) for _ in range(self.random.randint(1, 3))))
        if self.random.random() < 0.3:
            lines.append("Read in full" if not russian else "Читать полностью")
        tags = self.random.sample(HASHTAGS, self.random.randint(0, 2))
        if tags:
            lines.append(" ".join(f"#{tag}" for tag in tags))
        return lines, tags

    def reactions_line(self) -> str:
        counts = [("👍", 2000), ("❤", 500), ("🔥", 80), ("👏", 60), ("🤝", 40)]
        parts = []
        for emoji, scale in counts[: self.random.randint(1, 5)]:
            value = self.random.randint(1, scale)
            parts.append(f"{emoji}{value / 1000:.1f}K" if value >= 1000 else f"{emoji}{value}")
        return "".join(parts)

    def dump_post(self) -> str:
        """One post as a web-preview dump shows it: forward line, body twice, reactions."""
        lines, _ = self.body_lines()
        out = []
        if self.random.random() < 0.7:
            out.append("Forwarded from Russian MFA 🇷🇺")
        if self.random.random() < 0.1:
            out += ["This media is not supported in your browser", "VIEW IN TELEGRAM"]
        out += lines + lines[1:]
        if self.random.random() < 0.9:
            out.append(self.reactions_line())
        return "\n".join(out) + "\n"

    def records(self, count: int, start: datetime | None = None) -> Iterator[Post]:
        """``count`` archive records with ids, dates and channels, oldest first."""
        moment = start or datetime(2019, 1, 1, tzinfo=UTC)
        ids: dict[str, int] = {}
        for _ in range(count):
            moment += timedelta(seconds=self.random.randint(30, 300))
            channel = self.random.choice(CHANNELS)
            ids[channel] = message_id = ids.get(channel, 0) + 1
            lines, tags = self.body_lines()
            yield Post(
                key=f"{channel}/{message_id}",
                channel=channel,
                id=message_id,
                date=moment.isoformat(timespec="seconds"),
                text="\n".join(lines),
                hashtags=tags,
            )


def write_dump(path, target_bytes: int, seed: int = 7) -> int:
    """Write a dump of about ``target_bytes``; return the number of posts in it."""
    generator = PostGenerator(seed)
    written = posts = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target_bytes:
            chunk = generator.dump_post()
            out.write(chunk)
            written += len(chunk.encode())
            posts += 1
    return posts


def write_desktop_export(path, count: int, seed: int = 11) -> int:
    """Write a Telegram Desktop JSON export (the newer format) of one channel with ``count``
    messages: entity arrays, Unix times, reactions, edits, photos and forwards.  Streamed:
    one message at a time, whatever ``count`` is.  Returns the bytes written."""
    import json

    generator = PostGenerator(seed)
    moment = int(datetime(2019, 1, 1, tzinfo=UTC).timestamp())
    dumps = json.JSONEncoder(ensure_ascii=False, indent=None).encode
    written = 0
    with open(path, "w", encoding="utf-8") as out:

        def put(text: str) -> None:
            nonlocal written
            out.write(text)
            written += len(text.encode())

        put('{\n "name": "Bench Channel",\n "type": "public_channel",\n "id": 1700000001,\n')
        put(' "messages": [\n')
        for number in range(1, count + 1):
            moment += generator.random.randint(30, 300)
            lines, tags = generator.body_lines()
            body = "\n".join(lines[: generator.random.randint(1, 2)])
            pieces = [{"type": "plain", "text": body}]
            if generator.random.random() < 0.3:
                pieces += [{"type": "plain", "text": "\n"}]
                pieces += [{"type": "text_link", "text": "mid.ru", "href": "https://mid.ru/en/"}]
            for tag in tags:
                pieces += [{"type": "plain", "text": " "}, {"type": "hashtag", "text": f"#{tag}"}]
            stamp = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            message = {
                "id": number,
                "type": "message",
                "date": stamp,
                "date_unixtime": str(moment),
                "from": "Bench Channel",
                "from_id": "channel1700000001",
                "text": [p if p["type"] != "plain" else p["text"] for p in pieces],
                "text_entities": pieces,
            }
            if generator.random.random() < 0.2:
                message["edited"] = stamp
                message["edited_unixtime"] = str(moment + 60)
            if generator.random.random() < 0.5:
                message["forwarded_from"] = "Russian MFA 🇷🇺"
            if generator.random.random() < 0.3:
                message["photo"] = f"photos/photo_{number}@01-01-2019.jpg"
                message["width"], message["height"] = 1280, 853
            if generator.random.random() < 0.8:
                message["reactions"] = [
                    {"type": "emoji", "count": generator.random.randint(1, 2000), "emoji": "👍"},
                    {"type": "emoji", "count": generator.random.randint(1, 300), "emoji": "❤"},
                ]
            put(("  " if number == 1 else ",\n  ") + dumps(message))
        put("\n ]\n}\n")
    return written
