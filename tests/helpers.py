"""Small builders shared by the tests."""

from __future__ import annotations

from tgscope.record import Post
from tgscope.store import SourceInfo


def source(ref: str = "test://posts", digest: str = "0" * 64) -> SourceInfo:
    return SourceInfo("test", ref, digest, "2026-11-28T07:00:00+00:00")


def post(
    key: str, text: str, *, channel: str | None = None, date: str | None = None, **fields
) -> Post:
    message_id = int(key.rsplit("/", 1)[1]) if key.rsplit("/", 1)[-1].isdigit() else None
    return Post(key=key, text=text, channel=channel, date=date, id=message_id, **fields)


#: A small bilingual archive: English and Russian posts from two channels over three days.
POSTS = [
    post(
        "mfarussia/1",
        "Sergey Lavrov met Wang Yi in Beijing",
        channel="mfarussia",
        date="2023-01-09T10:00:00+00:00",
        hashtags=["RussiaChina"],
    ),
    post(
        "mfarussia/2",
        "Meetings of the foreign ministers will continue",
        channel="mfarussia",
        date="2023-01-10T10:00:00+00:00",
    ),
    post(
        "mfarussia/3",
        "Сергей Лавров провёл переговоры",
        channel="mfarussia",
        date="2023-01-11T10:00:00+00:00",
        hashtags=["РоссияКитай"],
    ),
    post(
        "embassy/1",
        "Встреча Лаврова и Ван И в Пекине",
        channel="embassy",
        date="2023-01-09T12:00:00+00:00",
        hashtags=["RussiaChina"],
    ),
    post(
        "embassy/2",
        "Послание Лаврову от китайских студентов",
        channel="embassy",
        date="2023-01-10T12:00:00+00:00",
    ),
    post(
        "embassy/3",
        "The meeting meets expectations: a strategic partnership",
        channel="embassy",
        date="2023-01-11T12:00:00+00:00",
    ),
    post("embassy/4", "A post about something else entirely", channel="embassy"),
]


EMBASSY_TITLE = "Посольство России в Китае"


def embassy_record(number: int, **fields) -> dict:
    """The record of post ``number`` of the fixtures' embassy channel, with these fields set."""
    base = Post(
        key=f"rusembchina/{number}",
        channel="rusembchina",
        channel_title=EMBASSY_TITLE,
        id=number,
    ).to_dict()
    base.update(fields)
    return base


def lines_matching(folder, pattern, *, skipped=frozenset()) -> list[str]:
    """``file:line: text`` of every line of the folder's modules (but ``skipped``) that the
    regular expression finds: what a test of the sources' forms expects to be empty."""
    from pathlib import Path

    return [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(Path(folder).glob("*.py"))
        if path.name not in skipped
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
