"""``tgscope serve`` in-process over an archive that changes while it serves, or lacks parts: a
writer alongside, no search index, an empty archive, a post a sync found deleted."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tgscope.archive import Archive
from tgscope.exports import CSV_COLUMNS
from tgscope.record import Channel
from tgscope.store import SourceInfo
from tgscope.web.app import create_app
from tgscope.web.data import WebArchive

from .helpers import post
from .web_archives import WEB, build_archive, get_html, get_json, keys


@pytest.fixture(autouse=True)
def _archives_closed(monkeypatch) -> Iterator[None]:
    """Close, after each test, the archives the apps opened: these tests never shut an app
    down (which closes its archive, and a PostgreSQL archive's pool of connections)."""
    opened: list[WebArchive] = []
    init = WebArchive.__init__

    def kept(self, *args, **options):
        init(self, *args, **options)
        opened.append(self)

    monkeypatch.setattr(WebArchive, "__init__", kept)
    yield
    for archive in opened:
        archive.close()


# -- a writer alongside, and archives that lack parts ---------------------------------------


def test_posts_another_writer_saves_show_up_in_the_next_request(archive_db):
    path = build_archive(archive_db)
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


def test_a_channel_first_archived_while_serving_is_found_at_once(archive_db):
    """A 404 for a channel is not remembered: a sync may bring it a moment later."""
    path = build_archive(archive_db)
    client = TestClient(create_app(path), raise_server_exceptions=False)
    get_json(client, "/channels/fresh.json", 404)
    with Archive.open(path) as writer:
        writer.ingest(
            [Channel("fresh", title="Fresh"), post("fresh/1", "New channel", channel="fresh")],
            SourceInfo("web", "fresh", "5" * 64, "2026-11-30T09:00:00+00:00"),
        )
    data = get_json(client, "/channels/fresh.json")
    assert data["channel"]["title"] == "Fresh" and keys(data["posts"]) == ["fresh/1"]


def test_an_empty_archive_serves_every_page(archive_db):
    path = archive_db
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


def test_a_post_a_sync_found_deleted_says_so(archive_db):
    path = archive_db
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
