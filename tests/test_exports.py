from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tgscope.archive import Archive
from tgscope.cli import cli
from tgscope.errors import OptionError, TgscopeError
from tgscope.exports import export_posts

from .conftest import FIXTURES, SAMPLES
from .engines import more_archives

PAGE = SAMPLES / "rusembchina_page.html"
EXPORT = SAMPLES / "rusembchina_export.json"


@pytest.fixture
def full_archive(archive_db, seed_path):
    """Posts from four kinds of source, two of them about the same posts."""
    db = archive_db
    with Archive.open(db) as archive:
        archive.import_paths([seed_path], channel="mid_russia")
        archive.import_paths([PAGE, EXPORT, FIXTURES / "other" / "snscrape.jsonl"])
    return db


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_jsonl_round_trip_is_byte_identical(full_archive, tmp_path, request):
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    fresh = more_archives(full_archive, tmp_path, request)("fresh")
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


def test_parquet_needs_a_file(full_archive):
    with pytest.raises(OptionError, match="give an output path"):  # the library names no flag
        export_posts([], "parquet", None)
    result = CliRunner().invoke(cli, ["export", "--db", str(full_archive), "--format", "parquet"])
    assert result.exit_code == 2
    assert "Error: --format parquet writes a file: give it with --output FILE" in result.output


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


# -- spreadsheets: formula injection ---------------------------------------------------------

FORMULAS = [
    '=HYPERLINK("http://evil.example","click")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "  =1",
    "\r\n=1",
]


@pytest.fixture
def formula_archive(archive_db):
    """Posts whose texts a spreadsheet would run as formulas, on each engine."""
    return _with_formulas(archive_db)


@pytest.fixture
def formula_file(tmp_path):
    """The same in a SQLite file: for the tests of the output file, not of the archive."""
    return _with_formulas(tmp_path / "formulas.db")


def _with_formulas(db):
    from .helpers import post, source

    posts = [
        post(f"sheet/{n}", text, channel="sheet", channel_title="=TITLE()", views=5)
        for n, text in enumerate(FORMULAS, start=1)
    ]
    posts.append(post("sheet/99", "plain text - not a formula", channel="sheet", views=7))
    with Archive.open(db) as archive:
        archive.ingest(posts, source())
    return db


def _csv_cells(raw: bytes, column: str) -> list[str]:
    import csv
    import io

    return [row[column] for row in csv.DictReader(io.StringIO(raw.decode("utf-8"), newline=""))]


def test_csv_guards_formulas_by_default(formula_archive, tmp_path):
    out = tmp_path / "posts.csv"
    run("export", "--db", str(formula_archive), "--format", "csv", "-o", str(out))
    raw = out.read_bytes()
    assert _csv_cells(raw, "text") == [
        *("'" + text for text in FORMULAS),
        "plain text - not a formula",
    ]
    assert _csv_cells(raw, "channel_title") == ["'=TITLE()"] * (len(FORMULAS) + 1)
    assert _csv_cells(raw, "views") == ["5"] * len(FORMULAS) + ["7"]  # numbers stay numbers
    assert b"\r\nsheet/2,sheet,'=TITLE(),2,,'=cmd|' /C calc'!A0,5," in raw


def test_csv_writes_the_exact_text_on_request(formula_archive, tmp_path):
    out = tmp_path / "posts.csv"
    run(
        "export",
        "--db",
        str(formula_archive),
        "--format",
        "csv",
        "--no-formula-guard",
        "-o",
        str(out),
    )
    raw = out.read_bytes()
    assert _csv_cells(raw, "text") == [*FORMULAS, "plain text - not a formula"]
    assert b"\r\nsheet/2,sheet,=TITLE(),2,,=cmd|' /C calc'!A0,5," in raw


def test_jsonl_and_parquet_keep_formulas_exact(formula_archive, tmp_path):
    lines = run("export", "--db", str(formula_archive)).splitlines()
    assert [json.loads(line)["text"] for line in lines][: len(FORMULAS)] == FORMULAS
    out = tmp_path / "posts.parquet"
    run("export", "--db", str(formula_archive), "--format", "parquet", "-o", str(out))
    assert pq.read_table(out).column("text").to_pylist()[: len(FORMULAS)] == FORMULAS


# -- the output file -------------------------------------------------------------------------


@pytest.mark.parametrize("format_", ["jsonl", "csv", "parquet"])
def test_export_replaces_a_symlink_and_leaves_its_target(formula_file, tmp_path, format_):
    target = tmp_path / "precious.txt"
    target.write_text("keep me", encoding="utf-8")
    link = tmp_path / f"posts.{format_}"
    link.symlink_to(target)
    run("export", "--db", str(formula_file), "--format", format_, "-o", str(link))
    assert target.read_text(encoding="utf-8") == "keep me"
    assert not link.is_symlink() and link.stat().st_size > 100
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name) == []


def test_a_failed_export_leaves_the_file_as_it_was(tmp_path):
    from .helpers import post

    out = tmp_path / "posts.csv"
    out.write_text("earlier export", encoding="utf-8")
    out.chmod(0o600)

    def posts():
        yield post("a/1", "one", channel="a")
        raise OSError(28, "No space left on device")

    with pytest.raises(TgscopeError, match="No space left on device"):
        export_posts(posts(), "csv", out)
    assert out.read_text(encoding="utf-8") == "earlier export"
    assert [p.name for p in tmp_path.iterdir()] == ["posts.csv"]
    export_posts(iter([post("a/1", "one", channel="a")]), "csv", out)
    assert out.stat().st_mode & 0o777 == 0o600  # a replaced file keeps its permissions


def test_export_writes_into_a_pipe_and_names_of_devices(formula_file, tmp_path):
    import os
    import threading

    from tgscope.exports import _written_in_place

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "to-pipe.jsonl"
    link.symlink_to(fifo)
    received: list[bytes] = []
    for target in (fifo, link):
        reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
        reader.start()
        run("export", "--db", str(formula_file), "-o", str(target))
        reader.join(timeout=30)
    assert [data.count(b"\n") for data in received] == [len(FORMULAS) + 1] * 2
    assert link.is_symlink() and fifo.exists()
    # /dev/stdout is a symlink into /proc: replacing it would break the system, not export
    assert _written_in_place(Path("/dev/stdout")) and _written_in_place(Path("/dev/null"))
    assert not _written_in_place(tmp_path / "new.csv")


def test_export_posts_takes_a_path_as_text(tmp_path, seed_path):
    from tgscope.exports import export_posts

    with Archive.open(tmp_path / "a.db") as archive:
        archive.import_paths([seed_path], channel="china_embassy")
        count = export_posts(archive.posts(), "csv", str(tmp_path / "o.csv"))
    assert count == 5 and (tmp_path / "o.csv").read_text(encoding="utf-8").startswith("key,")
