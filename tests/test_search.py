from __future__ import annotations

import pytest

from tgscope.archive import Archive
from tgscope.errors import QueryError
from tgscope.search import text_analyzer

from .helpers import POSTS, post, source


@pytest.fixture
def archive(db_path):
    with Archive.open(db_path) as opened:
        opened.ingest(POSTS, source())
        yield opened


def keys(found) -> list[str]:
    return [result.post.key for result in found.results]


def test_analyzer_stems_english_and_russian_to_shared_forms():
    analyze = text_analyzer().analyze
    assert analyze("meeting meetings meets") == ["meet", "meet", "meet"]
    assert analyze("Лавров Лаврова Лаврову Лавровым") == ["лавр"] * 4
    assert analyze("Китай Китая Китаем") == ["кит"] * 3


def test_english_word_forms(archive):
    assert sorted(keys(archive.search("meeting"))) == ["embassy/3", "mfarussia/2"]
    assert sorted(keys(archive.search("meets"))) == ["embassy/3", "mfarussia/2"]


def test_russian_word_forms(archive):
    assert sorted(keys(archive.search("Лавров"))) == ["embassy/1", "embassy/2", "mfarussia/3"]
    assert sorted(keys(archive.search("лаврову"))) == ["embassy/1", "embassy/2", "mfarussia/3"]
    assert keys(archive.search("переговор")) == ["mfarussia/3"]


def test_channel_filter(archive):
    assert sorted(keys(archive.search("Лавров", channel="embassy"))) == ["embassy/1", "embassy/2"]
    assert keys(archive.search("Лавров", channel="@MFARussia")) == ["mfarussia/3"]


def test_date_filters_include_whole_days(archive):
    found = archive.search("", since="2023-01-10", until="2023-01-10", order="oldest")
    assert keys(found) == ["mfarussia/2", "embassy/2"]
    assert keys(archive.search("Лавров", until="2023-01-09")) == ["embassy/1"]
    assert keys(archive.search("Лавров", since="2023-01-10T12:00:00+00:00", order="oldest")) == [
        "embassy/2",
        "mfarussia/3",
    ]


def test_hashtag_filter_any_case_with_or_without_hash(archive):
    assert sorted(keys(archive.search("", hashtag="#russiachina"))) == ["embassy/1", "mfarussia/1"]
    assert keys(archive.search("Лавров", hashtag="РоссияКитай")) == ["mfarussia/3"]


def test_ranked_by_date_newest_first_and_undated_last(archive):
    found = archive.search("", order="newest", limit=100)
    assert keys(found)[:3] == ["embassy/3", "mfarussia/3", "embassy/2"]
    assert keys(found)[-1] == "embassy/4"


def test_relevance_prefers_more_matches(archive):
    found = archive.search("meeting")
    assert keys(found)[0] == "embassy/3"  # "meeting meets": two matches in a short post
    assert found.results[0].score > found.results[1].score


def test_two_terms_phrase_or_and_exclusion(archive):
    assert keys(archive.search("Lavrov Beijing")) == ["mfarussia/1"]
    assert keys(archive.search('"strategic partnership"')) == ["embassy/3"]
    assert keys(archive.search('"partnership strategic"')) == []
    assert sorted(keys(archive.search("Пекин OR partnership"))) == ["embassy/1", "embassy/3"]
    assert keys(archive.search("meeting -expectations")) == ["mfarussia/2"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Lavrov's", ["lavrov_s"]),
        ("G20:", ["g20"]),
        ("12:00", ["time"]),
        ('"Indian counterpart', ["indian"]),
        ("( OR", ["lavrov_s", "g20", "time", "indian"]),
    ],
)
def test_punctuation_is_text_not_syntax(db_path, query, expected):
    posts = [
        post("c/lavrov_s", "Lavrov's remarks"),
        post("c/g20", "At the G20: talks"),
        post("c/time", "Briefing at 12:00 today"),
        post("c/indian", "Met his Indian counterpart"),
    ]
    with Archive.open(db_path) as archive:
        archive.ingest(posts, source())
        found = archive.search(query, order="oldest")
    assert sorted(r.post.key.removeprefix("c/") for r in found.results) == sorted(expected)


def test_snippets_highlight_the_matched_forms(archive):
    (result,) = archive.search("Лавров", channel="embassy", until="2023-01-09").results
    assert result.snippet == "Встреча <b>Лаврова</b> и Ван И в Пекине"


def test_limit_and_total(archive):
    found = archive.search("", limit=2)
    assert found.total == len(POSTS)
    assert len(found.results) == 2


def test_bad_query_and_bad_dates_are_clear_errors(archive):
    with pytest.raises(QueryError, match="only excludes"):
        archive.search("-Лавров -meeting")
    with pytest.raises(QueryError, match="not a date"):
        archive.search("x", since="yesterday")
    with pytest.raises(QueryError, match="unknown order"):
        archive.search("x", order="sideways")
