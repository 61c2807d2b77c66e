"""The small known archive the in-process web tests serve, and what they check pages with.

Plain builders and helpers, imported explicitly; each test module wraps them in its own
module-scoped fixtures (``archive_path``, ``records``, ``client``)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from starlette.testclient import TestClient

from tgscope.archive import Archive
from tgscope.record import Channel, Post
from tgscope.store import SourceInfo, SyncState

from .helpers import post

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
