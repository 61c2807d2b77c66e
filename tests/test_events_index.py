"""The archive's events table (tgscope.events.index): the seed's events, the incremental
catch-up (new, edited, merged posts; a changed dictionary; an interrupted run) and the date
bounds of posts without a date, from their dated neighbours."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tgscope.archive import Archive
from tgscope.events import index as index_module
from tgscope.events.extract import extract_events
from tgscope.events.index import CatchUp, EventIndex, neighbour_bounds
from tgscope.events.lexicon import DATA_FILES, load_folder
from tgscope.store.events import EventFilter

from .conftest import SHARED
from .engines import sibling
from .helpers import post, source

SEED = SHARED / "seed" / "russia_china_dump.txt"
SEED_CHANNEL = "russia_china_demo"
DATA = Path(__file__).resolve().parent.parent / "src" / "tgscope" / "events" / "data"

needs_seed = pytest.mark.skipif(not SEED.exists(), reason=f"{SEED} is absent")

LAVROV = {"name": "Sergey Lavrov", "country": "RUS", "role": "Minister of Foreign Affairs"}
WANG = {"name": "Wang Yi", "country": "CHN", "role": "Minister of Foreign Affairs"}
QIN = {"name": "Qin Gang", "country": "CHN", "role": "Minister of Foreign Affairs"}
PUTIN = {"name": "Vladimir Putin", "country": "RUS", "role": "President"}
XI = {"name": "Xi Jinping", "country": "CHN", "role": "President"}
WEST = {"name": None, "country": None, "role": None, "org": "WEST"}
USA = {"name": None, "country": "USA", "role": None}

# Lavrov and Pompeo: both in office from 2018-04-26 to 2021-01-20, so "January 9" alone
# could be 2019, 2020 or 2021 and only the neighbours tell which
TALKS_DEC = (
    "🇷🇺🇺🇸 Foreign Minister Sergey Lavrov held talks with US Secretary of State Mike Pompeo\n"
    "📍Washington, December 10, 2019"
)
CALL_JAN_9 = (
    "🇷🇺🇺🇸📞 On January 9, Foreign Minister Sergey Lavrov spoke over the phone with"
    " US Secretary of State Mike Pompeo."
)
CALL = (
    "🇷🇺🇺🇸 Foreign Minister Sergey Lavrov spoke over the phone with"
    " US Secretary of State Mike Pompeo."
)
TALKS_FEB = (
    "🇷🇺🇺🇸 Foreign Minister Sergey Lavrov held talks with US Secretary of State Mike Pompeo\n"
    "📍Sochi, February 20, 2020"
)


def records(archive: Archive, **filters: Any) -> list[dict[str, Any]]:
    return [event.to_dict() for event in archive.events(**filters)]


def tables(archive: Archive):
    store: Any = archive.store
    return store.events


def keys_by_start(archive: Archive) -> dict[str, str]:
    """The seed's post keys (``dump-<digest>``) by the first words of their texts."""
    return {p.text.split("\n", 1)[0][:40]: p.key for p in archive.posts(channel=SEED_CHANNEL)}


@pytest.fixture
def seed_db(archive_db) -> str:
    if not SEED.exists():
        pytest.skip(f"{SEED} is absent")
    db = archive_db
    with Archive.open(db) as archive:
        report = archive.import_paths([SEED], channel=SEED_CHANNEL)
        assert (report.total("added"), report.failures) == (5, [])
    return db


@pytest.fixture
def seed(seed_db):
    """The seed's events by post number (1-5, the dump's order) and its keys."""
    with Archive.open(seed_db) as archive:
        keys = [p.key for p in sorted(archive.posts(channel=SEED_CHANNEL), key=_dump_order)]
        texts = {p.key: p.text for p in archive.posts(channel=SEED_CHANNEL)}
        found = records(archive)
    number = {key: n for n, key in enumerate(keys, 1)}
    return found, number, keys, texts


def _dump_order(p) -> int:
    order = [
        "Russia's Foreign Minister Sergey Lavrov &",
        "remarks during a meeting with Foreign Minister of the People’s Republic",
        "via videoconference",
        "On January 9",
        "meeting with Foreign Minister of China Qin Gang",
    ]
    return next(n for n, words in enumerate(order) if words in p.text)


def brief(event: dict[str, Any], number: dict[str, int]) -> dict[str, Any]:
    """The record with its post as the dump's post number and its evidence's text only."""
    return event | {"post": number[event["post"]], "evidence": event["evidence"]["text"]}


# -- the seed -------------------------------------------------------------------------------------

SEED_CONSULTS = [
    {
        "post": 1,
        "type": "CONSULT",
        "mode": ["third-party", "multilateral"],
        "cameo": "044",
        "actors": [LAVROV, WANG],
        "recipients": [],
        "place": {"name": "New York", "country": "USA"},
        "date": None,
        # the 77th session opened in September 2022; the next post is of November 15
        "date_min": "2022-09-01",
        "date_max": "2022-11-15",
        "occasion": "UNGA",
        "modality": "factual",
        "evidence": "🇷🇺🇨🇳 Russia's Foreign Minister Sergey Lavrov & Foreign Minister of the"
        " People’s Republic of China Wang Yi met on the sidelines of the 77th Session of the UN"
        " General Assembly",
    },
    {
        "post": 2,
        "type": "CONSULT",
        "mode": ["third-party", "multilateral"],
        "cameo": "044",
        "actors": [LAVROV, WANG],
        "recipients": [],
        "place": {"name": "Denpasar", "country": "IDN"},
        "date": "2022-11-15",
        "date_min": "2022-11-15",
        "date_max": "2022-11-15",
        "occasion": "G20",
        "modality": "factual",
        "evidence": "🇷🇺🇨🇳 Foreign Minister Sergey Lavrov’s opening remarks during a meeting"
        " with Foreign Minister of the People’s Republic of China Wang Yi on the sidelines of the"
        " G20 summit",
    },
    {
        "post": 3,
        "type": "CONSULT",
        "mode": ["video"],
        "cameo": "040",
        "actors": [PUTIN, XI],
        "recipients": [],
        "place": None,
        "date": None,
        "date_min": "2022-11-15",  # between its neighbours' Denpasar and January 9
        "date_max": "2023-01-09",
        "occasion": None,
        "modality": "factual",
        "evidence": "🇷🇺🇨🇳 President of Russia Vladimir Putin met with President of the"
        " People’s Republic of China Xi Jinping, via videoconference.",
    },
    {
        "post": 4,
        "type": "CONSULT",
        "mode": ["phone"],
        "cameo": "041",
        "actors": [LAVROV, QIN],
        "recipients": [],
        "place": None,
        "date": "2023-01-09",
        "date_min": "2023-01-09",
        "date_max": "2023-01-09",
        "occasion": None,
        "modality": "factual",
        "evidence": "🇷🇺🇨🇳📞 On January 9, Foreign Minister Sergey Lavrov spoke over the phone"
        " with Foreign Minister of the People’s Republic of China Qin Gang.",
    },
    {
        "post": 5,
        "type": "CONSULT",
        "mode": ["third-party", "multilateral"],
        "cameo": "044",
        "actors": [LAVROV, QIN],
        "recipients": [],
        "place": {"name": "New Delhi", "country": "IND"},
        "date": "2023-03-02",
        "date_min": "2023-03-02",
        "date_max": "2023-03-02",
        "occasion": "G20",
        "modality": "factual",
        "evidence": "🇷🇺🇨🇳 Foreign Minister Sergey Lavrov’s opening remarks during a meeting"
        " with Foreign Minister of China Qin Gang on the sidelines of the G20 Foreign Ministers’"
        " meeting",
    },
]


@needs_seed
def test_the_seed_gives_its_five_factual_meetings(seed):
    found, number, _, _ = seed
    consults = [
        brief(e, number) for e in found if e["type"] == "CONSULT" and e["modality"] == "factual"
    ]
    assert sorted(consults, key=lambda e: e["post"]) == SEED_CONSULTS


def _directed(post_number, type_, cameo, actors, recipients, day, modality, evidence):
    low, high = day if isinstance(day, tuple) else (day, day)
    return {
        "post": post_number,
        "type": type_,
        "mode": [],
        "cameo": cameo,
        "actors": actors,
        "recipients": recipients,
        "place": None,
        "date": None if isinstance(day, tuple) else day,
        "date_min": low,
        "date_max": high,
        "occasion": None,
        "modality": modality,
        "evidence": evidence,
    }


SEED_OTHERS = [
    _directed(
        2,
        "SUPPORT",
        "051",
        [LAVROV],
        [WANG],
        "2022-11-15",
        "factual",
        "I also want to congratulate you, this time in person, and our Chinese friends present"
        " here on the successful 20th National Congress of the Communist Party of China (CPC).",
    ),
    _directed(
        3,
        "ACCUSE",
        "111",
        [PUTIN],
        [WEST],
        ("2022-11-15", "2023-01-09"),
        "factual",
        "Despite the unfavourable external situation, the illegitimate restrictions and patent"
        " blackmail on the part of certain Western countries, Russia and China have achieved"
        " record high growth rates in mutual trade.",
    ),
    _directed(
        4,
        "SUPPORT",
        "051",
        [LAVROV],
        [QIN],
        "2023-01-09",
        "factual",
        "The Russian Minister congratulated his Chinese colleague on his recent appointment and"
        " wished him success in this responsible position.",
    ),
    _directed(
        4,
        "ACCUSE",
        "111",
        [LAVROV, QIN],
        [USA],
        "2023-01-09",
        "factual",
        "They rejected the policy of the United States and its satellites to establish a"
        " hegemony in global affairs, which prompts the West to provoke confrontation with Russia"
        " and China, interfere in their domestic affairs, and attempts to constrain the"
        " development of the two countries through sanctions and other illegitimate methods.",
    ),
    _directed(
        4,
        "AGREE",
        "036",
        [LAVROV],
        [QIN],
        "2023-01-09",
        "future",
        "Sergey Lavrov invited Foreign Minister of the People’s Republic of China Qin Gang to"
        " visit Russia at a convenient time.",
    ),
    _directed(
        5,
        "SUPPORT",
        "051",
        [LAVROV],
        [QIN],
        "2023-03-02",
        "factual",
        "💬 Sergey Lavrov: Once again, please accept my congratulations on your appointment as"
        " Foreign Minister of the People’s Republic of China.",
    ),
]


@needs_seed
def test_the_seed_gives_the_praise_the_criticism_and_the_invitation(seed):
    found, number, _, _ = seed
    others = [brief(e, number) for e in found if e["type"] != "CONSULT"]
    assert sorted(others, key=lambda e: e["post"]) == SEED_OTHERS


@needs_seed
def test_the_seed_plans_no_meeting(seed):
    """Post 2's "I am glad to meet with you again" is the Denpasar meeting itself, post 5's
    "as agreed by our leaders, including during their February 4, 2022, summit" a memory."""
    found, number, _, _ = seed
    planned = [
        (number[e["post"]], [a["name"] for a in e["actors"]])
        for e in found
        if e["type"] == "CONSULT" and e["modality"] == "future"
    ]
    assert planned == []


def _recalled(found, number) -> list[tuple]:
    return [
        (
            number[e["post"]],
            [a["name"] for a in e["actors"]],
            e["place"],
            e["occasion"],
            e["date"],
            e["date_max"],
        )
        for e in found
        if e["type"] == "CONSULT" and e["modality"] == "reported"
    ]


@needs_seed
def test_the_seed_recalls_samarkand_before_the_post_telling_it(seed):
    found, number, _, _ = seed
    assert [r for r in _recalled(found, number) if r[0] == 2] == [
        (
            2,
            ["Vladimir Putin", "Xi Jinping"],
            {"name": "Samarkand", "country": "UZB"},
            "SCO",
            None,
            "2022-11-15",
        )
    ]


@needs_seed
@pytest.mark.xfail(
    strict=True,
    reason="extract.py: post 5's 'as agreed by our leaders, including during their February 4,"
    " 2022, summit in Beijing' yields no event; like post 2's Samarkand meeting it is a"
    " retrospective CONSULT (modality reported) of Putin and Xi",
)
def test_the_seed_recalls_the_beijing_summit_as_reported(seed):
    found, number, _, _ = seed
    assert [(r[1], r[2], r[4]) for r in _recalled(found, number) if r[0] == 5] == [
        (
            ["Vladimir Putin", "Xi Jinping"],
            {"name": "Beijing", "country": "CHN"},
            "2022-02-04",
        )
    ]


@needs_seed
def test_every_evidence_is_the_posts_text_at_its_offsets(seed):
    found, _, _, texts = seed
    assert found
    for event in found:
        evidence = event["evidence"]
        assert texts[event["post"]][evidence["start"] : evidence["end"]] == evidence["text"]


@needs_seed
def test_the_seeds_events_come_by_date_undated_last(seed):
    found, _, _, _ = seed
    days = [e["date"] or e["date_max"] or e["date_min"] for e in found]
    assert None not in days  # every seed event is at least bounded
    assert days == sorted(days)


@needs_seed
def test_the_seed_imported_again_extracts_nothing(seed_db):
    with Archive.open(seed_db) as archive:
        before = records(archive)
        report = archive.import_paths([SEED], channel=SEED_CHANNEL)
        assert report.total("unchanged") == 5
        index = EventIndex(tables(archive))
        assert index.catch_up() == CatchUp(posts=0, events=0, rebuilt=False)
        assert archive.update_events() == 0
        assert records(archive) == before


@needs_seed
def test_an_import_that_changes_no_post_leaves_the_events_up_to_date(seed_db):
    with Archive.open(seed_db) as archive:
        archive.import_paths([SEED], channel=SEED_CHANNEL)
        assert not EventIndex(tables(archive)).behind()


@needs_seed
def test_the_events_filters_of_the_python_api(seed_db):
    with Archive.open(seed_db) as archive:
        calls = records(archive, type="CONSULT", mode="phone")
        dyad = records(archive, dyad=("RUS", "CHN"), modality="factual", type="CONSULT")
        lavrov = records(archive, actor="Lavrov", since="2023-01-01", until="2023-01-31")
        page = records(archive, limit=2, offset=1)
        every = records(archive)
        with pytest.raises(Exception, match="either as an EventFilter or as keywords"):
            archive.events(EventFilter(type="CONSULT"), type="AGREE")
    assert [(e["date"], e["mode"]) for e in calls] == [("2023-01-09", ["phone"])]
    assert len(dyad) == 5
    assert {e["type"] for e in lavrov} == {"CONSULT", "SUPPORT", "ACCUSE", "AGREE"}
    assert {e["date"] for e in lavrov} == {"2023-01-09"}
    assert page == every[1:3]


# -- incremental ----------------------------------------------------------------------------------


def jsonl(path: Path, *records_: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records_), "utf-8")
    return path


def record(number: int, text: str, day: str = "2023-04-03T10:00:00+00:00") -> dict[str, Any]:
    return {"key": f"demo/{number}", "channel": "demo", "id": number, "text": text, "date": day}


def test_an_edited_post_is_extracted_again_and_its_old_events_are_gone(archive_db, tmp_path):
    first = jsonl(
        tmp_path / "first.jsonl",
        record(1, "Sergey Lavrov held talks with Wang Yi in Moscow."),
        record(2, "Sergey Lavrov had a telephone conversation with Wang Yi."),
    )
    edited = jsonl(
        tmp_path / "edited.jsonl",
        record(1, "Sergey Lavrov had a telephone conversation with Antony Blinken."),
    )
    with Archive.open(archive_db) as archive:
        archive.import_paths([first], format="tgscope-jsonl")
        before = [(e["post"], e["mode"], e["actors"][1]["name"]) for e in records(archive)]
        report = archive.import_paths([edited], format="tgscope-jsonl")
        assert report.total("updated") == 1
        assert EventIndex(tables(archive)).catch_up().posts == 0  # the import caught up
        after = [(e["post"], e["mode"], e["actors"][1]["name"]) for e in records(archive)]
    assert before == [("demo/1", ["visit"], "Wang Yi"), ("demo/2", ["phone"], "Wang Yi")]
    assert after == [("demo/1", ["phone"], "Antony Blinken"), ("demo/2", ["phone"], "Wang Yi")]


def test_an_edit_that_leaves_no_event_leaves_no_event(archive_db, tmp_path):
    first = jsonl(tmp_path / "a.jsonl", record(1, "Sergey Lavrov held talks with Wang Yi."))
    edited = jsonl(tmp_path / "b.jsonl", record(1, "A photo of the day: spring in Moscow."))
    with Archive.open(archive_db) as archive:
        archive.import_paths([first], format="tgscope-jsonl")
        assert len(records(archive)) == 1
        archive.import_file(edited, format="tgscope-jsonl")  # no catch-up of its own
        index = EventIndex(tables(archive))
        assert index.behind()
        assert index.catch_up() == CatchUp(posts=1, events=0, rebuilt=False)
        assert records(archive) == []


def test_a_copy_merged_into_its_post_takes_its_events_along(archive_db):
    text = "Sergey Lavrov held talks with Wang Yi in Moscow."
    with Archive.open(archive_db) as archive:
        archive.ingest([post("demo/dump-1", text, channel="demo")], source("dump"))
        assert [e["post"] for e in records(archive)] == ["demo/dump-1"]
        dated = post("demo/9", text, channel="demo", date="2023-04-03T10:00:00+00:00")
        report = archive.ingest([dated], source("page"))
        assert report.merged == 1
        caught = EventIndex(tables(archive)).catch_up()
        found = records(archive)
        assert records(archive, post="demo/dump-1") == []
    assert caught.posts == 1
    assert [(e["post"], e["date"], e["place"]) for e in found] == [
        ("demo/9", "2023-04-03", {"name": "Moscow", "country": "RUS"})
    ]


def changed_lexicon(tmp_path: Path):
    """The shipped dictionaries with one file changed (a comment line: nothing else differs)."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name in DATA_FILES:
        shutil.copy(DATA / name, folder / name)
    with (folder / "cities.tsv").open("a", encoding="utf-8") as out:
        out.write("# a line the digest sees\n")
    return load_folder(folder)


def test_a_changed_dictionary_extracts_everything_again(archive_db, tmp_path):
    posts = [
        post(f"demo/{n}", text, channel="demo", date=f"2023-04-0{n}T10:00:00+00:00")
        for n, text in enumerate(
            [
                "Sergey Lavrov held talks with Wang Yi in Moscow.",
                "Sergey Lavrov had a telephone conversation with Wang Yi.",
                "A photo of the day: spring in Moscow.",
            ],
            1,
        )
    ]
    lexicon = changed_lexicon(tmp_path)
    with Archive.open(archive_db) as archive:
        archive.ingest(posts, source())
        shipped = EventIndex(tables(archive))
        assert lexicon.version != shipped.lexicon.version
        first = shipped.catch_up()
        assert (first.posts, first.events) == (3, 2)
        before = records(archive)
        changed = EventIndex(tables(archive), lexicon)
        assert changed.behind()
        assert changed.catch_up() == CatchUp(posts=3, events=2, rebuilt=True)
        assert changed.catch_up() == CatchUp(posts=0, events=0, rebuilt=False)
        assert EventIndex(tables(archive)).catch_up().rebuilt  # and back
        assert records(archive) == before  # nothing twice


def test_a_changed_rules_version_extracts_everything_again(archive_db, monkeypatch):
    from tgscope.events import lexicon as lexicon_module

    with Archive.open(archive_db) as archive:
        archive.ingest([post("demo/1", "Sergey Lavrov met Wang Yi.", channel="demo")], source())
        assert archive.update_events() == 1
        assert archive.update_events() == 0
        monkeypatch.setattr(lexicon_module, "RULES_VERSION", "test-" + lexicon_module.RULES_VERSION)
        lexicon_module.load.cache_clear()
        try:
            result = EventIndex(tables(archive)).catch_up()
        finally:
            monkeypatch.undo()
            lexicon_module.load.cache_clear()
    assert result == CatchUp(posts=1, events=1, rebuilt=True)


INTERRUPTED = [
    ("demo/1", TALKS_DEC, None),
    ("demo/2", CALL_JAN_9, None),
    ("demo/3", "A photo of the day: spring in Moscow.", "2020-01-15T10:00:00+00:00"),
    ("demo/4", CALL, None),
    ("demo/5", "Sergey Lavrov had a telephone conversation with Wang Yi.", "2020-02-01"),
    ("demo/6", TALKS_FEB, None),
    ("demo/7", "Sergey Lavrov met Mike Pompeo in Sochi.", None),
]


def _interrupted_posts():
    return [post(key, text, channel="demo", date=day) for key, text, day in INTERRUPTED]


def test_an_interrupted_catch_up_keeps_its_batches_and_the_next_one_finishes(
    archive_db, request, monkeypatch
):
    whole = sibling(request, archive_db, "whole")
    with Archive.open(whole) as archive:
        archive.ingest(_interrupted_posts(), source())
        expected = records(archive)
    monkeypatch.setattr(index_module, "_COMMIT_EVERY", 2)
    read: list[str] = []

    def stops_at_the_sixth(key, text, day, lexicon):
        if len(read) == 5:
            raise RuntimeError("stopped")
        read.append(key)
        return extract_events(key, text, day, lexicon)

    stopped = archive_db
    with Archive.open(stopped) as archive:
        archive.ingest(_interrupted_posts(), source())
        monkeypatch.setattr(index_module, "extract_events", stops_at_the_sixth)
        with pytest.raises(RuntimeError, match="stopped"):
            EventIndex(tables(archive)).catch_up()
        kept = sorted({e["post"] for e in tables(archive).select(EventFilter())})
        assert kept == ["demo/1", "demo/2", "demo/4"]  # two batches of two; demo/3 has none
        assert "cursor" in tables(archive).state()
        read.clear()
        monkeypatch.setattr(index_module, "extract_events", _counting(read))
        finished = EventIndex(tables(archive)).catch_up()
        assert read == ["demo/5", "demo/6", "demo/7"]  # the committed batches are not redone
        assert finished == CatchUp(posts=3, events=3, rebuilt=False)
        state = tables(archive).state()
        assert "cursor" not in state and "target" not in state
        assert EventIndex(tables(archive)).catch_up().posts == 0
        found = records(archive)
    assert found == expected


def _counting(read: list[str]):
    def counted(key, text, day, lexicon):
        read.append(key)
        return extract_events(key, text, day, lexicon)

    return counted


# -- posts without a date ----------------------------------------------------------------------


def test_neighbour_bounds_in_ascending_order():
    timeline = [
        (1, None, None),  # before any dated post
        (2, "2019-12-10T10:00:00+00:00", None),
        (3, None, None),
        (4, None, "2020-01-09"),  # undated, but its text gives its day
        (5, None, None),
        (6, "2020-02-20", None),
        (7, None, None),  # after the last
    ]
    assert list(neighbour_bounds(timeline)) == [
        (1, None, "2019-12-10"),
        (3, "2019-12-10", "2020-01-09"),
        (4, "2020-01-09", "2020-01-09"),  # written on its dateline's day
        (5, "2020-01-09", "2020-02-20"),
        (7, "2020-02-20", None),
    ]


def test_neighbour_bounds_in_descending_order():
    timeline = [
        (1, None, None),
        (2, "2020-02-20", None),
        (3, None, None),
        (4, None, "2020-01-09"),
        (5, None, None),
        (6, "2019-12-10", None),
        (7, None, None),
    ]
    assert list(neighbour_bounds(timeline)) == [
        (1, "2020-02-20", None),
        (3, "2020-01-09", "2020-02-20"),
        (4, "2020-01-09", "2020-01-09"),  # written on its dateline's day
        (5, "2019-12-10", "2020-01-09"),
        (7, None, "2019-12-10"),
    ]


def test_neighbour_bounds_without_dated_posts_are_open():
    assert list(neighbour_bounds([(1, None, None), (2, None, None)])) == [
        (1, None, None),
        (2, None, None),
    ]
    assert list(neighbour_bounds([(1, "2020-01-01", None)])) == []


def dump_events(db: str, texts: list[str]) -> dict[str, tuple[str | None, str | None, str | None]]:
    """Posts without dates ingested in this order; ``(date, date_min, date_max)`` of each
    post's first event, by the post's number in the list."""
    posts = [post(f"demo/dump-{n}", text, channel="demo") for n, text in enumerate(texts, 1)]
    with Archive.open(db) as archive:
        archive.ingest(posts, source("dump"))
        found: dict[str, tuple[str | None, str | None, str | None]] = {}
        for event in archive.events():
            found.setdefault(event.post, (event.date, event.date_min, event.date_max))
    return found


@pytest.mark.parametrize("order", ["ascending", "descending"])
def test_an_undated_dumps_days_come_from_its_datelines(archive_db, order):
    texts = [TALKS_DEC, CALL_JAN_9, CALL, TALKS_FEB]
    if order == "descending":
        texts.reverse()
    found = dump_events(archive_db, texts)
    by_text = {text: found[f"demo/dump-{n}"] for n, text in enumerate(texts, 1)}
    assert by_text == {
        TALKS_DEC: ("2019-12-10", "2019-12-10", "2019-12-10"),
        CALL_JAN_9: ("2020-01-09", "2020-01-09", "2020-01-09"),  # the one January 9 between
        CALL: (None, "2020-01-09", "2020-02-20"),
        TALKS_FEB: ("2020-02-20", "2020-02-20", "2020-02-20"),
    }


def test_an_undated_post_between_dated_posts_is_bounded_by_them(archive_db):
    posts = [
        post("demo/1", "A photo of the day.", channel="demo", date="2019-12-10T10:00:00+00:00"),
        post("demo/dump-1", CALL, channel="demo"),
        post("demo/2", "A photo of the day.", channel="demo", date="2020-02-20T10:00:00+00:00"),
    ]
    with Archive.open(archive_db) as archive:
        archive.ingest(posts, source())
        (event,) = archive.events()
    assert (event.post, event.date, event.date_min, event.date_max) == (
        "demo/dump-1",
        None,
        "2019-12-10",
        "2020-02-20",
    )


def test_an_undated_post_without_dated_neighbours_is_bounded_by_the_terms(archive_db):
    with Archive.open(archive_db) as archive:
        archive.ingest([post("demo/dump-1", CALL, channel="demo")], source())
        (event,) = archive.events()
    # Pompeo was Secretary of State from 2018-04-26 to 2021-01-20; Lavrov throughout
    assert (event.date, event.date_min, event.date_max) == (None, "2018-04-26", "2021-01-20")


def test_a_new_dated_neighbour_narrows_the_bounds(archive_db):
    """Neighbours are the posts of the same file, in its order (a dump read again with more
    posts, a file of mixed dated and undated posts)."""
    with Archive.open(archive_db) as archive:
        archive.ingest([post("demo/1", TALKS_DEC, channel="demo")], source("file"))
        archive.ingest([post("demo/dump-1", CALL, channel="demo")], source("file"))
        (_, before) = archive.events()
        archive.ingest([post("demo/2", TALKS_FEB, channel="demo")], source("file"))
        (_, after, _) = archive.events()
    assert (before.post, before.date_min, before.date_max) == (
        "demo/dump-1",
        "2019-12-10",
        "2021-01-20",
    )
    assert (after.post, after.date_min, after.date_max) == (
        "demo/dump-1",
        "2019-12-10",
        "2020-02-20",
    )


def test_a_new_dated_post_without_events_narrows_the_bounds_too(archive_db, request):
    photo = "A photo of the day: spring in Moscow."
    with Archive.open(archive_db) as archive:
        archive.ingest([post("demo/1", TALKS_DEC, channel="demo")], source("file"))
        archive.ingest([post("demo/dump-1", CALL, channel="demo")], source("file"))
        archive.update_events()
        archive.ingest([post("demo/2", photo, channel="demo", date="2020-02-20")], source("file"))
        stepwise = records(archive)
    with Archive.open(sibling(request, archive_db, "fresh")) as archive:
        archive.ingest([post("demo/1", TALKS_DEC, channel="demo")], source("file"))
        archive.ingest([post("demo/dump-1", CALL, channel="demo")], source("file"))
        archive.ingest([post("demo/2", photo, channel="demo", date="2020-02-20")], source("file"))
        fresh = records(archive)
    assert fresh[1]["date_max"] == "2020-02-20"
    assert stepwise == fresh


def test_posts_of_another_file_do_not_bound_a_dump(archive_db):
    """A channel synced first (dated posts) and a dump of it imported after: the dump's
    posts are bounded by the dump alone, whose order says nothing of the sync's posts."""
    with Archive.open(archive_db) as archive:
        late = post("demo/9", "A photo of the day.", channel="demo", date="2025-06-01")
        archive.ingest([late], source("sync"))
        archive.ingest(
            [post("demo/1", TALKS_DEC, channel="demo"), post("demo/dump-1", CALL, channel="demo")],
            source("dump"),
        )
        alone = [e for e in archive.events() if e.post == "demo/dump-1"]
    assert [(e.date_min, e.date_max) for e in alone] == [("2019-12-10", "2021-01-20")]


def test_a_day_without_a_year_is_placed_by_the_neighbours_when_terms_are_open(archive_db):
    texts = [
        "🇷🇺🇮🇳 Sergey Lavrov held talks with Subrahmanyam Jaishankar\n📍Moscow, November 15, 2022",
        "🇷🇺🇮🇳📞 On January 9, Sergey Lavrov spoke over the phone with Subrahmanyam Jaishankar.",
        "🇷🇺🇮🇳 Sergey Lavrov held talks with Subrahmanyam Jaishankar\n📍New Delhi, March 2, 2023",
    ]
    found = dump_events(archive_db, texts)
    assert found["demo/dump-2"] == ("2023-01-09", "2023-01-09", "2023-01-09")


@needs_seed
def test_an_import_is_not_failed_by_a_busy_events_pass(archive_db, monkeypatch):
    """The files are in; if another process holds the archive when the events pass
    starts, the import still reports them imported and a later run catches up."""
    from tgscope.errors import StoreError

    def busy(self):
        raise StoreError("archive.db: the archive is locked by another process")

    monkeypatch.setattr(Archive, "update_events", busy)
    with Archive.open(archive_db) as archive:
        report = archive.import_paths([SEED], channel="russia_china_demo")
    assert report.total("added") == 5 and not report.failures


@pytest.mark.pg
def test_posts_committed_while_an_older_writer_is_open_are_extracted_once(pg_url, monkeypatch):
    """PostgreSQL: B commits, and the events catch up, while A, which began writing
    before, is still open; the catch-up goes only up to the write horizon (just before A),
    and the next one, after A commits, reads A's post and B's: each post once, none missed."""
    read: list[str] = []
    monkeypatch.setattr(index_module, "extract_events", _counting(read))
    alpha = post("alpha/1", "Sergey Lavrov held talks with Wang Yi in Moscow.", channel="alpha")
    beta = post(
        "beta/1", "Sergey Lavrov had a telephone conversation with Wang Yi.", channel="beta"
    )
    with Archive.open(pg_url) as first, Archive.open(pg_url) as second:

        def meanwhile(store) -> None:
            second.ingest([beta], source("test://beta"))
            second.update_events()

        first.ingest([alpha], source("test://alpha"), before_commit=meanwhile)
        first.update_events()
        found = [(e["post"], e["mode"]) for e in records(first)]
    assert sorted(found) == [("alpha/1", ["visit"]), ("beta/1", ["phone"])]
    assert sorted(read) == ["alpha/1", "beta/1"]
