"""``tgscope serve`` in-process: the search page, its filters, facets and paging, and its CSV and
JSONL exports, over the small known archive of :mod:`tests.web_archives`."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from tgscope.archive import Archive
from tgscope.cli import cli
from tgscope.exports import CSV_COLUMNS
from tgscope.record import Post
from tgscope.web.app import create_app

from .web_archives import archive_posts, assert_safe_page, build_archive, get_html, get_json, keys


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_archive(tmp_path_factory.mktemp("web") / "archive.db")


@pytest.fixture(scope="module")
def records(archive_path: Path) -> dict[str, Post]:
    return archive_posts(archive_path)


@pytest.fixture(scope="module")
def client(archive_path: Path) -> TestClient:
    return TestClient(create_app(archive_path), raise_server_exceptions=False)


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
