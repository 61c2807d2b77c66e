"""Generated posts for the benchmarks: English and Russian diplomatic prose with real word forms.

Word frequencies follow Zipf's law, so some terms are rare and some are in most posts, as in real
channels.  Everything is derived from a seed: the same arguments give the same posts.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from tgscope.record import Channel, Media, Post

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


# -- a researcher's archive of state channels (bench/web_archive.py) ----------------------------

# username, title, share of the archive's posts (per mille), share of posts in Russian,
# median views of a post
ARCHIVE_CHANNELS = (
    ("mid_russia", "МИД России 🇷🇺", 250, 0.95, 18_000),
    ("mfarussia", "MFA Russia 🇷🇺", 155, 0.05, 9_000),
    ("rusembchina", "Посольство России в Китае", 104, 0.7, 4_000),
    ("china_embassy_ru", "Посольство КНР в России", 80, 0.8, 6_000),
    ("rusemb_india", "Russia in India", 65, 0.15, 3_000),
    ("kremlin_news", "Кремль. Новости", 55, 0.9, 25_000),
    ("rusmission_un", "Russia at the UN", 45, 0.2, 5_000),
    ("sco_secretariat", "SCO Secretariat", 40, 0.3, 1_500),
    ("brics_russia", "BRICS Russia 2024", 35, 0.5, 2_500),
    ("rusemb_usa", "Russian Embassy in the USA", 30, 0.1, 7_000),
    ("rusemb_uk", "Russian Embassy in the UK", 27, 0.1, 6_000),
    ("rossotrudnichestvo", "Россотрудничество", 24, 0.9, 2_000),
    ("rusemb_kz", "Посольство России в Казахстане", 21, 0.85, 1_200),
    ("mid_spokesperson", "Брифинги официального представителя", 18, 0.9, 30_000),
    ("rusemb_sa", "Russia in South Africa", 15, 0.05, 1_800),
    ("rusemb_brazil", "Russia in Brazil", 12, 0.2, 900),
    ("rusemb_turkey", "Посольство России в Турции", 9, 0.6, 1_100),
    ("asean_russia", "ASEAN–Russia Centre", 7, 0.4, 600),
    ("rusemb_egypt", "Russia in Egypt", 5, 0.3, 700),
    ("rusemb_iran", "Посольство России в Иране", 3, 0.75, 500),
)
ARCHIVE_START = datetime(2021, 1, 1, tzinfo=UTC)
ARCHIVE_DAYS = 5 * 365 + 1
# posts per hour of the day, Moscow time (UTC+3): office hours carry most of them
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 14, 20, 24, 24, 20, 22, 24, 22, 18, 14, 10, 8, 6, 4, 2, 1)
ARCHIVE_HASHTAGS = (
    *HASHTAGS,
    "Лавров",
    "Lavrov",
    "Захарова",
    "UNSC",
    "ООН",
    "ШОС",
    "Посольство",
    "Embassy",
    "Культура",
    "RussiaIndia",
    "РоссияАфрика",
    "Sanctions",
)
PREVIEW_SITES = (
    ("mid.ru", "https://mid.ru/ru/foreign_policy/news/"),
    ("TASS", "https://tass.com/politics/"),
    ("РИА Новости", "https://ria.ru/20230101/"),
    ("Xinhua", "https://english.news.cn/"),
    ("UN News", "https://news.un.org/en/story/"),
)
REACTION_EMOJI = ("👍", "❤", "🔥", "👏", "🤝", "🙏", "😁", "🤔", "👎", "😢")


def archive_day_counts(count: int, rng: random.Random) -> list[int]:
    """Posts per day over :data:`ARCHIVE_DAYS` days, summing to ``count`` exactly: a rising
    trend, quieter weekends, day-to-day noise and a few busy days (summits, crises)."""
    weights = []
    for day in range(ARCHIVE_DAYS):
        weekday = (ARCHIVE_START + timedelta(days=day)).weekday()
        weight = (1 + 0.6 * day / ARCHIVE_DAYS) * (0.45 if weekday >= 5 else 1.0)
        weight *= rng.uniform(0.7, 1.3) * (3.0 if rng.random() < 0.01 else 1.0)
        weights.append(weight)
    cumulative = list(accumulate(weights))
    total = cumulative[-1]
    edges = [0] + [round(c * count / total) for c in cumulative]
    return [edges[d + 1] - edges[d] for d in range(ARCHIVE_DAYS)]


def archive_moments(count: int, rng: random.Random) -> Iterator[datetime]:
    """``count`` post times over five years, oldest first, with a daily rhythm."""
    hours = list(accumulate(HOUR_WEIGHTS))
    for day, posts in enumerate(archive_day_counts(count, rng)):
        midnight_moscow = ARCHIVE_START + timedelta(days=day, hours=-3)
        seconds = sorted(
            rng.choices(range(24), cum_weights=hours)[0] * 3600 + rng.randrange(3600)
            for _ in range(posts)
        )
        for second in seconds:
            yield midnight_moscow + timedelta(seconds=second)


class ArchiveGenerator:
    """A researcher's archive of state channels, as :class:`Channel` items then posts.

    Channel sizes are skewed (the biggest holds a quarter of the posts), ids run in sequence
    per channel, forwards point at posts already in the archive.  Seeded: deterministic.
    """

    def __init__(self, seed: int = 5):
        self.text = PostGenerator(seed)
        self.random = self.text.random
        self.ids = {username: 0 for username, *_ in ARCHIVE_CHANNELS}
        self.shares = list(accumulate(share for _, _, share, _, _ in ARCHIVE_CHANNELS))

    def channels(self) -> list[Channel]:
        return [
            Channel(
                username=username,
                title=title,
                description=f"Official channel. {self.text.sentence(russian > 0.5)}",
                verified=share > 30,
                counters={"subscribers": views * 9, "photos": share * 40},
                telegram_id=1_000_000_000 + number,
            )
            for number, (username, title, share, russian, views) in enumerate(ARCHIVE_CHANNELS)
        ]

    def items(self, count: int) -> Iterator[Post | Channel]:
        """The channels, then ``count`` posts, oldest first."""
        yield from self.channels()
        for moment in archive_moments(count, self.random):
            yield self.post(moment)

    def post(self, moment: datetime) -> Post:
        r = self.random
        index = r.choices(range(len(ARCHIVE_CHANNELS)), cum_weights=self.shares)[0]
        username, title, _, russian_share, median_views = ARCHIVE_CHANNELS[index]
        self.ids[username] = message_id = self.ids[username] + 1
        post = Post(
            key=f"{username}/{message_id}",
            channel=username,
            channel_title=title,
            id=message_id,
            date=moment.isoformat(timespec="seconds"),
            edited=r.random() < 0.07,
        )
        self.write_text(post, r.random() < russian_share)
        self.add_engagement(post, median_views)
        self.add_context(post, username)
        return post

    def write_text(self, post: Post, russian: bool) -> None:
        """Text with its entities: a bold headline, a text link, mentions, hashtags."""
        r = self.random
        flag = "🇷🇺 " if r.random() < 0.4 else ""
        headline = self.text.sentence(russian)
        lines = [flag + headline]
        if r.random() < 0.4:
            post.entities.append({"type": "bold", "offset": len(flag), "length": len(headline)})
        for _ in range(r.randint(1, 4)):
            lines.append(" ".join(self.text.sentence(russian) for _ in range(r.randint(1, 3))))
        if r.random() < 0.05:
            mention = r.choice(ARCHIVE_CHANNELS)[0]
            self._append(lines, post, f"@{mention}", {"type": "mention"})
            post.mentions.append(mention)
        if r.random() < 0.25:
            url = f"https://mid.ru/ru/foreign_policy/news/{r.randint(1_500_000, 1_990_000)}/"
            label = "Читать полностью" if russian else "Read in full"
            self._append(lines, post, label, {"type": "text_link", "url": url})
            post.links.append(url)
        if r.random() < 0.3:
            tags = r.sample(ARCHIVE_HASHTAGS, r.choice((1, 1, 1, 2, 2, 3)))
            line: list[str] = []
            for tag in tags:
                offset = sum(len(x) + 1 for x in lines) + sum(len(x) + 1 for x in line)
                post.entities.append({"type": "hashtag", "offset": offset, "length": len(tag) + 1})
                line.append(f"#{tag}")
            lines.append(" ".join(line))
            post.hashtags = tags
        post.text = "\n".join(lines)

    @staticmethod
    def _append(lines: list[str], post: Post, line: str, entity: dict) -> None:
        offset = sum(len(x) + 1 for x in lines)
        post.entities.append({**entity, "offset": offset, "length": len(line)})  # type: ignore[typeddict-item]
        lines.append(line)

    def add_engagement(self, post: Post, median_views: int) -> None:
        """Views (log-normal around the channel's median), forwards and reactions."""
        r = self.random
        views = max(1, int(r.lognormvariate(math.log(median_views), 0.9)))
        post.views = views
        post.forwards = int(views * r.uniform(0.0, 0.02))
        if r.random() < 0.85:
            kinds = r.randint(1, 6)
            total = max(1, int(views * r.uniform(0.005, 0.05)))
            for rank, emoji in enumerate(REACTION_EMOJI[:kinds]):
                post.reactions.append({"emoji": emoji, "count": max(1, total >> rank)})

    def add_context(self, post: Post, username: str) -> None:
        """Forwards, replies, media, link previews and signatures."""
        r = self.random
        if r.random() < 0.165:  # ~15% once forwards from the channel itself are left out
            other, title, *_ = ARCHIVE_CHANNELS[
                r.choices(range(len(ARCHIVE_CHANNELS)), cum_weights=self.shares)[0]
            ]
            if other != username and self.ids[other]:
                post.forwarded_from = {
                    "title": title,
                    "channel": other,
                    "id": r.randint(1, self.ids[other]),
                }
        if r.random() < 0.02 and post.id and post.id > 1:
            post.reply_to = {"channel": username, "id": r.randint(1, post.id - 1)}
        if r.random() < 0.25:
            post.media.append(self.media(post))
        if r.random() < 0.08:
            site, base = r.choice(PREVIEW_SITES)
            url = f"{base}{r.randint(100_000, 999_999)}"
            post.link_preview = {
                "url": url,
                "site_name": site,
                "title": self.text.sentence(r.random() < 0.5)[:90],
                "description": self.text.sentence(r.random() < 0.5),
            }
            post.links.append(url)
        if r.random() < 0.05:
            post.author = r.choice(("Пресс-служба", "Press Office", "М. Захарова"))

    def media(self, post: Post) -> Media:
        r = self.random
        kind = r.choices(("photo", "video", "document"), weights=(60, 25, 15))[0]
        if kind == "photo":
            return {"type": "photo", "width": 1280, "height": r.choice((720, 853, 960))}
        if kind == "video":
            return {
                "type": "video",
                "duration": r.randint(5, 1800),
                "size": r.randint(500_000, 400_000_000),
                "width": 1280,
                "height": 720,
                "mime_type": "video/mp4",
            }
        day = (post.date or "")[:10]
        return {
            "type": "document",
            "file_name": f"{r.choice(('Statement', 'Заявление', 'Briefing'))}_{day}.pdf",
            "size": r.randint(40_000, 20_000_000),
            "mime_type": "application/pdf",
        }
