from __future__ import annotations

import sqlite3

import pytest

from tgscope.archive import Archive
from tgscope.errors import OptionError, ParseError, SourceError
from tgscope.record import Post

from .conftest import FIXTURES

OTHER = FIXTURES / "other"


def test_snscrape_jsonl_gives_exact_records(db_path):
    with Archive.open(db_path) as archive:
        report = archive.import_file(OTHER / "snscrape.jsonl")
        posts = [post.to_dict() for post in archive.posts()]
    assert (report.format, report.added) == ("snscrape", 2)
    for post in posts:
        post.pop("sources")
    expected = Post(
        key="mfarussia/16384",
        channel="mfarussia",
        id=16384,
        date="2022-11-15T09:10:00+00:00",
        text="Sergey Lavrov met #RussiaChina partners in Beijing https://mid.ru/en/1",
        link_preview={
            "url": "https://mid.ru/en/1",
            "site_name": "mid.ru",
            "title": "Statement",
            "description": "Full text",
        },
        hashtags=["RussiaChina"],
        links=["https://mid.ru/en/1"],
    ).to_dict()
    expected.pop("sources")
    assert posts[0] == expected
    assert (posts[1]["key"], posts[1]["views"], posts[1]["text"]) == (
        "mfarussia/16385",
        5370,
        "Встреча с послом",
    )


def test_another_tools_csv_through_column_names(db_path):
    with Archive.open(db_path) as archive:
        report = archive.import_file(
            OTHER / "collector.csv", format="csv", options={"mapping": "date=published"}
        )
        posts = list(archive.posts())
    assert report.added == 2
    assert [(p.key, p.date, p.views, p.hashtags) for p in posts] == [
        ("mfarussia/101", "2023-01-09T10:00:00+00:00", 5370, ["RussiaChina"]),
        ("mfarussia/102", "2023-01-10T10:13:20+00:00", 937, []),
    ]
    assert posts[1].text == "Second line\nof a two-line post"


def test_jsonl_of_another_tool_with_a_mapping(db_path, tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        '{"msg": 7, "body": "Hello from the embassy", "seen": "1.2M"}\n'
        '{"msg": 8, "body": "Second", "seen": 12}\n',
        encoding="utf-8",
    )
    with Archive.open(db_path) as archive:
        archive.import_file(
            rows,
            format="jsonl",
            channel="rusembchina",
            options={"mapping": "id=msg,text=body,views=seen"},
        )
        posts = list(archive.posts())
    assert [(p.key, p.text, p.views) for p in posts] == [
        ("rusembchina/7", "Hello from the embassy", 1_200_000),
        ("rusembchina/8", "Second", 12),
    ]


@pytest.mark.parametrize(
    ("content", "options", "error", "message"),
    [
        (
            "message_id,message\n1,hi\n",
            {"mapping": "views=seen"},
            SourceError,
            r"--map names column\(s\) the file does not have: seen \(it has: message_id, message\)",
        ),
        (
            "id,text,views,channel\n1,hi,lots,chan_a\n",
            {},
            ParseError,
            r"csv:2: views: not a number: 'lots'",
        ),
        ("id,text\n1,hi\n", {}, ParseError, "no channel: give --channel NAME"),
        ("id,text\n1,hi,extra\n", {}, ParseError, "csv:2: 3 cells where the header has 2"),
        ("when,who\n1,2\n", {}, SourceError, "no column for the post's text or id"),
    ],
)
def test_bad_tables_are_one_line_errors_and_import_nothing(
    db_path, tmp_path, content, options, error, message
):
    table = tmp_path / "table.csv"
    table.write_text(content, encoding="utf-8")
    with Archive.open(db_path) as archive, pytest.raises(error, match=message) as caught:
        archive.import_file(table, format="csv", options=options)
    assert "\n" not in str(caught.value) and "table.csv" in str(caught.value)
    assert sqlite3.connect(db_path).execute("SELECT count(*) FROM posts").fetchone() == (0,)


def test_a_bad_mapping_option_is_refused():
    from tgscope.sources.tabular import parse_mapping

    with pytest.raises(OptionError, match="'colour' is not a field that can be mapped"):
        parse_mapping("colour=c")
    with pytest.raises(OptionError, match="'id' is not FIELD=COLUMN"):
        parse_mapping("id")


def test_ids_from_links_when_a_row_number_column_disagrees(db_path, tmp_path):
    table = tmp_path / "links.csv"
    table.write_text(
        "id,url,text\n1,https://t.me/mfarussia/5,Пятый\n2,https://t.me/mfarussia/9,Девятый\n",
        encoding="utf-8",
    )
    with Archive.open(db_path) as archive:
        with pytest.raises(ParseError, match=r"links\.csv:2: id 1 and the link's id 5 disagree"):
            archive.import_file(table)
        archive.import_file(table, options={"mapping": "url=url"})
        keys = [post.key for post in archive.posts()]
    assert keys == ["mfarussia/5", "mfarussia/9"]
