"""`tgscope events`: the seed's events as a table, CSV and JSON Lines, each filter, and
one-line errors for values that cannot be right."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tgscope.archive import Archive
from tgscope.cli import cli
from tgscope.events.model import csv_header

from .conftest import SHARED
from .helpers import post, source
from .test_events_model import DOC_FIELDS  # the names of docs/events.md, in order

SEED = SHARED / "seed" / "russia_china_dump.txt"
SEED_CHANNEL = "russia_china_demo"

pytestmark = pytest.mark.skipif(not SEED.exists(), reason=f"{SEED} is absent")

#: shared/docs/events.md's fields, in its order


@pytest.fixture(scope="module")
def seed_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("events_cli") / "seed.db"
    result = CliRunner().invoke(
        cli, ["import", "--db", str(db), "--channel", SEED_CHANNEL, str(SEED)]
    )
    assert result.exit_code == 0, result.output
    return db


def events(db: Path, *args: str, expect: int = 0, format: str = "jsonl") -> Any:
    result = CliRunner().invoke(cli, ["events", "--db", str(db), "--format", format, *args])
    assert result.exit_code == expect, result.output
    return result


def jsonl(db: Path, *args: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in events(db, *args).stdout.splitlines()]


@pytest.fixture(scope="module")
def every(seed_db) -> list[dict[str, Any]]:
    return jsonl(seed_db)


def countries(event: dict[str, Any]) -> set[str]:
    parties = [*event["actors"], *event["recipients"]]
    return {p["country"] for p in parties if p["country"]} | {
        p["org"] for p in parties if "org" in p
    }


def what(event: dict[str, Any]) -> tuple[str, str | None, tuple[str | None, ...]]:
    return (event["type"], event["date"], tuple(a["name"] for a in event["actors"]))


# -- formats -------------------------------------------------------------------------------------


def test_jsonl_lines_have_the_documents_fields_in_order(seed_db, every):
    lines = events(seed_db).stdout.splitlines()
    assert len(lines) == len(every) >= 10
    for line in lines:
        assert list(json.loads(line)) == DOC_FIELDS
    assert all(e["post"].startswith(f"{SEED_CHANNEL}/dump-") for e in every)


def test_jsonl_gives_the_seeds_phone_call_as_events_md_shows_it(every):
    (call,) = [e for e in every if e["mode"] == ["phone"]]
    assert call | {"post": None, "evidence": None} == {
        "post": None,
        "type": "CONSULT",
        "mode": ["phone"],
        "cameo": "041",
        "actors": [
            {"name": "Sergey Lavrov", "country": "RUS", "role": "Minister of Foreign Affairs"},
            {"name": "Qin Gang", "country": "CHN", "role": "Minister of Foreign Affairs"},
        ],
        "recipients": [],
        "place": None,
        "date": "2023-01-09",
        "date_min": "2023-01-09",
        "date_max": "2023-01-09",
        "occasion": None,
        "modality": "factual",
        "evidence": None,
    }
    assert call["evidence"]["start"] == 0
    assert call["evidence"]["text"].startswith(
        "🇷🇺🇨🇳📞 On January 9, Foreign Minister Sergey Lavrov"
    )


def test_csv_is_one_event_a_row_with_the_parties_spelled_out(seed_db, every):
    text = events(seed_db, format="csv").stdout
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    assert reader.fieldnames == csv_header()
    assert len(rows) == len(every)
    assert [(r["post"], r["type"], r["date"]) for r in rows] == [
        (e["post"], e["type"], e["date"] or "") for e in every
    ]
    (call,) = [r for r in rows if r["mode"] == "phone"]
    assert (call["type"], call["cameo"], call["modality"], call["date"]) == (
        "CONSULT",
        "041",
        "factual",
        "2023-01-09",
    )
    assert [call[f"actor{n}_{part}"] for n in (1, 2) for part in ("name", "country", "role")] == [
        "Sergey Lavrov",
        "RUS",
        "Minister of Foreign Affairs",
        "Qin Gang",
        "CHN",
        "Minister of Foreign Affairs",
    ]
    assert call["actor3_name"] == call["recipient1_name"] == ""
    (accuse,) = [r for r in rows if r["recipient1_org"] == "WEST"]
    assert (accuse["type"], accuse["actor1_name"], accuse["recipient1_country"]) == (
        "ACCUSE",
        "Vladimir Putin",
        "",
    )
    delhi = next(r for r in rows if r["place_name"] == "New Delhi")
    assert (delhi["place_country"], delhi["occasion"], delhi["mode"]) == (
        "IND",
        "G20",
        "third-party;multilateral",
    )


def test_the_table_lists_every_event(seed_db, every):
    output = events(seed_db, format="table").stdout
    assert output.startswith(f"{len(every)} event(s)\n")
    words = ("CONSULT phone", "CONSULT video", "SUPPORT", "ACCUSE", "AGREE", "(future)", "WEST")
    for word in words:
        assert word in output, word


def test_the_table_is_the_default_format(seed_db):
    result = CliRunner().invoke(cli, ["events", "--db", str(seed_db), "--mode", "phone"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 event(s)\n")
    assert "Qin Gang" in result.stdout and "Lavrov" in result.stdout


def test_the_table_shows_whole_dates_in_80_columns(seed_db):
    result = CliRunner().invoke(
        cli, ["events", "--db", str(seed_db), "--mode", "phone"], env={"COLUMNS": "80"}
    )
    assert "2023-01-09" in result.stdout


def test_no_match_is_an_empty_table_and_a_note(seed_db):
    result = events(seed_db, "--channel", "nobody", format="table")
    assert result.stdout.startswith("0 event(s)\n")
    assert "note: no event matches" in result.stderr


# -- filters --------------------------------------------------------------------------------------


def is_seed_event(event: dict[str, Any]) -> bool:
    return True


def may_be_after(event: dict[str, Any], day: str) -> bool:
    """It may have happened on or after ``day``: its day or latest bound is not before it."""
    latest = event["date"] or event["date_max"]
    return latest is None or latest >= day


def may_be_before(event: dict[str, Any], day: str) -> bool:
    earliest = event["date"] or event["date_min"]
    return earliest is None or earliest <= day


FILTERS = [
    (("--type", "CONSULT"), lambda e: e["type"] == "CONSULT"),
    (("--type", "accuse"), lambda e: e["type"] == "ACCUSE"),
    (("--dyad", "RUS,CHN"), lambda e: {"RUS", "CHN"} <= countries(e)),
    (("--dyad", "China,Russia"), lambda e: {"RUS", "CHN"} <= countries(e)),
    (("--country", "Russia"), lambda e: "RUS" in countries(e)),
    (("--country", "China"), lambda e: "CHN" in countries(e)),
    (("--country", "Китай"), lambda e: "CHN" in countries(e)),
    (("--country", "usa"), lambda e: "USA" in countries(e)),
    (("--country", "WEST"), lambda e: "WEST" in countries(e)),
    (("--actor", "Lavrov"), lambda e: any("Lavrov" in (a["name"] or "") for a in e["actors"])),
    (("--actor", "lavrov"), lambda e: any("Lavrov" in (a["name"] or "") for a in e["actors"])),
    (("--actor", "Qin Gang"), lambda e: any(a["name"] == "Qin Gang" for a in e["actors"])),
    (("--mode", "phone"), lambda e: "phone" in e["mode"]),
    (("--mode", "multilateral"), lambda e: "multilateral" in e["mode"]),
    (("--modality", "future"), lambda e: e["modality"] == "future"),
    (("--modality", "factual"), lambda e: e["modality"] == "factual"),
    (("--channel", SEED_CHANNEL), is_seed_event),
    (("--channel", "@" + SEED_CHANNEL.upper()), is_seed_event),
    (("--since", "2023-01-09"), lambda e: may_be_after(e, "2023-01-09")),
    (("--since", "2023-01-10"), lambda e: may_be_after(e, "2023-01-10")),
    (("--until", "2022-11-15"), lambda e: may_be_before(e, "2022-11-15")),
    (("--since", "2023"), lambda e: may_be_after(e, "2023-01-01")),
    (("--until", "2022"), lambda e: may_be_before(e, "2022-12-31")),
    (("--until", "2022-11"), lambda e: may_be_before(e, "2022-11-30")),
    (
        ("--since", "2023-01", "--until", "2023-01"),
        lambda e: may_be_after(e, "2023-01-01") and may_be_before(e, "2023-01-31"),
    ),
    (
        ("--type", "SUPPORT", "--dyad", "RUS,CHN", "--since", "2023-03"),
        lambda e: e["type"] == "SUPPORT" and may_be_after(e, "2023-03-01"),
    ),
]


@pytest.mark.parametrize(("args", "keeps"), FILTERS, ids=[" ".join(a) for a, _ in FILTERS])
def test_each_filter_keeps_the_events_it_names(seed_db, every, args, keeps):
    expected = [e for e in every if keeps(e)]
    assert expected, "a filter that keeps nothing would prove nothing"
    found = jsonl(seed_db, *args)
    assert found == expected


def test_the_filters_narrow_to_the_events_the_text_states(seed_db):
    assert [what(e) for e in jsonl(seed_db, "--mode", "phone")] == [
        ("CONSULT", "2023-01-09", ("Sergey Lavrov", "Qin Gang"))
    ]
    assert [what(e) for e in jsonl(seed_db, "--modality", "future")] == [
        ("AGREE", "2023-01-09", ("Sergey Lavrov",))
    ]
    assert [what(e) for e in jsonl(seed_db, "--type", "CONSULT", "--since", "2023-03")] == [
        ("CONSULT", "2023-03-02", ("Sergey Lavrov", "Qin Gang"))
    ]
    factual = jsonl(seed_db, "--type", "CONSULT", "--dyad", "RUS,CHN", "--modality", "factual")
    assert [(e["date"] or e["date_max"], e["mode"]) for e in factual] == [
        ("2022-11-15", ["third-party", "multilateral"]),  # UNGA-77, bounded by Denpasar
        ("2022-11-15", ["third-party", "multilateral"]),  # Denpasar
        ("2023-01-09", ["video"]),  # bounded by the call of January 9
        ("2023-01-09", ["phone"]),
        ("2023-03-02", ["third-party", "multilateral"]),
    ]
    assert jsonl(seed_db, "--channel", "nobody") == []
    assert jsonl(seed_db, "--country", "DEU") == []


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--type", "MEET"), "unknown event type 'MEET': one of CONSULT, AGREE,"),
        (("--dyad", "RUS"), "a dyad is two countries, as RUS,CHN: not 'RUS'"),
        (("--dyad", "RUS,CHN,USA"), "a dyad is two countries, as RUS,CHN: not 'RUS,CHN,USA'"),
        (("--dyad", "RUS,XXX"), "unknown country 'XXX'"),
        (("--country", "Narnia"), "unknown country 'Narnia'"),
        (("--since", "2023-13"), "since: not a date: '2023-13'"),
        (("--until", "soon"), "until: not a date: 'soon'"),
        (("--since", "2023-02-30"), "since: not a date: '2023-02-30'"),
        (("--since", "2023-02", "--until", "2023-01"), "the since date 2023-02 is after the until"),
    ],
)
def test_bad_values_are_one_line_errors(seed_db, args, message):
    result = events(seed_db, *args, expect=1)
    assert result.output.startswith("Error: " + message), result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert "--" not in result.output.split(":", 1)[1]  # the library's words, not the flags


def test_a_missing_archive_is_a_one_line_error(tmp_path):
    result = events(tmp_path / "none.db", expect=1)
    assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize(("option", "value"), [("--mode", "fax"), ("--modality", "maybe")])
def test_choices_are_checked_as_click_checks_them(seed_db, option, value):
    result = events(seed_db, option, value, expect=2)
    assert f"Invalid value for '{option}'" in result.output


# -- open ranges --------------------------------------------------------------------------------


def test_an_event_open_at_the_end_may_have_happened_after_since(tmp_path):
    db = tmp_path / "open.db"
    call = "Sergey Lavrov spoke over the phone with Subrahmanyam Jaishankar."
    with Archive.open(db) as archive:
        archive.ingest([post("demo/dump-1", call, channel="demo")], source())
        (event,) = archive.events()
    assert (event.date, event.date_min, event.date_max) == (None, "2019-05-30", None)
    assert [e["post"] for e in jsonl(db, "--since", "2024-01-01")] == ["demo/dump-1"]


def test_an_import_without_events_leaves_them_to_the_events_command(tmp_path):
    """A bulk load skips the events pass; the next events command catches up."""
    db = tmp_path / "bulk.db"
    result = CliRunner().invoke(
        cli, ["import", "--db", str(db), "--channel", SEED_CHANNEL, "--no-events", str(SEED)]
    )
    assert result.exit_code == 0, result.output
    with Archive.open(db, create=False) as archive:
        store: Any = archive.store
        assert store.events.state() == {}
        assert store.db.execute("SELECT count(*) FROM events").fetchone() == (0,)
    assert len(jsonl(db)) == 12  # the seed's events, extracted now


def test_an_actor_is_a_name_not_a_pattern(seed_db):
    """--actor % or _ match names containing those characters, not every name."""
    assert jsonl(seed_db, "--actor", "%") == []
    assert jsonl(seed_db, "--actor", "_") == []
    assert len(jsonl(seed_db, "--actor", "Lavrov")) > 0
