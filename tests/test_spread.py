"""The spread of one post (tgscope spread, Archive.spread): original, forwards, near-copies."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.helpers import post, source
from tests.test_duplicates import (
    BRICS,
    DAY,
    LAVROV_WANG,
    LAVROV_WANG_EDITED,
    PHONE_CALL,
    one_word_changed,
)
from tgscope.analysis.spread import CAVEAT, SpreadPost
from tgscope.archive import Archive
from tgscope.cli import cli
from tgscope.errors import OptionError

MID = {"title": "МИД России", "channel": "mid_russia", "id": 1}
TASS = {"title": "ТАСС", "channel": "tass_agency", "id": 99}
POSTS = [
    post(
        "mid_russia/1", LAVROV_WANG, channel="mid_russia", date=DAY + "09:00:00+00:00", views=1000
    ),
    post(
        "rusemb_india/41",
        LAVROV_WANG,
        channel="rusemb_india",
        date=DAY + "09:05:00+00:00",
        views=50,
        forwarded_from=MID,
    ),
    # a forward of that forward: Telegram still names mid_russia/1
    post(
        "rusemb_uk/8",
        LAVROV_WANG,
        channel="rusemb_uk",
        date=DAY + "09:30:00+00:00",
        views=70,
        forwarded_from=MID,
    ),
    post(
        "rusembchina/11",
        LAVROV_WANG_EDITED,
        channel="rusembchina",
        date=DAY + "10:30:00+00:00",
        views=300,
    ),
    post(
        "china_embassy_ru/21",
        "🔥 " + LAVROV_WANG,
        channel="china_embassy_ru",
        date=DAY + "11:00:00+00:00",
    ),
    post(
        "rusemb_kz/31",
        LAVROV_WANG + "\nПодписывайтесь на наш канал",
        channel="rusemb_kz",
        date=DAY + "08:00:00+00:00",  # a copy dated before the original: a negative delay
        views=20,
    ),
    # unrelated: other texts, another forward of the ministry
    post("mid_russia/2", PHONE_CALL, channel="mid_russia", date=DAY + "12:00:00+00:00"),
    post(
        "rusemb_india/42",
        PHONE_CALL,
        channel="rusemb_india",
        date=DAY + "12:10:00+00:00",
        forwarded_from={**MID, "id": 2},
    ),
    post("mfarussia/2", BRICS, channel="mfarussia", date=DAY + "08:00:00+00:00"),
    # forwards of a post the archive lacks
    post(
        "rusemb_uk/9", BRICS, channel="rusemb_uk", date=DAY + "13:00:00+00:00", forwarded_from=TASS
    ),
    post(
        "rusemb_kz/35", BRICS, channel="rusemb_kz", date=DAY + "13:20:00+00:00", forwarded_from=TASS
    ),
]
EDITED = one_word_changed(LAVROV_WANG)
CASCADE = [
    SpreadPost("mid_russia/1", "mid_russia", DAY + "09:00:00+00:00", 0, 1000, "original", None),
    SpreadPost("rusemb_kz/31", "rusemb_kz", DAY + "08:00:00+00:00", -3600, 20, "copy", 1.0),
    SpreadPost("rusemb_india/41", "rusemb_india", DAY + "09:05:00+00:00", 300, 50, "forward", None),
    SpreadPost("rusemb_uk/8", "rusemb_uk", DAY + "09:30:00+00:00", 1800, 70, "forward", None),
    SpreadPost("rusembchina/11", "rusembchina", DAY + "10:30:00+00:00", 5400, 300, "copy", EDITED),
    SpreadPost(
        "china_embassy_ru/21", "china_embassy_ru", DAY + "11:00:00+00:00", 7200, None, "copy", 1.0
    ),
]


@pytest.fixture
def archive(archive_db):
    with Archive.open(archive_db) as opened:
        opened.ingest(POSTS, source())
        yield opened


def test_the_original_its_forwards_and_its_copies_in_time_order(archive):
    found = archive.spread("mid_russia/1")
    assert (found.key, found.original, found.original_in_archive) == (
        "mid_russia/1",
        "mid_russia/1",
        True,
    )
    assert found.posts == CASCADE
    assert found.caveat == CAVEAT


def test_a_forward_is_traced_from_its_original(archive):
    found = archive.spread("rusemb_uk/8")
    assert (found.key, found.original) == ("rusemb_uk/8", "mid_russia/1")
    assert found.posts == CASCADE


def test_a_copy_is_its_own_starting_point(archive):
    found = archive.spread("rusembchina/11")
    assert found.original == "rusembchina/11"
    assert [(p.key, p.relation, p.similarity) for p in found.posts] == [
        ("rusembchina/11", "original", None),
        ("rusemb_kz/31", "copy", EDITED),
        ("mid_russia/1", "copy", EDITED),
        ("rusemb_india/41", "copy", EDITED),  # forwards of mid_russia/1: copies of this one
        ("rusemb_uk/8", "copy", EDITED),
        ("china_embassy_ru/21", "copy", EDITED),
    ]


def test_forwards_of_a_post_the_archive_lacks(archive):
    found = archive.spread("rusemb_kz/35")
    assert (found.original, found.original_in_archive) == ("tass_agency/99", False)
    assert [(p.key, p.relation, p.delay_s, p.similarity) for p in found.posts] == [
        ("mfarussia/2", "copy", None, 1.0),  # no original: no delays
        ("rusemb_uk/9", "forward", None, None),
        ("rusemb_kz/35", "forward", None, None),
    ]


def test_a_higher_threshold_leaves_the_edited_copy_out(archive):
    keys = [p.key for p in archive.spread("mid_russia/1", threshold=0.95).posts]
    assert "rusembchina/11" not in keys and len(keys) == 5


def test_arrow_and_dict(archive):
    found = archive.spread("mid_russia/1")
    assert found.to_arrow().num_rows == 6
    assert found.to_arrow().column_names == [
        "key",
        "channel",
        "date",
        "delay_s",
        "views",
        "relation",
        "similarity",
    ]
    assert found.to_dict()["posts"][1] == {
        "key": "rusemb_kz/31",
        "channel": "rusemb_kz",
        "date": DAY + "08:00:00+00:00",
        "delay_s": -3600,
        "views": 20,
        "relation": "copy",
        "similarity": 1.0,
    }


def test_an_unknown_key_or_a_bad_threshold(archive):
    with pytest.raises(OptionError, match=r"no post with key 'nobody/1'"):
        archive.spread("nobody/1")
    with pytest.raises(OptionError, match=r"threshold: 2\.0 is not between"):
        archive.spread("mid_russia/1", threshold=2.0)


def test_the_cli(archive_db, archive):
    runner = CliRunner()
    result = runner.invoke(cli, ["spread", "--db", archive_db, "mid_russia/1", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["original"] == "mid_russia/1" and record["caveat"] == CAVEAT
    assert [p["key"] for p in record["posts"]] == [p.key for p in CASCADE]
    wide = {"COLUMNS": "160"}
    table = runner.invoke(cli, ["spread", "--db", archive_db, "rusemb_uk/8"], env=wide)
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0] == "original mid_russia/1: 6 post(s)"
    assert any("+1 h 30 min" in line and "rusembchina/11" in line for line in lines)
    assert any("-1 h 00 min" in line and "rusemb_kz/31" in line for line in lines)
    assert lines[-1] == f"note: {CAVEAT}"
    missing = runner.invoke(cli, ["spread", "--db", archive_db, "nobody/1"])
    assert missing.exit_code == 1
    assert missing.output == f"Error: {archive_db}: no post with key 'nobody/1'\n"


def test_a_threshold_below_the_index_says_how_to_build_it(archive_db, archive):
    result = CliRunner().invoke(
        cli, ["spread", "--db", archive_db, "mid_russia/1", "--threshold", "0.5"]
    )
    assert result.exit_code == 1
    assert result.output == (
        "Error: --threshold 0.5 is below the 0.7 the near-copy index was built for: build it"
        " for that with tgscope duplicates --rebuild --threshold 0.5\n"
    )
