from __future__ import annotations

import pytest

from tgscope.archive import Archive
from tgscope.errors import ParseError, SourceError
from tgscope.sources.desktop_html import parse_export_page

from .conftest import FIXTURES, SAMPLES
from .helpers import EMBASSY_TITLE, embassy_record

PAGE = FIXTURES / "desktop" / "messages.html"
TITLE = EMBASSY_TITLE
record = embassy_record


def test_an_export_page_gives_exact_records():
    warnings: list[str] = []
    channel, *posts = parse_export_page(
        PAGE.read_text(encoding="utf-8"), channel="rusembchina", warn=warnings.append
    )
    assert (channel.username, channel.title, warnings) == ("rusembchina", TITLE, [])
    assert [post.to_dict() for post in posts] == [
        record(1, service=f"Channel «{TITLE}» created"),
        record(
            500,
            date="2022-11-15T09:12:00+00:00",  # "12:12:00 UTC+03:00"
            text="🇷🇺 Sergey Lavrov met #RussiaChina partners.\nRead in full · @MFARussia secret",
            entities=[
                {"type": "bold", "offset": 3, "length": 13},
                {"type": "hashtag", "offset": 21, "length": 12},
                {"type": "text_link", "offset": 44, "length": 12, "url": "https://mid.ru/en/1"},
                {"type": "mention", "offset": 59, "length": 10},
                {"type": "spoiler", "offset": 70, "length": 6},
            ],
            reactions=[{"emoji": "👍", "count": 1200}, {"paid": True, "count": 15}],
            forwarded_from={"title": "Russian MFA 🇷🇺", "channel": None, "id": None},
            media=[{"type": "photo", "url": "photos/photo_1@15-11-2022_12-12-00.jpg"}],
            hashtags=["RussiaChina"],
            mentions=["mfarussia"],
            links=["https://mid.ru/en/1"],
            author="Press Office",  # the signature; the sender is the channel itself
        ),
        record(
            502,
            date="2022-11-16T08:00:00+00:00",
            text="Заявление посольства",
            reply_to={"channel": "rusembchina", "id": 500},
            media=[
                {
                    "type": "document",
                    "url": None,
                    "reason": "file not included in the export",
                    "size": 2202010,
                    "file_name": "statement.pdf",
                }
            ],
            buttons=[{"text": "Read", "url": "https://mid.ru/en/2"}],
        ),
        record(
            504,
            date="2022-11-18T10:00:00+00:00",
            media=[
                {
                    "type": "poll",
                    "poll": {
                        "question": "Will you come?",
                        "kind": "Anonymous poll",
                        "options": [{"text": "Yes", "voters": 7}, {"text": "No", "voters": 3}],
                    },
                }
            ],
            via_bot="postbot",
        ),
    ]


def test_the_channel_must_be_named_or_known(db_path):
    with Archive.open(db_path) as archive:
        with pytest.raises(SourceError, match=r"messages\.html: the export does not give"):
            archive.import_file(PAGE)
        archive.import_file(SAMPLES / "rusembchina_page.html")  # the web preview names it
        report = archive.import_file(PAGE)
        post = archive.get("rusembchina/500")
    assert (report.format, report.added, report.updated) == ("desktop-html", 2, 2)
    assert post.views == 12300 and post.entities[-1]["type"] == "spoiler"


def test_markup_nested_too_deep_is_one_error_naming_the_message():
    page = PAGE.read_text(encoding="utf-8")
    at = page.index('<div class="text">') + len('<div class="text">')
    deep = page[:at] + "<strong>" * 300 + page[at:]
    with pytest.raises(ParseError, match=r"^<input>: message500: text nested deeper than 256"):
        list(parse_export_page(deep, channel="rusembchina"))
    deeper = page[:at] + "<div>" * 5000 + page[at:]
    with pytest.raises(ParseError, match=r"^<input>: HTML nested deeper than 256 levels$"):
        list(parse_export_page(deeper, channel="rusembchina"))


def test_an_id_beyond_64_bits_is_no_id():
    big = "9" * 30
    page = PAGE.read_text(encoding="utf-8").replace('id="message502"', f'id="message{big}"')
    warnings: list[str] = []
    _, *posts = parse_export_page(page, channel="rusembchina", warn=warnings.append)
    assert 502 not in [post.id for post in posts]
    block = f'<div class="message default clearfix joined" id="message{big[:24]}'
    assert warnings == [f"a message block without an id: {block!r}"]


def test_an_export_page_larger_than_any_page_is_refused_before_parsing(db_path, tmp_path):
    page = tmp_path / "messages.html"
    lines = "\n".join(["слово " * 100] * 16_000)  # 17.6 MB in one message
    page.write_text(PAGE.read_text(encoding="utf-8").replace("Lavrov", lines, 1), "utf-8")
    with Archive.open(db_path) as archive, pytest.raises(ParseError) as caught:
        archive.import_file(page, channel="rusembchina")
    assert str(caught.value) == (
        f"{page}: HTML page larger than 16 MB (a page of posts is a few MB)"
    )


def test_the_channel_missing_is_said_without_a_command_line_flag(db_path):
    with Archive.open(db_path) as archive, pytest.raises(SourceError) as caught:
        archive.import_file(PAGE)
    assert str(caught.value).endswith(": name the channel") and "--" not in str(caught.value)
