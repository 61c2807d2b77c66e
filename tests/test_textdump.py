from __future__ import annotations

import pytest

from tgscope.record import Channel, Post
from tgscope.sources.textdump import looks_like_textdump, parse_reactions_line, parse_textdump

from .conftest import SHARED
from .expected_seed import SEED_TEXTS

MFA = {"title": "Russian MFA 🇷🇺", "channel": None, "id": None}


def parse(text: str, **options) -> list[Post | Channel]:
    return list(parse_textdump(text.splitlines(keepends=True), **options))


def posts_of(text: str, **options) -> list[Post]:
    return [item for item in parse(text, **options) if isinstance(item, Post)]


def record(key: str, text: str, **fields) -> dict:
    base = Post(key=key, text=text).to_dict()
    base.update(fields)
    return base


def test_seed_gives_exactly_five_posts(seed_path):
    with seed_path.open(encoding="utf-8") as lines:
        items = list(parse_textdump(lines, channel="china_embassy"))
    assert [item.to_dict() for item in items] == [
        record(
            "china_embassy/dump-3900b635c26c2a27",
            SEED_TEXTS[0],
            channel="china_embassy",
            forwarded_from=MFA,
            reactions=[{"emoji": "👍", "count": 16}, {"emoji": "❤", "count": 3}],
            hashtags=["RussiaChina", "UNGA77", "PhotoOfTheDay"],
        ),
        record(
            "china_embassy/dump-f4a23d0446df2fd9",
            SEED_TEXTS[1],
            channel="china_embassy",
            forwarded_from=MFA,
            reactions=[{"emoji": "👍", "count": 11}, {"emoji": "❤", "count": 1}],
            media=[
                {"type": "unsupported", "unsupported": True, "reason": "not_supported_in_browser"}
            ],
            hashtags=["RussiaChina"],
        ),
        record(
            "china_embassy/dump-fd4b0b1fa5a0fea8",
            SEED_TEXTS[2],
            channel="china_embassy",
            forwarded_from=MFA,
            reactions=[
                {"emoji": "👍", "count": 12},
                {"emoji": "❤", "count": 2},
                {"emoji": "🔥", "count": 1},
                {"emoji": "👏", "count": 1},
            ],
            hashtags=["RussiaChina"],
        ),
        record(
            "china_embassy/dump-f1c3014767efa25a",
            SEED_TEXTS[3],
            channel="china_embassy",
            forwarded_from=MFA,
            reactions=[
                {"emoji": "👍", "count": 11},
                {"emoji": "❤", "count": 3},
                {"emoji": "👎", "count": 1},
            ],
            hashtags=["RussiaChina"],
        ),
        record(
            "china_embassy/dump-7c8a518b079943fe",
            SEED_TEXTS[4],
            channel="china_embassy",
            forwarded_from=MFA,
            reactions=[
                {"emoji": "👍", "count": 13},
                {"emoji": "❤", "count": 2},
                {"emoji": "👎", "count": 1},
                {"emoji": "🤬", "count": 1},
            ],
            hashtags=["RussiaChina"],
        ),
    ]


def test_shared_seed_matches_the_bundled_sample(seed_path):
    shared = SHARED / "seed" / "russia_china_dump.txt"
    if not shared.exists():
        pytest.skip("../shared/seed is absent")
    assert posts_of(shared.read_text(encoding="utf-8")) == posts_of(seed_path.read_text("utf-8"))


def test_without_channel_the_channel_stays_null(seed_path):
    posts = posts_of(seed_path.read_text(encoding="utf-8"))
    assert {post.channel for post in posts} == {None}
    assert posts[0].key == "dump/dump-3900b635c26c2a27"
    assert posts[0].forwarded_from == MFA


def test_keys_are_stable_and_identical_posts_are_numbered():
    dump = "Hello there\nsecond line\nsecond line\n👍1\n" * 2
    assert [p.key for p in posts_of(dump)] == [
        "dump/dump-396762b42f0250b1",
        "dump/dump-396762b42f0250b1.2",
    ]


def test_channel_header_with_counters_and_unforwarded_posts():
    dump = """Embassy of Russia in China
@RusEmbChina
53.5K subscribers
16.7K photos
1.2K videos
348 links
Official channel of the Embassy.
Download Telegram
Ambassador met students in Beijing.
Read more on our site https://example.org/news/1.
Read more on our site https://example.org/news/1.
👍1.2K❤️85
Second post, one line only
🔥3
"""
    warnings: list[str] = []
    items = parse(dump, warn=warnings.append)
    assert warnings == [
        "line 1: the header names @rusembchina; name channel rusembchina to record it"
    ]
    assert items[0] == Channel(
        username="rusembchina",
        title="Embassy of Russia in China",
        description="Official channel of the Embassy.",
        counters={"subscribers": 53500, "photos": 16700, "videos": 1200, "links": 348},
    )
    assert [p.to_dict() for p in items[1:]] == [
        record(
            "dump/dump-afd439423a6b12b0",
            "Ambassador met students in Beijing.\nRead more on our site https://example.org/news/1.",
            reactions=[{"emoji": "👍", "count": 1200}, {"emoji": "❤", "count": 85}],
            links=["https://example.org/news/1"],
        ),
        record(
            "dump/dump-b95ed66b50461762",
            "Second post, one line only",
            reactions=[{"emoji": "🔥", "count": 3}],
        ),
    ]


def test_exact_copy_is_collapsed_and_similar_text_is_kept():
    exact = posts_of("A first line\nand a second\nA first line\nand a second\n👍2\n")
    assert exact[0].text == "A first line\nand a second"
    similar = posts_of("Forwarded from X\nLavrov met Wang Yi\nLavrov met Wang Yi.\n👍2\n")
    assert similar[0].text == "Lavrov met Wang Yi\nLavrov met Wang Yi."


def test_unseparated_posts_are_split_by_their_copies():
    dump = (
        "Forwarded from MFA\n"
        "Post one title\nbody one\n#tag\nbody one\n#tag\n"
        "Post two title\nbody two\nbody two\n"
        "👏4\n"
    )
    posts = posts_of(dump)
    assert [(p.text, p.forwarded_from, p.reactions) for p in posts] == [
        ("Post one title\nbody one\n#tag", {"title": "MFA", "channel": None, "id": None}, []),
        ("Post two title\nbody two", None, [{"emoji": "👏", "count": 4}]),
    ]


def test_post_without_reactions_line_ends_at_next_forward():
    dump = "Forwarded from A\nfirst\nmore\nmore\nForwarded from B\nsecond\nagain\nagain\n👍1\n"
    posts = posts_of(dump)
    assert [(p.text, p.forwarded_from["title"], p.reactions) for p in posts] == [
        ("first\nmore", "A", []),
        ("second\nagain", "B", [{"emoji": "👍", "count": 1}]),
    ]


def test_media_chrome_becomes_media_and_leaves_the_text():
    dump = (
        "Forwarded from A\nPlease open Telegram to view this post\nVIEW IN TELEGRAM\n👍1\n"
        "Media is too big\nVIEW IN TELEGRAM\nWatch in full\n❤5\n"
    )
    posts = posts_of(dump)
    assert [(p.text, p.media) for p in posts] == [
        ("", [{"type": "unsupported", "unsupported": True, "reason": "open_in_telegram"}]),
        ("Watch in full", [{"type": "video", "unsupported": True, "reason": "too_big"}]),
    ]


def test_mentions_links_and_link_texts_kept():
    dump = "Forwarded from A\nREAD IN FULL @MFARussia t.me/mfarussia/1, #UNGA77 #2022\n👍1\n"
    (post,) = posts_of(dump)
    assert post.text == "READ IN FULL @MFARussia t.me/mfarussia/1, #UNGA77 #2022"
    assert post.mentions == ["mfarussia"]
    assert post.links == ["https://t.me/mfarussia/1"]
    assert post.hashtags == ["UNGA77"]


def test_broken_copy_is_kept_whole_with_a_warning():
    warnings: list[str] = []
    dump = "Forwarded from A\nline one\nline two\nline three\nline t"
    (post,) = list(parse_textdump(dump.splitlines(True), warn=warnings.append))
    assert post.text == "line one\nline two\nline three\nline t"
    assert warnings == [
        "line 1: body not repeated as web-preview dumps do; kept as it is (truncated file?)"
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("👍16❤3", [{"emoji": "👍", "count": 16}, {"emoji": "❤", "count": 3}]),
        ("👍 1.2K ❤️ 85", [{"emoji": "👍", "count": 1200}, {"emoji": "❤", "count": 85}]),
        ("👍🏽7⭐12", [{"emoji": "👍🏽", "count": 7}, {"paid": True, "count": 12}]),
        ("👨‍💻2", [{"emoji": "👨‍💻", "count": 2}]),
        ("🇷🇺🇨🇳 2022", None),
        ("📍Denpasar, November 15, 2022", None),
        ("Read in full", None),
        ("👍", None),
        ("", None),
    ],
)
def test_reactions_line(line, expected):
    assert parse_reactions_line(line) == expected


def test_detection():
    assert looks_like_textdump("Forwarded from X\nhello")
    assert looks_like_textdump("hello\n👍3❤1\n")
    assert not looks_like_textdump("just some notes\nwith no marks\n")


def test_bad_channel_name_is_refused():
    with pytest.raises(ValueError, match="not a channel username"):
        posts_of("Forwarded from A\nx\n👍1\n", channel="no spaces/please")


def test_footer_with_views_and_edited_belongs_to_the_post_above():
    dump = (
        "Forwarded from A\nfirst post\nsecond line\nsecond line\n👍3\n12.3K views14:05\n"
        "Forwarded from B\nother post\n\n3.4K viewsedited  Mar 3 at 09:12\n"
        "5 views on the matter\n"
    )
    posts = posts_of(dump)
    assert [(p.text, p.views, p.edited, p.reactions) for p in posts] == [
        ("first post\nsecond line", 12300, False, [{"emoji": "👍", "count": 3}]),
        ("other post", 3400, True, []),
        ("5 views on the matter", None, False, []),
    ]


def test_header_of_another_channel_does_not_name_these_posts():
    warnings: list[str] = []
    dump = "МИД России\n@MID_Russia\n412.3K subscribers\nDownload Telegram\nПост\n👍1\n"
    items = parse(dump, channel="@Test_Channel", warn=warnings.append)
    assert warnings == [
        "line 1: the header names @mid_russia, not the channel named (test_channel)"
    ]
    assert items[0].username == "mid_russia"
    assert (items[1].channel, items[1].channel_title) == ("test_channel", None)
    same = parse(dump.replace("@MID_Russia", "@test_channel"), channel="test_channel")
    assert (same[1].channel, same[1].channel_title) == ("test_channel", "МИД России")


def test_a_spaced_single_emoji_count_is_body_text():
    dump = "Forwarded from A\nWinners\n🏆 2024\n🎉 100 guests\n🏆 2024\n🎉 100 guests\n👍7\n"
    (post,) = posts_of(dump)
    assert post.text == "Winners\n🏆 2024\n🎉 100 guests"
    assert post.reactions == [{"emoji": "👍", "count": 7}]


def test_counter_like_line_in_a_post_is_not_a_header():
    dump = "Forwarded from A\nOur delegation\n12 members\n12 members\n👍1\n"
    assert [p.text for p in parse(dump, channel="chan")] == ["Our delegation\n12 members"]
    plain = "Our delegation\n12 members\n12 members\n👍1\n"
    assert [type(i).__name__ for i in parse(plain)] == ["Post"]


def test_footers_without_a_time_and_chrome_before_a_footer():
    dump = "Forwarded from A\nfirst\nmore\nmore\n12.3K views\nForwarded from B\nsecond\n👍1\n"
    dump += "VIEW IN TELEGRAM\n3.4K views edited 14:05\n"
    posts = posts_of(dump)
    assert [(p.text, p.views, p.edited, len(p.reactions)) for p in posts] == [
        ("first\nmore", 12300, False, 0),
        ("second", 3400, True, 1),
    ]


def test_media_only_posts_are_told_apart_by_the_post_before():
    first = posts_of("Forwarded from A\nalpha\n👍1\nForwarded from A\nMedia is too big\n👍5\n")
    second = posts_of("Forwarded from A\nbeta\n👍1\nForwarded from A\nMedia is too big\n👍3\n")
    assert first[1].text == second[1].text == ""
    assert first[1].key != second[1].key
    again = posts_of("Forwarded from A\nalpha\n👍1\nForwarded from A\nMedia is too big\n👍9\n")
    assert again[1].key == first[1].key


def test_counts_beyond_64_bits_are_not_counts():
    big = "9" * 30
    dump = f"@hostile_dump\n{big} subscribers\n12 photos\nDownload Telegram\nA post\n👍{big}❤2\n"
    items = parse(dump, channel="hostile_dump")
    assert items[0].counters == {"photos": 12}
    (post,) = items[1:]
    assert (post.text, post.reactions) == (f"A post\n👍{big}❤2", [])  # not a reactions line
    assert parse_reactions_line("👍" + "9" * 5000) is None


def test_a_line_longer_than_any_post_is_refused_naming_it(db_path, tmp_path):
    from tgscope.archive import Archive
    from tgscope.errors import ParseError

    dump = tmp_path / "dump.txt"
    text = (SHARED / "seed" / "russia_china_dump.txt").read_text(encoding="utf-8")
    lines = text.count("\n")
    dump.write_text(text + "слово " * 800_000 + "\nend\n", encoding="utf-8")  # 8.8 MB
    with Archive.open(db_path) as archive, pytest.raises(ParseError) as caught:
        archive.import_file(dump, format="textdump", channel="mychan")
    assert (
        str(caught.value) == f"{dump}:{lines + 1}: a line longer than 4 MB (no post is that long)"
    )


def test_a_post_longer_than_any_post_is_refused_naming_where_it_starts(db_path, tmp_path):
    from tgscope.archive import Archive
    from tgscope.errors import ParseError

    dump = tmp_path / "dump.txt"
    text = (SHARED / "seed" / "russia_china_dump.txt").read_text(encoding="utf-8")
    huge = ("слово " * 16 + "\n") * 50_000  # 5 MB in one post of 50,000 short lines
    dump.write_text(huge + "1.2K views 14:05\n" + text, encoding="utf-8")
    with Archive.open(db_path) as archive, pytest.raises(ParseError) as caught:
        archive.import_file(dump, format="textdump", channel="mychan")
    assert str(caught.value) == (
        f"{dump}:1: a post of more than 4 MB of text from this line on (no post is"
        " that long: is this a text dump of posts?)"
    )
