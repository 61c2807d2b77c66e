"""Real Telegram material captured by others (../shared/corpus): skipped when it is absent."""

from __future__ import annotations

from collections import Counter

import pytest

from tgscope.archive import Archive
from tgscope.sources.web import parse_page

from .conftest import SHARED

CORPUS = SHARED / "corpus"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "SOURCES.md")
WEB = [p for p in FILES if p.parts[-3] == "tme_html"]
needs_corpus = pytest.mark.skipif(not FILES, reason="../shared/corpus is absent")

#: posts each saved page yields: a page that silently yields nothing fails.  The zeros are
#: the bare fragments (a link preview, a media block, a poll) and the channel-header and
#: "No posts found" pages (SOURCES.md)
POSTS_PER_PAGE = {
    "anonymized_with_reactions/telegram-test-channel.html": 3,
    "tchantest_snippets/test_channel_info__html.html": 0,
    "tchantest_snippets/test_parse_audio_document__html.html": 1,
    "tchantest_snippets/test_parse_audio_message__html.html": 1,
    "tchantest_snippets/test_parse_emoji_message__html.html": 1,
    "tchantest_snippets/test_parse_forwarded_text_message__html.html": 1,
    "tchantest_snippets/test_parse_location_message_2__html.html": 1,
    "tchantest_snippets/test_parse_location_message_3__html.html": 1,
    "tchantest_snippets/test_parse_location_message__html.html": 1,
    "tchantest_snippets/test_parse_message_weird_preview__html.html": 1,
    "tchantest_snippets/test_parse_multimedia_message__html.html": 1,
    "tchantest_snippets/test_parse_no_posts_found__html.html": 0,
    "tchantest_snippets/test_parse_photo_multiple__html.html": 1,
    "tchantest_snippets/test_parse_photo_single__html.html": 1,
    "tchantest_snippets/test_parse_poll__html.html": 1,
    "tchantest_snippets/test_parse_round_video_single__html.html": 1,
    "tchantest_snippets/test_parse_service_message_channel_created__html.html": 1,
    "tchantest_snippets/test_parse_service_message_channel_name_changed__html.html": 1,
    "tchantest_snippets/test_parse_service_message_channel_photo_updated__html.html": 1,
    "tchantest_snippets/test_parse_service_message_channel_video_changed__html.html": 1,
    "tchantest_snippets/test_parse_service_message_pinned__html.html": 1,
    "tchantest_snippets/test_parse_signed_edited_text_message__html.html": 1,
    "tchantest_snippets/test_parse_sticker_message__html.html": 1,
    "tchantest_snippets/test_parse_text_message_link_no_preview__html.html": 1,
    "tchantest_snippets/test_parse_text_message_link_with_regular_preview__html.html": 1,
    "tchantest_snippets/test_parse_text_message_link_with_right_preview__html.html": 1,
    "tchantest_snippets/test_parse_text_message_multiline__html.html": 1,
    "tchantest_snippets/test_parse_text_message_signed_not_edited__html.html": 1,
    "tchantest_snippets/test_parse_text_reply_to_video__html.html": 1,
    "tchantest_snippets/test_parse_unsigned_text_message__html.html": 1,
    "tchantest_snippets/test_parse_video_big__html.html": 1,
    "tchantest_snippets/test_parse_video_single_2__html.html": 1,
    "tchantest_snippets/test_parse_video_single__html.html": 1,
    "topwar_and_milbloggers/full.html": 12,
    "topwar_and_milbloggers/link_preview.html": 0,
    "topwar_and_milbloggers/link_preview_video.html": 0,
    "topwar_and_milbloggers/media_cicrle_video.html": 0,
    "topwar_and_milbloggers/media_photo.html": 0,
    "topwar_and_milbloggers/media_video.html": 0,
    "topwar_and_milbloggers/media_video_gif.html": 0,
    "topwar_and_milbloggers/media_video_too_big.html": 0,
    "topwar_and_milbloggers/message_link_preview.html": 1,
    "topwar_and_milbloggers/message_link_preview_text_only.html": 1,
    "topwar_and_milbloggers/message_link_preview_video.html": 1,
    "topwar_and_milbloggers/message_media_file.html": 1,
    "topwar_and_milbloggers/message_media_forwarded_from.html": 1,
    "topwar_and_milbloggers/message_media_photo_and_video.html": 1,
    "topwar_and_milbloggers/message_media_round_video.html": 1,
    "topwar_and_milbloggers/message_poll.html": 1,
    "topwar_and_milbloggers/message_sticker.html": 1,
    "topwar_and_milbloggers/message_text.html": 1,
    "topwar_and_milbloggers/message_voice.html": 1,
    "topwar_and_milbloggers/message_with_from_author.html": 1,
    "topwar_and_milbloggers/poll.html": 0,
}


def page(name: str):
    path = CORPUS / "tme_html" / name
    return parse_page(path.read_text(encoding="utf-8"), f"https://t.me/s/{path.stem}")


@needs_corpus
@pytest.mark.parametrize("path", WEB, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_saved_page_parses_and_imports(path, db_path):
    parsed = parse_page(path.read_text(encoding="utf-8"), "")
    assert len(parsed.posts) == POSTS_PER_PAGE[str(path.relative_to(CORPUS / "tme_html"))]
    assert parsed.warnings == []  # every part of every real page is understood
    with Archive.open(db_path) as archive:
        report = archive.import_file(path)
    assert report.added == len(parsed.posts)
    for post in parsed.posts:
        assert post.key == f"{post.channel}/{post.id}"
        assert post.date is None or post.date.endswith("+00:00")


@needs_corpus
def test_every_saved_page_has_its_count_of_posts():
    assert sorted(str(path.relative_to(CORPUS / "tme_html")) for path in WEB) == sorted(
        POSTS_PER_PAGE
    )


@needs_corpus
def test_desktop_json_export_of_a_channel(db_path):
    export = CORPUS / "desktop_export/help_ukrainians_germany/result.json"
    with Archive.open(db_path) as archive:
        report = archive.import_file(export, channel="help_ua_germany")
        again = archive.import_file(export, channel="help_ua_germany")
        posts = {post.id: post for post in archive.posts()}
    assert (report.added, again.unchanged, report.warnings) == (
        72,
        72,
        [
            "dates carry no time zone (an older export): read as UTC; give the time zone where"
            " it was exported to read them as local time"
        ],
    )
    assert [number for number, post in posts.items() if post.service] == [1, 2]
    assert [posts[1].service, posts[2].service] == [
        "Channel created (Help for Ukrainians in Germany)",
        "Channel photo updated",
    ]
    assert sum(post.edited for post in posts.values()) == 70
    assert sum(post.author is not None for post in posts.values()) == 23
    assert {n: p.forwarded_from["title"] for n, p in posts.items() if p.forwarded_from} == {
        56: "Jen",
        75: "Aida",
    }
    assert posts[63].reply_to == {"channel": "help_ua_germany", "id": 62}
    assert (posts[63].author, posts[63].date) == ("Andrii Boiko", "2022-03-03T02:42:47+00:00")
    assert posts[3].text.startswith("Friends! A tax consultant will also join us")
    lighthouse = posts[75]
    assert [
        lighthouse.text[e["offset"] : e["offset"] + e["length"]] for e in lighthouse.entities[:3]
    ] == ["Для кого?", lighthouse.text[162:253], "тут"]
    assert lighthouse.entities[2]["url"] == (
        "https://www.eventbrite.com/e/leuchtturm-ukraine-beacon-of-ukraine-registrierung-308477403217"
    )
    kinds = Counter(e["type"] for post in posts.values() for e in post.entities)
    assert kinds == {
        "url": 61,
        "bold": 14,
        "hashtag": 6,
        "text_link": 5,
        "phone": 2,
        "email": 1,
        "mention": 1,
    }
    media = [m for post in posts.values() for m in post.media]
    assert Counter(m["type"] for m in media) == {"photo": 8, "document": 4}
    assert all(m["reason"] == "file not included in the export" for m in media)


@needs_corpus
def test_desktop_html_export_of_a_group(db_path):
    export = CORPUS / "desktop_export/html_export_small_group/messages.html"
    with Archive.open(db_path) as archive:
        report = archive.import_file(export, channel="test_group")
        posts = sorted((post.to_dict() for post in archive.posts()), key=lambda p: p["id"])
    assert (report.format, report.added) == ("desktop-html", 4)
    assert [(p["id"], p["date"], p["author"], p["text"] or p["service"]) for p in posts] == [
        (
            245234,
            None,
            None,
            "Lasse Peters created group «Test» with members Lasse Peters and Info",
        ),
        (245235, "2020-06-04T14:16:12+00:00", "Lasse Peters", "First message in this chat."),
        (245236, "2020-06-04T14:16:23+00:00", "Lasse Peters", "Another Message in this chat."),
        (245237, "2020-06-04T14:16:47+00:00", "Lasse Peters", "Last message! 🎉"),
    ]


@needs_corpus
def test_topwar_full_page():
    parsed = page("topwar_and_milbloggers/full.html")
    assert parsed.channel.username == "topwar_official"
    assert parsed.channel.title == "Военное обозрение"
    assert parsed.channel.avatar.startswith("https://cdn4.telegram-cdn.org/file/rdlhZu1d4HGvG3")
    assert parsed.channel.counters == {
        "subscribers": 109000,
        "photos": 19600,
        "videos": 15400,
        "files": 8,
        "links": 28600,
    }
    assert [p.id for p in parsed.posts] == [
        70989,
        70990,
        70992,
        70995,
        70996,
        70997,
        70998,
        70999,
        71000,
        71006,
        71007,
        71008,
    ]
    assert {p.date[:10] for p in parsed.posts} == {"2023-02-28"}
    assert parsed.posts[0].views == 37200
    assert [p.forwarded_from for p in parsed.posts if p.forwarded_from] == [
        {"title": "Военкор Ярем", "channel": "yaremshooter", "id": 1066},
        {"title": "БелВПО", "channel": "belarus_vpo", "id": 34301},
        {"title": "Старше Эдды", "channel": "vysokygovorit", "id": 10899},
        {"title": "Пул N3", "channel": "dimsmirnov175", "id": 44655},
        {"title": "ImpNavigator", "channel": "impnavigator", "id": 4580},
    ]
    kinds = Counter(m["type"] for p in parsed.posts for m in p.media)
    assert kinds == {"photo": 10, "video": 4}
    assert [
        m.get("unsupported", False) for p in parsed.posts for m in p.media if m["type"] == "video"
    ] == [False, True, True, False]
    assert [p.link_preview["site_name"] for p in parsed.posts if p.link_preview] == ["Telegram"]
    assert parsed.before == 70989


@needs_corpus
def test_page_with_reactions():
    parsed = page("anonymized_with_reactions/telegram-test-channel.html")
    assert parsed.channel.avatar == "https://cdn4.telesco.pe/file/test-avatar.jpg"
    first, stub, forwarded = parsed.posts
    assert first.text.startswith("This is a test message with multiple photos.")
    assert first.text.endswith("traffic situations.\n\nTelegram | Admin")
    assert (first.views, first.date, first.album_id) == (
        2500,
        "2026-01-31T08:35:56+00:00",
        "test_channel/1001",
    )
    assert first.reactions == [{"emoji": "👍", "count": 10}, {"emoji": "❤", "count": 3}]
    assert [m["url"] for m in first.media] == [
        "https://cdn4.telesco.pe/file/test-photo-1.jpg",
        "https://cdn4.telesco.pe/file/test-photo-2.jpg",
    ]
    assert (stub.text, stub.media) == (
        "",
        [
            {
                "type": "unsupported",
                "unsupported": True,
                "reason": "Please open Telegram to view this post",
            }
        ],
    )
    assert forwarded.forwarded_from == {
        "title": "Another Channel",
        "channel": "another_channel",
        "id": 500,
    }
    assert forwarded.reactions == [
        {"emoji": "🙏", "count": 25},
        {"emoji": "❤", "count": 7},
        {"emoji": "👍", "count": 3},
    ]


@needs_corpus
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "test_parse_forwarded_text_message",
            {
                "id": 89,
                "text": ";)",
                "views": 2,
                "forwarded_from": {"title": "Some user", "channel": "some_user", "id": None},
            },
        ),
        (
            "test_parse_text_reply_to_video",
            {
                "id": 20,
                "reply_to": {"channel": "tchantest", "id": 19},
                "text": "Reply to a video (not recorded in telegram)",
            },
        ),
        (
            "test_parse_signed_edited_text_message",
            {
                "id": 5,
                "author": "Álvaro Justen",
                "edited": True,
                "text": "Hello! Signed and edited message",
            },
        ),
        (
            "test_parse_text_message_multiline",
            {"id": 62, "text": "Bigger\ntext\nmessage\nnumber\n34"},
        ),
        ("test_parse_emoji_message", {"id": 7, "text": "👍"}),
        (
            "test_parse_service_message_pinned",
            {"id": 92, "service": "tchan's test channel 👍 pinned «Going to pin this message»"},
        ),
        (
            "test_parse_video_big",
            {
                "id": 5343,
                "views": 436600,
                "media": [
                    {
                        "type": "video",
                        "url": None,
                        "duration": 52,
                        "thumb": (
                            "https://cdn1.telegram-cdn.org/file/HyfobRUDoAxInyfbDVXk1q13pW97NtZN0TYuraxfsJLPp"
                            "s5R14DRXfT1DN2qZkAg4UIpu4RE0frU5LJLK3Y9oWyDgw3Y-Jg92EghLSe0Wmb6dMqCFwoz2CISl_hAe"
                            "NgDksSQ5i_feURS-NzwXJRHeHwqz1funqsyNkdC5irHPSglylhsf3ZdEZMA4b1XqYrU3Zz4IgT3pLz0H"
                            "cPSHcxHSyRAGjmb6vFbUYr-qThcvTD7HGXdb6gVRhV3bQyzo8xS9d2Vxho2j735Rxnr5qaprcef883AE"
                            "uYuDSD31Anok_s6cvOz0jurCG8jbtonkSN9omsub5oyLrvT0H2ZQ4Gx3g"
                        ),
                        "unsupported": True,
                        "reason": "too_big",
                    }
                ],
            },
        ),
        (
            "test_parse_location_message",
            {
                "id": 10,
                "media": [
                    {
                        "type": "location",
                        "url": "https://maps.google.com/maps?q=-23.930587176407,-44.086305367818&ll=-23.930587176407,-44.086305367818&z=16",
                    }
                ],
            },
        ),
        (
            "test_parse_audio_document",
            {
                "id": 12,
                "text": "Povo hebreu",
                "media": [
                    {
                        "type": "audio",
                        "file_name": "AUD-20130329-WA0000",
                        "performer": "portadosfundos",
                    }
                ],
            },
        ),
    ],
)
def test_tchan_snippets(name, expected):
    (post,) = page(f"tchantest_snippets/{name}__html.html").posts
    record = post.to_dict()
    assert {field: record[field] for field in expected} == expected


@needs_corpus
def test_poll_snippet():
    (post,) = page("tchantest_snippets/test_parse_poll__html.html").posts
    assert post.media == [
        {
            "type": "poll",
            "poll": {
                "question": "Let's do a quick poll quizz mode",
                "kind": "Anonymous Quiz",
                "options": [
                    {"text": "Opt1", "percent": 0},
                    {"text": "Opt2", "percent": 0},
                    {"text": "Opt3", "percent": 0},
                ],
            },
        }
    ]
