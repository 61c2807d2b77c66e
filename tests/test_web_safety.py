"""``tgscope serve`` in-process: the security headers, bad parameters as clear errors, XSS payloads
in every field made inert, and an archive served without a byte written."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tgscope.archive import Archive
from tgscope.record import Channel, Post
from tgscope.store import SourceInfo
from tgscope.web import data as web_data
from tgscope.web.app import create_app
from tgscope.web.data import WebArchive

from .helpers import post
from .web_archives import assert_safe_page, build_archive, get_html, get_json, keys


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_archive(tmp_path_factory.mktemp("web") / "archive.db")


@pytest.fixture(scope="module")
def client(archive_path: Path) -> TestClient:
    return TestClient(create_app(archive_path), raise_server_exceptions=False)


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


# -- read-only ------------------------------------------------------------------------------


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
