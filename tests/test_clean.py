from __future__ import annotations

import pytest

from tgscope.clean import (
    extract_hashtags,
    extract_links,
    extract_mentions,
    parse_count,
    parse_duration,
    parse_size,
    without_nul,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("937", 937),
        ("12.3K", 12300),
        ("1.2M", 1_200_000),
        ("5.37K", 5370),
        ("1,2K", 1200),
        ("53.5K", 53500),
    ],
)
def test_parse_count(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize("text", ["", "K", "12.3X", "1 2", "abc", "1.5", "1,5"])
def test_parse_count_rejects(text):
    with pytest.raises(ValueError):
        parse_count(text)


def test_hashtags_in_order_once_not_in_urls_or_numbers():
    text = "#RussiaChina #UNGA77 📸 #PhotoOfTheDay #RussiaChina https://x.org/a#frag #2022 #Россия"
    assert extract_hashtags(text) == ["RussiaChina", "UNGA77", "PhotoOfTheDay", "Россия"]


def test_mentions_lower_case_not_emails():
    assert extract_mentions("@MFARussia and @mfarussia, mail me@example.com") == ["mfarussia"]


def test_links_trailing_punctuation_and_scheme():
    text = "See https://mid.ru/en/news/1/. Also (www.example.org/a) and t.me/mfarussia/5!"
    assert extract_links(text) == [
        "https://mid.ru/en/news/1/",
        "https://www.example.org/a",
        "https://t.me/mfarussia/5",
    ]


@pytest.mark.parametrize(
    "given",
    [
        "mfarussia",
        "@MFARussia",
        " MFARussia ",
        "t.me/mfarussia",
        "https://t.me/s/mfarussia",
        "https://t.me/s/MFARussia/",
        "http://t.me/mfarussia/16384",
        "https://t.me/s/mfarussia/16384?single",
        "https://www.t.me/mfarussia",
        "telegram.me/mfarussia",
        "https://t.me/mfarussia?before=100",
    ],
)
def test_channel_names_and_links_to_the_channel(given):
    from tgscope.clean import normalize_channel

    assert normalize_channel(given) == "mfarussia"


@pytest.mark.parametrize(
    "given",
    [
        "https://t.me/+AbCdEf123",
        "t.me/joinchat/AbCdEf",
        "t.me/s/",
        "https://example.com/mfarussia",
        "t.me/c/1234/56",
        "bad name!",
        "t.me/mfarussia/abc",
    ],
)
def test_what_is_not_a_channel_link_is_refused(given):
    from tgscope.clean import normalize_channel

    with pytest.raises(ValueError, match="not a channel username"):
        normalize_channel(given)


@pytest.mark.parametrize("text", ["²", "1:²", "9" * 5000, "1:" + "9" * 30])
def test_a_duration_that_is_not_one_is_none(text):
    assert parse_duration(text) is None


def test_a_size_too_large_for_the_archive_is_none():
    assert parse_size("9" * 400 + " MB") is None
    assert parse_size("2.1 MB") == 2202010


def test_without_nul_replaces_nul_everywhere_and_keeps_clean_values_as_they_are():
    entities = [{"type": "text_link", "offset": 0, "length": 1, "url": "https://a.b/\x00"}]
    assert without_nul("a\x00b\x00") == "a\ufffdb\ufffd"
    assert without_nul(entities) == [
        {"type": "text_link", "offset": 0, "length": 1, "url": "https://a.b/\ufffd"}
    ]
    assert without_nul({"\x00": ["x", "\x00"]}) == {"\ufffd": ["x", "\ufffd"]}
    clean = [{"type": "bold", "offset": 0, "length": 2}, "text", 3, None]
    assert without_nul(clean) is clean  # nothing to replace: the same object, not a copy
    assert without_nul(None) is None and without_nul(7) == 7
