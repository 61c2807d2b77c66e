"""The same posts through several sources: one record each, with provenance."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from tgscope.archive import Archive
from tgscope.cli import cli
from tgscope.errors import SourceError
from tgscope.exports import export_posts

from .conftest import SAMPLES
from .engines import more_archives, rows

PAGE = SAMPLES / "rusembchina_page.html"
EXPORT = SAMPLES / "rusembchina_export.json"
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


@pytest.fixture
def archives(archive_db, tmp_path, request):
    """New archives on ``archive_db``'s engine, by name: for a test that compares two."""
    return more_archives(archive_db, tmp_path, request)


def imported(db_path, paths) -> dict:
    with Archive.open(db_path) as archive:
        for path in paths:
            report = archive.import_file(path, channel="rusembchina")
            assert report.error is None
        return {post.key: post for post in archive.posts()}


def test_export_and_web_pages_become_one_record_each(archive_db, sources):
    page, export, _ = sources
    posts = imported(archive_db, [page, export])
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


def test_the_record_does_not_depend_on_the_order_of_import(archives, sources):
    page, export, dump = sources
    one = imported(archives("one"), [page, export, dump])
    other = imported(archives("other"), [dump, export, page])
    assert {k: p.to_dict() for k, p in one.items()} == {k: p.to_dict() for k, p in other.items()}


def test_a_text_dump_copy_is_merged_not_duplicated(archives, sources):
    page, _, dump = sources
    for order in ([page, dump], [dump, page]):
        db_path = archives(order[0].suffix[1:])
        posts = imported(db_path, order)
        merged = posts["rusembchina/500"]
        assert not [key for key in posts if "/dump-" in key and "Lavrov" in posts[key].text]
        assert [s["kind"] for s in merged.sources] == ["textdump", "web"]
        assert merged.views == 12300 and merged.reactions[0] == {"emoji": "👍", "count": 1200}
        assert merged.entities and merged.text.startswith("🇷🇺 Sergey Lavrov")
        assert rows(db_path, "SELECT count(*) FROM posts WHERE key LIKE '%/dump-%'") == [
            (1,)  # the channel's header line, which no other source has
        ]
        with Archive.open(db_path) as archive:
            found = archive.search("Lavrov")
        assert [r.post.key for r in found.results] == ["rusembchina/500"]


def test_show_sources_says_who_said_what(archive_db, sources):
    page, export, _ = sources
    imported(archive_db, [page, export])
    result = CliRunner().invoke(
        cli, ["show", "--db", str(archive_db), "--sources", "rusembchina/500"]
    )
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
        cli, ["show", "--db", str(archive_db), "--sources", "--json", "rusembchina/500"]
    )
    provenance = json.loads(as_json.output)["provenance"]
    assert [p["kind"] for p in provenance] == ["desktop-json", "web"]
    assert provenance[1]["record"]["views"] == 12300
    assert provenance[0]["record"]["views"] is None


BRIEFING = "Брифинг официального представителя МИД России М.В.Захаровой"


def write(path, text: str, when: int):
    path.write_text(text, encoding="utf-8")
    os.utime(path, (when, when))
    return path


def import_all(db_path, *paths):
    with Archive.open(db_path) as archive:
        reports = [archive.import_file(p, channel="mfarussia") for p in paths]
        return reports, {post.key: post for post in archive.posts()}


def test_dump_copies_merge_only_into_one_unambiguous_post_of_the_same_author(tmp_path, archives):
    table = write(
        tmp_path / "posts.csv",
        f"id,text,channel\n100,{BRIEFING},mfarussia\n200,{BRIEFING},mfarussia\n"
        f"41,Заявление МИД России о переговорах в Пекине,mfarussia\n",
        1_700_000_000,
    )
    dump = write(
        tmp_path / "dump.txt",
        f"{BRIEFING}\n👍50\n{BRIEFING}\n👍70\n"
        "Forwarded from Russian MFA 🇷🇺\nЗаявление МИД России о переговорах в Пекине\n👍5\n",
        1_700_000_100,
    )
    for order in ((table, dump), (dump, table)):
        db = archives(order[0].suffix[1:])
        _, posts = import_all(db, *(str(p) for p in order))
        copies = [key for key in posts if "/dump-" in key]
        assert len(copies) == 3, order  # ambiguous (two posts say it) or another author
        assert posts["mfarussia/41"].forwarded_from is None


def test_a_later_edit_takes_in_the_dump_copy_it_now_matches(tmp_path, archive_db):
    first = write(
        tmp_path / "v1.csv", "id,text\n300,Первая редакция заявления МИД\n", 1_700_000_000
    )
    dump = write(
        tmp_path / "dump.txt", "Вторая редакция заявления МИД России\n👍9\n", 1_700_000_050
    )
    second = write(
        tmp_path / "v2.csv", "id,text\n300,Вторая редакция заявления МИД России\n", 1_700_000_100
    )
    reports, posts = import_all(archive_db, first, dump, second)
    assert list(posts) == ["mfarussia/300"]
    assert posts["mfarussia/300"].reactions == [{"emoji": "👍", "count": 9}]
    assert reports[2].merged == 1 and "1 copies without ids merged" in reports[2].summary()
    assert rows(archive_db, "SELECT text FROM post_versions") == [
        ("Первая редакция заявления МИД",)
    ]


def test_an_older_text_imported_late_is_kept_as_a_version(tmp_path, archive_db):
    older = write(tmp_path / "old.csv", "id,text\n300,Первая редакция\n", 1_700_000_000)
    newer = write(tmp_path / "new.csv", "id,text\n300,Вторая редакция\n", 1_700_000_100)
    _, posts = import_all(archive_db, newer, older)
    assert posts["mfarussia/300"].text == "Вторая редакция"
    assert rows(archive_db, "SELECT text FROM post_versions") == [("Первая редакция",)]


def test_a_forward_from_a_hidden_sender_is_kept_and_reimports_unchanged(tmp_path, archive_db):
    export = tmp_path / "result.json"
    export.write_text(
        json.dumps(
            {
                "name": "Chan",
                "type": "public_channel",
                "id": 5,
                "messages": [
                    {
                        "id": 1,
                        "type": "message",
                        "date_unixtime": "1668503520",
                        "forwarded_from": None,
                        "text": "A forward from someone hidden",
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    with Archive.open(archive_db) as archive:
        archive.import_file(export, channel="chan_a")
        again = archive.import_file(export, channel="chan_a")
        post = archive.get("chan_a/1")
    assert (again.unchanged, again.updated) == (1, 0)
    assert post.forwarded_from == {"title": None, "channel": None, "id": None}


def test_an_export_is_matched_by_title_only_to_a_channel_without_another_id(
    tmp_path, archive_db, sources
):
    _, export, _ = sources
    other = json.loads(export.read_text(encoding="utf-8"))
    other["id"] = 999999
    other_path = tmp_path / "other.json"
    other_path.write_text(json.dumps(other, ensure_ascii=False), encoding="utf-8")
    with Archive.open(archive_db) as archive:
        archive.import_file(export, channel="rusembchina")
        with pytest.raises(SourceError, match="does not give the channel's username"):
            archive.import_file(other_path)
        channels = archive.store.db.execute("SELECT username, telegram_id FROM channels").fetchall()
    assert channels == [("rusembchina", 1234567890)]


def test_a_restored_archive_keeps_what_each_source_gave(tmp_path, archives, sources):
    page, export, _ = sources
    original, restored = archives("original"), archives("restored")
    imported(original, [export, page])
    jsonl = tmp_path / "all.jsonl"
    with Archive.open(original) as archive:
        export_posts(archive.posts(), "jsonl", jsonl)
    later = tmp_path / "later.html"
    later.write_bytes(page.read_bytes())
    os.utime(later, (1_700_000_900, 1_700_000_900))
    with Archive.open(original) as archive:
        again = archive.import_file(jsonl)  # into the archive it came from: nothing new
        observations = archive.store.db.execute("SELECT count(*) FROM observations").fetchone()
    with Archive.open(restored) as archive:
        archive.import_file(jsonl)
        report = archive.import_file(later, channel="rusembchina")
        post, reply = archive.get("rusembchina/500"), archive.get("rusembchina/502")
    assert again.unchanged == 8 and observations == (12,)
    assert post.entities[-1]["type"] == "custom_emoji"  # the export's, as before
    assert reply.buttons == [
        {"text": "Read", "url": "https://mid.ru/en/2"},
        {"text": "👍", "url": None},
    ]
    assert report.updated == 0


def test_a_merged_dump_imported_again_adds_nothing(tmp_path, archives):
    table = write(tmp_path / "posts.csv", f"id,text\n100,{BRIEFING}\n", 1_700_000_000)
    dump = write(tmp_path / "dump.txt", f"{BRIEFING}\n👍50\n", 1_700_000_100)
    for order in ((table, dump, dump), (dump, table, dump)):
        db = archives(f"again-{order[0].suffix[1:]}")
        reports, posts = import_all(db, *order)
        assert list(posts) == ["mfarussia/100"], order
        assert (reports[2].added, reports[2].updated) == (0, 0)


def test_two_copies_in_one_dump_never_become_one_post(tmp_path, archives):
    dump = write(tmp_path / "dump.txt", f"{BRIEFING}\n👍50\n{BRIEFING}\n👍70\n", 1_700_000_000)
    table = write(tmp_path / "posts.csv", f"id,text\n9,{BRIEFING}\n", 1_700_000_100)
    for order in ((table, dump), (dump, table)):
        _, posts = import_all(archives(f"two-{order[0].suffix[1:]}"), *order)
        reactions = sorted(p.reactions[0]["count"] for p in posts.values() if p.reactions)
        assert (len(posts), reactions) == (2, [50, 70]), order


def test_a_copy_and_its_post_in_one_batch_still_meet(tmp_path, archive_db):
    first = write(
        tmp_path / "one.csv", f"id,text\n,{BRIEFING}\n7,Другое заявление\n", 1_700_000_000
    )
    second = write(tmp_path / "two.csv", f"id,text\n8,{BRIEFING}\n", 1_700_000_100)
    reports, posts = import_all(archive_db, first, second)
    assert sorted(posts) == ["mfarussia/7", "mfarussia/8"]
    assert reports[1].merged == 1


def test_another_writer_between_imports_is_seen(tmp_path, archive_db):
    db = archive_db
    d1 = write(tmp_path / "d1.txt", "Первое сообщение посольства о визите\n👍1\n", 1_700_000_000)
    table = write(tmp_path / "posts.csv", f"id,text\n9,{BRIEFING}\n", 1_700_000_050)
    d2 = write(tmp_path / "d2.txt", f"{BRIEFING}\n👍3\n", 1_700_000_100)
    with Archive.open(db) as one, Archive.open(db) as other:
        one.import_file(d1, channel="mfarussia")
        other.import_file(table, channel="mfarussia")
        report = one.import_file(d2, channel="mfarussia")
        keys = [post.key for post in one.posts()]
    assert report.merged == 1 and "mfarussia/9" in keys and len(keys) == 2


def test_every_kind_of_source_declares_its_merge_rank():
    from tgscope.sources import SOURCES
    from tgscope.sources.telegram_api import FORMAT as API
    from tgscope.store.merge import merge_ranks

    ranks = merge_ranks()
    assert set(SOURCES) | {API} == set(ranks)
    assert len({rank.fields for rank in ranks.values()}) == len(ranks)  # no ties
    assert [kind for kind, rank in ranks.items() if rank.text_last] == ["textdump"]


def test_merge_names_no_kind_of_source():
    from pathlib import Path

    from tgscope.sources import SOURCES
    from tgscope.store import merge

    code = Path(merge.__file__).read_text(encoding="utf-8")
    assert [kind for kind in SOURCES if f'"{kind}"' in code] == []


@pytest.mark.slow
def test_opening_a_store_imports_no_parser():
    import subprocess
    import sys

    probe = (
        "import sys, sqlite3, tempfile, os\n"
        "from tgscope.store.sqlite import SQLiteStore\n"
        "SQLiteStore(os.path.join(tempfile.mkdtemp(), 'a.db')).close()\n"
        "print(sorted(m for m in sys.modules if m.startswith('tgscope.sources')))\n"
        "print((type(None), sqlite3.PrepareProtocol) in sqlite3.adapters)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "False"]  # nor registers a global adapter
