"""``tgscope serve`` in-process: the overview, channel, chart, post and hashtag pages and their
JSON twins, over the small known archive of :mod:`tests.web_archives`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tgscope.archive import Archive
from tgscope.record import Post
from tgscope.web.app import create_app

from .helpers import post
from .web_archives import (
    RICH_EDITED,
    RICH_TEXT,
    WEB,
    archive_posts,
    assert_safe_page,
    build_archive,
    get_html,
    get_json,
    keys,
    rich_post,
)

REL = "noopener noreferrer nofollow"


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_archive(tmp_path_factory.mktemp("web") / "archive.db")


@pytest.fixture(scope="module")
def records(archive_path: Path) -> dict[str, Post]:
    return archive_posts(archive_path)


@pytest.fixture(scope="module")
def client(archive_path: Path) -> TestClient:
    return TestClient(create_app(archive_path), raise_server_exceptions=False)


# -- the overview ---------------------------------------------------------------------------


def test_overview_twin(client):
    data = get_json(client, "/.json")
    synced = data["channels"][0].pop("last_sync")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", synced)
    assert data == {
        "archive": "archive.db",
        "totals": {
            "posts": 9,
            "channels": 2,
            "sources": 2,
            "observations": 10,
            "first_date": "2023-01-02T08:00:00+00:00",
            "last_date": "2023-01-09T10:00:00+00:00",
        },
        "channels": [
            {
                "username": "news",
                "title": "News Daily",
                "posts": 7,
                "first_date": "2023-01-02T08:00:00+00:00",
                "last_date": "2023-01-09T10:00:00+00:00",
                "median_views": 30.0,  # 10 20 30 40 250
            },
            {
                "username": "other",
                "title": "Other Channel",
                "posts": 2,
                "first_date": "2023-01-05T09:00:00+00:00",
                "last_date": "2023-01-06T09:00:00+00:00",
                "last_sync": None,
                "median_views": 8.0,  # 7 9
            },
        ],
        "weekly": {
            "weeks": ["2023-01-02", "2023-01-09"],
            "series": {"news": [5, 1], "other": [2, 0]},
        },
    }
    assert get_json(client, "/index.json") == get_json(client, "/.json")


def test_overview_page(client):
    html = get_html(client, "/")
    page = assert_safe_page(html)
    assert page.data_block("weekly-data") == get_json(client, "/.json")["weekly"]
    channels = [link for link in page.links() if link.startswith("/channels/")]
    assert channels == ["/channels/news", "/channels/other"]
    assert '<link rel="alternate" type="application/json" href="/.json">' in html
    assert "<b>9</b> posts" in html and "<b>2</b> channels" in html
    assert "<td>News Daily</td>" in html and "<td>never</td>" in html


# -- a channel ------------------------------------------------------------------------------


def test_channel_twin_header_and_first_page(client, records):
    data = get_json(client, "/channels/news.json")
    header = data["channel"]
    assert re.fullmatch(r"\d{4}-.+\+00:00", header.pop("updated_at"))
    assert re.fullmatch(r"\d{4}-.+\+00:00", header.pop("last_sync"))
    assert header == {
        "username": "news",
        "title": "News Daily",
        "description": "All the news\nevery day",
        "verified": True,
        "subscribers": 1200,
        "photos": 3,
        "videos": None,
        "links": None,
        "files": None,
        "avatar": None,
        "telegram_id": None,
        "posts": 7,
        "first_date": "2023-01-02T08:00:00+00:00",
        "last_date": "2023-01-09T10:00:00+00:00",
    }
    expected = ["news/10", "news/5", "news/4", "news/3", "news/2", "news/1", "news/dump-1"]
    assert data["posts"] == [records[key].to_dict() for key in expected]
    assert data["next"] is None
    assert data["charts"] == "/channels/news/charts.json?tz=UTC"
    assert data["tz"] == "UTC"


def test_channel_names_are_matched_as_usernames(client):
    assert get_json(client, "/channels/@News.json")["channel"]["username"] == "news"


def follow(client: TestClient, url: str) -> list[tuple[str, list[str]]]:
    """Every page from ``url`` on, through the twins' ``next`` links (twins themselves)."""
    pages = []
    path, _, query = url.partition("?")
    url = f"{path}.json?{query}"
    while url:
        data = get_json(client, url)
        pages.append((url.replace(".json", ""), keys(data["posts"])))
        url = data["next"]
        assert url is None or ".json" in url
    return pages


def test_channel_pages_back_by_cursor_to_the_end(client):
    pages = follow(client, "/channels/news?limit=2")
    assert [url for url, _ in pages[:3]] == [
        "/channels/news?limit=2",
        "/channels/news?before=5&limit=2",
        "/channels/news?before=3&limit=2",
    ]
    # a page that ends with the last post with an id still leads on to the copies
    assert [found for _, found in pages] == [
        ["news/10", "news/5"],
        ["news/4", "news/3"],
        ["news/2", "news/1"],
        ["news/dump-1"],
    ]
    pages = follow(client, "/channels/news?limit=3")
    assert pages == [
        ("/channels/news?limit=3", ["news/10", "news/5", "news/4"]),
        ("/channels/news?before=4&limit=3", ["news/3", "news/2", "news/1"]),
        pages[2],
    ]
    assert pages[2][1] == ["news/dump-1"]


def test_channel_pages_through_copies_without_ids(tmp_path):
    path = tmp_path / "copies.db"
    copies = [
        post(f"news/dump-{n}", f"copy {n}", channel="news", date=f"2023-01-0{n}T10:00:00+00:00")
        for n in range(1, 5)
    ]
    with Archive.open(path) as archive:
        archive.ingest([post("news/1", "first", channel="news"), *copies], WEB)
    client = TestClient(create_app(path), raise_server_exceptions=False)
    pages = follow(client, "/channels/news?limit=2")
    assert [found for _, found in pages] == [
        ["news/1", "news/dump-4"],
        ["news/dump-3", "news/dump-2"],
        ["news/dump-1"],
    ]
    assert [url.split("?")[1] for url, _ in pages[1:]] == [
        "copies_before=5&limit=2",  # the cursor among copies is their pk (news/dump-4's)
        "copies_before=3&limit=2",
    ]


def test_the_channel_page_shows_posts_the_way_telegram_does(client):
    html = get_html(client, "/channels/news")
    page = assert_safe_page(html)
    assert '<h1>News Daily <span class="verified" title="verified">✔</span></h1>' in html
    assert '<p class="description">All the news\nevery day</p>' in html
    assert "<span><b>1.2K</b> subscribers</span>" in html
    text = (
        '<div class="text"><b>Hello</b>'
        f' <a href="https://mid.ru/en/1" rel="{REL}">brave</a> world'
        ' <a href="/hashtags/tag">#Tag</a> <a href="/channels/other">@other</a>'
        f' <a href="https://example.org/x" rel="{REL}">https://example.org/x</a></div>'
    )
    assert text in html
    for fragment in [
        '<span class="signature">Ann Editor</span>',
        '<a href="/channels/other">Other Channel</a>'
        ' <a class="fwd-post" href="/posts/other/5">#5</a>',
        '<a class="reply-quote" href="/posts/news/3"><span class="reply-to">In reply to post 3'
        '</span>\n<span class="reply-text">Grain deal extended #Grain</span></a>',
        '<span class="media-duration">1:35</span><span class="media-size">2.1 MB</span>'
        '<span class="media-file">clip.mp4</span>',
        '<span class="media-size">1000 B</span><span class="media-file">statement.pdf</span>',
        '<span class="media-duration">1:02:03</span><span class="media-file">song.mp3</span>'
        '<span class="media-performer">Choir</span>',
        '<div class="preview-site">Example</div><div class="preview-title">'
        f'<a href="https://example.org/x" rel="{REL}">A preview</a></div>'
        '<div class="preview-text">What the page says</div>',
        f'<span class="button"><a href="https://example.org/b" rel="{REL}">Open</a></span>'
        '<span class="button">Quiet</span>',
        '<span class="reaction">👍 9</span><span class="reaction">❤ 1</span>',
        '<span class="views" title="views">👁 250</span>',
        '<span class="forwards" title="forwards">↪ 4</span>',
        '<span class="replies" title="comments">💬 5</span>',
        '<span class="edited">edited</span>',
        '<a class="post-date" href="/posts/news/10">2023-01-09 10:00 UTC</a>',
        '<a class="post-date" href="/posts/news/4">undated</a>',
        '<span class="reaction">⭐ 2</span>',
    ]:
        assert fragment in html, fragment
    charts = [attrs["data-chart"] for _, attrs in page.tags if "data-chart" in attrs]
    assert charts == [
        "posts-per-day",
        "views-per-post",
        "reactions-per-post",
        "views-growth",
        "heatmap",
    ]
    assert 'class="pager"' not in html  # one page: no pager


def test_the_channel_page_links_the_next_page(client):
    html = get_html(client, "/channels/news?limit=2&before=5")
    assert '<a class="next" rel="next" href="/channels/news?before=3&amp;limit=2">' in html
    twin = "/channels/news.json?limit=2&amp;before=5"
    assert f'<link rel="alternate" type="application/json" href="{twin}">' in html


# -- a channel's charts ---------------------------------------------------------------------

DAYS = {
    "channel": "news",
    "days": ["2023-01-02", "2023-01-03", "2023-01-04", "2023-01-08", "2023-01-09"],
    "posts": [2, 1, 1, 1, 1],
    "views": [20.0, None, 20.0, 40.0, 250.0],
    "reactions": [None, None, 6.0, 6.0, 10.0],
}


def charts_without_reach(client: TestClient, url: str) -> dict:
    """A channel's charts data, its engagement record (tests/test_web_analysis.py) left out."""
    data = get_json(client, url)
    assert data.pop("engagement")["channel"] == "news"
    return data


def test_charts_per_day_and_the_heatmap_in_utc(client):
    assert charts_without_reach(client, "/channels/news/charts.json") == {
        **DAYS,
        "heatmap": {
            "tz": "UTC",
            # Monday 08:00 and 21:30 (2023-01-02) and 10:00 (01-09); Tuesday 10:00;
            # Wednesday 12:00; Sunday 23:30
            "cells": [[0, 8, 1], [0, 10, 1], [0, 21, 1], [1, 10, 1], [2, 12, 1], [6, 23, 1]],
        },
    }


def test_the_heatmap_shifts_to_the_time_zone_asked(client):
    assert charts_without_reach(client, "/channels/news/charts.json?tz=Europe/Moscow") == {
        **DAYS,
        "heatmap": {
            "tz": "Europe/Moscow",  # UTC+3: Sunday 23:30 is Monday 02:30, 21:30 Tuesday 00:30
            "cells": [[0, 2, 1], [0, 11, 1], [0, 13, 1], [1, 0, 1], [1, 13, 1], [2, 15, 1]],
        },
    }


def test_the_heatmap_in_a_half_hour_time_zone(client):
    """Asia/Kolkata is UTC+5:30: a post at 21:30 UTC is at 03:00 there, not 02:00."""
    cells = get_json(client, "/channels/news/charts.json?tz=Asia/Kolkata")["heatmap"]["cells"]
    # Monday 13:30, 15:30 and 05:00 (Sunday 23:30 UTC); Tuesday 03:00 and 15:30; Wednesday 17:30
    assert cells == [[0, 5, 1], [0, 13, 1], [0, 15, 1], [1, 3, 1], [1, 15, 1], [2, 17, 1]]


def test_the_channel_page_passes_its_time_zone_to_the_charts(client):
    data = get_json(client, "/channels/news.json?tz=Europe/Moscow")
    assert data["charts"] == "/channels/news/charts.json?tz=Europe%2FMoscow"
    html = get_html(client, "/channels/news?tz=Europe/Moscow")
    assert 'data-source="/channels/news/charts.json?tz=Europe%2FMoscow"' in html
    assert '<input name="tz" value="Europe/Moscow" size="18">' in html


# -- a post ---------------------------------------------------------------------------------


def test_post_twin(client, records):
    data = get_json(client, "/posts/news/10.json")
    assert data["post"] == records["news/10"].to_dict()
    assert data["telegram_url"] == "https://t.me/news/10"
    assert data["deleted_at"] is None
    assert data["history"] == [
        {
            "observed_at": "2026-11-28T07:00:00+00:00",
            "kind": "web",
            "ref": "https://t.me/s/news",
            "views": 100,
            "forwards": 2,
            "replies": 3,
            "reactions": [{"emoji": "👍", "count": 5}],
        },
        {
            "observed_at": "2026-11-29T07:00:00+00:00",
            "kind": "api",
            "ref": "telegram-api:news",
            "views": 250,
            "forwards": 4,
            "replies": 5,
            "reactions": [{"emoji": "👍", "count": 9}, {"emoji": "❤", "count": 1}],
        },
    ]
    (version,) = data["versions"]
    assert version == {
        "replaced_at": "2026-11-29T07:00:00+00:00",
        "text": RICH_TEXT,
        "entities": rich_post(RICH_TEXT).entities,
        "diff": "Hello<ins> brave</ins> world #Tag @other https://example.org/x",
    }
    assert [s["kind"] for s in data["sources"]] == ["api", "web"]
    api, web = data["sources"]
    assert api["observations"] == [
        {"kind": "api", "ref": "telegram-api:news", "observed_at": "2026-11-29T07:00:00+00:00"}
    ]
    assert api["latest"] == "2026-11-29T07:00:00+00:00"
    assert api["record"]["text"] == RICH_EDITED and web["record"]["text"] == RICH_TEXT
    assert web["observations"] == [
        {"kind": "web", "ref": "https://t.me/s/news", "observed_at": "2026-11-28T07:00:00+00:00"}
    ]
    assert {"text", "views", "reactions", "media"} <= set(api["fields"])  # the newer, whole


def test_post_page(client):
    html = get_html(client, "/posts/news/10")
    page = assert_safe_page(html)
    assert page.data_block("history-data") == get_json(client, "/posts/news/10.json")["history"]
    assert (
        '<div class="diff">Hello<ins> brave</ins> world #Tag @other https://example.org/x</div>'
        in html
    )
    assert (
        f'<p class="original">Original: <a href="https://t.me/news/10" rel="{REL}">'
        "https://t.me/news/10</a></p>" in html
    )
    assert '<td>2026-11-29 07:00 UTC</td><td>api</td><td class="num">250</td>' in html
    assert "<code>telegram-api:news</code>" in html and "<code>https://t.me/s/news</code>" in html
    assert '<nav class="crumbs"><a href="/channels/news">News Daily</a> › news/10</nav>' in html


def test_a_copy_without_an_id_has_no_telegram_link(client, records):
    data = get_json(client, "/posts/news/dump-1.json")
    assert data["post"] == records["news/dump-1"].to_dict()
    assert data["telegram_url"] is None and data["versions"] == []
    html = get_html(client, "/posts/news/dump-1")
    assert "https://t.me/news" not in html.replace('href="https://t.me/news"', "")
    assert 'class="original"' not in html


def test_a_post_without_edits_or_history(client):
    data = get_json(client, "/posts/other/6.json")
    assert data["versions"] == [] and len(data["history"]) == 1
    assert "<h2>Edits</h2>" not in get_html(client, "/posts/other/6")


# -- hashtags -------------------------------------------------------------------------------


def test_hashtags_twin(client):
    assert get_json(client, "/hashtags.json") == {
        "hashtags": [
            {"tag": "Tag", "folded": "tag", "posts": 3, "channels": 2},
            {"tag": "Grain", "folded": "grain", "posts": 1, "channels": 1},
        ]
    }
    assert get_json(client, "/hashtags.json?limit=1")["hashtags"] == [
        {"tag": "Tag", "folded": "tag", "posts": 3, "channels": 2}
    ]


def test_hashtags_page(client):
    html = get_html(client, "/hashtags")
    assert_safe_page(html)
    assert '<td><a href="/hashtags/tag">#Tag</a></td><td class="num">3</td>' in html
    assert '<td><a href="/hashtags/grain">#Grain</a></td>' in html


def test_a_hashtag_twin(client, records):
    data = get_json(client, "/hashtags/tag.json")
    assert data == {
        "hashtag": "tag",
        "spelling": "Tag",  # as two of its three posts write it
        "total": 3,
        "channels": [
            {"username": "other", "title": "Other Channel", "posts": 2},
            {"username": "news", "title": "News Daily", "posts": 1},
        ],
        "timeline": {
            "weeks": ["2023-01-02", "2023-01-09"],
            "series": {"other": [2, 0], "news": [0, 1]},
        },
        "posts": [records[key].to_dict() for key in ("news/10", "other/6", "other/5")],
        "reply_quotes": {"news/3": "Grain deal extended #Grain"},  # news/10 replies to it
        "media": {},  # no medium fetched in this archive
        "next": None,
    }
    assert get_json(client, "/hashtags/TAG.json") == data


def test_a_hashtag_page(client):
    html = get_html(client, "/hashtags/tag")
    page = assert_safe_page(html)
    assert page.data_block("timeline-data") == get_json(client, "/hashtags/tag.json")["timeline"]
    assert "<h1>#Tag</h1>" in html
    assert '<a href="/search?hashtag=tag">search within</a>' in html
    assert '<li><a href="/channels/other">Other Channel</a> <span class="num">2</span></li>' in html
