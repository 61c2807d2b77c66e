"""Dates in event texts (tgscope.events.when): found in folded text, resolved against the
post's date, and placed between the dated neighbours of a post without one."""

from __future__ import annotations

import pytest

from tgscope.events.lexicon import fold
from tgscope.events.when import DateMention, find_dates, year_within


def found(text: str) -> list[tuple[int | None, int | None, int | None, int | None, int | None]]:
    """``(year, month, day, offset, weekday)`` of every date in the text, in text order."""
    return [(m.year, m.month, m.day, m.offset, m.weekday) for m in find_dates(fold(text))]


def one(text: str) -> DateMention:
    (mention,) = find_dates(fold(text))
    return mention


# -- explicit dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("📍Denpasar, November 15, 2022", (2022, 11, 15)),
        ("📍 New Delhi, March 2, 2023", (2023, 3, 2)),
        ("Talks on 15 November 2022 in Bali", (2022, 11, 15)),
        ("Sept. 5, 2019", (2019, 9, 5)),
        ("The 3rd of nothing, March 3rd 2021", (2021, 3, 3)),
        ("9 января 2023 года министры провели переговоры", (2023, 1, 9)),
        ("1 мая 2022 г.", (2022, 5, 1)),
        ("2 марта 2023", (2023, 3, 2)),
        ("Москва, 09.01.2023", (2023, 1, 9)),
        ("published 2023-01-09", (2023, 1, 9)),
        ("November 14-15, 2022", (2022, 11, 14)),  # a range: its first day
        ("14–15 ноября 2022 года", (2022, 11, 14)),
    ],
)
def test_explicit_dates_are_found_with_their_year(text, expected):
    assert found(text) == [(*expected, None, None)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("🇷🇺🇨🇳📞 On January 9, Foreign Minister Sergey Lavrov spoke", (1, 9)),
        ("On Jan 9 the ministers spoke", (1, 9)),
        ("2 марта министры встретились", (3, 2)),
        ("25 декабря", (12, 25)),
    ],
)
def test_a_day_without_its_year_is_found_without_one(text, expected):
    assert found(text) == [(None, *expected, None, None)]


def test_the_span_is_the_dates_in_the_text():
    text = "🇷🇺🇨🇳📞 On January 9, Lavrov spoke"
    mention = one(text)
    assert text[mention.start : mention.end] == "January 9"


@pytest.mark.parametrize(
    "text",
    [
        "February 30, 2023",  # no such day
        "в мае",  # a month without a day
        "the 77th Session of the UN General Assembly",
        "In 2022, it increased by about 25 percent.",
    ],
)
def test_what_is_no_day_gives_no_date(text):
    assert found(text) == []


def test_several_dates_come_in_text_order_and_once_each():
    text = "On March 2, 2023, recalling February 4, 2022, and yesterday's call"
    assert found(text) == [
        (2023, 3, 2, None, None),
        (2022, 2, 4, None, None),
        (None, None, None, -1, None),
    ]


# -- relative dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("Today the ministers met", 0),
        ("Yesterday the ministers met", -1),
        ("the day before yesterday", -2),
        ("They will meet tomorrow", 1),
        ("Сегодня министры встретились", 0),
        ("Вчера состоялся телефонный разговор", -1),
        ("позавчера", -2),
        ("завтра", 1),
    ],
)
def test_relative_words_give_an_offset_from_the_post(text, offset):
    assert found(text) == [(None, None, None, offset, None)]


@pytest.mark.parametrize(
    ("text", "weekday"),
    [
        ("On Monday the ministers met", 0),
        ("last Friday", 4),
        ("this Sunday", 6),
        ("в среду министры встретились", 2),
        ("в пятницу", 4),
    ],
)
def test_weekdays_are_found(text, weekday):
    assert found(text) == [(None, None, None, None, weekday)]


# -- resolved against the post's date -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "post_date", "expected"),
    [
        ("November 15, 2022", None, "2022-11-15"),  # the text fixes it
        ("November 15, 2022", "2023-03-01", "2022-11-15"),  # whatever the post's date
        ("On January 9", "2023-01-10T08:00:00+00:00", "2023-01-09"),
        ("On January 9", "2023-01-09", "2023-01-09"),
        ("On January 9", "2023-01-05", "2022-01-09"),  # not yet this year: last year's
        ("On January 9", None, None),
        ("On January 9", "not a date", None),
        ("yesterday", "2023-03-01", "2023-02-28"),
        ("вчера", "2024-03-01", "2024-02-29"),
        ("today", "2023-01-09T23:59:00+03:00", "2023-01-09"),
        ("tomorrow", "2022-12-31", "2023-01-01"),
        ("позавчера", "2023-01-01", "2022-12-30"),
        ("On Monday", "2023-01-11", "2023-01-09"),  # a Wednesday: the Monday before
        ("On Monday", "2023-01-09", "2023-01-09"),  # a Monday: that day
        ("в пятницу", "2023-01-09", "2023-01-06"),
        ("31 июня", "2023-07-05", None),  # no such day in any year
        ("February 29", "2024-03-01", "2024-02-29"),
        ("February 29", "2023-03-01", None),  # neither 2023 nor 2022 has one
    ],
)
def test_resolved_against_the_posts_date(text, post_date, expected):
    assert one(text).resolve(post_date) == expected


@pytest.mark.parametrize(
    ("text", "post_date", "expected"),
    [
        ("On January 9", "2023-01-05", "2023-01-09"),  # still to come this year
        ("On January 9", "2023-01-10", "2024-01-09"),  # passed: next year's
        ("On January 9", "2023-01-09", "2023-01-09"),
        ("November 24", "2022-11-30", "2023-11-24"),
        ("On Monday", "2023-01-11", "2023-01-16"),  # the next Monday
        ("On Monday", "2023-01-09", "2023-01-09"),
        ("в среду", "2023-01-09", "2023-01-11"),
        ("tomorrow", "2023-01-09", "2023-01-10"),  # an offset is an offset either way
        ("March 2, 2023", "2024-01-01", "2023-03-02"),  # a year given is kept
    ],
)
def test_resolved_ahead_for_what_is_to_come(text, post_date, expected):
    assert one(text).resolve(post_date, ahead=True) == expected


def test_last_friday_in_a_friday_post_is_the_week_before():
    assert one("last Friday").resolve("2023-01-13") == "2023-01-06"


# -- a day placed between bounds (undated posts) --------------------------------------------------


@pytest.mark.parametrize(
    ("month", "day", "low", "high", "expected"),
    [
        # the seed's "January 9" between its neighbours of November 2022 and March 2023
        (1, 9, "2022-11-15", "2023-03-02", "2023-01-09"),
        (1, 9, "2023-01-09", "2023-01-09", "2023-01-09"),  # bounds are inclusive
        (1, 9, "2023-01-10", "2023-03-02", None),  # none fits
        (1, 9, "2022-01-01", "2023-12-31", None),  # two fit: not known
        (12, 31, "2022-12-31", "2023-01-01", "2022-12-31"),
        (2, 29, "2023-01-01", "2024-12-31", "2024-02-29"),  # the one leap year
        (2, 29, "2022-01-01", "2023-12-31", None),
        (3, 14, None, None, None),  # no bounds at all
    ],
)
def test_year_within_closed_bounds(month, day, low, high, expected):
    assert year_within(month, day, low, high) == expected


@pytest.mark.parametrize(
    ("month", "day", "low", "high"),
    [
        (1, 9, "2023-06-01", None),  # got 2024-01-09; 2025-01-09 fits as well
        (3, 14, "2019-05-30", None),  # got 2020-03-14: Jaishankar's open term
        (1, 9, None, "2023-01-05"),  # got 2022-01-09; 2021-01-09 fits as well
    ],
)
def test_year_within_an_open_range_knows_no_single_day(month, day, low, high):
    assert year_within(month, day, low, high) is None


def test_year_within_an_open_range_with_two_days_in_reach_knows_none():
    assert year_within(12, 31, "2023-06-01", None) is None  # 2023-12-31 and 2024-12-31
