from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tgscope.archive import Archive
from tgscope.cli import cli
from tgscope.errors import OptionError
from tgscope.exports import export_posts

from .conftest import FIXTURES, SAMPLES

PAGE = SAMPLES / "rusembchina_page.html"
EXPORT = SAMPLES / "rusembchina_export.json"


@pytest.fixture
def full_archive(tmp_path, seed_path):
    """Posts from four kinds of source, two of them about the same posts."""
    db = tmp_path / "full.db"
    with Archive.open(db) as archive:
        archive.import_paths([seed_path], channel="mid_russia")
        archive.import_paths([PAGE, EXPORT, FIXTURES / "other" / "snscrape.jsonl"])
    return db


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_jsonl_round_trip_is_byte_identical(full_archive, tmp_path):
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    fresh = tmp_path / "fresh.db"
    run("export", "--db", str(full_archive), "-o", str(first))
    imported = run("import", "--db", str(fresh), str(first))
    run("export", "--db", str(fresh), "-o", str(second))
    assert "(tgscope-jsonl)" in imported
    assert first.read_bytes() == second.read_bytes()
    records = [json.loads(line) for line in first.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 5 + 8 + 2
    merged = next(r for r in records if r["key"] == "rusembchina/500")
    assert sorted(s["kind"] for s in merged["sources"]) == ["desktop-json", "web"]


def test_parquet_has_real_types(full_archive, tmp_path):
    out = tmp_path / "posts.parquet"
    run("export", "--db", str(full_archive), "--format", "parquet", "-o", str(out))
    table = pq.read_table(out)
    assert str(table.schema.field("date").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("hashtags").type) == "list<element: string>"
    rows = {row["key"]: row for row in table.to_pylist()}
    assert len(rows) == 15
    post = rows["rusembchina/500"]
    assert post["date"] == datetime(2022, 11, 15, 9, 12, tzinfo=UTC)
    assert (post["views"], post["forwarded_from"]) == (
        12300,
        {"title": "Russian MFA 🇷🇺", "channel": "mfarussia", "id": 16384},
    )
    assert post["reactions"][2] == {
        "emoji": None,
        "custom_emoji_id": None,
        "paid": True,
        "count": 15,
    }
    poll = rows["rusembchina/504"]["media"][0]
    assert (poll["type"], json.loads(poll["extra"])["poll"]["question"]) == (
        "poll",
        "Will you come?",
    )
    document = rows["rusembchina/502"]["media"][0]
    assert (document["file_name"], document["size"], document["mime_type"]) == (
        "statement.pdf",
        2202009,  # the export's exact size wins over the page's "2.1 MB"
        "application/pdf",
    )


def test_parquet_needs_a_file():
    with pytest.raises(OptionError, match="--output FILE"):
        export_posts([], "parquet", None)


def test_export_filters_by_query_channel_and_dates(full_archive):
    found = run(
        "export", "--db", str(full_archive), "--query", "Lavrov", "--channel", "rusembchina"
    )
    keys = [json.loads(line)["key"] for line in found.splitlines()]
    assert keys == ["rusembchina/500"]
    dated = run(
        "export",
        "--db",
        str(full_archive),
        "--format",
        "csv",
        "--since",
        "2022-11-16",
        "--until",
        "2022-11-16",
    )
    assert [line.split(",")[0] for line in dated.splitlines()[1:]] == [
        "rusembchina/502",  # 08:00 UTC
        "mfarussia/16385",  # 10:00 UTC
    ]
