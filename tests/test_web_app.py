"""``tgscope serve`` in-process: every route and its JSON twin, over a small known archive."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from tgscope.archive import Archive
from tgscope.cli import cli
from tgscope.exports import CSV_COLUMNS
from tgscope.record import Channel, Post
from tgscope.store import SourceInfo, SyncState
from tgscope.web import data as web_data
from tgscope.web.app import create_app
from tgscope.web.data import WebArchive

from .helpers import post

REL = "noopener noreferrer nofollow"

WEB = SourceInfo("web", "https://t.me/s/news", "1" * 64, "2026-11-28T07:00:00+00:00")
API = SourceInfo("api", "telegram-api:news", "", "2026-11-29T07:00:00+00:00")

RICH_TEXT = "Hello world #Tag @other https://example.org/x"
RICH_EDITED = "Hello brave world #Tag @other https://example.org/x"


def rich_post(text: str, **counts) -> Post:
    """news/10: every field of the record set."""
    tag, mention, url = text.index("#Tag"), text.index("@other"), text.index("https://")
    return post(
        "news/10",
        text,
        channel="news",
        channel_title="News Daily",
        date="2023-01-09T10:00:00+00:00",
        entities=[
            {"type": "bold", "offset": 0, "length": 5},
            {"type": "hashtag", "offset": tag, "length": 4},
            {"type": "mention", "offset": mention, "length": 6},
            {"type": "url", "offset": url, "length": 21},
            {"type": "text_link", "offset": 6, "length": 5, "url": "https://mid.ru/en/1"},
        ],
        forwarded_from={"title": "Other Channel", "channel": "other", "id": 5},
        reply_to={"channel": "news", "id": 3},
        media=[
            {"type": "video", "duration": 95, "size": 2_202_010, "file_name": "clip.mp4"},
            {"type": "document", "file_name": "statement.pdf", "size": 1000},
            {"type": "audio", "duration": 3723, "performer": "Choir", "file_name": "song.mp3"},
        ],
        link_preview={
            "url": "https://example.org/x",
            "site_name": "Example",
            "title": "A preview",
            "description": "What the page says",
        },
        buttons=[{"text": "Open", "url": "https://example.org/b"}, {"text": "Quiet", "url": None}],
        hashtags=["Tag"],
        mentions=["other"],
        links=["https://example.org/x", "https://mid.ru/en/1"],
        author="Ann Editor",
        **counts,
    )


def build_archive(path: Path) -> Path:
    """Two channels; news/10 seen twice (other counts, an edited text); a dump copy; an
    undated post; known dates for the charts."""
    first: list[Post | Channel] = [
        Channel(
            "news",
            title="News Daily",
            description="All the news\nevery day",
            verified=True,
            counters={"subscribers": 1200, "photos": 3},
        ),
        Channel("other", title="Other Channel"),
        post("news/1", "Morning briefing about grain", channel="news",
             date="2023-01-02T08:00:00+00:00", views=10),
        post("news/2", "Evening briefing about energy", channel="news",
             date="2023-01-02T21:30:00+00:00", views=30,
             media=[{"type": "photo", "url": "https://cdn.example/p.jpg"}]),
        post("news/3", "Grain deal extended #Grain", channel="news",
             date="2023-01-04T12:00:00+00:00", views=20, hashtags=["Grain"],
             entities=[{"type": "hashtag", "offset": 20, "length": 6}],
             reactions=[{"emoji": "👍", "count": 4}, {"paid": True, "count": 2}]),
        post("news/4", "Undated briefing note", channel="news"),
        post("news/5", "Late night briefing", channel="news",
             date="2023-01-08T23:30:00+00:00", views=40,
             reactions=[{"emoji": "🔥", "count": 6}]),
        post("news/dump-1", "A copied briefing from a dump", channel="news",
             date="2023-01-03T10:00:00+00:00"),
        rich_post(RICH_TEXT, views=100, forwards=2, replies=3, edited=False,
                  reactions=[{"emoji": "👍", "count": 5}]),
        post("other/5", "Original grain statement #tag", channel="other",
             channel_title="Other Channel", date="2023-01-05T09:00:00+00:00", views=7,
             hashtags=["tag"], media=[{"type": "photo", "url": "https://cdn.example/o.jpg"}]),
        post("other/6", "Another briefing from elsewhere #Tag", channel="other",
             channel_title="Other Channel", date="2023-01-06T09:00:00+00:00", views=9,
             hashtags=["Tag"]),
    ]  # fmt: skip
    later = [
        rich_post(RICH_EDITED, views=250, forwards=4, replies=5, edited=True,
                  reactions=[{"emoji": "👍", "count": 9}, {"emoji": "❤", "count": 1}]),
    ]  # fmt: skip
    with Archive.open(path) as archive:
        archive.ingest(
            first,
            WEB,
            before_commit=lambda store: store.save_sync_state(
                "news", SyncState(10, None, None, ())
            ),
        )
        archive.ingest(later, API)
    return path


def archive_posts(path: Path) -> dict[str, Post]:
    with Archive.open(path, create=False) as archive:
        return {p.key: p for p in archive.posts()}


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory) -> Path:
    return build_archive(tmp_path_factory.mktemp("web") / "archive.db")


@pytest.fixture(scope="module")
def records(archive_path) -> dict[str, Post]:
    return archive_posts(archive_path)


@pytest.fixture(scope="module")
def client(archive_path, records) -> TestClient:
    return TestClient(create_app(archive_path), raise_server_exceptions=False)


def get_json(client: TestClient, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    return response.json()


def get_html(client: TestClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response.text


def keys(posts: list[dict]) -> list[str]:
    return [p["key"] for p in posts]


class Page(HTMLParser):
    """The tags of a page, with their attributes and, for scripts, their text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def links(self, tag: str = "a") -> list[str]:
        return [attrs["href"] or "" for name, attrs in self.tags if name == tag and "href" in attrs]

    def data_block(self, block_id: str):
        (text,) = [text for attrs, text in self.scripts if attrs.get("id") == block_id]
        return json.loads(text)


URL_ATTRIBUTES = ("href", "src", "action", "formaction", "data", "poster", "srcset", "xlink:href")


def assert_safe_page(html: str) -> Page:
    """No inline code, no event handler, no link but http(s), tg or a path in the app."""
    page = Page(html)
    for attrs, text in page.scripts:
        source = attrs.get("src")
        if source:
            assert source.startswith("/static/") and not text.strip(), attrs
        else:
            assert attrs.get("type") == "application/json", (attrs, text[:200])
            json.loads(text)  # inert data, whole: nothing broke out of the block
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, attrs)
            if name in URL_ATTRIBUTES:
                assert value is not None
                if tag == "link" and attrs.get("rel") == "icon" and value == "data:,":
                    continue  # the app's own empty favicon
                assert_safe_target(value, tag)
        assert tag not in ("iframe", "object", "embed", "base", "meta") or (
            tag == "meta" and set(attrs) <= {"charset", "name", "content"}
        ), (tag, attrs)
    return page


def assert_safe_target(value: str, tag: str) -> None:
    parts = urlsplit(value.strip())
    if parts.scheme:
        assert parts.scheme in ("http", "https", "tg"), (tag, value)
        assert value == value.strip() and not re.search(r"[\x00-\x20]", value), value
    else:
        assert value.startswith(("/", "?", "#")) and not value.startswith("//"), (tag, value)


# -- every response -------------------------------------------------------------------------

EVERY_URL = [
    "/",
    "/.json",
    "/channels/news",
    "/channels/news.json",
    "/channels/news?limit=2&before=5",
    "/channels/news/charts.json",
    "/posts/news/10",
    "/posts/news/10.json",
    "/posts/news/dump-1",
    "/search",
    "/search?q=briefing",
    "/search.json?q=briefing",
    "/search.csv?q=briefing",
    "/search.jsonl",
    "/hashtags",
    "/hashtags.json",
    "/hashtags/tag",
    "/hashtags/tag.json",
    "/static/app.js",
    "/static/app.css",
    "/channels/nobody",
    "/channels/nobody.json",
    "/search?limit=-1",
    "/no/such/page",
]


@pytest.mark.parametrize("url", EVERY_URL)
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url)
    assert response.status_code < 500
    policy = response.headers["content-security-policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'none'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["object-src" if "object-src" in directives else "default-src"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


HTML_PAGES = [url for url in EVERY_URL if "." not in url.rsplit("/", 1)[-1].split("?")[0]]


@pytest.mark.parametrize("url", HTML_PAGES)
def test_no_page_has_inline_script_or_unsafe_links(client, url):
    response = client.get(url)
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert_safe_page(response.text)


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
        '<a class="reply-quote" href="/posts/news/3">In reply to post 3</a>',
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
    assert charts == ["posts-per-day", "views-per-post", "reactions-per-post", "heatmap"]
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


def test_charts_per_day_and_the_heatmap_in_utc(client):
    assert get_json(client, "/channels/news/charts.json") == {
        **DAYS,
        "heatmap": {
            "tz": "UTC",
            # Monday 08:00 and 21:30 (2023-01-02) and 10:00 (01-09); Tuesday 10:00;
            # Wednesday 12:00; Sunday 23:30
            "cells": [[0, 8, 1], [0, 10, 1], [0, 21, 1], [1, 10, 1], [2, 12, 1], [6, 23, 1]],
        },
    }


def test_the_heatmap_shifts_to_the_time_zone_asked(client):
    assert get_json(client, "/channels/news/charts.json?tz=Europe/Moscow") == {
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


# -- search ---------------------------------------------------------------------------------

ALL = {"news/1", "news/2", "news/3", "news/4", "news/5", "news/dump-1", "news/10"}
ALL |= {"other/5", "other/6"}
BRIEFINGS = {"news/1", "news/2", "news/4", "news/5", "news/dump-1", "other/6"}

FILTERS = [
    ("q=briefing", BRIEFINGS, {"news": 5, "other": 1}),
    ("q=grain", {"news/1", "news/3", "other/5"}, {"news": 2, "other": 1}),
    ("q=briefing&channel=other", {"other/6"}, {"other": 1}),
    ("q=briefing&channel=%40Other", {"other/6"}, {"other": 1}),
    ("q=briefing&since=2023-01-03", {"news/5", "news/dump-1", "other/6"}, {"news": 2, "other": 1}),
    ("until=2023-01-02", {"news/1", "news/2"}, {"news": 2}),
    (
        "since=2023-01-04&until=2023-01-06",
        {"news/3", "other/5", "other/6"},
        {"news": 1, "other": 2},
    ),
    ("hashtag=tag", {"news/10", "other/5", "other/6"}, {"other": 2, "news": 1}),
    ("hashtag=%23TAG", {"news/10", "other/5", "other/6"}, {"other": 2, "news": 1}),
    ("hashtag=grain&q=grain", {"news/3"}, {"news": 1}),
    ("media=photo", {"news/2", "other/5"}, {"news": 1, "other": 1}),
    ("media=video", {"news/10"}, {"news": 1}),
    ("media=audio", {"news/10"}, {"news": 1}),
    ("media=any", {"news/2", "news/10", "other/5"}, {"news": 2, "other": 1}),
    ("media=none", ALL - {"news/2", "news/10", "other/5"}, {"news": 5, "other": 1}),
    ("forwarded=yes", {"news/10"}, {"news": 1}),
    ("forwarded=no", ALL - {"news/10"}, {"news": 6, "other": 2}),
    ("", ALL, {"news": 7, "other": 2}),
    ("q=nothingmatches", set(), {}),
]


@pytest.mark.parametrize(
    ("query", "found", "facets"), FILTERS, ids=[f[0] or "all" for f in FILTERS]
)
def test_search_filters(client, query, found, facets):
    data = get_json(client, f"/search.json?{query}")
    assert set(keys([r["post"] for r in data["results"]])) == found
    assert data["total"] == len(found)
    assert data["facets"] == {"channels": facets}
    assert data["index_behind"] == 0
    assert list(data["facets"]["channels"].values()) == sorted(facets.values(), reverse=True)


def test_search_results_and_their_snippets(client, records):
    data = get_json(client, "/search.json?q=grain&channel=other")
    (result,) = data["results"]
    assert result["snippet"] == "Original <b>grain</b> statement #tag"
    expected = records["other/5"].to_dict()
    assert {k: v for k, v in result["post"].items() if k != "sources"} == {
        k: v for k, v in expected.items() if k != "sources"
    }
    assert data["query"] == {"q": "grain", "channel": "other"}
    assert data["exports"] == {
        "csv": "/search.csv?q=grain&channel=other",
        "jsonl": "/search.jsonl?q=grain&channel=other",
    }
    assert data["channels"] == [["news", "News Daily"], ["other", "Other Channel"]]


def test_search_counts_undated_posts_a_date_filter_leaves_out(client):
    assert get_json(client, "/search.json?until=2023-01-02")["undated_left_out"] == 1
    assert get_json(client, "/search.json?q=briefing")["undated_left_out"] == 0


def test_search_sorts_by_date(client):
    newest = get_json(client, "/search.json?q=briefing&sort=newest")
    oldest = get_json(client, "/search.json?q=briefing&sort=oldest")
    dated = ["news/5", "other/6", "news/dump-1", "news/2", "news/1"]
    assert keys([r["post"] for r in newest["results"]]) == [*dated, "news/4"]
    assert keys([r["post"] for r in oldest["results"]]) == [*reversed(dated), "news/4"]
    listing = get_json(client, "/search.json")  # no words: newest first
    assert keys([r["post"] for r in listing["results"]])[:3] == ["news/10", "news/5", "other/6"]
    assert listing["query"] == {}


def test_search_pages_by_offset_and_limit(client):
    everything = keys([r["post"] for r in get_json(client, "/search.json?sort=oldest")["results"]])
    seen, url, pages = [], "/search.json?sort=oldest&limit=4", []
    while url:
        data = get_json(client, url)
        pages.append(url.replace(".json", ""))
        seen += keys([r["post"] for r in data["results"]])
        url = data["next"]
    assert pages == [
        "/search?sort=oldest&limit=4",
        "/search?sort=oldest&offset=4&limit=4",
        "/search?sort=oldest&offset=8&limit=4",
    ]
    assert seen == everything and len(seen) == 9
    data = get_json(client, "/search.json?sort=oldest&offset=8&limit=4")
    assert data["query"] == {"sort": "oldest", "limit": 4} and data["next"] is None


def test_search_page(client):
    html = get_html(client, "/search?q=grain&channel=other&media=photo&forwarded=no")
    page = assert_safe_page(html)
    assert '<div class="text snippet">Original <b>grain</b> statement #tag</div>' in html
    assert '<option value="other" selected>Other Channel</option>' in html
    assert '<option value="photo" selected>photo</option>' in html
    assert '<option value="no" selected>not forwarded</option>' in html
    assert '<input type="search" name="q" value="grain"' in html
    assert "/search.csv?q=grain&amp;channel=other&amp;media=photo&amp;forwarded=no" in html
    assert "<b>1</b> posts match" in html
    # a facet keeps the other filters
    assert "/search?q=grain&channel=other&media=photo&forwarded=no" in page.links()


def test_the_search_listing_renders_whole_posts(client):
    html = get_html(client, "/search?channel=news&forwarded=yes")
    assert '<div class="text"><b>Hello</b>' in html


# -- exports --------------------------------------------------------------------------------


def cli_export(archive_path: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["export", "--db", str(archive_path), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("query", ["q=briefing", "q=grain&channel=news", "", "hashtag=tag"])
def test_search_csv_is_what_export_writes(client, archive_path, query):
    response = client.get(f"/search.csv?{query}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="tgscope-search.csv"'
    rows = list(csv.reader(io.StringIO(response.text, newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    params = parse_qs(query)
    args = [f"--{'query' if name == 'q' else name}={value[0]}" for name, value in params.items()]
    expected = list(csv.reader(io.StringIO(cli_export(archive_path, "--format=csv", *args))))
    assert rows == expected
    assert len(rows) > 1


def test_search_jsonl_gives_the_archive_records(client, archive_path):
    response = client.get("/search.jsonl?q=briefing")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = response.text.splitlines()
    with Archive.open(archive_path, create=False) as archive:
        expected = [p.to_json() for p in archive.posts(query="briefing")]
    assert lines == expected and len(lines) == len(BRIEFINGS)
    assert lines == cli_export(archive_path, "--query=briefing").splitlines()
    everything = client.get("/search.jsonl").text.splitlines()
    assert {Post.from_json(line).key for line in everything} == ALL


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


# -- bad parameters -------------------------------------------------------------------------

LONG = "word " * 4000  # 20 kB

BAD = [
    ("/search", "since=2023-02-30", 400),
    ("/search", "since=yesterday", 400),
    ("/search", "until=2023-13-01", 400),
    ("/search", "since=2023-02-01&until=2023-01-01", 400),
    ("/search", "limit=-1", 400),
    ("/search", "limit=0", 400),
    ("/search", "limit=100000000000000000000000", 400),
    ("/search", "limit=ten", 400),
    ("/search", "limit=1e3", 400),
    ("/search", "offset=-5", 400),
    ("/search", "offset=99999999", 400),
    ("/search", "offset=x", 400),
    ("/search", f"q={LONG}", 400),
    ("/search", "q=a%00b", 400),
    ("/search", "channel=news%00", 400),
    ("/search", "q=-", 400),
    ("/search", "sort=random", 400),
    ("/search", "media=hologram", 400),
    ("/search", "forwarded=maybe", 400),
    ("/search", "hashtag=" + "x" * 300, 400),
    ("/channels/news", "before=-1", 400),
    ("/channels/news", "before=abc", 400),
    ("/channels/news", "before=99999999999999999999999", 400),
    ("/channels/news", "limit=1000", 400),
    ("/channels/news", "tz=Mars/Olympus", 400),
    ("/channels/news", "tz=../../../etc/passwd", 400),
    ("/channels/news", "tz=UTC%00", 400),
    ("/channels/nobody", "", 404),
    ("/channels/%00", "", 404),
    ("/posts/news/404", "", 404),
    ("/posts/nobody/1", "", 404),
    ("/hashtags/nothing", "", 404),
    ("/hashtags", "limit=-1", 400),
    ("/hashtags/tag", "offset=-1", 400),
]


@pytest.mark.parametrize(("path", "query", "status"), BAD, ids=[f"{p}?{q[:40]}" for p, q, _ in BAD])
def test_a_bad_parameter_is_a_clear_error_page_and_json_error(client, path, query, status):
    html = get_html(client, f"{path}?{query}", status)
    page = assert_safe_page(html)
    assert f"<h1>{status}</h1>" in html
    (message,) = re.findall(r'<p class="message">(.*?)</p>', html, re.S)
    assert message and "Traceback" not in html and len(message) < 400
    data = get_json(client, f"{path}.json?{query}", status)
    assert data["ok"] is False and data["status"] == status
    assert data["error"] and "Traceback" not in data["error"]
    assert page.scripts and all(attrs.get("src") for attrs, _ in page.scripts)


@pytest.mark.parametrize("query", [q for p, q, _ in BAD if p == "/search"])
def test_a_bad_parameter_of_an_export_is_a_json_error_before_any_row(client, query):
    for kind in ("csv", "jsonl"):
        response = client.get(f"/search.{kind}?{query}")
        assert response.status_code == 400, (kind, response.text[:200])
        assert response.json()["ok"] is False


def test_the_charts_of_an_unknown_channel_or_time_zone(client):
    assert get_json(client, "/channels/nobody/charts.json", 404)["status"] == 404
    error = get_json(client, "/channels/news/charts.json?tz=Nowhere", 400)["error"]
    assert error == "tz: unknown time zone 'Nowhere' (use a name like Europe/Moscow)"


def test_an_unbalanced_quote_is_searched_as_a_phrase_not_an_error(client):
    data = get_json(client, '/search.json?q="late night')
    assert keys([r["post"] for r in data["results"]]) == ["news/5"]
    assert get_html(client, '/search?q="late')


def test_error_messages_name_the_parameter(client):
    assert get_json(client, "/search.json?limit=-1", 400)["error"] == (
        "limit: -1 is out of range (1 to 100)"
    )
    assert get_json(client, "/search.json?since=2023-02-30", 400)["error"] == (
        "since: '2023-02-30' is not a date (use YYYY-MM-DD)"
    )
    assert get_json(client, "/channels/nobody.json", 404)["error"] == (
        "no channel 'nobody' in this archive"
    )
    assert get_json(client, "/no/such.json", 404)["error"] == "nothing at /no/such.json"


def test_the_since_after_until_error_names_the_dates_not_the_query(client):
    error = get_json(client, "/search.json?since=2023-02-01&until=2023-01-01", 400)["error"]
    assert not error.startswith("q:"), error
    assert "2023-02-01" in error and "2023-01-01" in error


PAYLOAD = '"><img src=x onerror=alert(1)>'


@pytest.mark.parametrize(
    "url",
    [
        f"/channels/{PAYLOAD}",
        f"/posts/{PAYLOAD}",
        f"/hashtags/{PAYLOAD}",
        f"/search?sort={PAYLOAD}",
        f"/search?since={PAYLOAD}",
        f"/search?limit={PAYLOAD}",
        f"/channels/news?tz={PAYLOAD}",
        f"/channels/news?before={PAYLOAD}",
        f"/{PAYLOAD}",
    ],
)
def test_a_bad_value_is_never_echoed_unescaped(client, url):
    response = client.get(url)
    assert response.status_code in (400, 404)
    assert "<img" not in response.text and "onerror=alert" not in response.text.replace(
        "onerror=alert(1)&gt;", ""
    )
    assert_safe_page(response.text)


# -- hostile archives -----------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = PAYLOAD
JS = "javascript:alert(1)"
BREAKOUT = "</script><script>alert(1)</script>"
EVERY = f"{SCRIPT} {IMG} {JS} {BREAKOUT}"


def hostile_post(text: str, **fields) -> Post:
    return post(
        "evil/1",
        text,
        channel="evil",
        channel_title=EVERY,
        date="2023-01-05T10:00:00+00:00",
        entities=[
            {"type": "text_link", "offset": 0, "length": 8, "url": JS},
            {"type": "text_link", "offset": 8, "length": 4, "url": IMG},
            {"type": "url", "offset": text.index(JS), "length": len(JS)},
            {"type": "mention", "offset": text.index(IMG), "length": len(IMG)},
            {"type": "bold", "offset": 0, "length": len(text)},
        ],
        views=5,
        reactions=[{"emoji": BREAKOUT, "count": 1}, {"custom_emoji_id": IMG, "count": 2}],
        forwarded_from={"title": EVERY, "channel": IMG, "id": 1},
        reply_to={"channel": BREAKOUT, "id": 2},
        media=[
            {"type": "document", "file_name": EVERY, "url": JS, "size": 10},
            {"type": "poll", "poll": {"question": EVERY}},
            {"type": "audio", "performer": EVERY, "duration": 3},
            {"type": "contact", "name": EVERY, "phone": IMG},
        ],
        link_preview={"url": JS, "site_name": EVERY, "title": EVERY, "description": EVERY},
        buttons=[{"text": EVERY, "url": JS}, {"text": IMG, "url": "data:text/html,x"}],
        hashtags=[IMG, BREAKOUT],
        mentions=[IMG],
        links=[JS],
        author=EVERY,
        via_bot=IMG,
        service=EVERY,
        album_id=IMG,
        **fields,
    )


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, TestClient]:
    path = tmp_path_factory.mktemp("hostile") / "archive.db"
    with Archive.open(path) as archive:
        archive.ingest(
            [
                Channel("evil", title=EVERY, description=EVERY, avatar=JS, verified=True),
                hostile_post(f"{EVERY} first"),
                post(f"{IMG}/2", EVERY, channel=IMG, channel_title=EVERY, date="2023-01-06"),
                post(f"{BREAKOUT}/3", EVERY, channel=BREAKOUT, date="2023-01-07T01:00:00"),
            ],
            SourceInfo("web", EVERY, "2" * 64, "2026-11-28T07:00:00+00:00"),
        )
        archive.ingest(
            [hostile_post(f"{EVERY} second {SCRIPT}", edited=True)],
            SourceInfo("api", BREAKOUT, "", "2026-11-29T07:00:00+00:00"),
        )
    return path, TestClient(create_app(path), raise_server_exceptions=False)


def quoted(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


HOSTILE_PAGES = [
    "/",
    "/channels/evil",
    f"/channels/{quoted(IMG)}",
    "/posts/evil/1",
    f"/posts/{quoted(IMG)}/2",
    "/search?q=alert",
    "/search?q=script+img",
    "/search",
    "/search?channel=evil&forwarded=yes",
    "/hashtags",
    f"/hashtags/{quoted(IMG)}",
]


@pytest.mark.parametrize("url", HOSTILE_PAGES)
def test_xss_payloads_in_every_field_are_inert(hostile, url):
    _, client = hostile
    html = get_html(client, url)
    page = assert_safe_page(html)
    for _attrs, block in page.scripts:  # inert data: no markup at all in it
        assert "<" not in block and ">" not in block, block[:200]
    html = re.sub(r'<script type="application/json"[^>]*>[^<]*</script>', "", html)
    for raw in (SCRIPT, IMG, BREAKOUT, "<img", "<script>alert"):
        assert raw not in html, raw
    assert "onerror=alert(1)" not in html.replace("onerror=alert(1)&gt;", "")
    assert 'href="javascript' not in html.lower() and "data:text" not in html
    assert "&lt;script&gt;alert(1)" in html or "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_hostile_twins_hold_the_exact_text(hostile):
    _, client = hostile
    data = get_json(client, "/posts/evil/1.json")
    assert data["post"]["text"] == f"{EVERY} second {SCRIPT}"
    assert data["versions"][0]["text"] == f"{EVERY} first"
    assert SCRIPT not in data["versions"][0]["diff"] and "<ins>" in data["versions"][0]["diff"]
    assert [o["ref"] for o in data["history"]] == [EVERY, BREAKOUT]
    assert get_json(client, "/channels/evil.json")["channel"]["title"] == EVERY


def test_the_hostile_channel_is_reachable_and_escaped(hostile):
    _, client = hostile
    data = get_json(client, f"/channels/{quoted(IMG)}.json")
    assert keys(data["posts"]) == [f"{IMG}/2"]
    charts = get_json(client, data["charts"])  # the link the page gives its scripts
    assert charts["posts"] == [1]


# -- read-only, and a writer alongside ------------------------------------------------------


def snapshot(path: Path) -> dict[str, tuple[bytes, int]]:
    """The archive file and every file of its index: bytes and modification time."""
    index = path.with_name(path.name + ".index")
    files = [path, *sorted(p for p in index.rglob("*") if p.is_file())]
    return {str(f.relative_to(path.parent)): (f.read_bytes(), f.stat().st_mtime_ns) for f in files}


def test_serving_every_page_writes_nothing(tmp_path):
    path = build_archive(tmp_path / "archive.db")
    before = snapshot(path)
    client = TestClient(create_app(path), raise_server_exceptions=False)
    for url in [*EVERY_URL, *(f"{p}?{q}" for p, q, _ in BAD), "/search.jsonl?q=grain"]:
        assert client.get(url).status_code < 500, url
    assert snapshot(path) == before


def test_the_app_reads_through_a_read_only_connection(archive_path):
    archive = WebArchive(archive_path)
    with archive.read() as reader:
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
            reader.db.execute("INSERT INTO meta (name, value) VALUES ('x', 'y')")
        (file,) = [row[2] for row in reader.db.execute("PRAGMA database_list")]
        assert Path(file) == archive_path.resolve()
    with archive.streaming() as reader, pytest.raises(sqlite3.OperationalError):
        reader.db.execute("DELETE FROM posts")
    with pytest.raises(Exception, match="reading only"):
        archive.index._open_writer()


def test_the_connection_is_opened_with_mode_ro(archive_path, monkeypatch):
    opened = []
    real = sqlite3.connect

    def spy(target, *args, **kwargs):
        opened.append((target, kwargs.get("uri")))
        return real(target, *args, **kwargs)

    monkeypatch.setattr(web_data.sqlite3, "connect", spy)
    client = TestClient(create_app(archive_path), raise_server_exceptions=False)
    client.get("/channels/news")
    client.get("/search.csv")
    assert opened and all(str(t).endswith("?mode=ro") and uri for t, uri in opened)


def test_the_app_serves_a_copy_of_an_archive_in_a_read_only_folder(tmp_path, archive_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    shutil.copy(archive_path, folder / "archive.db")
    shutil.copytree(archive_path.with_name("archive.db.index"), folder / "archive.db.index")
    for item in [*folder.rglob("*"), folder]:
        item.chmod(0o555 if item.is_dir() else 0o444)
    try:
        client = TestClient(create_app(folder / "archive.db"), raise_server_exceptions=False)
        assert keys(get_json(client, "/channels/news.json")["posts"])[0] == "news/10"
        assert get_json(client, "/search.json?q=grain")["total"] == 3
    finally:
        for item in [folder, *folder.rglob("*")]:
            item.chmod(0o755 if item.is_dir() else 0o644)


def test_posts_another_writer_saves_show_up_in_the_next_request(tmp_path):
    path = build_archive(tmp_path / "archive.db")
    client = TestClient(create_app(path), raise_server_exceptions=False)
    assert keys(get_json(client, "/channels/news.json")["posts"])[0] == "news/10"
    assert get_json(client, "/search.json?q=sunflower")["total"] == 0
    assert get_json(client, "/.json")["totals"]["posts"] == 9
    with Archive.open(path) as writer:
        writer.ingest(
            [post("news/11", "Sunflower oil prices", channel="news", date="2023-01-10")],
            SourceInfo("web", "later", "3" * 64, "2026-11-30T07:00:00+00:00"),
        )
        assert keys(get_json(client, "/channels/news.json")["posts"])[0] == "news/11"
        found = get_json(client, "/search.json?q=sunflower")
        assert keys([r["post"] for r in found["results"]]) == ["news/11"]
        assert found["index_behind"] == 0
        assert get_json(client, "/posts/news/11.json")["post"]["text"] == "Sunflower oil prices"
    # the aggregates (totals, a channel's counters) are made again in the background
    assert eventually(lambda: get_json(client, "/.json")["totals"]["posts"] == 10)
    assert eventually(lambda: get_json(client, "/channels/news.json")["channel"]["posts"] == 8)


def eventually(check, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_writer_that_has_not_indexed_yet_is_reported_behind(tmp_path):
    path = build_archive(tmp_path / "archive.db")
    client = TestClient(create_app(path), raise_server_exceptions=False)
    with Archive.open(path) as writer:
        writer.ingest(
            [post("news/12", "Deferred wheat note", channel="news", date="2023-01-11")],
            SourceInfo("web", "deferred", "4" * 64, "2026-11-30T08:00:00+00:00"),
            defer_index=True,
        )
        assert keys(get_json(client, "/channels/news.json")["posts"])[0] == "news/12"
        data = get_json(client, "/search.json?q=wheat")
        assert data["index_behind"] == 1 and data["total"] == 0
        assert "1 write(s) behind" in get_html(client, "/search?q=wheat")
        writer.flush_index()
        assert get_json(client, "/search.json?q=wheat")["total"] == 1


def test_an_archive_without_a_search_index_still_serves_its_channels(tmp_path):
    path = build_archive(tmp_path / "archive.db")
    shutil.rmtree(path.with_name("archive.db.index"))
    client = TestClient(create_app(path), raise_server_exceptions=False)
    assert get_json(client, "/channels/news.json")["channel"]["posts"] == 7
    error = get_json(client, "/search.json?q=grain", 503)
    assert error["error"].startswith("search is not available:")
    assert get_html(client, "/search", 503)


def test_a_channel_first_archived_while_serving_is_found_at_once(tmp_path):
    """A 404 for a channel is not remembered: a sync may bring it a moment later."""
    path = build_archive(tmp_path / "archive.db")
    client = TestClient(create_app(path), raise_server_exceptions=False)
    get_json(client, "/channels/fresh.json", 404)
    with Archive.open(path) as writer:
        writer.ingest(
            [Channel("fresh", title="Fresh"), post("fresh/1", "New channel", channel="fresh")],
            SourceInfo("web", "fresh", "5" * 64, "2026-11-30T09:00:00+00:00"),
        )
    data = get_json(client, "/channels/fresh.json")
    assert data["channel"]["title"] == "Fresh" and keys(data["posts"]) == ["fresh/1"]


def test_an_empty_archive_serves_every_page(tmp_path):
    path = tmp_path / "empty.db"
    with Archive.open(path) as archive:
        archive.ingest([], WEB)
    client = TestClient(create_app(path), raise_server_exceptions=False)
    assert "No channels yet" in get_html(client, "/")
    assert get_json(client, "/.json")["totals"]["posts"] == 0
    assert get_json(client, "/search.json")["results"] == []
    assert "Nothing found." in get_html(client, "/search?q=anything")
    assert get_json(client, "/hashtags.json") == {"hashtags": []}
    assert client.get("/search.csv").text == ",".join(CSV_COLUMNS) + "\r\n"
    assert client.get("/search.jsonl").text == ""


def mark_first_deleted(store) -> None:
    store.mark_missing("news", 1, 2, {2}, "2026-11-28T08:00:00+00:00")


def test_a_post_a_sync_found_deleted_says_so(tmp_path):
    path = tmp_path / "deleted.db"
    with Archive.open(path) as archive:
        archive.ingest(
            [post("news/1", "gone soon", channel="news"), post("news/2", "kept", channel="news")],
            WEB,
            before_commit=mark_first_deleted,
        )
    client = TestClient(create_app(path), raise_server_exceptions=False)
    assert get_json(client, "/posts/news/1.json")["deleted_at"] == "2026-11-28T08:00:00+00:00"
    assert get_json(client, "/posts/news/2.json")["deleted_at"] is None
    assert (
        '<p class="deleted">Deleted from the channel: a sync found it gone on'
        " 2026-11-28 08:00 UTC.</p>" in get_html(client, "/posts/news/1")
    )
