from __future__ import annotations

import json
import sqlite3

import pytest

from tgscope.archive import Archive
from tgscope.errors import ParseError, SourceError
from tgscope.record import Channel
from tgscope.sources import ReadContext
from tgscope.sources.desktop_json import read

from .conftest import SAMPLES
from .helpers import EMBASSY_TITLE, embassy_record, source

EXPORT = SAMPLES / "rusembchina_export.json"
TITLE = EMBASSY_TITLE
record = embassy_record


def parse(path, **options) -> tuple[list, list[str]]:
    warnings: list[str] = []
    context = ReadContext(
        path=str(path),
        text=lambda: iter([path.read_text(encoding="utf-8")]),
        binary=lambda: path.open("rb"),
        warn=warnings.append,
        channel=options.pop("channel", "rusembchina"),
        **options,
    )
    return list(read(context)), warnings


def test_new_format_export_gives_exact_records():
    items, warnings = parse(EXPORT)
    channel, *posts = items
    assert channel == Channel(username="rusembchina", title=TITLE, telegram_id=1234567890)
    assert warnings == [
        "rusembchina/507: a message of unknown type 'new_kind_of_message', kept as a service"
        " message"
    ]
    by_id = {post.id: post.to_dict() for post in posts}
    assert list(by_id) == [1, 500, 502, 503, 504, 505, 506, 507]
    assert by_id[500] == record(
        500,
        date="2022-11-15T09:12:00+00:00",  # date_unixtime, not the local time beside it
        text="🇷🇺 Sergey Lavrov met #RussiaChina partners.\nRead in full · @MFARussia 🤝",
        entities=[
            {"type": "bold", "offset": 3, "length": 13},
            {"type": "hashtag", "offset": 21, "length": 12},
            {"type": "text_link", "offset": 44, "length": 12, "url": "https://mid.ru/en/1"},
            {"type": "mention", "offset": 59, "length": 10},
            {
                "type": "custom_emoji",
                "offset": 70,
                "length": 1,
                "document_id": "5368324170671202286",
            },
        ],
        reactions=[
            {"emoji": "👍", "count": 1200},
            {"custom_emoji_id": "5368324170671202286", "count": 7},
            {"paid": True, "count": 15},
        ],
        forwarded_from={"title": "Russian MFA 🇷🇺", "channel": None, "id": None},
        media=[
            {
                "type": "photo",
                "url": "photos/photo_1@15-11-2022_12-12-00.jpg",
                "width": 1280,
                "height": 853,
            }
        ],
        hashtags=["RussiaChina"],
        mentions=["mfarussia"],
        links=["https://mid.ru/en/1"],
        author="Press Office",
        edited=True,
    )
    assert by_id[502] == record(
        502,
        date="2022-11-16T08:00:00+00:00",
        text="Заявление посольства",
        reply_to={"channel": "rusembchina", "id": 500},
        media=[
            {
                "type": "document",
                "url": None,
                "reason": "file not included in the export",
                "mime_type": "application/pdf",
                "size": 2202009,
                "file_name": "statement.pdf",
            }
        ],
        buttons=[{"text": "Read", "url": "https://mid.ru/en/2"}, {"text": "👍", "url": None}],
        via_bot="postbot",
    )
    assert [by_id[n]["media"] for n in (503, 504, 505)] == [
        [
            {
                "type": "video",
                "url": "video_files/v.mp4",
                "width": 1280,
                "height": 720,
                "mime_type": "video/mp4",
                "duration": 95,
            }
        ],
        [
            {
                "type": "poll",
                "poll": {
                    "question": "Will you come?",
                    "closed": False,
                    "total_voters": 10,
                    "options": [{"text": "Yes", "voters": 7}, {"text": "No", "voters": 3}],
                },
            }
        ],
        [{"type": "location", "latitude": 39.9522, "longitude": 116.4452}],
    ]
    assert [by_id[n]["service"] for n in (1, 506, 507)] == [
        f"Channel created ({TITLE})",
        f"{TITLE} pinned message 500",
        "unsupported message (new_kind_of_message)",
    ]


def test_old_exports_read_local_times_in_the_given_zone(tmp_path):
    old = tmp_path / "result.json"
    old.write_text(
        json.dumps(
            {
                "name": "Old",
                "type": "public_channel",
                "id": 5,
                "messages": [
                    {"id": 1, "type": "message", "date": "2022-02-25T00:15:01", "text": "hi"}
                ],
            }
        ),
        encoding="utf-8",
    )
    (_, as_utc), warned = parse(old)
    (_, in_berlin), quiet = parse(old, timezone="Europe/Berlin")
    assert as_utc.date == "2022-02-25T00:15:01+00:00"
    assert warned == [
        "dates carry no time zone (an older export): read as UTC;"
        " give the time zone where it was exported to read them as local time"
    ]
    assert (in_berlin.date, quiet) == ("2022-02-24T23:15:01+00:00", [])


def test_the_channel_comes_from_the_archive_when_not_given(db_path):
    with Archive.open(db_path) as archive:
        with pytest.raises(
            SourceError, match=r"rusembchina_export\.json: the export does not give"
        ):
            archive.import_file(EXPORT)
        archive.ingest(
            [Channel(username="rusembchina", title=TITLE)],
            source(),
        )
        report = archive.import_file(EXPORT)
    assert report.added == 8
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT username, telegram_id FROM channels").fetchall() == [
        ("rusembchina", 1234567890)
    ]


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (lambda data: data[: len(data) // 2], "the JSON ends before the export does"),
        (lambda data: data.replace(b'"id": 503,', b'"id": 503,,'), "malformed JSON"),
    ],
)
def test_broken_json_is_one_line_naming_the_file_and_imports_nothing(
    db_path, tmp_path, cut, message
):
    broken = tmp_path / "result.json"
    broken.write_bytes(cut(EXPORT.read_bytes()))
    with Archive.open(db_path) as archive, pytest.raises(ParseError, match=message) as caught:
        archive.import_file(broken, channel="rusembchina")
    assert str(caught.value).startswith(f"{broken}: ") and "\n" not in str(caught.value)
    assert ("bytes read" if "ends" in message else "at byte 2,") in str(caught.value)
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT count(*) FROM posts").fetchone() == (0,)


def test_whole_account_export_takes_the_chats_it_can_name(db_path, tmp_path):
    chat = json.loads(EXPORT.read_text(encoding="utf-8"))
    other = {"name": "Friends", "type": "private_group", "id": 77, "messages": chat["messages"][:2]}
    account = {
        "about": "Here is the data you requested.",
        "personal_information": {"first_name": "A"},
        "chats": {"about": "chats", "list": [other, chat]},
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(account, ensure_ascii=False), encoding="utf-8")
    with Archive.open(db_path) as archive:
        picked = archive.import_file(path, channel="rusembchina", chat=1234567890)
    unknown_type = (
        "rusembchina/507: a message of unknown type 'new_kind_of_message', kept as a service"
        " message"
    )
    assert (picked.added, picked.warnings) == (8, [unknown_type])  # no word of the group
    with Archive.open(db_path) as archive:
        every = archive.import_file(path)  # the channel is known now; the group is not
    assert (every.unchanged, every.warnings) == (
        8,
        [
            "skipped chat 'Friends' (private_group, id 77, 2 message(s)): no username known;"
            " import it by naming chat 77 and its channel",
            unknown_type,
        ],
    )


def test_a_message_without_an_id_is_an_error_naming_it(db_path, tmp_path):
    broken = tmp_path / "result.json"
    broken.write_text(
        json.dumps(
            {
                "name": "X",
                "type": "public_channel",
                "id": 1,
                "messages": [
                    {"id": 1, "type": "message", "date": "2022-01-01T00:00:00", "text": "a"},
                    {"type": "message", "text": "b"},
                ],
            }
        ),
        encoding="utf-8",
    )
    with (
        Archive.open(db_path) as archive,
        pytest.raises(ParseError, match="message 2 of chat 'X' has no id"),
    ):
        archive.import_file(broken, channel="chan_x")
    assert sqlite3.connect(db_path).execute("SELECT count(*) FROM posts").fetchone() == (0,)


@pytest.mark.parametrize(
    ("fields", "media"),
    [
        (
            {"file": "stickers/s.webp", "media_type": "sticker", "mime_type": "image/webp"},
            {"type": "sticker", "url": "stickers/s.webp", "mime_type": "image/webp"},
        ),
        (
            {"file": "round/r.mp4", "media_type": "video_message", "duration_seconds": 9},
            {"type": "round_video", "url": "round/r.mp4", "duration": 9},
        ),
        (
            {"file": "voice/v.ogg", "media_type": "voice_message", "duration_seconds": 4},
            {"type": "voice", "url": "voice/v.ogg", "duration": 4},
        ),
        (
            {"file": "gif/g.mp4", "media_type": "animation", "width": 320, "height": 240},
            {"type": "gif", "url": "gif/g.mp4", "width": 320, "height": 240},
        ),
        (
            {"file": "audio/a.mp3", "media_type": "audio_file", "performer": "Choir"},
            {"type": "audio", "url": "audio/a.mp3", "performer": "Choir"},
        ),
        (
            {
                "contact_information": {
                    "first_name": "Press",
                    "last_name": "Office",
                    "phone_number": "+86 10 6532 1381",
                }
            },
            {"type": "contact", "name": "Press Office", "phone": "+86 10 6532 1381"},
        ),
    ],
)
def test_media_kinds(fields, media):
    from tgscope.sources.desktop_json import message_to_post

    message = {"id": 9, "type": "message", "date_unixtime": "1668503520", "text": ""} | fields
    post = message_to_post(message, "rusembchina", TITLE, True, None, lambda _: None)
    assert post.media == [media]


def test_control_characters_written_as_x_escapes_are_read(db_path, tmp_path):
    export = tmp_path / "result.json"
    export.write_bytes(
        b'{"name": "X", "type": "public_channel", "id": 1, "messages": [{"id": 1, "type":'
        b' "message", "date_unixtime": "1668503520", "text": "page\\x0Cbreak, \\\\x41 kept"},'
        b' {"id": 2, "type": "unsupported", "text": ""}]}'
    )
    with Archive.open(db_path) as archive:
        report = archive.import_file(export, channel="chan_x")
        posts = [archive.get("chan_x/1"), archive.get("chan_x/2")]
    assert (report.added, report.warnings) == (2, [])
    assert posts[0].text == "page\x0cbreak, \\x41 kept"
    assert posts[1].media == [{"type": "unsupported", "unsupported": True, "reason": None}]


def test_a_chat_id_that_is_not_in_the_export_is_said(db_path, tmp_path):
    account = {
        "about": "Here is the data you requested.",
        "personal_information": {"first_name": "A"},
        "chats": {"about": "chats", "list": [json.loads(EXPORT.read_text(encoding="utf-8"))]},
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(account, ensure_ascii=False), encoding="utf-8")
    with Archive.open(db_path) as archive:
        report = archive.import_file(path, channel="rusembchina", chat=42)
    warning = "no chat with id 42 in this export (the chat asked for)"
    assert (report.added, report.warnings) == (0, [warning])


def _export(tmp_path, messages: list, *, raw: bytes | None = None, **header):
    path = tmp_path / "result.json"
    chat = {"name": "Hostile", "type": "public_channel", "id": 1, **header}
    path.write_bytes(raw or json.dumps({**chat, "messages": messages}).encode())
    return path


def _message(**fields) -> dict:
    return {"id": 5, "type": "message", "date_unixtime": "1668513600", "text": "x", **fields}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"reactions": "abc"}, "message 5: field 'reactions' should be a list, got a string"),
        ({"photo": 7}, "message 5: field 'photo' should be a string, got an integer"),
        ({"text_entities": 3}, "message 5: field 'text_entities' should be a list, got an integer"),
        ({"author": ["A"]}, "message 5: field 'author' should be a string, got a list"),
        ({"width": True}, "message 5: field 'width' should be an integer, got true"),
        (
            {"reactions": [{"type": "emoji", "count": "9", "emoji": "👍"}]},
            "message 5: a reaction: field 'count' should be an integer, got a string",
        ),
        (
            {"reactions": [5]},
            "message 5: field 'reactions' should be a list of objects, got a list",
        ),
        (
            {"text_entities": [{"type": "bold", "text": {"a": 1}}]},
            "message 5: field 'text' should be a string (in a piece of the text), got an object",
        ),
        (
            {"poll": {"question": "q", "answers": [{"text": "a", "voters": "2"}]}},
            "message 5: an answer of the poll: field 'voters' should be an integer, got a string",
        ),
        (
            {"inline_bot_buttons": [[{"type": "url", "text": "t", "data": 5}]]},
            "message 5: a button: field 'data' should be a string, got an integer",
        ),
        ({"id": "9" * 30}, "message 1 of chat 'Hostile': field 'id' does not fit in 64 bits"),
    ],
)
def test_a_field_of_the_wrong_kind_is_one_error_naming_message_and_field(
    tmp_path, fields, expected
):
    with pytest.raises(ParseError) as caught:
        parse(_export(tmp_path, [_message(**fields)]))
    assert str(caught.value).startswith(f"{tmp_path / 'result.json'}: {expected}")


def test_a_chat_header_of_the_wrong_kind_is_an_error(tmp_path):
    with pytest.raises(ParseError, match=r"result\.json: chat: field 'name' should be a string"):
        parse(_export(tmp_path, [_message()], name=5))


@pytest.mark.parametrize(
    "text",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000, b"[" * 100_000],
    ids=["lists", "objects", "unclosed"],
)
def test_deep_nesting_is_refused_early_saying_so(tmp_path, text):
    head = b'{"name": "X", "type": "public_channel", "id": 1, "messages": [{"id": 1, "text": '
    path = _export(tmp_path, [], raw=head + text + b"}]}")
    with pytest.raises(ParseError) as caught:
        parse(path)
    assert str(caught.value) == (
        f"{path}: JSON nested deeper than 64 levels (within its first 65,536 bytes)"
    )


def test_nesting_is_counted_outside_strings_only(tmp_path):
    items, _ = parse(_export(tmp_path, [_message(text="[[[" * 30_000 + '{"\\"[[[')]))
    assert items[1].text == "[[[" * 30_000 + '{"\\"[[['


def test_a_string_longer_than_a_megabyte_is_refused(tmp_path):
    path = _export(tmp_path, [_message(text="x" * 3_000_000)])
    with pytest.raises(ParseError, match="a string longer than 1,048,576 bytes"):
        parse(path)


def test_lone_surrogates_are_replaced_and_said(tmp_path):
    raw = json.dumps({"name": "H", "type": "public_channel", "id": 1, "messages": [_message()]})
    raw = raw.replace('"text": "x"', r'"text": "a\ud800 b\udc00 \ud83d\ude00 \\ud800"')
    items, warnings = parse(_export(tmp_path, [], raw=raw.encode()))
    assert items[1].text == "a\ufffd b\ufffd 😀 \\ud800"
    assert warnings == [
        "2 lone surrogate escape(s) (half of a \\uD800-\\uDFFF pair: not text) replaced with U+FFFD"
    ]


def test_bytes_that_are_not_utf8_are_one_error(tmp_path):
    raw = json.dumps({"name": "H", "type": "public_channel", "id": 1, "messages": [_message()]})
    path = _export(tmp_path, [], raw=raw.encode().replace(b'"x"', b'"\xff\xfe"'))
    with pytest.raises(ParseError) as caught:
        parse(path)
    assert str(caught.value) == (
        f"{path}: malformed JSON: lexical error: invalid bytes in UTF8 string."
        " (within the 137 bytes read)"
    )


# -- values that cannot be: a named error or a warning, never stored in silence ------------


def _changed(tmp_path, change) -> object:
    export = json.loads(EXPORT.read_text(encoding="utf-8"))
    change(export)
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    return path


def _message_500(export: dict) -> dict:
    return next(message for message in export["messages"] if message["id"] == 500)


@pytest.mark.parametrize("kind", [0, 1, 2])  # an emoji, a custom emoji, a paid reaction
def test_a_negative_reaction_count_is_a_named_error(tmp_path, kind):
    def change(export):
        _message_500(export)["reactions"][kind]["count"] = -5

    with pytest.raises(ParseError) as caught:
        parse(_changed(tmp_path, change))
    assert str(caught.value) == (
        f"{tmp_path / 'result.json'}: message 500: a reaction: field 'count' should be 0 or"
        " more, got -5"
    )


@pytest.mark.parametrize(
    ("messages", "kind"), [({"a": 1}, "an object"), ("none", "a string"), (None, "null")]
)
def test_messages_that_are_not_a_list_are_an_error_not_zero_posts(tmp_path, messages, kind):
    def change(export):
        export["messages"] = messages

    path = _changed(tmp_path, change)
    with pytest.raises(ParseError) as caught:
        parse(path)
    assert str(caught.value) == f"{path}: field 'messages' should be a list, got {kind}"


def test_messages_of_an_account_chat_that_are_not_a_list_name_the_chat(tmp_path):
    export = json.loads(EXPORT.read_text(encoding="utf-8"))
    chat = {key: export[key] for key in ("name", "type", "id")} | {"messages": {"a": 1}}
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"about": "x", "chats": {"list": [chat]}}), encoding="utf-8")
    with pytest.raises(ParseError) as caught:
        parse(path)
    assert str(caught.value) == (
        f"{path}: chat {TITLE!r}: field 'messages' should be a list, got an object"
    )


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"date_unixtime": "99999999999999"}, "'99999999999999'"),
        ({"date_unixtime": "soon"}, "'soon'"),
        ({"date": "9999-99-99T00:00:00"}, "'9999-99-99T00:00:00'"),
    ],
)
def test_an_impossible_date_is_left_out_with_a_warning(tmp_path, fields, shown):
    def change(export):
        message = _message_500(export)
        if "date" in fields:
            del message["date_unixtime"]
        message.update(fields)

    items, warnings = parse(_changed(tmp_path, change), timezone="UTC")
    post = next(item for item in items if getattr(item, "id", None) == 500)
    assert post.date is None
    assert f"rusembchina/500: an impossible date: {shown}" in warnings
