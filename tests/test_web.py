from __future__ import annotations

import pytest

from tgscope.archive import Archive
from tgscope.errors import ParseError
from tgscope.record import Channel, Post
from tgscope.sources.web import parse_page, read_saved_page

from .conftest import SAMPLES
from .helpers import EMBASSY_TITLE, embassy_record

PAGE = SAMPLES / "rusembchina_page.html"
TITLE = EMBASSY_TITLE


def record(key: str, **fields) -> dict:
    return embassy_record(int(key.partition("/")[2]), **fields)


def test_fixture_page_gives_exact_records():
    page = parse_page(PAGE.read_text(encoding="utf-8"), "https://t.me/s/rusembchina")
    assert page.channel == Channel(
        username="rusembchina",
        title=TITLE,
        description="Official channel.\nНовости посольства.",
        verified=True,
        counters={"subscribers": 53500, "photos": 16700},
        avatar="https://cdn.example/avatar.jpg",
    )
    assert (page.before, page.after) == (500, None)
    assert page.warnings == [
        "rusembchina/502: unknown part of a message: 'tgme_widget_message_new_gadget'"
    ]
    assert [post.to_dict() for post in page.posts] == [
        record(
            "rusembchina/500",
            date="2022-11-15T09:12:00+00:00",
            text="🇷🇺 Sergey Lavrov met #RussiaChina partners.\nRead in full · @MFARussia",
            entities=[
                {"type": "bold", "offset": 3, "length": 13},
                {"type": "hashtag", "offset": 21, "length": 12},
                {"type": "text_link", "offset": 44, "length": 12, "url": "https://mid.ru/en/1"},
                {"type": "mention", "offset": 59, "length": 10},
            ],
            views=12300,
            reactions=[
                {"emoji": "👍", "count": 1200},
                {"custom_emoji_id": "5368324170671202286", "count": 7},
                {"paid": True, "count": 15},
            ],
            forwarded_from={"title": "Russian MFA 🇷🇺", "channel": "mfarussia", "id": 16384},
            hashtags=["RussiaChina"],
            mentions=["mfarussia"],
            links=["https://mid.ru/en/1"],
            edited=True,
        ),
        record(
            "rusembchina/502",
            date="2022-11-16T08:00:00+00:00",
            text="Заявление посольства",
            views=937,
            forwarded_from={"title": "Hidden Reader", "channel": None, "id": None},
            reply_to={"channel": "rusembchina", "id": 500},
            media=[{"type": "document", "file_name": "statement.pdf", "size": 2202010}],
            author="Press Office",
        ),
        record(
            "rusembchina/503",
            date="2022-11-17T09:30:00+00:00",
            views=1_000_000,
            media=[
                {"type": "photo", "url": "https://cdn.example/p1.jpg"},
                {"type": "photo", "url": "https://cdn.example/p2.jpg"},
                {"type": "video", "url": "https://cdn.example/v.mp4", "duration": 95},
            ],
            link_preview={
                "url": "https://mid.ru/en/2",
                "site_name": "mid.ru",
                "title": "Statement",
                "description": "Full text of the statement",
            },
            album_id="rusembchina/503",
        ),
        record(
            "rusembchina/506",
            date="2022-11-18T10:00:00+00:00",
            views=5,
            media=[
                {
                    "type": "unsupported",
                    "unsupported": True,
                    "reason": "This media is not supported in your browser",
                }
            ],
        ),
    ]


def test_a_page_that_is_not_a_channel_preview_has_no_posts():
    page = parse_page("<html><body><p>Hello</p></body></html>", "https://example.org/")
    assert (page.channel, page.posts, page.before, page.after) == (None, [], None, None)


def test_saved_pages_import_like_any_file_and_merge_by_id(db_path, tmp_path):
    saved = tmp_path / "rusembchina.html"
    saved.write_text(PAGE.read_text(encoding="utf-8"), encoding="utf-8")
    with Archive.open(db_path) as archive:
        first = archive.import_paths([saved])
        again = archive.import_paths([saved])
        post = archive.get("rusembchina/500")
        found = archive.search("Лавров OR Lavrov", channel="rusembchina")
    assert (first.files[0].format, first.total("added"), again.total("unchanged")) == ("web", 4, 4)
    assert first.files[0].warnings == [
        "rusembchina/502: unknown part of a message: 'tgme_widget_message_new_gadget'"
    ]
    assert post.views == 12300 and post.forwarded_from["id"] == 16384
    assert [r.post.key for r in found.results] == ["rusembchina/500"]


def test_album_items_count_as_shown():
    page = parse_page(PAGE.read_text(encoding="utf-8"), "https://t.me/s/rusembchina")
    assert page.shown == {500, 502, 503, 504, 505, 506}


def one_post(bubble: str) -> Post:
    """The post of a one-message page whose bubble holds ``bubble``."""
    html = (
        '<div class="tgme_widget_message js-widget_message" data-post="chan/7">'
        f'<div class="tgme_widget_message_bubble">{bubble}</div></div>'
    )
    page = parse_page(html, "")
    assert page.warnings == []
    return page.posts[0]


def test_sticker_kinds_keep_their_file():
    still = one_post(
        '<div class="tgme_widget_message_sticker_wrap"><a href="https://t.me/chan/7">'
        '<i class="tgme_widget_message_sticker" data-webp="https://cdn.example/s.webp?t=1"'
        " style=\"background-image:url('https://cdn.example/s.webp?t=1')\"></i></a></div>"
    )
    animated = one_post(
        '<div class="tgme_widget_message_sticker_wrap media_supported_cont">'
        '<div class="tgme_widget_message_tgsticker_wrap">'
        '<picture class="tgme_widget_message_tgsticker"><div style="padding-top:100%"></div>'
        '<source type="application/x-tgsticker" srcset="https://cdn.example/a.tgs?token=x">'
        '<source type="image/svg+xml" srcset="data:image/svg+xml;base64,PHN2Zz4=">'
        "<canvas></canvas></picture></div></div>"
    )
    video = one_post(
        '<div class="tgme_widget_message_sticker_wrap">'
        '<div class="tgme_widget_message_videosticker_wrap">'
        '<video class="tgme_widget_message_videosticker" src="https://cdn.example/v.webm"'
        " autoplay loop muted></video></div></div>"
    )
    assert [still.media, animated.media, video.media] == [
        [{"type": "sticker", "url": "https://cdn.example/s.webp?t=1", "mime_type": "image/webp"}],
        [
            {
                "type": "sticker",
                "url": "https://cdn.example/a.tgs?token=x",
                "mime_type": "application/x-tgsticker",
            }
        ],
        [{"type": "sticker", "url": "https://cdn.example/v.webm", "mime_type": "video/webm"}],
    ]


def test_an_emoji_image_stays_next_to_the_word_after_it():
    post = one_post(
        '<div class="tgme_widget_message_forwarded_from">Forwarded from '
        '<a class="tgme_widget_message_forwarded_from_name" href="https://t.me/mfa/1">'
        '<span dir="auto"><i class="emoji"><b>🇷🇺</b></i>MFA Russia</span></a></div>'
        '<div class="tgme_widget_message_text"><i class="emoji"><b>🔥</b></i>News</div>'
    )
    assert post.forwarded_from == {"title": "🇷🇺MFA Russia", "channel": "mfa", "id": 1}
    assert post.text == "🔥News"


def test_via_bot_and_inline_buttons():
    post = one_post(
        '<a class="tgme_widget_message_reply" href="https://t.me/chan/6">'
        '<span class="tgme_widget_message_via_bot">@OtherBot</span></a>'
        '<div class="tgme_widget_message_author accent_color">'
        '<a class="tgme_widget_message_owner_name" href="https://t.me/chan"><span>Chan</span></a>'
        '&nbsp;via&nbsp;<a class="tgme_widget_message_via_bot" href="https://t.me/PostBot">'
        "@PostBot</a></div>"
        '<div class="tgme_widget_message_text">Vote</div>'
        '<div class="tgme_widget_message_inline_keyboard">'
        '<div class="tgme_widget_message_inline_row">'
        '<a class="tgme_widget_message_inline_button url_button" href="https://mid.ru/x">'
        '<span class="tgme_widget_message_inline_button_text">Read <i class="emoji"><b>📄</b></i>'
        "</span></a>"
        '<div class="tgme_widget_message_inline_button"><span>👍 12</span></div></div></div>'
    )
    assert (post.via_bot, post.reply_to) == ("postbot", {"channel": "chan", "id": 6})
    assert post.buttons == [
        {"text": "Read 📄", "url": "https://mid.ru/x"},
        {"text": "👍 12", "url": None},
    ]


def test_only_what_is_inside_a_message_belongs_to_it():
    html = (
        '<div class="tgme_widget_message" data-post="chan/7">'
        '<div class="tgme_widget_message_bubble">'
        '<span class="tgme_widget_message_views">5</span></div></div>'
        '<div class="tgme_widget_message js-widget_message">'
        '<div class="tgme_widget_message_text">Other text</div>'
        '<a class="tgme_widget_message_photo_wrap" style="background-image:url(\'x.jpg\')"></a>'
        "</div>"
        '<div class="tgme_widget_message_inline_button">Stray</div>'
        '<div class="tgme_channel_info"><div class="tgme_channel_info_header_title">Chan</div>'
        '<div class="tgme_channel_info_header_username">@chan</div></div>'
    )
    page = parse_page(html, "")
    (post,) = page.posts
    assert (post.text, post.media, post.buttons, post.views) == ("", [], [], 5)
    assert (page.channel.username, page.channel.title) == ("chan", "Chan")


def _message(
    number: int, bubble: str, classes: str = "tgme_widget_message", *, footer: str = ""
) -> str:
    return (
        f'<div class="tgme_widget_message_wrap"><div class="{classes}" data-post="tchan/{number}">'
        f'<div class="tgme_widget_message_bubble">{bubble}'
        f'<div class="tgme_widget_message_footer">{footer}<span class="tgme_widget_message_meta">'
        f'<a class="tgme_widget_message_date" href="https://t.me/tchan/{number}">'
        '<time datetime="2023-02-24T12:20:19+00:00">12:20</time></a></span></div>'
        "</div></div></div>"
    )


def test_a_pinned_message_keeps_its_text_when_the_bubble_holds_it():
    # some pages write the service text straight into the bubble, with no text block
    html = _message(
        92,
        '<div class="tgme_widget_message_author"><a class="tgme_widget_message_owner_name"'
        ' href="https://t.me/tchan"><span>Tchan</span></a></div>\n'
        '<a class="tgme_widget_message_author_name" href="https://t.me/tchan">'
        "<span>Tchan</span></a> pinned «"
        '<span class="tgme_widget_service_strong_text" dir="auto">Going <b>to</b> pin</span>»\n',
        "tgme_widget_message text_not_supported_wrap service_message",
    )
    page = parse_page(html, "https://t.me/s/tchan")
    assert page.warnings == []
    (post,) = page.posts
    assert (post.text, post.service) == (
        "Tchan pinned «Going to pin»",
        "Tchan pinned «Going to pin»",
    )
    assert post.entities == [
        {"type": "text_link", "offset": 0, "length": 5, "url": "https://t.me/tchan"},
        {"type": "bold", "offset": 20, "length": 2},
    ]


def test_the_deleted_post_placeholder_is_not_archived():
    html = _message(5, '<div class="tgme_widget_message_text">Still here</div>') + _message(
        6, '<div class="tgme_widget_message_error">Post not found</div>'
    )
    page = parse_page(html, "https://t.me/s/tchan")
    assert ([post.key for post in page.posts], page.shown, page.warnings) == (["tchan/5"], {5}, [])


def test_numbers_beyond_64_bits_are_not_ids_or_counts():
    text = '<div class="tgme_widget_message_text">x</div>'
    views = f'<span class="tgme_widget_message_views">{"9" * 30}</span>'
    reply = f'<a class="tgme_widget_message_reply" href="https://t.me/tchan/{"9" * 30}">r</a>'
    html = (
        _message(7, reply + text, footer=views)
        + _message(8, text).replace('data-post="tchan/8"', f'data-post="tchan/{"9" * 30}"')
        + _message(9, text).replace('data-post="tchan/9"', 'data-post="tchan/²"')
    )
    page = parse_page(html, "https://t.me/s/tchan")
    (post,) = page.posts
    assert (post.key, post.views, post.reply_to) == ("tchan/7", None, None)
    assert page.warnings == [
        f"message without a usable data-post: 'tchan/{'9' * 30}'",
        "message without a usable data-post: 'tchan/²'",
    ]


def test_markup_nested_too_deep_is_one_error_naming_the_page_and_post():
    deep = '<div class="tgme_widget_message_text">' + "<b>" * 300 + "x</div>"
    with pytest.raises(ParseError) as caught:
        parse_page(_message(3, deep), "https://t.me/s/tchan")
    assert str(caught.value) == "https://t.me/s/tchan: tchan/3: text nested deeper than 256 levels"
    many = "<div>" * 5000
    with pytest.raises(ParseError) as caught:
        parse_page(_message(3, many), "https://t.me/s/tchan")
    assert str(caught.value) == "https://t.me/s/tchan: HTML nested deeper than 256 levels"


def test_a_saved_page_too_deep_names_its_file(tmp_path):
    page = tmp_path / "deep.html"
    page.write_text(_message(3, "<span>" * 5000), encoding="utf-8")
    with pytest.raises(ParseError, match=r"deep\.html: HTML nested deeper than 256 levels"):
        list(read_saved_page([page.read_text(encoding="utf-8")], path=str(page)))


def test_a_saved_page_larger_than_any_page_is_refused_before_parsing(db_path, tmp_path):
    page = tmp_path / "huge.html"
    sample = (SAMPLES / "rusembchina_page.html").read_text(encoding="utf-8")
    lines = "\n".join(["слово " * 100] * 16_000)  # 17.6 MB in one post, in short lines
    page.write_text(sample.replace("Sergey Lavrov", lines, 1), encoding="utf-8")
    with Archive.open(db_path) as archive, pytest.raises(ParseError) as caught:
        archive.import_file(page)
    assert str(caught.value) == (
        f"{page}: HTML page larger than 16 MB (a page of posts is a few MB)"
    )
