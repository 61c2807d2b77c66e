"""The archives the browser tests serve, built from known posts and a fixed random seed.

A showcase archive: three diplomatic channels over four months, the pages that
``TGSCOPE_SCREENSHOTS=docs/screenshots`` photographs for the README. A hostile one: the same
archive plus a channel whose one post is hostile in every field, a channel whose username is a
payload and one whose username a URL must quote (kept apart so the screenshots stay readable).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from tgscope import Archive
from tgscope.record import Channel, Entity, Post, Reaction
from tgscope.store import SourceInfo

MID, EMBASSY, CHINA = "mfarussia", "rusembchina", "china_mfa"
TITLES = {
    MID: "МИД России 🇷🇺",
    EMBASSY: "Посольство России в Китае",
    CHINA: "Chinese MFA Spokesperson's Office",
}
FIRST_ID = {MID: 28500, EMBASSY: 6200, CHINA: 3100}
RANDOM_POSTS = {MID: 74, EMBASSY: 52, CHINA: 38}
WATCHED = 28633  # the post seen four times, edited once: the post page's screenshot
FEATURED = 28634  # the post with every kind of entity
PDF_NAME = "Совместное_заявление_РФ_КНР_2023-03-21.pdf"

# --- the showcase archive ------------------------------------------------------------------


def compose(*parts: str | tuple[str, str] | tuple[str, str, str]) -> tuple[str, list[Entity]]:
    """Text and entities from plain strings and ``(type, text)`` / ``(type, text, url)`` parts,
    offsets in code points (``len`` of a Python str) as the record keeps them."""
    text, entities = "", []
    for part in parts:
        if isinstance(part, str):
            text += part
            continue
        kind, chunk, *url = part
        entity: Entity = {"type": kind, "offset": len(text), "length": len(chunk)}
        if url:
            entity["url"] = url[0]
        entities.append(entity)
        text += chunk
    return text, entities


RU_LINES = [
    "Сергей Лавров провёл переговоры с Министром иностранных дел КНР Ван И в {city}.",
    "Состоялся телефонный разговор Сергея Лаврова и Ван И: обсуждены вопросы"
    " двустороннего сотрудничества и ситуация на Корейском полуострове.",
    "Посол России в Китае И.В.Моргулов встретился с заместителем Министра иностранных дел"
    " КНР Ма Чжаосюем.",
    "Брифинг официального представителя МИД России М.В.Захаровой, {city}.",
    "Российско-китайские консультации по вопросам стратегической стабильности прошли в {city}.",
    "Заявление МИД России о встрече министров иностранных дел стран БРИКС.",
    "Лавров: отношения России и Китая находятся на самом высоком уровне за всю историю.",
    "В {city} открылась выставка, посвящённая российско-китайской дружбе.",
]
EN_LINES = [
    "Foreign Minister Sergey Lavrov held talks with Chinese Foreign Minister Wang Yi in {city}.",
    "Spokesperson Wang Wenbin: China and Russia will deepen their comprehensive strategic"
    " partnership of coordination.",
    "Vice Foreign Minister Ma Zhaoxu met with Russian Ambassador Igor Morgulov in {city}.",
    "Regular press conference of the Ministry of Foreign Affairs, {city}.",
    "The meeting of the SCO foreign ministers will be held in {city}.",
    "Russia and China oppose unilateral sanctions, the ministers said after the meeting.",
]
CITIES_RU = ["Пекине", "Москве", "Шанхае", "Нью-Дели", "Астане", "Харбине"]
CITIES_EN = ["Beijing", "Moscow", "Shanghai", "New Delhi", "Astana", "Harbin"]
TAGS = {MID: ["РоссияКитай", "Лавров", "RussiaChina"], EMBASSY: ["РоссияКитай", "Посольство"]}
TAGS[CHINA] = ["RussiaChina", "SCO"]
REACTIONS = ["👍", "❤", "🔥", "🤝", "🇷🇺", "🇨🇳"]
VIEWS = {MID: (15_000, 160_000), EMBASSY: (2_500, 24_000), CHINA: (900, 9_000)}
# the hours (UTC) each channel posts at, a few more likely than others
HOURS = {MID: [6, 7, 8, 9, 9, 10, 11, 12, 13, 14, 15, 17], EMBASSY: [1, 2, 3, 3, 4, 6, 8, 10]}
HOURS[CHINA] = [7, 7, 8, 9, 12, 13]


def random_posts(rng: random.Random, channel: str) -> list[Post]:
    """Ordinary posts of one channel from 2023-01-09 to 2023-04-24, ids in date order."""
    dates = sorted(
        f"2023-{month:02}-{day:02}T{rng.choice(HOURS[channel]):02}:{rng.randrange(60):02}:00+00:00"
        for month, day in (_day(rng) for _ in range(RANDOM_POSTS[channel]))
    )
    posts = []
    for number, date in enumerate(dates):
        english = channel == CHINA or (channel == MID and number % 4 == 0)
        line = rng.choice(EN_LINES if english else RU_LINES)
        line = line.format(city=rng.choice(CITIES_EN if english else CITIES_RU))
        tag = rng.choice(TAGS[channel] if not english else ["RussiaChina", "SCO"])
        text, entities = compose(line, "\n\n", ("hashtag", f"#{tag}"))
        low, high = VIEWS[channel]
        posts.append(
            Post(
                key=f"{channel}/{FIRST_ID[channel] + number}",
                channel=channel,
                channel_title=TITLES[channel],
                id=FIRST_ID[channel] + number,
                date=date,
                text=text,
                entities=entities,
                hashtags=[tag],
                views=rng.randrange(low, high),
                reactions=_reactions(rng, low // 100),
                media=[{"type": "photo"}] if rng.random() < 0.3 else [],
            )
        )
    return posts


def _day(rng: random.Random) -> tuple[int, int]:
    month = rng.choice([1, 2, 3, 4])
    return month, rng.randrange(9 if month == 1 else 1, 25 if month == 4 else 29)


def _reactions(rng: random.Random, scale: int) -> list[Reaction]:
    chosen = rng.sample(REACTIONS, rng.randrange(1, 4))
    counts = sorted((rng.randrange(1, scale + 2) for _ in chosen), reverse=True)
    return [Reaction(emoji=emoji, count=n) for emoji, n in zip(chosen, counts, strict=True)]


def mid_post(number: int, date: str, text: str = "", **fields: Any) -> Post:
    return Post(
        key=f"{MID}/{number}",
        channel=MID,
        channel_title=TITLES[MID],
        id=number,
        date=date,
        text=text,
        **fields,
    )


WATCHED_TEXT = (
    "🇷🇺🇨🇳 Сергей Лавров провёл переговоры с Министром иностранных дел КНР Ван И в Москве."
    " Министры обсудили подготовку государственного визита Председателя КНР Си Цзиньпина"
    " в Россию.\n\n#РоссияКитай"
)
WATCHED_TYPO = WATCHED_TEXT.replace("государственного визита", "госудрственного визита")


def watched_post(text: str, views: int, reactions: list[int], forwards: int) -> Post:
    """The post seen again and again: its counts grow, its text gets one typo fixed."""
    emoji = ["👍", "🤝", "🔥"]
    return mid_post(
        WATCHED,
        "2023-04-25T09:30:00+00:00",
        text,
        entities=[
            {"type": "bold", "offset": 5, "length": 13},
            {"type": "hashtag", "offset": text.index("#"), "length": 12},
        ],
        hashtags=["РоссияКитай"],
        views=views,
        forwards=forwards,
        reactions=[{"emoji": e, "count": n} for e, n in zip(emoji, reactions, strict=True)],
        media=[{"type": "photo", "width": 1280, "height": 853}],
        edited=text == WATCHED_TEXT,
    )


# (observed at, kind of source, views, reactions, forwards, text)
OBSERVATIONS = [
    ("2023-04-25T10:05:00+00:00", "web", 11_800, [310, 95, 40], 52, WATCHED_TYPO),
    ("2023-04-25T18:40:00+00:00", "web", 38_400, [1_020, 301, 122], 187, WATCHED_TYPO),
    ("2023-04-26T21:15:00+00:00", "api", 64_900, [1_650, 472, 205], 310, WATCHED_TEXT),
    ("2023-04-29T08:00:00+00:00", "desktop-json", 81_300, [1_910, 530, 240], 356, WATCHED_TEXT),
]


def featured_posts() -> list[Post]:
    """The newest posts of @mfarussia: every entity, forward, reply, media and preview."""
    text, entities = compose(
        ("bold", "Совместное заявление"),
        " Российской Федерации и Китайской Народной Республики о ",
        ("italic", "углублении отношений всеобъемлющего партнёрства"),
        ".\n\n",
        ("blockquote", "«Российско-китайские отношения не являются военно-политическим союзом»"),
        "\n\nПолный текст: ",
        ("text_link", "mid.ru", "https://mid.ru/ru/foreign_policy/news/1860253/"),
        " · ",
        ("url", "https://t.me/rusembchina"),
        "\nЧто дальше? ",
        ("spoiler", "Визит в Пекин осенью"),
        "\n",
        ("mention", "@rusembchina"),
        " ",
        ("hashtag", "#РоссияКитай"),
        " ",
        ("hashtag", "#RussiaChina"),
    )
    return [
        mid_post(
            FEATURED,
            "2023-04-26T08:00:00+00:00",
            text,
            entities=entities,
            hashtags=["РоссияКитай", "RussiaChina"],
            mentions=["rusembchina"],
            links=["https://mid.ru/ru/foreign_policy/news/1860253/", "https://t.me/rusembchina"],
            views=96_200,
            reactions=[{"emoji": "👍", "count": 2_140}, {"emoji": "🤝", "count": 618}],
            media=[{"type": "document", "file_name": PDF_NAME, "size": 2_202_010}],
            author="Пресс-служба",
        ),
        mid_post(
            28635,
            "2023-04-26T14:20:00+00:00",
            "Посол И.В.Моргулов вручил верительные грамоты Председателю КНР.",
            forwarded_from={"title": TITLES[EMBASSY], "channel": EMBASSY, "id": 6251},
            views=41_000,
            reactions=[{"emoji": "🇷🇺", "count": 512}],
        ),
        mid_post(
            28636,
            "2023-04-27T07:45:00+00:00",
            "Видеообращение Сергея Лаврова к участникам форума «Россия — Китай».",
            reply_to={"channel": MID, "id": FEATURED},
            media=[{"type": "video", "duration": 95, "width": 1920, "height": 1080}],
            views=58_700,
            reactions=[{"emoji": "🔥", "count": 733}, {"emoji": "👍", "count": 402}],
        ),
        mid_post(
            28637,
            "2023-04-28T10:10:00+00:00",
            "О встрече министров иностранных дел ШОС в Гоа.",
            link_preview={
                "url": "https://mid.ru/ru/foreign_policy/news/1865034/",
                "site_name": "МИД России",
                "title": "О встрече министров иностранных дел государств — членов ШОС",
                "description": "4–5 мая в Гоа состоится СМИД ШОС с участием С.В.Лаврова.",
            },
            buttons=[{"text": "Читать на mid.ru", "url": "https://mid.ru/ru/"}],
            views=33_900,
            reactions=[{"emoji": "👍", "count": 390}],
        ),
    ]


def embassy_forward() -> Post:
    """The embassy passes on the MFA's statement (the forward in the other direction)."""
    return Post(
        key=f"{EMBASSY}/6299",
        channel=EMBASSY,
        channel_title=TITLES[EMBASSY],
        id=6299,
        date="2023-04-26T09:00:00+00:00",
        text="Совместное заявление России и Китая — полный текст на сайте МИД.",
        forwarded_from={"title": TITLES[MID], "channel": MID, "id": FEATURED},
        views=8_800,
    )


def channels() -> list[Channel]:
    return [
        Channel(
            MID,
            title=TITLES[MID],
            description="Официальный канал Министерства иностранных дел Российской Федерации",
            verified=True,
            counters={"subscribers": 612_000, "photos": 18_400, "videos": 2_100},
        ),
        Channel(
            EMBASSY,
            title=TITLES[EMBASSY],
            description="Посольство Российской Федерации в Китайской Народной Республике",
            counters={"subscribers": 53_500},
        ),
        Channel(
            CHINA,
            title=TITLES[CHINA],
            description="Remarks and press conferences of the Spokesperson of the Chinese MFA",
            counters={"subscribers": 24_800},
        ),
    ]


def seen(kind: str, ref: str, when: str) -> SourceInfo:
    return SourceInfo(kind, ref, "0" * 64, when)


def build_showcase(path: Path) -> None:
    rng = random.Random(2023)
    posts = [post for channel in (MID, EMBASSY, CHINA) for post in random_posts(rng, channel)]
    with Archive.open(path) as archive:
        first = seen("web", "https://t.me/s/mfarussia", "2023-04-25T10:05:00+00:00")
        archive.ingest([*channels(), *posts, *featured_posts(), embassy_forward()], first)
        for when, kind, views, reactions, forwards, text in OBSERVATIONS:
            ref = f"{kind}://{MID}/{WATCHED}"
            archive.ingest([watched_post(text, views, reactions, forwards)], seen(kind, ref, when))


# --- the hostile post ------------------------------------------------------------------------

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'
XSS_ALERT = '"><svg onload=alert(1)>'  # no slash: a hashtag page can be routed to
XSS_URL = "javascript:window.__xss=1"
HOSTILE = "xss_probe"
HOSTILE_KEY = f"{HOSTILE}/1"


def hostile_post() -> Post:
    text, entities = compose(
        ("bold", XSS),
        " ",
        ("text_link", "open me", XSS_URL),
        " ",
        ("text_link", "or me", " JaVaScRiPt:alert(1)"),
        " ",
        ("text_link", "or data", "data:text/html,<script>alert(1)</script>"),
        " ",
        ("url", "javascript:alert(1)"),
        " ",
        ("mention", f"@x{XSS_ALERT}"),
        " ",
        ("hashtag", "#xsstag"),
        " ",
        ("spoiler", XSS_ALERT),
    )
    return Post(
        key=HOSTILE_KEY,
        channel=HOSTILE,
        channel_title=XSS,
        id=1,
        date="2023-02-14T12:00:00+00:00",
        text=text,
        entities=entities,
        views=1_000,
        reactions=[{"emoji": XSS, "count": 5}, {"custom_emoji_id": XSS_ALERT, "count": 2}],
        forwarded_from={"title": XSS, "channel": XSS_ALERT, "id": 7},
        reply_to={"channel": XSS_ALERT, "id": 3},
        media=[
            {"type": "document", "file_name": XSS, "size": 1_000, "mime_type": XSS},
            {"type": "video", "url": XSS_URL, "duration": 5},
            {"type": "audio", "performer": XSS, "file_name": XSS_ALERT},
            {"type": "poll", "poll": {"question": XSS, "kind": "regular", "options": []}},
            {"type": "contact", "name": XSS, "phone": XSS_ALERT},
        ],
        link_preview={"url": XSS_URL, "site_name": XSS, "title": XSS, "description": XSS_ALERT},
        buttons=[
            {"text": XSS, "url": XSS_URL},
            {"text": XSS_ALERT, "url": "data:text/html,<script>alert(1)</script>"},
        ],
        hashtags=["xsstag", XSS_ALERT],
        mentions=[XSS_ALERT],
        links=[XSS_URL],
        author=XSS,
        via_bot=XSS_ALERT,
        album_id=XSS,
    )


def hostile_username_post() -> Post:
    """A post of a channel whose very username is a payload: it names chart series (legends
    and tooltips), facets and links."""
    text, entities = compose("A channel named like a payload ", ("hashtag", "#xsstag"))
    return Post(
        key=f"{XSS_ALERT}/2",
        channel=XSS_ALERT,
        id=2,
        date="2023-02-21T10:00:00+00:00",
        text=text,
        entities=entities,
        hashtags=["xsstag"],
        views=10,
    )


ODD = "odd?name#1"  # a username (from some import) that a URL must quote


def odd_username_posts() -> list[Post]:
    return [
        Post(
            key=f"{ODD}/{number}",
            channel=ODD,
            id=number,
            date=f"2023-03-{number:02}T1{number}:00:00+00:00",
            text=f"Post {number} of a channel with an odd name",
            views=100 * number,
            reactions=[Reaction(emoji="👍", count=number)],
        )
        for number in range(1, 4)
    ]


def build_hostile(path: Path) -> None:
    build_showcase(path)
    hostile_channel = Channel(HOSTILE, title=XSS, description=XSS_ALERT, avatar=XSS_URL)
    posts: list[Post | Channel] = [hostile_channel, hostile_post(), hostile_username_post()]
    posts += odd_username_posts()
    with Archive.open(path) as archive:
        archive.ingest(posts, seen("web", XSS, "2023-02-15T00:00:00Z"))
