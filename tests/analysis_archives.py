"""Archives with planted forwards, mentions, links and view observations, for the network
and engagement tests: every figure the analyses give is known by hand (see each builder)."""

from __future__ import annotations

from pathlib import Path

from tgscope.archive import Archive
from tgscope.record import Channel, Post
from tgscope.store import SourceInfo

from .helpers import post

MFA = {"title": "МИД России", "channel": "mid_russia"}


def _source(ref: str, at: str) -> SourceInfo:
    return SourceInfo("web", ref, ref.encode().hex()[:64].ljust(64, "0"), at)


def forward(key: str, text: str, date: str, original: dict, **fields) -> Post:
    channel = key.split("/")[0]
    return post(key, text, channel=channel, date=date, forwarded_from=original, **fields)


def network_posts() -> list[Post | Channel]:
    """Four channels.  Forwards (target <- source, delay when the original is archived):
    rusembchina <- mid_russia ×3 (1 h, 2 h, 30 min), rusemb_uk <- mid_russia ×2 (2 h, and
    one whose original is not archived), news_agg <- rusembchina ×1 (30 min), rusembchina <-
    "Иван Петров" (a hidden user) ×1; left out: mid_russia forwarding itself, a forward
    naming nobody.  Mentions: rusemb_uk and news_agg name @mid_russia, news_agg names
    @rusembchina; mid_russia signs with itself.  Links: news_agg -> mid_russia (two links,
    one post), rusembchina -> rusemb_uk (telegram.me), rusemb_uk -> rusembchina (t.me/name);
    invitations and other sites left out."""
    return [
        Channel("mid_russia", title="МИД России"),
        Channel("rusembchina", title="Посольство России в Китае"),
        Channel("rusemb_uk", title="Russian Embassy in the UK"),
        Channel("news_agg", title="Агрегатор новостей"),
        post("mid_russia/100", "Сергей Лавров провёл переговоры с Ван И в Пекине",
             channel="mid_russia", date="2023-03-01T08:00:00+00:00"),
        post("mid_russia/101", "Заявление МИД России о зерновой сделке",
             channel="mid_russia", date="2023-03-02T09:00:00+00:00"),
        post("mid_russia/102", "Брифинг официального представителя М.В.Захаровой",
             channel="mid_russia", date="2023-03-05T12:00:00+00:00"),
        forward("mid_russia/103", "Сергей Лавров провёл переговоры с Ван И в Пекине",
                "2023-03-06T08:00:00+00:00", MFA | {"id": 100}),
        post("mid_russia/104", "О визите в Москву министра иностранных дел Ирана @MID_Russia",
             channel="mid_russia", date="2023-03-06T10:00:00+00:00", mentions=["mid_russia"]),
        forward("rusembchina/10", "Сергей Лавров провёл переговоры с Ван И в Пекине",
                "2023-03-01T09:00:00+00:00", MFA | {"id": 100}),
        forward("rusembchina/11", "Заявление МИД России о зерновой сделке",
                "2023-03-02T11:00:00+00:00", MFA | {"id": 101}),
        forward("rusembchina/12", "Брифинг официального представителя М.В.Захаровой",
                "2023-03-05T12:30:00+00:00", MFA | {"id": 102}),
        forward("rusembchina/13", "Фотографии с приёма в посольстве",
                "2023-03-04T07:00:00+00:00", {"title": "Иван Петров", "channel": None, "id": None}),
        post("rusembchina/14",
             "Посол выступил в Лондоне: https://telegram.me/rusemb_uk/21 вступайте"
             " https://t.me/joinchat/AAAAAE https://t.me/+abcdef https://example.org/t.me/mid_russia",
             channel="rusembchina", date="2023-03-09T12:00:00+00:00",
             links=["https://telegram.me/rusemb_uk/21", "https://t.me/joinchat/AAAAAE",
                    "https://t.me/+abcdef", "https://example.org/t.me/mid_russia"]),
        post("rusembchina/15", "Китайские студенты изучают русский язык",
             channel="rusembchina", date="2023-03-03T06:00:00+00:00"),
        forward("rusemb_uk/20", "Сергей Лавров провёл переговоры с Ван И в Пекине",
                "2023-03-01T10:00:00+00:00", MFA | {"id": 100}),
        forward("rusemb_uk/21", "Комментарий о ситуации на Украине",
                "2023-03-03T08:00:00+00:00", MFA | {"id": 999}),
        post("rusemb_uk/23", "Читайте заявление @MID_Russia о зерновой сделке",
             channel="rusemb_uk", date="2023-03-07T10:00:00+00:00", mentions=["mid_russia"]),
        post("rusemb_uk/24", "Наши коллеги в Пекине: t.me/RusEmbChina",
             channel="rusemb_uk", date="2023-03-10T10:00:00+00:00",
             links=["https://t.me/RusEmbChina"]),
        post("rusemb_uk/25", "The Embassy celebrates Defender of the Fatherland Day",
             channel="rusemb_uk", date="2023-03-02T15:00:00+00:00"),
        forward("news_agg/30", "Сергей Лавров провёл переговоры с Ван И в Пекине",
                "2023-03-01T09:30:00+00:00",
                {"title": "Посольство России в Китае", "channel": "rusembchina", "id": 10}),
        forward("news_agg/31", "Пересланное сообщение без автора",
                "2023-03-02T12:00:00+00:00", {"title": None, "channel": None, "id": None}),
        post("news_agg/32", "Дайджест: @mid_russia и @RusEmbChina о переговорах",
             channel="news_agg", date="2023-03-08T10:00:00+00:00",
             mentions=["mid_russia", "rusembchina"]),
        post("news_agg/33",
             "Подробнее: https://t.me/mid_russia/100 и https://T.me/s/MID_Russia/101",
             channel="news_agg", date="2023-03-09T10:00:00+00:00",
             links=["https://t.me/mid_russia/100", "https://T.me/s/MID_Russia/101"]),
        post("news_agg/34", "Курс рубля и цены на зерно", channel="news_agg",
             date="2023-03-04T10:00:00+00:00"),
    ]  # fmt: skip


def build_network_archive(path: Path) -> Path:
    with Archive.open(path) as archive:
        archive.ingest(network_posts(), _source("test://network", "2023-04-01T00:00:00+00:00"))
    return path


#: agro's posts: (id, date, views at the last observation); agro/10 the planted outlier
AGRO = [
    (1, "2023-05-01T08:00:00+00:00", 125),
    (2, "2023-05-02T09:00:00+00:00", 110),
    (3, "2023-05-03T12:00:00+00:00", 120),
    (4, "2023-05-03T18:00:00+00:00", 90),
    (5, "2023-05-04T06:00:00+00:00", 95),
    (6, "2023-05-05T10:00:00+00:00", 105),
    (7, "2023-05-06T23:30:00+00:00", 115),
    (8, "2023-05-07T10:00:00+00:00", 100),
    (9, "2023-05-08T07:00:00+00:00", 98),
    (10, "2023-05-08T12:00:00+00:00", 5000),
]
AGRO_TEXTS = [
    "Урожай пшеницы в этом году превысил прогнозы",
    "Экспорт зерна через черноморские порты вырос",
    "Цены на удобрения снизились на десять процентов",
    "Фермеры Кубани начали посевную кампанию",
    "Минсельхоз обновил прогноз по урожаю подсолнечника",
    "В Ростовской области открылся новый элеватор",
    "Погода на выходных: заморозки в центральных регионах",
    "Биржевые котировки сои на неделе",
    "Интервью с главой аграрного холдинга",
    "Россия и Китай подписали соглашение о поставках зерна",
]
#: market's posts: (id, date, views); market/1 and market/2 forward agro/1 and agro/2
MARKET = [
    (1, "2023-05-05T22:00:00+00:00", 10),
    (2, "2023-05-06T22:30:00+00:00", 20),
    (3, "2023-05-07T01:00:00+00:00", None),
]
FINAL = "2023-07-01T00:00:00+00:00"
#: earlier observations of agro/1 and agro/2: (id, observed at, views)
EARLY = [
    (1, "2023-05-01T08:30:00+00:00", 40),
    (1, "2023-05-01T10:00:00+00:00", 100),
    (2, "2023-05-02T10:00:00+00:00", 50),
    (1, "2023-05-03T08:00:00+00:00", 110),
    (2, "2023-05-03T09:00:00+00:00", 90),
    (2, "2023-05-09T09:00:00+00:00", 100),
]
#: reactions of agro's posts (10 in all)
REACTIONS = {
    1: [{"emoji": "👍", "count": 5}],
    2: [{"emoji": "❤", "count": 3}, {"emoji": "👍", "count": 2}],
}


def agro_post(number: int, views: int, **fields) -> Post:
    date = AGRO[number - 1][1]
    return post(f"agro/{number}", AGRO_TEXTS[number - 1], channel="agro",
                channel_title="Агроновости", date=date, views=views,
                reactions=REACTIONS.get(number, []), **fields)  # fmt: skip


def market_post(number: int) -> Post:
    _, date, views = MARKET[number - 1]
    original = {"title": "Агроновости", "channel": "agro", "id": number} if number < 3 else None
    text = AGRO_TEXTS[number - 1] if original else "Обзор рынка зерна за неделю"
    return post(f"market/{number}", text, channel="market", channel_title="Рынок",
                date=date, views=views, forwarded_from=original)  # fmt: skip


def build_engagement_archive(path: Path) -> Path:
    """agro: ten posts over eight days (1.25 a day), views observed early for agro/1 and
    agro/2 (the curve), all seen last at :data:`FINAL` (ages over 30 days: one band), agro/10
    far above the rest.  market: three posts, two of them forwards of agro's."""
    with Archive.open(path) as archive:
        for number, at, views in EARLY:
            archive.ingest([agro_post(number, views)], _source(f"test://early/{at}", at))
        final = [agro_post(number, views) for number, _, views in AGRO]
        final += [market_post(number) for number in (1, 2, 3)]
        archive.ingest(final, _source("test://final", FINAL))
    return path
