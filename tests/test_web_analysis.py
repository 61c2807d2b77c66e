"""The analyses in the web app: ``/network`` and the reach of a channel on its page."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tgscope.archive import Archive
from tgscope.web import create_app

from .analysis_archives import build_engagement_archive, build_network_archive
from .helpers import post, source
from .test_network import CSV
from .web_archives import assert_safe_page, get_html, get_json


@pytest.fixture(scope="module")
def network_db(tmp_path_factory) -> Path:
    return build_network_archive(tmp_path_factory.mktemp("web-network") / "a.db")


@pytest.fixture(scope="module")
def engagement_db(tmp_path_factory) -> Path:
    return build_engagement_archive(tmp_path_factory.mktemp("web-engagement") / "a.db")


def test_the_network_twin_holds_what_the_api_gives(network_db):
    client = TestClient(create_app(network_db))
    with Archive.open(network_db, create=False) as archive:
        for kind in ("forwards", "mentions", "links"):
            expected = archive.network(kind=kind).to_records()
            data = get_json(client, f"/network.json?kind={kind}")
            assert (data["nodes"], data["edges"]) == (expected["nodes"], expected["edges"])
        since = archive.network(since="2023-03-02").to_records()["edges"]
    assert get_json(client, "/network.json?since=2023-03-02")["edges"] == since


def test_the_network_page_lists_the_edges_and_draws_them_from_a_data_block(network_db):
    client = TestClient(create_app(network_db))
    html = get_html(client, "/network")
    page = assert_safe_page(html)
    graph = page.data_block("network-data")
    rows = [line.split(",") for line in CSV.splitlines()[1:]]
    assert [(e["source"], e["target"], e["count"]) for e in graph["edges"]] == [
        (source, target, int(count)) for source, target, count, *_ in rows
    ]
    assert {node["name"] for node in graph["nodes"]} == {
        name for edge in graph["edges"] for name in (edge["source"], edge["target"])
    }
    assert '<td><a href="/channels/rusembchina">rusembchina</a></td><td class="num">3</td>' in html
    assert '<td class="num">1 h</td>' in html  # mid_russia -> rusembchina: a median of 3,600 s


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("kind=likes", 400, "kind: 'likes' is not one of forwards, mentions, links"),
        ("since=yesterday", 400, "since: 'yesterday' is not a date (use YYYY-MM-DD)"),
        ("since=2023-05-01&until=2023-01-01", 400, "is after the until date"),
    ],
)
def test_bad_network_parameters_are_400s(network_db, query, status, message):
    client = TestClient(create_app(network_db))
    data = get_json(client, f"/network.json?{query}", status=status)
    assert data["ok"] is False and message in data["error"]


def test_a_channels_charts_carry_its_engagement(engagement_db):
    client = TestClient(create_app(engagement_db))
    with Archive.open(engagement_db, create=False) as archive:
        expected = asdict(archive.engagement(channel="agro", timezone="Europe/Moscow").channels[0])
    del expected["heatmap"]
    data = get_json(client, "/channels/agro/charts.json?tz=Europe/Moscow")
    assert data["engagement"] == expected
    assert data["engagement"]["outliers"][0]["key"] == "agro/10"
    html = get_html(client, "/channels/agro")
    assert 'data-chart="views-growth"' in html and 'data-facts="engagement"' in html


def test_a_post_page_shows_its_spread_from_the_near_copy_index(tmp_path):
    from .test_spread import POSTS as SPREAD_POSTS

    db = tmp_path / "spread.db"
    with Archive.open(db) as archive:
        archive.ingest(SPREAD_POSTS, source())
    client = TestClient(create_app(db))
    before = get_json(client, "/posts/mid_russia/1.json")
    assert before["copies_index"] == {"built": False, "behind": None}
    assert {p["relation"] for p in before["spread"]["posts"]} == {"original", "forward"}
    assert "the near-copy index has not been built" in get_html(client, "/posts/mid_russia/1")
    with Archive.open(db) as archive:
        expected = archive.spread("mid_russia/1").to_dict()  # builds the index
    after = get_json(client, "/posts/mid_russia/1.json")
    assert after["spread"] == {**expected, "total": len(expected["posts"])}
    assert after["copies_index"] == {"built": True, "behind": 0}
    assert "copy" in {p["relation"] for p in after["spread"]["posts"]}
    html = get_html(client, "/posts/mid_russia/1")
    assert_safe_page(html)
    assert '<table class="spread">' in html and expected["caveat"] in html


@pytest.fixture(scope="module")
def copies_db(tmp_path_factory) -> Path:
    from .test_duplicates import POSTS as COPY_POSTS

    db = tmp_path_factory.mktemp("web-copies") / "copies.db"
    with Archive.open(db) as archive:
        archive.ingest(COPY_POSTS, source())
    return db


def test_duplicates_say_when_the_index_is_not_built_then_list_what_the_api_finds(copies_db):
    client = TestClient(create_app(copies_db))
    empty = get_json(client, "/duplicates.json")
    assert empty["index"] == {"built": False, "floor": None, "behind": None}
    assert empty["clusters"] == [] and empty["total"] == 0
    assert "has not been built yet" in get_html(client, "/duplicates")
    with Archive.open(copies_db) as archive:
        expected = [cluster.to_dict() for cluster in archive.duplicates()]
        higher = [cluster.to_dict() for cluster in archive.duplicates(threshold=0.95)]
    data = get_json(client, "/duplicates.json")
    assert data["index"] == {"built": True, "floor": 0.7, "behind": 0}
    assert [{k: v for k, v in c.items() if k != "text"} for c in data["clusters"]] == expected
    found = get_json(client, "/duplicates.json?threshold=0.95")["clusters"]
    assert [{k: v for k, v in c.items() if k != "text"} for c in found] == higher
    html = get_html(client, "/duplicates")
    assert_safe_page(html)
    assert '<a href="/duplicates/1">1</a>' in html


def test_a_cluster_shows_its_copies_side_by_side_with_the_changes_marked(copies_db):
    client = TestClient(create_app(copies_db))
    with Archive.open(copies_db) as archive:
        clusters = archive.duplicates()
    number = next(c.cluster for c in clusters if "rusembchina/11" in [p.key for p in c.posts])
    data = get_json(client, f"/duplicates/{number}.json")
    keys = [post["key"] for post in data["posts"]]
    assert keys == [p.key for p in clusters[number - 1].posts]
    assert data["diffs"]["rusembchina/11"].count("<del>подробно</del><ins>детально</ins>") == 1
    html = get_html(client, f"/duplicates/{number}")
    assert_safe_page(html)
    assert html.count('<div class="copy">') == len(keys)


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/duplicates.json?threshold=0.5", 400, "below the 0.7 the near-copy index was built for"),
        ("/duplicates.json?threshold=abc", 400, "threshold: 'abc' is not a number"),
        ("/duplicates.json?threshold=nan", 400, "out of range"),
        ("/duplicates.json?min_size=1", 400, "min_size: 1 is out of range"),
        ("/duplicates/999.json", 404, "no cluster 999"),
        ("/duplicates/x.json", 404, "no cluster 'x'"),
    ],
)
def test_bad_duplicates_parameters(copies_db, url, status, message):
    with Archive.open(copies_db) as archive:
        archive.duplicates()
    data = get_json(TestClient(create_app(copies_db)), url, status=status)
    assert data["ok"] is False and message in data["error"]


def test_duplicates_follow_the_near_copy_index_when_it_catches_up(tmp_path):
    from .test_duplicates import LAVROV_WANG
    from .test_duplicates import POSTS as COPY_POSTS

    db = tmp_path / "copies.db"
    with Archive.open(db) as archive:
        archive.ingest(COPY_POSTS, source())
        archive.duplicates()
    client = TestClient(create_app(db))
    sizes = [c["size"] for c in get_json(client, "/duplicates.json")["clusters"]]
    copy = post("newchan/7", LAVROV_WANG, channel="newchan", date="2024-04-02T09:00:00+00:00")
    with Archive.open(db) as archive:
        archive.ingest([copy], source("test://more"))
        assert get_json(client, "/duplicates.json")["index"]["behind"] == 1
        archive.duplicates()  # the index catches up; the archive's writes do not move
    after = get_json(client, "/duplicates.json")
    assert after["index"]["behind"] == 0
    assert sum(c["size"] for c in after["clusters"]) == sum(sizes) + 1


def test_a_cascade_lists_its_first_hundred_posts_and_says_how_many(tmp_path):
    from .test_duplicates import LAVROV_WANG

    db = tmp_path / "bots.db"
    day = "2024-04-01T{:02}:{:02}:00+00:00"
    bots = [
        post(f"bot{n}/1", LAVROV_WANG, channel=f"bot{n}", date=day.format(n // 60, n % 60))
        for n in range(150)
    ]
    with Archive.open(db) as archive:
        archive.ingest(bots, source())
        archive.duplicates()
    data = get_json(TestClient(create_app(db)), "/posts/bot0/1.json")
    assert data["spread"]["total"] == 150 and len(data["spread"]["posts"]) == 100
    html = get_html(TestClient(create_app(db)), "/posts/bot0/1")
    assert "The first 100 of 150 posts" in html


def test_keys_of_misses_leave_no_lock_behind(network_db):
    from tgscope.web.data import WebArchive

    archive = WebArchive(network_db)
    try:
        for number in range(50):
            with archive.read() as reader:
                assert (
                    archive.cached(("channel", f"nochan{number}"), reader, lambda _: None) is None
                )
        assert archive._locks == {} and archive._cache == {}
    finally:
        archive.close()
