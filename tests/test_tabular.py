from __future__ import annotations

import json
import sqlite3

import pytest

from tgscope.archive import Archive
from tgscope.errors import OptionError, ParseError, SourceError, UnknownFormat
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
            OTHER / "collector.csv", format="csv", mapping="date=published"
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
            mapping="id=msg,text=body,views=seen",
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
            r"the mapping names column\(s\) the file does not have: seen \(it has: message_id,"
            r" message\)",
        ),
        (
            "id,text,views,channel\n1,hi,lots,chan_a\n",
            {},
            ParseError,
            r"csv:2: views: not a number: 'lots'",
        ),
        ("id,text\n1,hi\n", {}, ParseError, "csv:2: no channel: name the channel"),
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
        archive.import_file(table, format="csv", **options)
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
        archive.import_file(table, mapping="url=url")
        keys = [post.key for post in archive.posts()]
    assert keys == ["mfarussia/5", "mfarussia/9"]


# -- JSON arrays, more fields, encodings, delimiters, markdown ---------------------------


def _records(archive) -> list[dict]:
    records = [post.to_dict() for post in archive.posts()]
    for record in records:
        record.pop("sources")
    return records


def _expected(**fields) -> dict:
    record = Post(**fields).to_dict()
    record.pop("sources")
    return record


SCRAPED = [
    {
        "message_id": 5,
        "message": "Лавров met partners #RussiaChina https://mid.ru/a",
        "date": "2023-01-09T10:00:00Z",
        "channel": "My Channel",
        "views": "5.3K",
        "reactions": {"👍": 12, "❤": 3},
        "media": "MessageMediaPhoto",
        "fwd_channel": "https://t.me/tass_agency/77",
        "fwd_name": "ТАСС",
        "reply": "https://t.me/mfarussia/4",
        "urls": ["https://example.org/x"],
    },
    {"message_id": 6, "message": "Second", "date": 1673258400, "channel": "My Channel"},
]
SCRAPED_MAP = (
    "channel_title=channel,forwarded_from=fwd_name,forwarded_from_channel=fwd_channel,"
    "reply_to=reply,links=urls"
)
SCRAPED_RECORDS = [
    _expected(
        key="mychan/5",
        channel="mychan",
        channel_title="My Channel",
        id=5,
        date="2023-01-09T10:00:00+00:00",
        text="Лавров met partners #RussiaChina https://mid.ru/a",
        views=5300,
        reactions=[{"emoji": "👍", "count": 12}, {"emoji": "❤", "count": 3}],
        forwarded_from={"title": "ТАСС", "channel": "tass_agency", "id": 77},
        reply_to={"channel": "mfarussia", "id": 4},
        media=[{"type": "photo"}],
        hashtags=["RussiaChina"],
        links=["https://example.org/x", "https://mid.ru/a"],
    ),
    _expected(
        key="mychan/6",
        channel="mychan",
        channel_title="My Channel",
        id=6,
        date="2023-01-09T10:00:00+00:00",
        text="Second",
    ),
]


def test_a_json_array_of_objects_imports_like_json_lines(db_path, tmp_path):
    scraped = tmp_path / "scraped.json"
    scraped.write_text(json.dumps(SCRAPED, ensure_ascii=False, indent=1), encoding="utf-8")
    with Archive.open(db_path) as archive:
        report = archive.import_file(scraped, channel="mychan", mapping=SCRAPED_MAP)
        assert (report.format, report.added) == ("jsonl", 2)
        assert _records(archive) == SCRAPED_RECORDS


def test_the_same_rows_as_json_lines_give_the_same_records(db_path, tmp_path):
    lines = tmp_path / "scraped.jsonl"
    lines.write_text("".join(json.dumps(row) + "\n" for row in SCRAPED), encoding="utf-8")
    with Archive.open(db_path) as archive:
        archive.import_file(lines, format="jsonl", channel="mychan", mapping=SCRAPED_MAP)
        assert _records(archive) == SCRAPED_RECORDS


def test_a_channel_column_holding_a_title_is_explained(db_path, tmp_path):
    """The issue's case: without the mapping the 'channel' column is taken for usernames."""
    scraped = tmp_path / "scraped.json"
    scraped.write_text(json.dumps(SCRAPED), encoding="utf-8")
    with Archive.open(db_path) as archive, pytest.raises(ParseError) as caught:
        archive.import_file(scraped)
    assert str(caught.value) == (
        f"{scraped}: item 1: channel: not a channel username: 'My Channel' (4-32 letters,"
        " digits or _, starting with a letter); if column 'channel' holds the channel's name,"
        " map channel_title=channel and name the channel"
    )


def test_the_mapping_and_the_named_channel_win_over_column_names(db_path, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("id,channel,text\n1,My Channel,hi\n", encoding="utf-8")
    with Archive.open(db_path) as archive:
        archive.import_file(table, channel="mychan", mapping="channel_title=channel")
        assert [(p.key, p.channel_title) for p in archive.posts()] == [("mychan/1", "My Channel")]


def test_unknown_json_is_explained_and_the_advice_works(db_path, tmp_path):
    other = tmp_path / "other.json"
    other.write_text('[{"n": 1, "msg": "hello"}]', encoding="utf-8")
    with Archive.open(db_path) as archive:
        with pytest.raises(UnknownFormat, match="read as format 'jsonl' with a mapping"):
            archive.import_file(other)
        archive.import_file(other, format="jsonl", channel="mychan", mapping="id=n,text=msg")
        assert [(p.key, p.text) for p in archive.posts()] == [("mychan/1", "hello")]


def test_a_json_array_that_is_not_of_objects_names_the_item(db_path, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": 1, "text": "a"}, 7]', encoding="utf-8")
    with Archive.open(db_path) as archive, pytest.raises(ParseError) as caught:
        archive.import_file(bad, channel="mychan")
    assert str(caught.value) == f"{bad}: item 2: not an object"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"id": 1, "text": "a"},', "malformed JSON after item 1: premature EOF"),
        ('[{"id": 1}] [2]', "malformed JSON after item 1: trailing garbage"),
        ('[{"id": ' + "[" * 5000 + "]" * 5000 + "}]", "JSON nested deeper than 64 levels"),
    ],
)
def test_broken_json_arrays_are_one_line_errors(db_path, tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    with Archive.open(db_path) as archive, pytest.raises(ParseError) as caught:
        archive.import_file(bad, format="jsonl", channel="mychan")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_media_reactions_and_links_in_their_other_forms(db_path, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text(
        "id,text,reactions,media,links\n"
        '1,a,"👍 12, ❤ 3","photo video",https://a.org/1 https://b.org/2\n'
        '2,b,"[{""emoji"": ""🔥"", ""count"": 2}, {""paid"": true, ""count"": 5}]",'
        '"[{""type"": ""document"", ""file_name"": ""x.pdf"", ""size"": 10}]",'
        '"[""https://c.org""]"\n'
        "3,c,,MessageMediaGiveaway,\n",
        encoding="utf-8",
    )
    with Archive.open(db_path) as archive:
        report = archive.import_file(table, channel="mychan")
        posts = {p.id: p for p in archive.posts()}
    assert report.warnings == ["media of an unknown kind 'MessageMediaGiveaway' left out"]
    assert (posts[1].reactions, posts[1].media, posts[1].links) == (
        [{"emoji": "👍", "count": 12}, {"emoji": "❤", "count": 3}],
        [{"type": "photo"}, {"type": "video"}],
        ["https://a.org/1", "https://b.org/2"],
    )
    assert (posts[2].reactions, posts[2].media, posts[2].links) == (
        [{"emoji": "🔥", "count": 2}, {"paid": True, "count": 5}],
        [{"type": "document", "file_name": "x.pdf", "size": 10}],
        ["https://c.org"],
    )
    assert (posts[3].reactions, posts[3].media, posts[3].links) == ([], [], [])


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('1,a,"lots of love",', "t.csv:2: reactions: cannot read 'lots of love' (e.g. '👍12 ❤3')"),
        ("1,a,,[1", "t.csv:2: links: not JSON: '[1'"),
        ('1,a,"{""👍"": ""x""}",', "t.csv:2: reactions: count not a number: 'x'"),
    ],
)
def test_bad_cells_of_the_new_fields_name_line_and_field(db_path, tmp_path, row, message):
    table = tmp_path / "t.csv"
    table.write_text(f"id,text,reactions,links\n{row}\n", encoding="utf-8")
    with Archive.open(db_path) as archive, pytest.raises(ParseError) as caught:
        archive.import_file(table, channel="mychan")
    assert str(caught.value) == f"{tmp_path}/{message}"


RUSSIAN_CSV = "id;text;views\n1;Привет, мир;10\n2;Второй пост;5\n"


def test_a_cp1251_csv_imports_with_its_encoding(db_path, tmp_path):
    table = tmp_path / "ru.csv"
    table.write_bytes(RUSSIAN_CSV.encode("cp1251"))
    with Archive.open(db_path) as archive:
        with pytest.raises(ParseError) as caught:
            archive.import_file(table, channel="ruchan")
        assert str(caught.value) == f"{table}:2: not UTF-8 text (byte 0xcf at column 3)"
        report = archive.import_file(table, channel="ruchan", encoding="cp1251")
        posts = [(p.key, p.text, p.views) for p in archive.posts()]
    assert report.format == "csv"
    assert posts == [("ruchan/1", "Привет, мир", 10), ("ruchan/2", "Второй пост", 5)]


def test_a_wrong_byte_in_another_encoding_names_its_line(db_path, tmp_path):
    table = tmp_path / "ru.csv"
    table.write_bytes(b"id,text\n1,ok\n2," + b"\x98\n")  # 0x98 is no cp1251 character
    with Archive.open(db_path) as archive, pytest.raises(ParseError) as caught:
        archive.import_file(table, channel="ruchan", encoding="cp1251")
    assert str(caught.value) == f"{table}:3: not cp1251 text (byte 0x98)"


def test_an_encoding_is_refused_for_formats_that_are_always_utf8(db_path):
    export = FIXTURES.parent.parent / "samples" / "rusembchina_export.json"
    with Archive.open(db_path) as archive, pytest.raises(SourceError) as caught:
        archive.import_file(export, channel="rusembchina", encoding="cp1251")
    assert str(caught.value) == (
        f"{export}: desktop-json files are always UTF-8; an encoding applies to text dumps,"
        " CSV and JSON Lines only"
    )


@pytest.mark.parametrize(
    ("content", "delimiter"),
    [
        ("id;text\n1;semi, colon\n2;two\n", None),
        ("id\ttext\n1\tsemi, colon\n2\ttwo\n", None),
        ("id|text\n1|semi, colon\n2|two\n", "|"),
        ("id\ttext\n1\tsemi, colon\n2\ttwo\n", "tab"),
    ],
    ids=["semicolon-sniffed", "tab-sniffed", "pipe-named", "tab-named"],
)
def test_csv_delimiters_sniffed_or_named(db_path, tmp_path, content, delimiter):
    table = tmp_path / "t.csv"
    table.write_text(content, encoding="utf-8")
    with Archive.open(db_path) as archive:
        archive.import_file(table, channel="mychan", delimiter=delimiter)
        assert [(p.key, p.text) for p in archive.posts()] == [
            ("mychan/1", "semi, colon"),
            ("mychan/2", "two"),
        ]


def test_markdown_texts_become_clean_text_and_entities(db_path, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text(
        "id,text\n"
        '1,"**Лавров** met __Wang Yi__ #RussiaChina [Read in full](https://mid.ru/en/1)"\n',
        encoding="utf-8",
    )
    with Archive.open(db_path) as archive:
        archive.import_file(table, channel="mfarussia", markdown=True)
        assert _records(archive) == [
            _expected(
                key="mfarussia/1",
                channel="mfarussia",
                id=1,
                text="Лавров met Wang Yi #RussiaChina Read in full",
                entities=[
                    {"type": "bold", "offset": 0, "length": 6},
                    {"type": "italic", "offset": 11, "length": 7},
                    {"type": "text_link", "offset": 32, "length": 12, "url": "https://mid.ru/en/1"},
                ],
                hashtags=["RussiaChina"],
                links=["https://mid.ru/en/1"],
            )
        ]
        (hit,) = archive.search("Лавров").results
    assert "*" not in hit.snippet and "[" not in hit.snippet and "Лавров" in hit.snippet


def test_typed_options_are_checked_and_name_no_cli_flag(db_path, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("id,text\n1,a\n", encoding="utf-8")
    with Archive.open(db_path) as archive:
        for options, message in (
            ({"mapping": "colour=c"}, "mapping: 'colour' is not a field that can be mapped"),
            ({"encoding": "klingon"}, "encoding: unknown encoding 'klingon'"),
            ({"delimiter": ";;"}, "delimiter: ';;' is not one character (or 'tab')"),
            ({"timezone": "Mars/Olympus"}, "timezone: unknown time zone 'Mars/Olympus'"),
            ({"channel": "a b"}, "channel: not a channel username: 'a b'"),
        ):
            with pytest.raises(OptionError) as caught:
                archive.import_paths([table], **options)
            assert str(caught.value).startswith(message) and "--" not in str(caught.value)
        assert list(archive.posts()) == []


def test_the_map_fields_of_import_help_are_the_libraries(cli_run):
    from tgscope.cli.importing import MAP_FIELDS
    from tgscope.sources.columns import FIELDS

    assert tuple(FIELDS) == MAP_FIELDS
    help_text = " ".join(cli_run("import", "--help").output.split())
    assert f"FIELD is one of: {', '.join(FIELDS)}." in help_text
    for option in ("--encoding NAME", "--delimiter CHAR", "--markdown"):
        assert option in help_text


@pytest.fixture
def cli_run():
    from click.testing import CliRunner

    from tgscope.cli import cli

    def run(*args: str, expect: int = 0):
        result = CliRunner().invoke(cli, list(args))
        assert result.exit_code == expect, result.output
        return result

    return run


def test_cli_import_of_the_issues_cases(cli_run, tmp_path):
    db = str(tmp_path / "a.db")
    scraped = tmp_path / "scraped.json"
    scraped.write_text(json.dumps(SCRAPED), encoding="utf-8")
    ru = tmp_path / "ru.csv"
    ru.write_bytes(RUSSIAN_CSV.encode("cp1251"))
    args = ("import", "--db", db, "--map", SCRAPED_MAP, "--channel", "mychan", str(scraped))
    assert (
        cli_run(*args).output == f"{scraped} (jsonl): 2 post(s): 2 added, 0 updated, 0 unchanged\n"
    )
    refused = cli_run("import", "--db", db, "--channel", "ruchan", str(ru), expect=1).output
    assert refused == (
        f"Error: {ru}:2: not UTF-8 text (byte 0xcf at column 3); if it is in another encoding,"
        " try --encoding cp1251 (nothing of it was imported)\n"
    )
    args = ("import", "--db", db, "--channel", "ruchan", "--encoding", "cp1251", str(ru))
    assert cli_run(*args).output == f"{ru} (csv): 2 post(s): 2 added, 0 updated, 0 unchanged\n"


def test_markdown_of_a_text_longer_than_any_post_is_left_as_written(db_path, tmp_path):
    from tgscope.sources.columns import MARKDOWN_LIMIT

    long_text = "**a**" * (MARKDOWN_LIMIT // 5 + 1)
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"id": 1, "text": long_text}) + "\n", encoding="utf-8")
    with Archive.open(db_path) as archive:
        report = archive.import_file(rows, format="jsonl", channel="mychan", markdown=True)
        (post,) = archive.posts()
    assert report.warnings == [
        f"a text longer than {MARKDOWN_LIMIT:,} characters (no Telegram post is) kept as"
        " written, its markdown not read"
    ]
    assert (post.text, post.entities) == (long_text, [])


# -- tgscope records: dates in the archive's form, counts never negative -------------------

_RECORD = {"key": "mychan/1", "channel": "mychan", "id": 1, "text": "hi", "sources": []}


def _export(tmp_path, name: str, *records: dict):
    path = tmp_path / name
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2022-11-15", "2022-11-15T00:00:00+00:00"),
        ("2022-11-16T01:00:00+03:00", "2022-11-15T22:00:00+00:00"),
        ("2022-11-15T09:12:00Z", "2022-11-15T09:12:00+00:00"),
        ("2022-11-15T09:12:00", "2022-11-15T09:12:00+00:00"),
    ],
)
def test_tgscope_record_dates_are_stored_in_utc_like_every_source(db_path, tmp_path, given, stored):
    source = {"kind": "web", "ref": "https://t.me/s/mychan", "observed_at": given}
    path = _export(tmp_path, "export.jsonl", _RECORD | {"date": given, "sources": [source]})
    with Archive.open(db_path) as archive:
        archive.import_file(path)
        (post,) = archive.posts()
        found = archive.search("hi", since=stored, until=stored).results
        assert [result.post.key for result in found] == ["mychan/1"]
    assert post.date == stored
    assert stored in [source["observed_at"] for source in post.sources]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"date": "yesterday"},
            r"export\.jsonl:2: record: field 'date' is not a date: 'yesterday'",
        ),
        ({"date": "9999-99-99"}, r"export\.jsonl:2: record: field 'date' is not a date"),
        (
            {"sources": [{"kind": "web", "ref": "x", "observed_at": "soon"}]},
            r"export\.jsonl:2: sources\[0\]: field 'observed_at' is not a date: 'soon'",
        ),
        ({"views": -100}, r"export\.jsonl:2: record: field 'views' should be 0 or more, got -100"),
        ({"forwards": -1}, r"export\.jsonl:2: record: field 'forwards' should be 0 or more"),
        ({"replies": -1}, r"export\.jsonl:2: record: field 'replies' should be 0 or more"),
        (
            {"reactions": [{"emoji": "👍", "count": -5}]},
            r"export\.jsonl:2: reactions\[0\]: field 'count' should be 0 or more, got -5",
        ),
    ],
)
def test_bad_dates_and_counts_in_tgscope_records_name_file_line_and_field(
    db_path, tmp_path, change, message
):
    path = _export(
        tmp_path, "export.jsonl", _RECORD, _RECORD | {"key": "mychan/2", "id": 2} | change
    )
    with Archive.open(db_path) as archive, pytest.raises(ParseError, match=message) as caught:
        archive.import_file(path)
    assert "\n" not in str(caught.value)
    assert sqlite3.connect(db_path).execute("SELECT count(*) FROM posts").fetchone() == (0,)


def test_a_bad_date_fails_its_file_only_and_not_an_existing_post(db_path, tmp_path):
    good = _export(tmp_path, "good.jsonl", _RECORD | {"date": "2022-11-15T09:12:00+00:00"})
    bad = _export(tmp_path, "bad.jsonl", _RECORD | {"date": "yesterday"})
    with Archive.open(db_path) as archive:
        report = archive.import_paths([bad, good])
        again = archive.import_paths([bad])  # the same post, already in the archive
        (post,) = archive.posts()
    assert [file.error for file in report.files] == [
        f"{bad}:1: record: field 'date' is not a date: 'yesterday'",
        None,
    ]
    assert again.files[0].error == f"{bad}:1: record: field 'date' is not a date: 'yesterday'"
    assert post.date == "2022-11-15T09:12:00+00:00"


# -- long lines and long strings: refused as they are read ---------------------------------


def test_a_json_line_longer_than_any_post_is_refused_naming_its_line(db_path, tmp_path):
    path = tmp_path / "rows.jsonl"
    row = json.dumps({"id": 2, "text": "x" * (5 << 20), "channel": "mychan"})
    path.write_text(json.dumps({"id": 1, "text": "hi", "channel": "mychan"}) + "\n" + row + "\n")
    with Archive.open(db_path) as archive:
        with pytest.raises(ParseError, match=r"rows\.jsonl:2: a line longer than 4 MB"):
            archive.import_file(path, format="jsonl")
        with pytest.raises(ParseError, match=r"rows\.jsonl:2: a line longer than 4 MB"):
            archive.import_file(path, format="jsonl", encoding="cp1251")


def test_a_json_array_on_one_long_line_still_imports(db_path, tmp_path):
    rows = [
        {"id": n, "text": f"пост {n} " + "слово " * 40, "channel": "mychan"} for n in range(20_000)
    ]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")  # one line, ~9 MB
    assert path.stat().st_size > 5 << 20
    with Archive.open(db_path) as archive:
        report = archive.import_file(path, format="jsonl")
        cp1251 = tmp_path / "rows_cp1251.json"
        cp1251.write_bytes(json.dumps(rows[:3], ensure_ascii=False).encode("cp1251"))
        again = archive.import_file(cp1251, format="jsonl", encoding="cp1251")
        first = archive.get("mychan/0")
    assert (report.added, again.unchanged) == (20_000, 3)
    assert first is not None and first.text == rows[0]["text"].strip()


def test_a_json_array_with_a_string_longer_than_any_post_is_refused(db_path, tmp_path):
    path = tmp_path / "rows.json"
    text = "x" * (2 << 20)
    path.write_text(json.dumps([{"id": 1, "text": text, "channel": "mychan"}]))
    refused = r"rows\.json: a string longer than 1,048,576 bytes"
    with Archive.open(db_path) as archive, pytest.raises(ParseError, match=refused):
        archive.import_file(path, format="jsonl")


def test_a_surrogate_pair_cut_between_chunks_of_an_array_is_still_text(db_path, tmp_path):
    from tgscope.sources.json_rows import CHUNK

    head = '[{"id": 1, "channel": "mychan", "text": "'
    pad = "x" * (CHUNK - len(head) - 8)
    path = tmp_path / "rows.json"
    path.write_text(head + pad + '\\ud83d\\ude00"}]', encoding="ascii")  # 😀 across the cut
    with Archive.open(db_path) as archive:
        archive.import_file(path, format="jsonl")
        (post,) = archive.posts()
    assert post.text == pad + "😀"
