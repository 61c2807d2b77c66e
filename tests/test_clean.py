from __future__ import annotations

import pytest

from tgscope.clean import extract_hashtags, extract_links, extract_mentions, parse_count


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
