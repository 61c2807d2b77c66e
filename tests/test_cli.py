from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tgscope.cli import cli


@pytest.fixture
def run(db_path):
    runner = CliRunner()

    def invoke(*args: str, expect: int = 0):
        result = runner.invoke(cli, [args[0], "--db", str(db_path), *args[1:]])
        assert result.exit_code == expect, result.output
        return result

    return invoke


@pytest.fixture
def imported(run, seed_path):
    run("import", "--channel", "china_embassy", str(seed_path))
    return run


def test_import_prints_a_summary_and_is_idempotent(run, seed_path):
    first = run("import", "--channel", "china_embassy", str(seed_path))
    assert first.output == f"{seed_path} (textdump): 5 post(s): 5 added, 0 updated, 0 unchanged\n"
    second = run("import", "--channel", "china_embassy", str(seed_path))
    assert second.output == f"{seed_path} (textdump): 5 post(s): 0 added, 0 updated, 5 unchanged\n"


def test_import_uses_tgscope_db_from_the_environment(tmp_path, seed_path):
    target = tmp_path / "env.db"
    result = CliRunner().invoke(cli, ["import", str(seed_path)], env={"TGSCOPE_DB": str(target)})
    assert result.exit_code == 0, result.output
    assert target.exists()


def test_search_table_and_json(imported):
    table = imported("search", "meetings").output
    assert table.startswith("2 match(es), showing 2\n")
    assert "china_embassy/dump-f4a23d0446df2fd9" in table
    assert "for the tenth [meeting] this year" in table
    lines = imported("search", "Lavrov", "--json", "--limit", "2").output.splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 2
    assert all("<b>Lavrov</b>" in r["search"]["snippet"] for r in records)
    assert all(r["forwarded_from"]["title"] == "Russian MFA 🇷🇺" for r in records)


def test_search_filters(imported):
    assert imported("search", "Lavrov", "--hashtag", "UNGA77").output.startswith("1 match(es)")
    assert imported("search", "Lavrov", "--channel", "other").output.startswith("0 match(es)")
    out = imported("search", "Lavrov", "--since", "2022-01-01").output
    assert out.startswith("0 match(es)")  # text dumps have no dates


def test_show(imported):
    out = imported("show", "china_embassy/dump-f4a23d0446df2fd9").output
    assert "media: unsupported (not shown by the source)" in out
    assert "reactions: 👍11 ❤1" in out
    record = json.loads(imported("show", "china_embassy/dump-f4a23d0446df2fd9", "--json").output)
    assert record["media"] == [
        {"type": "unsupported", "unsupported": True, "reason": "not_supported_in_browser"}
    ]
    missing = imported("show", "nope/1", expect=1)
    assert "no post with key 'nope/1'" in missing.output


def test_export_jsonl_and_csv(imported, tmp_path):
    lines = imported("export").output.splitlines()
    assert [json.loads(line)["hashtags"] for line in lines] == [
        ["RussiaChina", "UNGA77", "PhotoOfTheDay"],
        ["RussiaChina"],
        ["RussiaChina"],
        ["RussiaChina"],
        ["RussiaChina"],
    ]
    target = tmp_path / "posts.csv"
    imported("export", "--format", "csv", "--bom", "-o", str(target))
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 5
    assert rows[0]["reactions"] == "👍 16; ❤ 3"
    assert rows[0]["reactions_total"] == "19"
    assert rows[0]["hashtags"] == "#RussiaChina #UNGA77 #PhotoOfTheDay"
    assert rows[1]["media"] == "unsupported (not shown)"
    assert rows[2]["text"].count("\n") == 8
    only = imported("export", "--hashtag", "UNGA77").output.splitlines()
    assert len(only) == 1


def test_stats(imported):
    out = imported("stats").output
    assert out.startswith("5 post(s) from 1 source file(s); none dated\n")
    assert "│ china_embassy │       │     5 │" in out
    assert "│ #RussiaChina   │     5 │" in out
    assert "│ 👍       │    63 │" in out


def test_reindex(imported):
    assert imported("reindex").output == "5 post(s) indexed\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "{path}: file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "{path}: binary data, not a text file"),
        (
            b"Forwarded from X\nok\n\xff\xfe broken\n",
            "{path}:3: not UTF-8 text (byte 0xff at column 1)",
        ),
        (b"notes\nnothing else\n", "{path}: unknown format (no 'Forwarded from', reactions or"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(imported, tmp_path, content, message):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    before = imported("export").output
    result = imported("import", str(bad), expect=1)
    assert result.output.startswith("Error: " + message.format(path=bad))
    assert len(result.output.strip().splitlines()) == 1
    assert imported("export").output == before


def test_bad_options_are_clear(imported):
    assert "not a date: 'soon'" in imported("search", "x", "--since", "soon", expect=1).output
    assert "not a date: 'soon'" in imported("export", "--until", "soon", expect=1).output
    assert "only excludes: add a word" in imported("search", "--", "-G20", expect=1).output
    after = imported("stats", "--since", "2024-01-01", "--until", "2023-01-01", expect=1)
    assert "is after --until" in after.output
    bad_channel = imported("import", "--channel", "a b", "samples/mid_ru_dump.txt", expect=1)
    assert "not a channel username: 'a b'" in bad_channel.output


def test_errors_never_show_a_traceback(tmp_path):
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"garbage" * 1000)
    result = subprocess.run(
        [sys.executable, "-m", "tgscope", "stats", "--db", str(corrupt)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {corrupt}: cannot open archive: not a tgscope archive or the file is corrupt\n"
    )


def test_import_reports_each_file_and_fails_only_the_bad_one(run, seed_path, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfeF\x00o\x00")
    result = run("import", str(seed_path), str(bad), expect=1)
    assert result.output == (
        f"{seed_path} (textdump): 5 post(s): 5 added, 0 updated, 0 unchanged\n"
        f"Error: {bad}: UTF-16 text: save it as UTF-8 and import it again"
        " (nothing of it was imported)\n"
        "total: 2 file(s), 5 post(s): 5 added, 0 updated, 0 unchanged, 1 file(s) failed\n"
    )


def test_reading_commands_do_not_create_an_archive(tmp_path):
    missing = tmp_path / "typo.db"
    for command in (["search", "x"], ["stats"], ["export"], ["show", "k"], ["reindex"]):
        result = CliRunner().invoke(cli, [command[0], "--db", str(missing), *command[1:]])
        assert result.exit_code == 1
        assert (
            result.output
            == f"Error: {missing}: no archive here yet (create one with tgscope import)\n"
        )
    assert list(tmp_path.iterdir()) == []


def test_date_filters_explain_undated_posts(imported):
    result = imported("search", "Lavrov", "--since", "2022-01-01")
    assert result.output.startswith("0 match(es), showing 0\n")
    assert "note: 5 post(s) here have no date (text dumps carry none)" in result.output


def test_export_into_a_closed_pipe_is_quiet(db_path, tmp_path):
    dump = tmp_path / "big.txt"
    body = "a long line of text " * 50
    dump.write_text("".join(f"Forwarded from X\nPost {n} {body}\n👍1\n" for n in range(500)))
    CliRunner().invoke(cli, ["import", "--db", str(db_path), str(dump)])
    command = f"{sys.executable} -m tgscope export --db {db_path} --format csv | head -c 10"
    result = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
    assert result.stdout == "key,channe"
    assert result.stderr == ""  # the export is 500 kB, far more than a pipe holds


def test_filters_agree_between_search_export_and_stats(db_path):
    from tgscope.archive import Archive

    from .helpers import POSTS, source

    with Archive.open(db_path) as archive:
        archive.ingest(POSTS, source())
    runner = CliRunner()

    def keys(*args):
        result = runner.invoke(cli, [*args, "--db", str(db_path)])
        assert result.exit_code == 0, result.output
        return result.output

    for options in (
        ["--hashtag", "#россиякитай"],
        ["--hashtag", "RUSSIACHINA"],
        ["--channel", "@Embassy", "--since", "2023-01-10", "--until", "2023-01-10"],
    ):
        searched = [
            json.loads(line)["key"] for line in keys("search", "", "--json", *options).splitlines()
        ]
        exported = [json.loads(line)["key"] for line in keys("export", *options).splitlines()]
        assert sorted(searched) == sorted(exported) and searched, options
        assert keys("stats", *options).startswith(f"{len(exported)} post(s)")


def test_dates_out_of_range_are_one_line_errors(imported):
    result = imported("search", "x", "--until", "9999-12-31", expect=1)
    assert result.output == "Error: date out of range: use dates from 0001-01-02 to 9999-12-30\n"


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGKILL"])
def test_an_import_stopped_midway_leaves_the_archive_as_it_was(tmp_path, seed_path, signal_name):
    import signal
    import time

    db = tmp_path / "archive.db"
    tgscope = [sys.executable, "-m", "tgscope"]
    subprocess.run(
        [*tgscope, "import", "--db", str(db), str(seed_path)], check=True, capture_output=True
    )
    big = tmp_path / "big.txt"
    body = "a long line of text about the meeting " * 40
    with big.open("w", encoding="utf-8") as out:  # big enough to outlast the first cache spill
        for n in range(60_000):
            out.write(f"Forwarded from X\nPost {n} {body}\n👍{n}\n")
    process = subprocess.Popen(
        [*tgscope, "import", "--db", str(db), str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wal = db.with_name(db.name + "-wal")
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > 8_000_000:  # posts are being written
            break
        time.sleep(0.02)
    assert process.poll() is None, "the import ended before it could be stopped"
    process.send_signal(getattr(signal, signal_name))
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    if signal_name == "SIGINT":
        assert stderr.decode().strip() == "interrupted: whatever was being written was rolled back"
    stats = subprocess.run([*tgscope, "stats", "--db", str(db)], capture_output=True, text=True)
    assert stats.stdout.startswith("5 post(s) from 1 source file(s)")
    found = subprocess.run(
        [*tgscope, "search", "--db", str(db), "meeting", "--limit", "1"],
        capture_output=True,
        text=True,
    )
    assert found.stdout.startswith("2 match(es)")  # the index holds nothing of the stopped import
    rerun = subprocess.run(
        [*tgscope, "import", "--db", str(db), str(big)], capture_output=True, text=True
    )
    assert rerun.stdout == f"{big} (textdump): 60000 post(s): 60000 added, 0 updated, 0 unchanged\n"


def test_the_command_lists_match_the_registries():
    """The CLI names formats without importing the parsers (fast --help); they must agree."""
    from tgscope.cli import collecting, importing, reading
    from tgscope.collect.http import DEFAULT_BASE_URL
    from tgscope.exports import EXPORTERS
    from tgscope.sources import SOURCES

    assert sorted(importing.FORMATS) == sorted(SOURCES)
    assert sorted(reading.EXPORT_FORMATS) == sorted(EXPORTERS)
    assert collecting.DEFAULT_BASE_URL == DEFAULT_BASE_URL


def test_help_imports_no_parser_and_no_rich():
    code = (
        "import sys; from tgscope.cli import cli; "
        "heavy = [m for m in ('rich', 'httpx', 'selectolax', 'tantivy', 'tgscope.archive') "
        "if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
