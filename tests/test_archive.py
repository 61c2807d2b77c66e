from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import pytest

from tgscope.archive import Archive
from tgscope.errors import OptionError, ParseError, SourceError, StoreError, UnknownFormat
from tgscope.record import Post

from .engines import rows, table_counts
from .helpers import POSTS, post, source


def test_seed_imported_twice_adds_nothing(archive_db, seed_path):
    with Archive.open(archive_db) as archive:
        first = archive.import_paths([seed_path], channel="china_embassy")
    before = table_counts(archive_db)
    with Archive.open(archive_db) as archive:
        second = archive.import_paths([seed_path], channel="china_embassy")
        posts = list(archive.posts())
    assert (first.total("added"), first.total("unchanged")) == (5, 0)
    assert (second.total("added"), second.total("updated"), second.total("unchanged")) == (0, 0, 5)
    assert table_counts(archive_db) == before
    assert before["posts"] == 5 and before["observations"] == 5 and before["sources"] == 1
    assert before["reactions"] == 2 + 2 + 4 + 3 + 4
    assert [p.text.split(" ", 3)[1:3] for p in posts] == [
        ["Russia's", "Foreign"],
        ["Foreign", "Minister"],
        ["President", "of"],
        ["On", "January"],
        ["Foreign", "Minister"],
    ]


def test_stored_record_equals_parsed_record_plus_provenance(archive_db, seed_path):
    from tgscope.sources.textdump import parse_textdump

    with seed_path.open(encoding="utf-8") as lines:
        parsed = [p for p in parse_textdump(lines, channel="china_embassy")]
    with Archive.open(archive_db) as archive:
        archive.import_paths([seed_path], channel="china_embassy")
        stored = list(archive.posts())
    assert len(stored) == 5
    for original, saved in zip(parsed, stored, strict=True):
        assert saved.sources[0]["kind"] == "textdump"
        assert saved.sources[0]["ref"] == str(seed_path.resolve())
        saved.sources = []
        assert saved == original


def test_changed_copy_of_a_dump_updates_reactions_and_adds_an_observation(
    archive_db, tmp_path, seed_path
):
    later = tmp_path / "later.txt"
    later.write_text(seed_path.read_text(encoding="utf-8").replace("👍16❤3", "👍20❤4"), "utf-8")
    with Archive.open(archive_db) as archive:
        archive.import_paths([seed_path], channel="china_embassy")
        report = archive.import_paths([later], channel="china_embassy")
        first = next(archive.posts())
    assert (report.total("added"), report.total("updated"), report.total("unchanged")) == (0, 1, 4)
    assert first.reactions == [{"emoji": "👍", "count": 20}, {"emoji": "❤", "count": 4}]
    assert [s["ref"] for s in first.sources] == [str(seed_path.resolve()), str(later.resolve())]
    history = rows(archive_db, "SELECT reactions FROM observations WHERE post_pk = 1 ORDER BY pk")
    assert [row[0] for row in history] == [
        '[{"emoji": "👍", "count": 16}, {"emoji": "❤", "count": 3}]',
        '[{"emoji": "👍", "count": 20}, {"emoji": "❤", "count": 4}]',
    ]


def test_folder_import_takes_every_file(archive_db, tmp_path, seed_path):
    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "a.txt").write_text(seed_path.read_text("utf-8"), "utf-8")
    (folder / "b.txt").write_text("Forwarded from X\nOnly post\n👍1\n", "utf-8")
    with Archive.open(archive_db) as archive:
        report = archive.import_paths([folder])
    assert [(f.path.rsplit("/", 1)[1], f.added) for f in report.files] == [
        ("a.txt", 5),
        ("b.txt", 1),
    ]


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (b"", ParseError, "file is empty"),
        (b"\x00\x01\x02garbage\xff\xfe", ParseError, "binary data"),
        (b'{"name": "x", "messages": []}', UnknownFormat, "not a Telegram Desktop export"),
        (b"<html><body>hi</body></html>", UnknownFormat, "neither a saved t.me/s page nor"),
        (b"shopping list\nmilk\neggs\n", UnknownFormat, "unknown format"),
    ],
)
def test_bad_files_leave_the_archive_as_it_was(
    archive_db, tmp_path, seed_path, content, error, message
):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    with Archive.open(archive_db) as archive:
        archive.import_paths([seed_path])
        before = table_counts(archive_db)
        with pytest.raises(error, match=message) as caught:
            archive.import_file(bad)
        report = archive.import_paths([bad])
    assert str(bad) in str(caught.value)
    assert "\n" not in str(caught.value)
    assert [(f.path, f.error) for f in report.failures] == [(str(bad), str(caught.value))]
    assert table_counts(archive_db) == before


def test_a_bad_file_among_good_ones_fails_alone(archive_db, tmp_path, seed_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Forwarded from X\nok\n\xff\n")
    later = tmp_path / "z.txt"
    later.write_text("Forwarded from Y\nlast post\n👍1\n", "utf-8")
    seen = []
    with Archive.open(archive_db) as archive:
        report = archive.import_paths([seed_path, bad, later], on_file=seen.append)
        keys = [p.key for p in archive.posts()]
    assert [f.path for f in seen] == [str(seed_path), str(bad), str(later)]
    assert [(f.added, f.error is None) for f in report.files] == [(5, True), (0, False), (1, True)]
    assert (
        report.summary()
        == "3 file(s), 6 post(s): 6 added, 0 updated, 0 unchanged, 1 file(s) failed"
    )
    assert len(keys) == 6


def test_empty_folder_is_a_failure_not_silence(archive_db, tmp_path):
    (tmp_path / "empty").mkdir()
    with Archive.open(archive_db) as archive:
        report = archive.import_paths([tmp_path / "empty"])
    assert [f.error for f in report.failures] == [
        f"{tmp_path / 'empty'}: folder has no files to import"
    ]


def test_invalid_utf8_midway_names_the_line_and_rolls_back(archive_db, tmp_path, seed_path):
    data = seed_path.read_bytes()
    truncated = tmp_path / "cut.txt"
    cut = data.index("🤬".encode()) + 2  # in the middle of the last emoji
    truncated.write_bytes(data[:cut] + b"\nForwarded from X\nmore\n")
    with Archive.open(archive_db) as archive:
        with pytest.raises(ParseError) as caught:
            archive.import_file(truncated)
        assert list(archive.posts()) == []
        assert archive.search("Lavrov").total == 0
    assert str(caught.value) == f"{truncated}:67: not UTF-8 text (byte 0xf0 at column 8)"
    assert table_counts(archive_db)["posts"] == 0


def test_failure_mid_import_rolls_back_store_and_index(archive_db):
    def items():
        yield post("c/1", "first meeting")
        yield post("c/2", "second meeting")
        raise ParseError("boom", path="x.txt", line=3)

    with Archive.open(archive_db) as archive:
        with pytest.raises(ParseError):
            archive.ingest(items(), source())
        assert list(archive.posts()) == []
        assert archive.search("meeting").total == 0
        archive.ingest(POSTS, source())
        assert archive.search("meeting").total == 2


def test_truncated_dump_imports_what_it_has_with_a_warning(archive_db, tmp_path, seed_path):
    text = seed_path.read_text("utf-8")
    cut = tmp_path / "cut.txt"
    cut.write_text(text[: text.index("We have far-reaching") + 10], "utf-8")
    with Archive.open(archive_db) as archive:
        report = archive.import_paths([cut])
    assert report.total("added") == 5
    assert report.files[0].warnings == [
        "line 55: body not repeated as web-preview dumps do; kept as it is (truncated file?)"
    ]


def test_missing_paths_and_a_folder_as_archive(db_path, tmp_path):
    with Archive.open(db_path) as archive, pytest.raises(SourceError) as caught:
        archive.import_file(tmp_path / "nope.txt")
    assert str(caught.value) == f"{tmp_path / 'nope.txt'}: no such file"
    with pytest.raises(StoreError, match="is a directory, not an archive file"):
        Archive.open(tmp_path)
    with pytest.raises(StoreError, match="no archive here yet"):
        Archive.open(tmp_path / "typo.db", create=False)
    assert not (tmp_path / "typo.db").exists()


def test_index_folder_that_is_not_ours_is_never_deleted(tmp_path):
    notes = tmp_path / "site.index"
    notes.mkdir()
    (notes / "index.html").write_text("<html>my notes</html>")
    with Archive.open(tmp_path / "site") as archive, pytest.raises(StoreError) as caught:
        archive.search("x")
    assert str(caught.value) == f"{notes}: folder is not a tgscope search index; move it away"
    assert (notes / "index.html").read_text() == "<html>my notes</html>"
    (tmp_path / "other.index").write_text("a file")
    with Archive.open(tmp_path / "other") as archive, pytest.raises(StoreError, match="is a file"):
        archive.search("x")


def test_locked_archive_is_reported(db_path, seed_path):
    Archive.open(db_path).close()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        archive = Archive.open(db_path)
        archive.store.db.execute("PRAGMA busy_timeout = 100")
        with pytest.raises(StoreError, match="locked by another process"):
            archive.import_paths([seed_path])
        archive.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_corrupt_archive_is_reported(tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a tgscope archive or the file is corrupt"):
        Archive.open(broken)
    assert broken.read_bytes() == b"this is not sqlite" * 100


def test_index_catches_up_after_a_crash_between_commits(db_path):
    with Archive.open(db_path) as archive:
        archive.ingest(POSTS[:3], source("a"))
        # a crash after the SQLite commit, before the index commit:
        with archive.store.transaction() as seq:
            source_pk = archive.store.add_source(source("b"))
            archive.store.save_posts(POSTS[3:], source_pk)
        assert seq == 2
    with Archive.open(db_path) as archive:
        assert archive.search("Лавров").total == 3


def test_reindex_rebuilds_from_the_archive(archive_db):
    with Archive.open(archive_db) as archive:
        archive.ingest(POSTS, source())
        assert archive.reindex() == len(POSTS)
        assert archive.search("meeting").total == 2
        assert archive.search("").total == len(POSTS)


def test_reindex_of_an_empty_archive_empties_the_index(archive_db):
    with Archive.open(archive_db) as archive:
        assert archive.reindex() == 0
        assert archive.search("").total == 0


def test_index_of_a_replaced_archive_is_rebuilt(db_path):
    with Archive.open(db_path) as archive:
        archive.ingest(POSTS[:3], source("a"))
    for suffix in ("", "-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    with Archive.open(db_path) as archive:
        archive.ingest([post("other/1", "Completely different meeting")], source("b"))
        found = archive.search("")
    assert [r.post.key for r in found.results] == ["other/1"]
    assert found.results[0].snippet == "Completely different meeting"


def test_a_writer_that_committed_between_open_and_import_is_indexed(archive_db):
    with Archive.open(archive_db) as archive:
        archive.ingest(POSTS[:1], source("a"))
        real_transaction = archive.store.transaction

        @contextmanager
        def after_another_writer():
            # another process commits (and dies) just before this import takes the lock
            with Archive.open(archive_db) as other, other.store.transaction():
                pk = other.store.add_source(source("other"))
                other.store.save_posts(POSTS[1:], pk)
            with real_transaction() as seq:
                yield seq

        archive.store.transaction = after_another_writer
        archive.ingest([post("late/1", "late meeting")], source("late"))
        assert archive.search("").total == len(POSTS) + 1


def test_an_older_copy_imported_late_does_not_roll_counts_back(archive_db, tmp_path):
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_text("Forwarded from A\nA post\n👍3\n", "utf-8")
    new.write_text("Forwarded from A\nA post\n👍10\n", "utf-8")
    os.utime(old, (1_600_000_000, 1_600_000_000))
    os.utime(new, (1_700_000_000, 1_700_000_000))
    with Archive.open(archive_db) as archive:
        archive.import_paths([new])
        report = archive.import_paths([old])
        (saved,) = archive.posts()
    assert report.total("unchanged") == 1
    assert saved.reactions == [{"emoji": "👍", "count": 10}]
    assert [s["ref"] for s in saved.sources] == [str(old), str(new)]


def test_same_key_twice_in_one_batch_keeps_the_first(archive_db):
    with Archive.open(archive_db) as archive:
        report = archive.ingest([post("c/1", "a"), post("c/1", "b")], source("one"))
        assert (report.added, report.unchanged) == (1, 1)
        again = archive.ingest([post("c/1", "c"), post("c/1", "d")], source("two"))
        assert (again.updated, again.unchanged) == (1, 1)
        assert [(p.key, p.text) for p in archive.posts()] == [("c/1", "c")]


def test_posts_keep_order_and_full_record(archive_db):
    full = Post(
        key="c/5",
        channel="c",
        channel_title="C",
        id=5,
        date="2023-01-01T00:00:00+00:00",
        text="hi",
        entities=[{"type": "bold", "offset": 0, "length": 2}],
        views=10,
        forwards=3,
        replies=2,
        reactions=[
            {"emoji": "👍", "count": 1},
            {"custom_emoji_id": "42", "count": 2},
            {"paid": True, "count": 3},
        ],
        forwarded_from={"title": "T", "channel": "t", "id": 9},
        reply_to={"channel": "c", "id": 4},
        media=[{"type": "photo", "url": "https://x/y.jpg", "width": 10, "height": 20}],
        link_preview={"url": "u", "site_name": "s", "title": "t", "description": "d"},
        buttons=[{"text": "Open", "url": "https://x/open"}, {"text": "Vote", "url": None}],
        hashtags=["a"],
        mentions=["b"],
        links=["https://x"],
        author="A",
        via_bot="gif",
        edited=True,
        service=None,
        album_id="77",
    )
    with Archive.open(archive_db) as archive:
        archive.ingest([full], source())
        (saved,) = archive.posts()
    assert saved.sources == [
        {"kind": "test", "ref": "test://posts", "observed_at": "2026-11-28T07:00:00+00:00"}
    ]
    saved.sources = []
    assert saved == full


def test_damaged_index_is_rebuilt_from_the_archive(db_path):
    with Archive.open(db_path) as archive:
        archive.ingest(POSTS, source())
    index = db_path.with_name(db_path.name + ".index")
    (index / "meta.json").write_text("{ not json")
    with Archive.open(db_path) as archive:
        assert archive.search("meeting").total == 2


def test_search_works_while_another_process_holds_the_index_writer(db_path):
    with Archive.open(db_path) as writer_side:
        writer_side.ingest(POSTS[:3], source("a"))
        with Archive.open(db_path) as other:
            other.index.stage([])  # takes the writer lock, as a running import would
            writer_side.store.db.execute("PRAGMA busy_timeout = 100")
            with writer_side.store.transaction() as _seq:  # a write the index has not seen
                pk = writer_side.store.add_source(source("b"))
                writer_side.store.save_posts(POSTS[3:], pk)
            with Archive.open(db_path) as reader:
                assert reader.search("Лавров").total == 1  # only what was indexed so far
            other.index.rollback()
        assert writer_side.search("Лавров").total == 3


def test_dump_with_a_header_reimports_unchanged(archive_db, tmp_path):
    dump = tmp_path / "embassy.txt"
    dump.write_text(
        "Embassy\n@embassy_uk\n1.2K subscribers\nDownload Telegram\nHello\n👍1\n", "utf-8"
    )
    with Archive.open(archive_db) as archive:
        first = archive.import_paths([dump])
        again = archive.import_paths([dump])
        named = archive.import_paths([dump], channel="embassy_uk")
        named_again = archive.import_paths([dump], channel="embassy_uk")
    assert (first.total("added"), again.total("unchanged")) == (1, 1)
    assert (named.total("added"), named_again.total("unchanged")) == (1, 1)
    assert rows(archive_db, "SELECT username, title, subscribers FROM channels") == [
        ("embassy_uk", "Embassy", 1200)
    ]


def test_observed_reactions_are_valid_json_whatever_the_emoji(archive_db):
    import json

    reactions = [
        {"emoji": "👍", "count": 16},
        {"emoji": "back\\slash", "count": 1},
        {"emoji": 'odd"quote', "count": 1},
        {"emoji": "\u200d", "count": 1},
        {"custom_emoji_id": "5368324170671202286", "count": 2},
        {"paid": True, "count": 5},
    ]
    with Archive.open(archive_db) as archive:
        archive.ingest(
            [post("mfarussia/1", "Hello", channel="mfarussia", reactions=reactions)], source()
        )
        assert archive.history("mfarussia/1")[0].reactions == reactions
    ((stored,),) = rows(archive_db, "SELECT reactions FROM observations")
    assert json.loads(stored) == reactions


def test_an_archive_that_lost_its_id_gets_a_new_one_and_a_rebuilt_index(archive_db):
    with Archive.open(archive_db) as archive:
        archive.ingest(POSTS, source())
    rows(archive_db, "DELETE FROM meta WHERE name = 'archive_id'")
    with Archive.open(archive_db) as archive:
        assert archive.search("").total == len(POSTS)
        assert len(archive.store.archive_id()) == 32


# -- import plumbing: one file's failure stays its own; what the CLI tells -----------------


def _three_tables(folder):
    folder.mkdir()
    for name, number in (("a.csv", 1), ("b.csv", 2), ("c.csv", 3)):
        (folder / name).write_text(f"id,text\n{number},post {number}\n", encoding="utf-8")
    return folder


def _failing_on(name: str, error: BaseException):
    from tgscope.sources import SOURCES

    real = SOURCES["csv"]

    def reader(context):
        if context.path.endswith(name):
            raise error
        return real(context)

    return reader


def test_an_unexpected_error_in_one_file_fails_that_file_alone(archive_db, tmp_path, monkeypatch):
    from tgscope.sources import SOURCES

    folder = _three_tables(tmp_path / "in")
    monkeypatch.setitem(SOURCES, "csv", _failing_on("b.csv", TypeError("boom\nsecond line")))
    with Archive.open(archive_db) as archive:
        report = archive.import_paths([folder], channel="mychan")
        keys = [post.key for post in archive.posts()]
        found = [result.post.key for result in archive.search("post").results]
    assert [file.error for file in report.files] == [
        None,
        f"{folder / 'b.csv'}: unexpected error while reading (TypeError: boom second line);"
        " please report it",
        None,
    ]
    assert keys == ["mychan/1", "mychan/3"] and sorted(found) == keys


def test_an_archive_error_still_stops_the_import(db_path, tmp_path, monkeypatch):
    from tgscope.sources import SOURCES

    folder = _three_tables(tmp_path / "in")
    locked = sqlite3.OperationalError("database is locked")
    monkeypatch.setitem(SOURCES, "csv", _failing_on("b.csv", locked))
    with Archive.open(db_path) as archive, pytest.raises(sqlite3.OperationalError):
        archive.import_paths([folder], channel="mychan")


def test_a_folder_holding_the_archive_does_not_import_the_archive(tmp_path):
    folder = _three_tables(tmp_path / "in")
    with Archive.open(folder / "archive.db") as archive:
        archive.import_paths([folder], channel="mychan")  # creates archive.db.index/ too
        report = archive.import_paths([folder], channel="mychan")
    assert [(Path(f.path).name, f.error) for f in report.files] == [
        ("a.csv", None),
        ("b.csv", None),
        ("c.csv", None),
    ]


@pytest.fixture
def cli_result():
    from click.testing import CliRunner

    from tgscope.cli import cli

    return lambda *args: CliRunner().invoke(cli, [str(arg) for arg in args])


def test_a_failed_import_leaves_no_archive_behind(cli_result, tmp_path):
    typo = tmp_path / "typo.db"
    result = cli_result("import", "--db", typo, tmp_path / "nosuch.txt")
    assert result.exit_code == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,hi\n", encoding="utf-8")  # no channel: fails while reading
    assert cli_result("import", "--db", typo, bad).exit_code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_a_failed_import_keeps_an_archive_that_was_there(cli_result, tmp_path, seed_path):
    db = tmp_path / "kept.db"
    assert cli_result("import", "--db", db, "--channel", "demo_chan", seed_path).exit_code == 0
    assert cli_result("import", "--db", db, tmp_path / "nosuch.txt").exit_code == 1
    assert db.exists() and (tmp_path / "kept.db.index").is_dir()


def test_an_interrupted_import_says_what_is_kept_and_that_a_rerun_finishes(
    cli_result, archive_db, tmp_path, monkeypatch
):
    from tgscope.sources import SOURCES

    folder = _three_tables(tmp_path / "in")
    monkeypatch.setitem(SOURCES, "csv", _failing_on("b.csv", KeyboardInterrupt()))
    db = archive_db
    result = cli_result("import", "--db", db, "--channel", "mychan", folder)
    assert result.exit_code == 130
    assert result.output.splitlines()[-1] == (
        f"interrupted: {folder / 'b.csv'} was rolled back; the 1 file(s) imported before it"
        " are kept. Run the same import again to finish: files already imported change nothing."
    )
    with Archive.open(db) as archive:
        assert [post.key for post in archive.posts()] == ["mychan/1"]


def test_big_files_are_announced_on_stderr_when_it_is_no_terminal(
    cli_result, tmp_path, monkeypatch
):
    from tgscope.cli import importing

    monkeypatch.setattr(importing, "ANNOUNCE_BYTES", 10)
    folder = _three_tables(tmp_path / "in")
    result = cli_result("import", "--db", tmp_path / "a.db", "--channel", "mychan", folder)
    lines = result.output.splitlines()
    assert lines[:2] == [
        f"importing {folder / 'a.csv'} (0.0 MB)…",
        f"{folder / 'a.csv'} (csv): 1 post(s): 1 added, 0 updated, 0 unchanged",
    ]
    assert len(lines) == 7  # three announced, three done, the total


@pytest.mark.slow
def test_on_a_terminal_no_line_is_glued_to_the_progress_bar(tmp_path):
    """Run in a pseudo-terminal: every summary line starts a line of its own."""
    import pty
    import subprocess
    import sys

    folder = _three_tables(tmp_path / "in")
    leader, follower = pty.openpty()
    command = [sys.executable, "-m", "tgscope", "import", "--db", str(tmp_path / "a.db")]
    process = subprocess.Popen(
        [*command, "--channel", "mychan", str(folder)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(follower)
    output = b""
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        output += data
    assert process.wait(timeout=60) == 0
    text = output.decode()
    for name in ("a.csv", "b.csv", "c.csv"):  # the bar's line is cleared before each
        assert f"\r\x1b[2K{folder / name} (csv): 1 post(s)" in text
    assert "\x1b[2Ktotal: 3 file(s)" in text


def test_history_lists_every_observation_with_its_counts(archive_db):
    from tgscope.store import Observation, SourceInfo

    seen = post("mfarussia/1", "Hello", channel="mfarussia", views=10, forwards=1, replies=0)
    later = post("mfarussia/1", "Hello", channel="mfarussia", views=25, forwards=4, replies=2)
    with Archive.open(archive_db) as archive:
        archive.ingest([seen], SourceInfo("web", "page-1", "1", "2026-11-28T07:00:00+00:00"))
        archive.ingest(
            [later], SourceInfo("api", "telegram-api:mfarussia", "", "2026-11-29T07:00:00+00:00")
        )
        assert archive.history("mfarussia/1") == [
            Observation("2026-11-28T07:00:00+00:00", "web", "page-1", 10, 1, 0, []),
            Observation("2026-11-29T07:00:00+00:00", "api", "telegram-api:mfarussia", 25, 4, 2, []),
        ]
        assert archive.history("mfarussia/404") == []


def test_stats_label_reactions_as_show_does(archive_db):
    from tgscope.record import reaction_label

    reactions = [
        {"emoji": "👍", "count": 3},
        {"custom_emoji_id": "5368324170671202286", "count": 2},
        {"paid": True, "count": 5},
    ]
    with Archive.open(archive_db) as archive:
        archive.ingest(
            [post("mfarussia/1", "Hi", channel="mfarussia", reactions=reactions)], source()
        )
        assert archive.stats().reactions == [
            ("⭐", 5),
            ("👍", 3),
            ("custom:5368324170671202286", 2),
        ]
    assert [reaction_label(r) for r in reactions] == ["👍", "custom:5368324170671202286", "⭐"]


def test_loading_many_posts_keeps_every_part_in_order(archive_db):
    posts = [
        post(
            f"mfarussia/{n}",
            f"Post {n}",
            channel="mfarussia",
            reactions=[{"emoji": "❤", "count": n}, {"emoji": "👍", "count": 1}],
            media=[{"type": "video", "url": f"v{n}"}, {"type": "photo", "url": f"p{n}"}],
            hashtags=["Zeta", "Alpha"],
            mentions=["zed", "abe"],
            links=["https://z.example", "https://a.example"],
        )
        for n in range(1, 13)
    ]
    with Archive.open(archive_db) as archive:
        archive.ingest(posts, source())
        loaded = archive.store.load_posts(list(range(12, 0, -1)))
        assert [loaded[pk].to_dict() | {"sources": []} for pk in range(1, 13)] == [
            p.to_dict() for p in posts
        ]
        assert archive.get("mfarussia/3").sources == [
            {"kind": "test", "ref": "test://posts", "observed_at": "2026-11-28T07:00:00+00:00"}
        ]


def test_each_collector_keeps_its_own_sync_state(archive_db):
    from tgscope.store import SyncState

    with Archive.open(archive_db) as archive:
        with archive.store.transaction():
            archive.store.save_sync_state("mfarussia", SyncState(30, 10, 1, ()))
            archive.store.save_sync_state("mfarussia", SyncState(31, None, None, ()), kind="api")
        assert archive.store.sync_state("mfarussia") == SyncState(30, 10, 1, ())
        assert archive.store.sync_state("mfarussia", kind="api").newest_id == 31
        assert archive.store.sync_state("embassy", kind="api") == SyncState(None, None, None, ())


def test_a_text_dump_in_cp1251_imports_like_its_utf8_copy(tmp_path, seed_path):
    text = seed_path.read_text(encoding="utf-8")
    encodable = "".join(c for c in text if c.encode("cp1251", "ignore"))  # emoji have no cp1251
    utf8, cp1251 = tmp_path / "utf8.txt", tmp_path / "cp1251.txt"
    utf8.write_text(encodable, encoding="utf-8")
    cp1251.write_bytes(encodable.encode("cp1251"))
    records = []
    for path, encoding in ((utf8, None), (cp1251, "cp1251")):
        with Archive.open(tmp_path / f"{path.stem}.db") as archive:
            report = archive.import_file(path, channel="demo_chan", encoding=encoding)
            assert (report.format, report.error) == ("textdump", None)
            records.append([(p.key, p.text, p.reactions) for p in archive.posts()])
    assert records[0] == records[1] and len(records[0]) == 5


def test_an_import_interrupted_in_its_first_file_says_so(cli_result, tmp_path, monkeypatch):
    from tgscope.sources import SOURCES

    folder = _three_tables(tmp_path / "in")
    monkeypatch.setitem(SOURCES, "csv", _failing_on("a.csv", KeyboardInterrupt()))
    result = cli_result("import", "--db", tmp_path / "a.db", "--channel", "mychan", folder)
    assert result.exit_code == 130
    assert result.output.splitlines()[-1] == (
        f"interrupted: {folder / 'a.csv'} was rolled back. Run the same import again to do it."
    )
    assert not (tmp_path / "a.db").exists()  # it was new and holds nothing


def test_a_post_is_read_from_one_snapshot_while_another_process_writes(archive_db):
    from tgscope.store import SourceInfo

    first = post(
        "mfarussia/1", "First", channel="mfarussia", reactions=[{"emoji": "👍", "count": 1}]
    )
    second = post(
        "mfarussia/1", "Second", channel="mfarussia", reactions=[{"emoji": "❤", "count": 9}]
    )
    later = SourceInfo("test", "test://later", "1" * 64, "2026-11-29T07:00:00+00:00")
    with Archive.open(archive_db) as reader, Archive.open(archive_db) as writer:
        reader.ingest([first], source())

        class WriteMidway:  # the other writer commits right after the reactions are read
            def __init__(self, db):
                self.db, self.done = db, False

            def __getattr__(self, name):
                return getattr(self.db, name)

            def execute(self, sql, *args):
                cursor = self.db.execute(sql, *args)
                if "FROM reactions" in sql and not self.done:
                    self.done = True
                    writer.ingest([second], later)
                return cursor

        reader.store.reader.db = WriteMidway(reader.store.db)
        loaded = reader.get("mfarussia/1")
        assert (loaded.text, loaded.reactions) == ("First", first.reactions)
        assert reader.get("mfarussia/1").text == "Second"


def test_saving_a_page_costs_the_same_however_big_its_channel(db_path):
    """A sync saves each page in its own transaction: a page's cost must not grow with the
    channel (reading every post of the channel per transaction made a sync quadratic)."""

    def page(first: int) -> list[Post]:
        return [post(f"big/{n}", f"Post {n}", channel="big") for n in range(first, first + 20)]

    def steps_to_save(archive: Archive, first: int) -> int:
        steps = [0]  # SQLite's virtual machine instructions, in hundreds

        def count() -> int:
            steps[0] += 1
            return 0

        archive.store.db.set_progress_handler(count, 100)
        archive.ingest(page(first), source(f"page {first}"), defer_index=True)
        archive.store.db.set_progress_handler(None, 0)
        return steps[0]

    with Archive.open(db_path) as archive:
        archive.ingest(page(1), source("first page"), defer_index=True)
        small = steps_to_save(archive, 21)
        history = [p for first in range(41, 10_041, 20) for p in page(first)]
        archive.ingest(history, source("the channel's history"), defer_index=True)
        big = steps_to_save(archive, 20_001)
    assert big < small * 1.2, (small, big)


@pytest.mark.parametrize("later", ["deferred", "after a crash"])
def test_a_copy_merged_while_the_index_waits_leaves_the_index_too(db_path, later):
    """A dump's copy merged into a post with an id is removed from the archive; the search
    index, catching up later (a sync defers it; a crash can), must drop it as well."""
    text = "Sergey Lavrov met Wang Yi in Beijing for the strategic talks"
    with Archive.open(db_path) as archive:
        archive.ingest([post("mfarussia/dump-1", text, channel="mfarussia")], source("dump"))
        if later == "deferred":
            report = archive.ingest(
                [post("mfarussia/9", text, channel="mfarussia")], source("page"), defer_index=True
            )
            archive.flush_index()
        else:  # the SQLite commit happened, the index commit did not
            index = archive.index
            index.commit = lambda seq: None  # type: ignore[method-assign]
            report = archive.ingest(
                [post("mfarussia/9", text, channel="mfarussia")], source("page")
            )
    assert report.merged == 1
    with Archive.open(db_path) as archive:
        found = archive.search("Lavrov")
        assert (found.total, [r.post.key for r in found.results]) == (1, ["mfarussia/9"])


@pytest.mark.pg
@pytest.mark.parametrize("defer_index", [False, True])
def test_a_copy_merged_in_postgresql_leaves_its_words_too(pg_url, defer_index):
    """The twin of the test above: in PostgreSQL the words are written with the posts, so
    the merged copy's words go in the same transaction, deferred or not."""
    text = "Sergey Lavrov met Wang Yi in Beijing for the strategic talks"
    with Archive.open(pg_url) as archive:
        archive.ingest([post("mfarussia/dump-1", text, channel="mfarussia")], source("dump"))
        report = archive.ingest(
            [post("mfarussia/9", text, channel="mfarussia")],
            source("page"),
            defer_index=defer_index,
        )
    assert report.merged == 1
    with Archive.open(pg_url) as archive:
        found = archive.search("Lavrov")
        assert (found.total, [r.post.key for r in found.results]) == (1, ["mfarussia/9"])
    assert rows(pg_url, "SELECT count(*) FROM post_words") == [(1,)]


def test_deletion_dates_are_asked_by_range_however_wide(archive_db):
    posts = [post(f"chan/{n}", f"post {n}", channel="chan") for n in (500, 503, 507, 900)]
    with Archive.open(archive_db) as archive:
        archive.ingest(posts, source("page"))
        db = archive.store.db  # type: ignore[attr-defined]
        db.execute("UPDATE posts SET deleted_at = '2024-05-01' WHERE message_id IN (500,503,507)")
        found = archive.store.deletion_dates("chan", [(2, 10**9 - 1)])
        narrow = archive.store.deletion_dates("chan", [(501, 506)])
    assert found == {500: "2024-05-01", 503: "2024-05-01", 507: "2024-05-01"}
    assert narrow == {503: "2024-05-01"}


def test_a_file_whose_records_the_archive_refuses_fails_alone(archive_db, tmp_path):
    """Two records of one post under keys that differ in case break the archive's
    uniqueness: that file fails with one line naming it, and the next file imports."""
    clash = tmp_path / "a_clash.jsonl"
    record = {"channel": "chan", "id": 1, "text": "one", "date": "2023-01-09T10:00:00+00:00"}
    clash.write_text(
        "\n".join(json.dumps(record | {"key": key}) for key in ("chan/1", "Chan/1")) + "\n",
        encoding="utf-8",
    )
    good = tmp_path / "b_good.jsonl"
    good.write_text(json.dumps(record | {"key": "chan/2", "id": 2}) + "\n", encoding="utf-8")
    with Archive.open(archive_db) as archive:
        report = archive.import_paths([clash, good], format="tgscope-jsonl")
    failed, imported = report.files
    assert failed.error is not None and failed.error.startswith(f"{clash}: the archive refused")
    assert "\n" not in failed.error
    assert (imported.error, imported.added) == (None, 1)


def test_media_and_forwarded_filters_agree_between_search_and_listing(archive_db):
    forward = {"title": "MFA Russia", "channel": "mfarussia", "id": 1}
    posts = [
        post("embassy/10", "Lavrov photo", channel="embassy", media=[{"type": "photo"}]),
        post("embassy/11", "Lavrov video", channel="embassy", media=[{"type": "video"}]),
        post("embassy/12", "Lavrov forwarded", channel="embassy", forwarded_from=forward),
        post("embassy/13", "Lavrov plain", channel="embassy"),
    ]
    with Archive.open(archive_db) as archive:
        archive.ingest(posts, source())
        cases = {
            ("photo", None): ["embassy/10"],
            ("any", None): ["embassy/10", "embassy/11"],
            ("none", None): ["embassy/12", "embassy/13"],
            (None, True): ["embassy/12"],
            ("none", False): ["embassy/13"],
        }
        for (media, forwarded), expected in cases.items():
            found = archive.search("Lavrov", media=media, forwarded=forwarded, limit=10)
            listed = archive.posts(media=media, forwarded=forwarded)
            assert sorted(r.post.key for r in found.results) == expected, (media, forwarded)
            assert [p.key for p in listed] == expected, (media, forwarded)
        with pytest.raises(OptionError, match="media: 'pictures' is not one of photo"):
            archive.search("Lavrov", media="pictures")
