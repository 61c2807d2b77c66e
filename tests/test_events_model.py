"""The event record (tgscope.events.model, shared/docs/events.md): JSON field names and order,
and the CSV flattening (one event a row, parties as actor1_name, actor1_country, ... columns)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from tgscope.events.model import (
    CSV_PARTIES,
    EVENT_FIELDS,
    Event,
    Evidence,
    Party,
    Place,
    csv_header,
    csv_row,
)

#: the fields of shared/docs/events.md, in its order
DOC_FIELDS = [
    "post",
    "type",
    "mode",
    "cameo",
    "actors",
    "recipients",
    "place",
    "date",
    "date_min",
    "date_max",
    "occasion",
    "modality",
    "evidence",
]

LAVROV = Party(name="Sergey Lavrov", country="RUS", role="Minister of Foreign Affairs")
QIN = Party(name="Qin Gang", country="CHN", role="Minister of Foreign Affairs")
WEST = Party(name=None, country=None, role=None, org="WEST")


def phone_call(**changes) -> Event:
    """The seed's fourth post's call, as events.md gives it."""
    fields: dict[str, Any] = dict(
        post="russia_china_demo/dump-1",
        type="CONSULT",
        mode=["phone"],
        cameo="041",
        actors=[LAVROV, QIN],
        recipients=[],
        place=None,
        date="2023-01-09",
        date_min="2023-01-09",
        date_max="2023-01-09",
        occasion=None,
        modality="factual",
        evidence=Evidence(start=0, end=10, text="🇷🇺🇨🇳📞 On J"),
    )
    fields.update(changes)
    return Event(**fields)


def test_event_fields_are_the_documents_in_its_order():
    assert list(EVENT_FIELDS) == DOC_FIELDS


def test_to_json_writes_the_fields_in_order_and_never_the_partial_day():
    event = phone_call(partial=(1, 9))
    data = json.loads(event.to_json())
    assert list(data) == DOC_FIELDS
    assert "partial" not in event.to_json()
    assert data == {
        "post": "russia_china_demo/dump-1",
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
        "evidence": {"start": 0, "end": 10, "text": "🇷🇺🇨🇳📞 On J"},
    }


def test_to_json_is_one_line_of_unescaped_text():
    event = phone_call(evidence=Evidence(start=0, end=3, text="a\nб"))
    line = event.to_json()
    assert "\n" not in line and "б" in line and "\\u" not in line


def test_a_record_read_back_is_the_same_event_without_its_partial_day():
    event = phone_call(partial=(1, 9), place=Place(name="Denpasar", country="IDN"))
    again = Event.from_dict(json.loads(event.to_json()))
    assert again == event
    assert again.partial is None
    assert again.to_json() == event.to_json()


def test_a_record_with_fields_added_later_is_still_read():
    data = json.loads(phone_call().to_json()) | {"confidence": 0.9}
    assert Event.from_dict(data) == phone_call()


# -- CSV ----------------------------------------------------------------------------------------


def party_columns(side: str, number: int) -> list[str]:
    return [f"{side}{number}_{part}" for part in ("name", "country", "role", "org")]


def test_csv_header_names_each_partys_columns():
    header = csv_header()
    assert header[:8] == [
        "post",
        "type",
        "mode",
        "cameo",
        "modality",
        "date",
        "date_min",
        "date_max",
    ]
    parties = [
        column
        for side in ("actor", "recipient")
        for number in range(1, CSV_PARTIES + 1)
        for column in party_columns(side, number)
    ]
    assert header[8 : 8 + len(parties)] == parties
    assert header[8 + len(parties) :] == [
        "place_name",
        "place_country",
        "occasion",
        "evidence_start",
        "evidence_end",
        "evidence_text",
    ]
    assert len(set(header)) == len(header)


def rows(*events: Event) -> list[dict[str, str]]:
    """Events through csv.writer and back through csv.DictReader, as R and pandas read them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_header())
    for event in events:
        writer.writerow(csv_row(event))
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_csv_row_is_one_event_with_its_parties_spelled_out():
    event = phone_call(
        mode=["third-party", "multilateral"],
        cameo="044",
        place=Place(name="Denpasar", country="IDN"),
        occasion="G20",
        evidence=Evidence(start=3, end=12, text='he said, "yes"\nthen'),
    )
    (row,) = rows(event)
    expected = {column: "" for column in csv_header()}
    expected |= {
        "post": "russia_china_demo/dump-1",
        "type": "CONSULT",
        "mode": "third-party;multilateral",
        "cameo": "044",
        "modality": "factual",
        "date": "2023-01-09",
        "date_min": "2023-01-09",
        "date_max": "2023-01-09",
        "actor1_name": "Sergey Lavrov",
        "actor1_country": "RUS",
        "actor1_role": "Minister of Foreign Affairs",
        "actor2_name": "Qin Gang",
        "actor2_country": "CHN",
        "actor2_role": "Minister of Foreign Affairs",
        "place_name": "Denpasar",
        "place_country": "IDN",
        "occasion": "G20",
        "evidence_start": "3",
        "evidence_end": "12",
        "evidence_text": 'he said, "yes"\nthen',
    }
    assert row == expected


def test_csv_row_gives_a_bodys_org_and_leaves_absent_values_empty():
    event = phone_call(
        type="ACCUSE",
        mode=[],
        cameo=None,
        actors=[LAVROV],
        recipients=[WEST],
        date=None,
        date_min="2022-11-15",
        date_max=None,
    )
    (row,) = rows(event)
    assert (row["mode"], row["cameo"], row["date"], row["date_min"], row["date_max"]) == (
        "",
        "",
        "",
        "2022-11-15",
        "",
    )
    assert [row[c] for c in party_columns("recipient", 1)] == ["", "", "", "WEST"]
    assert [row[c] for c in party_columns("actor", 2)] == ["", "", "", ""]
    assert (row["place_name"], row["place_country"]) == ("", "")


def test_csv_rows_are_one_an_event():
    found = rows(phone_call(), phone_call(type="SUPPORT", cameo="051"))
    assert [(row["type"], row["cameo"]) for row in found] == [
        ("CONSULT", "041"),
        ("SUPPORT", "051"),
    ]


def many_parties(count: int) -> list[Party]:
    return [Party(name=f"Minister {n}", country="RUS", role=None) for n in range(1, count + 1)]


def test_csv_row_spells_out_four_parties_a_side():
    (row,) = rows(phone_call(actors=many_parties(4)))
    assert [row[f"actor{n}_name"] for n in range(1, 5)] == [f"Minister {n}" for n in range(1, 5)]


def test_csv_row_keeps_a_fifth_party():
    (row,) = rows(phone_call(actors=many_parties(5)))
    assert "Minister 5" in " ".join(row.values())
