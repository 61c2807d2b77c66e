"""The same posts through several sources: one record each, with provenance."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest
from click.testing import CliRunner

from tgscope.archive import Archive
from tgscope.cli import cli

from .conftest import FIXTURES

PAGE = FIXTURES / "embassy_page.html"
EXPORT = FIXTURES / "desktop" / "result.json"
DUMP = (
    "Посольство России в Китае\n"
    "Forwarded from Russian MFA 🇷🇺\n"
    "🇷🇺 Sergey Lavrov met #RussiaChina partners.\n"
    "Read in full · @MFARussia\n"
    "Read in full · @MFARussia\n"
    "👍1.2K\n"
)


@pytest.fixture
def sources(tmp_path):
    """Copies of the page, the export and a dump, seen at three known times."""
    page, export, dump = tmp_path / "page.html", tmp_path / "result.json", tmp_path / "dump.txt"
    page.write_bytes(PAGE.read_bytes())
    export.write_bytes(EXPORT.read_bytes())
    dump.write_text(DUMP, encoding="utf-8")
    for path, when in ((dump, 1_700_000_000), (export, 1_700_000_100), (page, 1_700_000_200)):
        os.utime(path, (when, when))
    return page, export, dump


def imported(db_path, paths) -> dict:
    with Archive.open(db_path) as archive:
        for path in paths:
            report = archive.import_file(path, channel="rusembchina")
            assert report.error is None
        return {post.key: post for post in archive.posts()}


def test_export_and_web_pages_become_one_record_each(db_path, sources):
    page, export, _ = sources
    posts = imported(db_path, [page, export])
    post = posts["rusembchina/500"]
    assert post.views == 12300  # the web preview's: the export has none
    assert post.entities[-1] == {  # the export's: the preview shows no custom emoji
        "type": "custom_emoji",
        "offset": 70,
        "length": 1,
        "document_id": "5368324170671202286",
    }
    assert post.text.endswith("@MFARussia 🤝")
    assert post.forwarded_from == {"title": "Russian MFA 🇷🇺", "channel": "mfarussia", "id": 16384}
    assert post.media == [  # the export's photo (a file), as the best source of media
        {
            "type": "photo",
            "url": "photos/photo_1@15-11-2022_12-12-00.jpg",
            "width": 1280,
            "height": 853,
        }
    ]
    assert post.date == "2022-11-15T09:12:00+00:00"
    assert [s["kind"] for s in post.sources] == ["desktop-json", "web"]
    assert [key for key in posts if key.endswith(("/500", "/502", "/503"))] == [
        "rusembchina/500",
        "rusembchina/502",
        "rusembchina/503",
    ]
    assert len(posts) == 8  # 4 from the page, 8 from the export, 4 of them the same posts


def test_the_record_does_not_depend_on_the_order_of_import(tmp_path, sources):
    page, export, dump = sources
    one = imported(tmp_path / "one.db", [page, export, dump])
    other = imported(tmp_path / "other.db", [dump, export, page])
    assert {k: p.to_dict() for k, p in one.items()} == {k: p.to_dict() for k, p in other.items()}


def test_a_text_dump_copy_is_merged_not_duplicated(tmp_path, sources):
    page, _, dump = sources
    for order in ([page, dump], [dump, page]):
        db_path = tmp_path / f"{order[0].suffix[1:]}.db"
        posts = imported(db_path, order)
        merged = posts["rusembchina/500"]
        assert not [key for key in posts if "/dump-" in key and "Lavrov" in posts[key].text]
        assert [s["kind"] for s in merged.sources] == ["textdump", "web"]
        assert merged.views == 12300 and merged.reactions[0] == {"emoji": "👍", "count": 1200}
        assert merged.entities and merged.text.startswith("🇷🇺 Sergey Lavrov")
        db = sqlite3.connect(db_path)
        assert db.execute("SELECT count(*) FROM posts WHERE key LIKE '%/dump-%'").fetchone() == (
            1,  # the channel's header line, which no other source has
        )
        with Archive.open(db_path) as archive:
            found = archive.search("Lavrov")
        assert [r.post.key for r in found.results] == ["rusembchina/500"]


def test_show_sources_says_who_said_what(db_path, sources):
    page, export, _ = sources
    imported(db_path, [page, export])
    result = CliRunner().invoke(cli, ["show", "--db", str(db_path), "--sources", "rusembchina/500"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    at = lines.index("Sources:")
    assert lines[at + 1].startswith("  desktop-json, last seen 2023-11-14T22:15:00")
    assert "gave: author, buttons" not in result.output
    assert any(
        line.strip().startswith("gave:") and "entities" in line and "text" in line for line in lines
    )
    web = lines.index(next(line for line in lines if line.startswith("  web, last seen")))
    assert (
        lines[web + 2]
        == "    gave: date, forwarded_from.channel, forwarded_from.id, reactions, views"
    )
    as_json = CliRunner().invoke(
        cli, ["show", "--db", str(db_path), "--sources", "--json", "rusembchina/500"]
    )
    provenance = json.loads(as_json.output)["provenance"]
    assert [p["kind"] for p in provenance] == ["desktop-json", "web"]
    assert provenance[1]["record"]["views"] == 12300
    assert provenance[0]["record"]["views"] is None
