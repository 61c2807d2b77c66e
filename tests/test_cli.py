from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tgscope.cli import cli

from .engines import is_postgres, rows


def _runner(db):
    runner = CliRunner()

    def invoke(*args: str, expect: int = 0):
        result = runner.invoke(cli, [args[0], "--db", str(db), *args[1:]])
        assert result.exit_code == expect, result.output
        return result

    return invoke


@pytest.fixture
def run(archive_db, tmp_path, monkeypatch):
    """The commands on one archive, on each engine (an archive in PostgreSQL keeps its media
    files in the folder $TGSCOPE_MEDIA names, as a file keeps them beside it)."""
    if is_postgres(archive_db):
        monkeypatch.setenv("TGSCOPE_MEDIA", str(tmp_path / "media"))
    return _runner(archive_db)


@pytest.fixture
def imported(run, seed_path):
    run("import", "--channel", "china_embassy", str(seed_path))
    return run


@pytest.fixture
def imported_file(db_path, seed_path):
    """A SQLite archive holding the seed: for tests of what the CLI does before any archive."""
    _runner(db_path)("import", "--channel", "china_embassy", str(seed_path))
    return db_path


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


@pytest.mark.pg
def test_import_uses_a_postgresql_url_from_the_environment(pg_url, seed_path):
    result = CliRunner().invoke(cli, ["import", str(seed_path)], env={"TGSCOPE_DB": pg_url})
    assert result.exit_code == 0, result.output
    assert rows(pg_url, "SELECT count(*) FROM posts") == [(5,)]


def test_search_table_and_json(imported):
    table = imported("search", "meetings").output
    assert table.startswith("2 match(es), showing 2\n")
    assert "china_embassy/dump-f4a23d0446df2fd9" in table
    assert "for the tenth [meeting] this year" in table
    lines = imported("search", "Lavrov", "--json", "--limit", "2").output.splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 2
    assert all("<b>Lavrov</b>" in r["snippet"] and r["score"] > 0 for r in records)
    assert all("search" not in r for r in records)  # score and snippet sit beside the fields
    assert all(r["forwarded_from"]["title"] == "Russian MFA 🇷🇺" for r in records)


def test_search_filters(imported):
    assert imported("search", "Lavrov", "--hashtag", "UNGA77").output.startswith("1 match(es)")
    assert imported("search", "Lavrov", "--channel", "other").output.startswith("0 match(es)")
    out = imported("search", "Lavrov", "--since", "2022-01-01").output
    assert out.startswith("0 match(es)")  # text dumps have no dates


def test_show(imported):
    out = imported("show", "china_embassy/dump-f4a23d0446df2fd9").output
    assert "media: unsupported (not shown by the source)" in out
    assert "reactions: 👍 11; ❤ 1" in out
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
    assert "is after the until date" in after.output
    bad_channel = imported("import", "--channel", "a b", "samples/mid_ru_dump.txt", expect=1)
    assert "not a channel username: 'a b'" in bad_channel.output


@pytest.mark.slow  # starts processes
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


@pytest.mark.pg
def test_reading_commands_do_not_make_an_archive_of_a_postgresql_database(pg_server):
    import psycopg

    from .conftest import _DATABASES

    name = f"empty{next(_DATABASES)}"
    url = f"{pg_server.dsn.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        for command in (["search", "x"], ["stats"], ["export"], ["show", "k"], ["reindex"]):
            result = CliRunner().invoke(cli, [command[0], "--db", url, *command[1:]])
            assert result.exit_code == 1
            assert result.output == (
                f"Error: {url}: no archive here yet (create one with tgscope migrate or"
                " tgscope import)\n"
            )
        tables = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        assert rows(url, tables) == []
    finally:
        with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_date_filters_explain_undated_posts(imported):
    result = imported("search", "Lavrov", "--since", "2022-01-01")
    assert result.output.startswith("0 match(es), showing 0\n")
    assert "note: 5 post(s) here have no date (text dumps carry none)" in result.output


@pytest.mark.slow  # starts processes
def test_export_into_a_closed_pipe_is_quiet(db_path, tmp_path):
    dump = tmp_path / "big.txt"
    body = "a long line of text " * 50
    dump.write_text("".join(f"Forwarded from X\nPost {n} {body}\n👍1\n" for n in range(500)))
    CliRunner().invoke(cli, ["import", "--db", str(db_path), str(dump)])
    command = f"{sys.executable} -m tgscope export --db {db_path} --format csv | head -c 10"
    result = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
    assert result.stdout == "key,channe"
    assert result.stderr == ""  # the export is 500 kB, far more than a pipe holds


def test_filters_agree_between_search_export_and_stats(archive_db):
    from tgscope.archive import Archive

    from .helpers import POSTS, source

    with Archive.open(archive_db) as archive:
        archive.ingest(POSTS, source())
    runner = CliRunner()

    def keys(*args):
        result = runner.invoke(cli, [*args, "--db", str(archive_db)])
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


@pytest.mark.slow  # starts processes
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
        assert stderr.decode().strip().splitlines()[-1] == (
            f"interrupted: {big} was rolled back. Run the same import again to do it."
        )
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


@pytest.mark.slow  # starts processes
@pytest.mark.pg
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGKILL"])
def test_an_import_into_postgresql_stopped_midway_leaves_it_as_it_was(
    pg_url, tmp_path, seed_path, signal_name
):
    """The twin of the test above: the server rolls back the transaction of a client that
    was stopped or killed, and a rerun imports the whole file."""
    import signal
    import time

    tgscope = [sys.executable, "-m", "tgscope"]
    subprocess.run([*tgscope, "import", "--db", pg_url, str(seed_path)], check=True)
    big = tmp_path / "big.txt"
    body = "a long line of text about the meeting " * 40
    with big.open("w", encoding="utf-8") as out:
        for n in range(20_000):
            out.write(f"Forwarded from X\nPost {n} {body}\n👍{n}\n")
    process = subprocess.Popen(
        [*tgscope, "import", "--db", pg_url, str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    size = "SELECT pg_total_relation_size('posts')"  # grows with rows not committed yet
    (before,) = rows(pg_url, size)[0]
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if rows(pg_url, size)[0][0] > before + 2_000_000:  # posts are being written
            break
        time.sleep(0.02)
    assert process.poll() is None, "the import ended before it could be stopped"
    process.send_signal(getattr(signal, signal_name))
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    if signal_name == "SIGINT":
        assert stderr.decode().strip().splitlines()[-1] == (
            f"interrupted: {big} was rolled back. Run the same import again to do it."
        )
    stats = subprocess.run([*tgscope, "stats", "--db", pg_url], capture_output=True, text=True)
    assert stats.stdout.startswith("5 post(s) from 1 source file(s)")
    found = subprocess.run(
        [*tgscope, "search", "--db", pg_url, "meeting", "--limit", "1"],
        capture_output=True,
        text=True,
    )
    assert found.stdout.startswith("2 match(es)")  # no words of the stopped import either
    rerun = subprocess.run(
        [*tgscope, "import", "--db", pg_url, str(big)], capture_output=True, text=True
    )
    assert rerun.stdout == f"{big} (textdump): 20000 post(s): 20000 added, 0 updated, 0 unchanged\n"


def test_the_command_lists_match_the_registries():
    """The CLI names formats without importing the parsers (fast --help); they must agree."""
    from tgscope.cli import collecting, importing, reading
    from tgscope.collect.http import DEFAULT_BASE_URL
    from tgscope.exports import EXPORTERS
    from tgscope.sources import SOURCES

    assert sorted(importing.FORMATS) == sorted(SOURCES)
    assert sorted(reading.EXPORT_FORMATS) == sorted(EXPORTERS)
    assert collecting.DEFAULT_BASE_URL == DEFAULT_BASE_URL


@pytest.mark.slow  # starts processes
def test_help_imports_no_parser_and_no_rich():
    code = (
        "import sys; from tgscope.cli import cli; "
        "heavy = [m for m in ('rich', 'httpx', 'selectolax', 'tantivy', 'tgscope.archive') "
        "if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


# -- reading: what show, search and stats print -------------------------------------------

SAMPLES_PAGE_AND_EXPORT = ("rusembchina_page.html", "rusembchina_export.json")


@pytest.fixture
def embassy(run):
    from .conftest import SAMPLES

    run("import", *(str(SAMPLES / name) for name in SAMPLES_PAGE_AND_EXPORT))
    return run


def _details(output: str) -> list[str]:
    """The field lines of ``show`` (between the key and the blank line), sources left out:
    they name where and when the files were read."""
    head = output.split("\n\n", 1)[0].splitlines()[1:]
    return [line for line in head if not line.startswith("source: ")]


def test_show_prints_links_previews_media_and_buttons(embassy):
    assert _details(embassy("show", "rusembchina/503").output) == [
        "channel: rusembchina (Посольство России в Китае)",
        "id: 503",
        "date: 2022-11-17T09:30:00+00:00",
        "album: rusembchina/503",
        "views: 1000000",
        "link preview: mid.ru · Statement · Full text of the statement · https://mid.ru/en/2",
        # the sample export's folder holds no video: the archive says it has no copy
        "media: video video/mp4, 1:35, 1280×720, video_files/v.mp4; file not stored: missing",
    ]
    document = _details(embassy("show", "rusembchina/502").output)
    assert "button: Read <https://mid.ru/en/2>" in document and "button: 👍" in document
    assert (
        "media: document statement.pdf, application/pdf, 2.1 MB (file not included in the export)"
        in document
    )
    poll = _details(embassy("show", "rusembchina/504").output)
    assert "media: poll “Will you come?” (10 voters): Yes 7, No 3" in poll
    location = _details(embassy("show", "rusembchina/505").output)
    assert "media: location latitude 39.9522, longitude 116.4452" in location
    photo = _details(embassy("show", "rusembchina/500").output)
    assert (
        "media: photo 1280×853, photos/photo_1@15-11-2022_12-12-00.jpg; file not stored: missing"
        in photo
    )
    assert "forwarded from: Russian MFA 🇷🇺 mfarussia/16384" in photo
    assert (photo[3], photo[4]) == ("edited: yes", "author: Press Office")
    service = _details(embassy("show", "rusembchina/506").output)
    assert (
        "media: unsupported (not shown by the source): This media is not supported in your"
        " browser" in service
    )


def test_show_spells_custom_emoji_as_stats_does(embassy):
    details = _details(embassy("show", "rusembchina/500").output)
    assert "reactions: 👍 1200; custom:5368324170671202286 7; ⭐ 15" in details
    stats = json.loads(embassy("stats", "--json").output)
    labels = [reaction["reaction"] for reaction in stats["reactions"]]
    assert "custom:5368324170671202286" in labels


def test_show_history_lists_each_observation(embassy, tmp_path):
    from .conftest import SAMPLES

    later = tmp_path / "later.html"
    page = (SAMPLES / "rusembchina_page.html").read_text(encoding="utf-8")
    later.write_text(page.replace("12.3K", "15K"), encoding="utf-8")
    embassy("import", str(later))
    output = embassy("show", "--history", "rusembchina/500").output
    history = output.split("\nHistory:\n", 1)[1].splitlines()
    assert [line.split()[1:] for line in history[::2]] == [
        ["desktop-json", str(SAMPLES / "rusembchina_export.json")],
        ["web", str(SAMPLES / "rusembchina_page.html")],
        ["web", str(later)],
    ]
    assert history[1::2] == [
        "    reactions 👍 1200; custom:5368324170671202286 7; ⭐ 15",
        "    views 12300, reactions 👍 1200; custom:5368324170671202286 7; ⭐ 15",
        "    views 15000, reactions 👍 1200; custom:5368324170671202286 7; ⭐ 15",
    ]
    record = json.loads(embassy("show", "--json", "--history", "rusembchina/500").output)
    assert [seen["views"] for seen in record["history"] if seen["kind"] == "web"] == [
        12300,
        15000,
    ]
    assert set(record["history"][0]) == {
        "observed_at",
        "kind",
        "ref",
        "views",
        "forwards",
        "replies",
        "reactions",
    }


def test_stats_json(imported):
    assert json.loads(imported("stats", "--json").output) == {
        "posts": 5,
        "sources": 1,
        "first_date": None,
        "last_date": None,
        "undated": 5,
        "channels": [{"channel": "china_embassy", "title": None, "posts": 5}],
        "top_hashtags": [
            {"hashtag": "RussiaChina", "posts": 5},
            {"hashtag": "PhotoOfTheDay", "posts": 1},
            {"hashtag": "UNGA77", "posts": 1},
        ],
        "reactions": [
            {"reaction": "👍", "total": 63},
            {"reaction": "❤", "total": 11},
            {"reaction": "👎", "total": 2},
            {"reaction": "👏", "total": 1},
            {"reaction": "🔥", "total": 1},
            {"reaction": "🤬", "total": 1},
        ],
    }


# -- terminal safety ------------------------------------------------------------------------

HOSTILE = (
    "Red \x1b[31malert\x1b[0m, clipboard \x1b]52;c;cm0gLXJmIH4=\x07 csi \x9b2J"
    " bidi \u202eevil\u202c [bold]markup[/] end\tof\nline"
)


@pytest.fixture
def hostile(archive_db):
    from tgscope.archive import Archive

    from .helpers import post, source

    with Archive.open(archive_db) as archive:
        archive.ingest(
            [
                post(
                    "evil/1",
                    HOSTILE,
                    channel="evil",
                    channel_title="Title \x1b[2J[/]",
                    date="2023-01-09T10:00:00+00:00",
                    reactions=[{"emoji": "\x1b[5m", "count": 1}],
                    links=["https://x.example/\x1b]8;;"],
                )
            ],
            source(),
        )
    return archive_db


@pytest.fixture
def terminal(monkeypatch):
    """The commands' console as on a real terminal: colours, cursor codes and all."""
    from rich.console import Console

    from tgscope.cli import base

    monkeypatch.setattr(
        base.console,
        "_console",
        Console(force_terminal=True, color_system="standard", width=100, highlight=False),
    )


_RICH_STYLE = re.compile(r"\x1b\[[0-9;]*m")


def _assert_controls_shown(output: str) -> None:
    plain = _RICH_STYLE.sub("", output)
    for shown in (r"\x1b[31malert\x1b[0m", r"\x1b]52;c;cm0gLXJmIH4=\x07", r"\x9b2J", r"\u202e"):
        assert shown in plain, shown
    # the only escape sequences left are rich's own colours
    assert not re.search("[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f\u202a-\u202e]", output)
    assert "\x1b" not in plain


@pytest.mark.parametrize("on_terminal", [True, False])
def test_show_and_search_show_control_characters_visibly(hostile, request, on_terminal):
    if on_terminal:
        request.getfixturevalue("terminal")
    runner = CliRunner()
    for args in (["show", "evil/1"], ["search", "red"], ["search", "bidi"]):
        result = runner.invoke(cli, [*args, "--db", str(hostile)])
        assert result.exit_code == 0, result.output
        _assert_controls_shown(result.output)
    shown = runner.invoke(cli, ["show", "evil/1", "--db", str(hostile)]).output
    assert "[bold]markup[/]" in shown  # rich markup in a post is text, never styling
    assert re.search("end[\t ]+of\nline", _RICH_STYLE.sub("", shown))  # tabs, line breaks kept
    stats = runner.invoke(cli, ["stats", "--db", str(hostile)]).output
    assert r"Title \x1b[2J[/]" in _RICH_STYLE.sub("", stats) and "\x1b[2J" not in stats


def test_json_output_keeps_the_text_exact(hostile, terminal):
    runner = CliRunner()
    shown = runner.invoke(cli, ["show", "evil/1", "--json", "--db", str(hostile)]).output
    found = runner.invoke(cli, ["search", "red", "--json", "--db", str(hostile)]).output
    for output in (shown, found):
        assert json.loads(output)["text"] == HOSTILE
        assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", output)
    assert json.loads(shown)["channel_title"] == "Title \x1b[2J[/]"
    assert r"\u009b2J" in shown and r"\u001b]52;c;" in shown


# -- arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["search", "x", "--hashtag", "\udcff"], "--hashtag"),
        (["search", "caf\udce9"], "QUERY"),
        (["export", "--channel", "\udcffa"], "--channel"),
        (["show", "k\udcff"], "KEY"),
        (["import", "--channel", "a\udcff", "a.txt"], "--channel"),  # names of files may be
    ],
)
def test_arguments_that_are_not_utf8_are_one_line_errors(imported_file, args, named):
    result = CliRunner().invoke(cli, [*args, "--db", str(imported_file)])
    assert result.exit_code == 1
    byte = "0xe9" if "\udce9" in "".join(args) else "0xff"
    assert result.output == f"Error: {named}: not valid UTF-8 (byte {byte})\n"


@pytest.mark.slow  # starts processes
def test_a_non_utf8_argument_from_the_shell_is_one_line(imported_file):
    command = [sys.executable, "-m", "tgscope", "search", "--db", str(imported_file), "x"]
    result = subprocess.run([*command, "--hashtag", b"\xff"], capture_output=True, check=False)
    assert (result.returncode, result.stdout) == (1, b"")
    assert result.stderr == b"Error: --hashtag: not valid UTF-8 (byte 0xff)\n"


def test_tgscope_db_is_read_by_the_command_not_the_library(tmp_path, monkeypatch, seed_path):
    from tgscope.archive import Archive

    elsewhere = tmp_path / "env.db"
    monkeypatch.setenv("TGSCOPE_DB", str(elsewhere))
    monkeypatch.chdir(tmp_path)
    with Archive.open() as archive:
        assert archive.path.name == "tgscope.db"
    assert not elsewhere.exists()
    help_text = CliRunner().invoke(cli, ["stats", "--help"]).output
    assert "$TGSCOPE_DB" in help_text


def test_error_messages_show_control_characters_visibly(tmp_path):
    missing = tmp_path / "x\x1b]52;c;AAAA\x07.db"
    result = CliRunner().invoke(cli, ["stats", "--db", str(missing)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {tmp_path}/x\\x1b]52;c;AAAA\\x07.db: no archive here yet"
        " (create one with tgscope import)\n"
    )


def test_media_labels_give_every_detail_in_human_units():
    from tgscope.cli.display import media_label

    assert media_label(
        {"type": "poll", "poll": {"question": "Q?", "options": [{"text": "Yes", "percent": 70}]}}
    ) == ("poll “Q?”: Yes 70%")
    assert media_label(
        {"type": "audio", "performer": "X", "title": "Song", "duration": 3723, "size": 512}
    ) == ("audio X, Song, 512 bytes, 1:02:03")
    assert media_label({"type": "sticker", "emoji": "😀", "url": None}) == "sticker emoji 😀"
    assert media_label({"type": "voice", "size": 3 * 1024**3}) == "voice 3.0 GB"


def test_import_lines_show_markup_and_controls_in_names_as_they_are(run, tmp_path, seed_path):
    """A file name is text, never rich markup or a terminal command."""
    odd = tmp_path / "[bold]dump\x1b[31m.txt"
    odd.write_bytes(seed_path.read_bytes())
    result = run("import", "--channel", "china_embassy", str(odd))
    assert "[bold]dump\\x1b[31m.txt (textdump): 5 post(s)" in result.output
    assert "\x1b" not in result.output


def test_a_file_whose_name_is_not_utf8_imports(run, tmp_path, seed_path):
    """Names from cp1251 archives reach Python as lone surrogates: the file is still read, in a
    folder or named, and its name is shown escaped."""
    folder = tmp_path / "from_cp1251"
    folder.mkdir()
    odd = folder / os.fsdecode(b"\xef\xf0\xe8\xec\xe5\xf0.txt")  # "пример" in cp1251
    odd.write_bytes(seed_path.read_bytes())
    named = run("import", "--channel", "china_embassy", str(odd))
    assert "\\udcef\\udcf0" in named.output and ": 5 post(s): 5 added" in named.output
    again = run("import", "--channel", "china_embassy", str(folder))
    assert ": 5 post(s): 0 added, 0 updated, 5 unchanged" in again.output


def test_ctrl_c_after_the_archive_committed_keeps_the_new_archive(tmp_path, seed_path, monkeypatch):
    """Ctrl-C while the search index commits comes after the archive committed the file: the
    new archive is kept, and the message says the file is in."""
    from tgscope.search import SearchIndex

    commit = SearchIndex.commit

    def interrupted(self, seq):
        if seq == 0:  # the new index's catch-up, inside the archive's transaction
            return commit(self, seq)
        raise KeyboardInterrupt  # the file's own commit, after the archive's

    monkeypatch.setattr(SearchIndex, "commit", interrupted)
    db = tmp_path / "new.db"
    result = CliRunner().invoke(
        cli, ["import", "--db", str(db), "--channel", "china_embassy", str(seed_path)]
    )
    assert result.exit_code == 130
    assert "interrupted: nothing was lost" in result.output
    monkeypatch.undo()
    stats = CliRunner().invoke(cli, ["stats", "--db", str(db)])
    assert stats.output.startswith("5 post(s) from 1 source file(s)")


def test_an_archive_another_import_wrote_to_is_not_removed(tmp_path, seed_path):
    """The import that created a new archive and imported nothing removes it, but only when
    it holds no source: another process may have imported into it meanwhile."""
    from tgscope.archive import Archive
    from tgscope.cli.importing import _remove_empty_archive

    empty, used = tmp_path / "empty.db", tmp_path / "used.db"
    Archive.open(empty).close()
    with Archive.open(used) as archive:
        archive.import_paths([seed_path], channel="china_embassy")
    _remove_empty_archive(empty, index_created=True)
    _remove_empty_archive(used, index_created=True)
    assert not empty.exists() and used.exists()
