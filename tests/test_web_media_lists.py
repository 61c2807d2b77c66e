"""The stored media on every page that lists posts as cards: a hashtag, a search, a
copy-paste cluster.  Each shows a post's stored picture from ``/media``, says why a medium
is not there, never names Telegram's servers, lists the media in its JSON twin, and reads
them in one query for the whole page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tgscope.archive import Archive
from tgscope.store.media import Fetched, Wanted
from tgscope.web import create_app

from .helpers import post, source
from .test_duplicates import BRICS, BRICS_EDITED
from .web_archives import Page, assert_safe_page, get_html, get_json
from .web_media_archive import CDN, FETCHED_AT, PICTURE_A, Built, build, media_queries, photo

TELEGRAM_HOST = "telesco.pe"
#: three near-copies with the hashtag #summit: the first carries picture A (stored), the
#: second's picture had expired, the third's was never fetched
COPIES = [
    post("news/9", BRICS + "\n#summit", channel="news", date="2023-02-01T10:00:00+00:00",
         hashtags=["summit"], media=[photo("brics")]),
    post("other/4", BRICS_EDITED + "\n#summit", channel="other",
         date="2023-02-01T11:00:00+00:00", hashtags=["summit"], media=[photo("brics-copy")]),
    post("news/10", BRICS + "\n#summit", channel="news", date="2023-02-01T12:00:00+00:00",
         hashtags=["summit"], media=[photo("brics-later")]),
]  # fmt: skip
KEYS = ["news/9", "other/4", "news/10"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    built = build(tmp_path_factory.mktemp("web-media-lists") / "media.db")
    with Archive.open(built.path) as archive:
        archive.ingest(COPIES, source("test://copies"))
        tables = archive.store.media
        with tables.writing():
            tables.record(
                Wanted("news/9", 0, "file", "photo", f"{CDN}/brics.jpg"),
                Fetched("stored", built.sha["A"], 200, len(PICTURE_A)),
                FETCHED_AT,
            )
            tables.record(
                Wanted("other/4", 0, "file", "photo", f"{CDN}/brics-copy.jpg"),
                Fetched("expired", http_status=403, reason="HTTP 403"),
                FETCHED_AT,
            )
        archive.duplicates()  # builds the near-copy index
    return built


@pytest.fixture(scope="module")
def client(built: Built) -> Iterator[TestClient]:
    yield TestClient(create_app(built.path))


def cluster_path(path: Path) -> str:
    with Archive.open(path) as archive:
        clusters = archive.duplicates()
    (number,) = [c.cluster for c in clusters if "news/9" in [p.key for p in c.posts]]
    assert sorted(p.key for p in clusters[number - 1].posts) == sorted(KEYS)
    return f"/duplicates/{number}"


@pytest.fixture(scope="module")
def pages(built: Built) -> dict[str, str]:
    return {
        "hashtag": "/hashtags/summit",
        "search": "/search?q=Novgorod",
        "cluster": cluster_path(built.path),
    }


@pytest.fixture(params=["hashtag", "search", "cluster"])
def page(request: pytest.FixtureRequest, pages: dict[str, str]) -> str:
    return pages[request.param]


def cards(html: str) -> dict[str, str]:
    """Each post card's HTML, by the post's key."""
    found = {}
    for part in html.split('<article class="post"')[1:]:
        key = Page("<article" + part).tags[0][1]["data-key"] or ""
        found[key] = part.split("</article>", 1)[0]
    return found


def test_a_listed_post_shows_its_stored_picture_from_the_app(client, built, page):
    html = get_html(client, page)
    assert_safe_page(html)
    shown = cards(html)
    assert set(KEYS) <= set(shown)
    pictures = [attrs for tag, attrs in Page(shown["news/9"]).tags if tag == "img"]
    assert pictures == [
        {"src": f"/media/{built.sha['A']}", "loading": "lazy", "width": "320", "height": "240",
         "alt": "photo"}
    ]  # fmt: skip
    assert f'href="/images/{built.sha["A"]}"' in shown["news/9"]


def test_a_listed_post_says_why_its_medium_is_not_shown(client, page):
    shown = cards(get_html(client, page))
    assert (
        '<span class="media-status status-expired" title="HTTP 403">expired link</span>'
        in shown["other/4"]
    )
    assert '<span class="media-status status-unfetched">not fetched</span>' in shown["news/10"]
    for key in ("other/4", "news/10"):
        assert not [attrs for tag, attrs in Page(shown[key]).tags if tag == "img"]


def test_a_listing_never_names_telegrams_servers(client, page):
    html = get_html(client, page)
    assert TELEGRAM_HOST not in html
    sources = [attrs.get("src") or "" for tag, attrs in Page(html).tags if tag == "img"]
    assert sources and all(src.startswith("/media/") for src in sources)


def test_a_listings_twin_lists_its_posts_media_by_key(client, built, page):
    path, _, query = page.partition("?")
    data = get_json(client, f"{path}.json" + (f"?{query}" if query else ""))
    media = data["media"]
    assert set(media) <= {p["key"] for p in listed(data)}
    assert [(m["part"], m["status"], m["sha256"], m["path"]) for m in media["news/9"]] == [
        ("file", "stored", built.sha["A"], f"/media/{built.sha['A']}")
    ]
    assert [(m["status"], m["label"], m["path"], m["http_status"]) for m in media["other/4"]] == [
        ("expired", "expired link", None, 403)
    ]
    assert "news/10" not in media  # never fetched: nothing recorded


def listed(data: dict) -> list[dict]:
    return data["posts"] if "posts" in data else [r["post"] for r in data["results"]]


def test_a_listing_reads_its_posts_media_in_one_query(built, monkeypatch, page):
    assert media_queries(built, monkeypatch, page) == 1


def test_a_listing_without_posts_asks_nothing_of_the_media(client, built, monkeypatch):
    assert get_json(client, "/search.json?q=nowhere")["media"] == {}
    assert media_queries(built, monkeypatch, "/search?q=nowhere") == 0
