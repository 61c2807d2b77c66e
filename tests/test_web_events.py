"""The diplomatic events in the web app: ``/events``, ``/events/timeline``, a post's events
with their evidence highlighted, and ``serve`` catching the events table up.

The archives are written here event by event (not extracted), so that every row the pages
show is known exactly whatever the extractor makes of the texts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tgscope.archive import Archive
from tgscope.events.lexicon import load
from tgscope.events.model import Event
from tgscope.web import create_app
from tgscope.web.render import render_text

from .helpers import post, source
from .web_archives import assert_safe_page, get_html, get_json

LAVROV = {"name": "Sergey Lavrov", "country": "RUS", "role": "Minister of Foreign Affairs"}
WANG = {"name": "Wang Yi", "country": "CHN", "role": "Minister of Foreign Affairs"}
QIN = {"name": "Qin Gang", "country": "CHN", "role": "Minister of Foreign Affairs"}
JAISHANKAR = {"name": "S. Jaishankar", "country": "IND", "role": "Minister of External Affairs"}
PUTIN = {"name": "Vladimir Putin", "country": "RUS", "role": "President"}
XI = {"name": "Xi Jinping", "country": "CHN", "role": "President"}
WEST = {"name": None, "country": None, "role": None, "org": "WEST"}

# emoji (two code points a flag) and HTML's special characters before and inside the evidence
BEIJING = "🇷🇺🇨🇳 <Talks> & more: Sergey Lavrov & Wang Yi held talks in Beijing. They praised «ties»."
BEIJING_TALKS = "Sergey Lavrov & Wang Yi held talks in Beijing."
BEIJING_PRAISE = "They praised «ties»."
DELHI = "Lavrov met Qin Gang on the sidelines of the G20 in New Delhi."
CALL = "📞 Lavrov and Qin Gang spoke by phone. Lavrov invited Qin Gang to visit Moscow."
PLAN = "Putin will meet Xi in Moscow next month."
INDIA = "Lavrov met Jaishankar in New Delhi."
UNGA = "Lavrov and Wang Yi met on the sidelines of the UN General Assembly."
RECALL = "Putin recalled his meeting with Xi in Samarkand."
WESTERN = "Lavrov criticised certain Western countries."

POSTS = [
    post("mid/1", BEIJING, channel="mid", date="2023-01-09T10:00:00+00:00",
         entities=[{"type": "bold", "offset": 0, "length": 20}]),
    post("mid/2", DELHI, channel="mid", date="2023-03-02T12:00:00+00:00"),
    post("mid/3", CALL, channel="mid", date="2023-03-20T09:00:00+00:00"),
    post("mid/4", PLAN, channel="mid", date="2023-02-01T09:00:00+00:00"),
    post("mid/5", INDIA, channel="mid", date="2023-02-15T09:00:00+00:00"),
    post("mid/dump-1", UNGA, channel="mid"),
    post("emb/1", RECALL, channel="emb", date="2023-01-20T09:00:00+00:00"),
    post("emb/2", WESTERN, channel="emb", date="2023-03-21T09:00:00+00:00"),
    post("emb/3", "Opening hours of the consular section", channel="emb",
         date="2023-03-22T09:00:00+00:00"),
]  # fmt: skip


def span(text: str, part: str) -> dict[str, Any]:
    start = text.index(part)
    return {"start": start, "end": start + len(part), "text": part}


def day(date: str) -> dict[str, str]:
    return {"date": date, "date_min": date, "date_max": date}


def consult(key: str, text: str, part: str, parties: list, modes: list[str], **fields) -> Event:
    fields.setdefault("cameo", "040")
    return Event(key, "CONSULT", mode=modes, actors=parties, evidence=span(text, part), **fields)


EVENTS = {
    "mid/1": [
        consult("mid/1", BEIJING, BEIJING_TALKS, [LAVROV, WANG], ["visit"], cameo="042",
                place={"name": "Beijing", "country": "CHN"}, **day("2023-01-09")),
        Event("mid/1", "SUPPORT", cameo="051", actors=[LAVROV], recipients=[WANG],
              evidence=span(BEIJING, BEIJING_PRAISE), **day("2023-01-09")),
    ],
    "mid/2": [
        consult("mid/2", DELHI, DELHI, [LAVROV, QIN], ["third-party", "multilateral"],
                place={"name": "New Delhi", "country": "IND"}, occasion="G20",
                **day("2023-03-02")),
    ],
    "mid/3": [
        consult("mid/3", CALL, "Lavrov and Qin Gang spoke by phone.", [LAVROV, QIN], ["phone"],
                **day("2023-03-20")),
        Event("mid/3", "AGREE", cameo="036", actors=[LAVROV], recipients=[QIN],
              place={"name": "Moscow", "country": "RUS"}, modality="future",
              evidence=span(CALL, "Lavrov invited Qin Gang to visit Moscow."),
              **day("2023-03-20")),
    ],
    "mid/4": [
        consult("mid/4", PLAN, PLAN, [PUTIN, XI], ["visit"], modality="future",
                place={"name": "Moscow", "country": "RUS"}, date_min="2023-03-01",
                date_max="2023-03-31"),
    ],
    "mid/5": [
        consult("mid/5", INDIA, INDIA, [LAVROV, JAISHANKAR], ["visit"],
                place={"name": "New Delhi", "country": "IND"}, **day("2023-02-15")),
    ],
    "mid/dump-1": [
        consult("mid/dump-1", UNGA, UNGA, [LAVROV, WANG], ["third-party", "multilateral"],
                place={"name": "New York", "country": "USA"}, occasion="UNGA",
                date_min="2022-09-01", date_max="2022-11-15"),
    ],
    "emb/1": [
        consult("emb/1", RECALL, RECALL, [PUTIN, XI], ["third-party"], modality="reported",
                place={"name": "Samarkand", "country": "UZB"}, date_max="2023-01-20"),
    ],
    "emb/2": [
        Event("emb/2", "ACCUSE", cameo="111", actors=[LAVROV], recipients=[WEST],
              evidence=span(WESTERN, WESTERN), **day("2023-03-21")),
    ],
}  # fmt: skip


def write_events(db: Path, events: dict[str, list[Event]]) -> None:
    """The events table holding exactly these events, up to date with the archive."""
    with Archive.open(db, create=False) as archive:
        tables = archive.store.events
        with tables.writing() as seq:
            tables.clear()
            for key, found in events.items():
                (pk,) = tables.db.execute("SELECT pk FROM posts WHERE key = ?", (key,)).fetchone()
                tables.save(pk, found)
            tables.save_state({"seq": seq, "version": load().version})


def build(path: Path) -> Path:
    with Archive.open(path) as archive:
        archive.ingest(POSTS, source())
    write_events(path, EVENTS)
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("web-events") / "events.db")


@pytest.fixture(scope="module")
def client(db: Path) -> Iterator[TestClient]:
    yield TestClient(create_app(db))


def rows(events: list[dict]) -> list[tuple[str, str, str]]:
    """Who, what and when, the way a test reads a page's events."""
    return [
        (e["post"], e["type"], e["date"] or f"{e['date_min']}..{e['date_max']}") for e in events
    ]


def records(events: list[dict]) -> list[dict]:
    return [{name: value for name, value in e.items() if name != "link"} for e in events]


ALL = [
    ("mid/dump-1", "CONSULT", "2022-09-01..2022-11-15"),
    ("mid/1", "CONSULT", "2023-01-09"),
    ("mid/1", "SUPPORT", "2023-01-09"),
    ("emb/1", "CONSULT", "None..2023-01-20"),
    ("mid/5", "CONSULT", "2023-02-15"),
    ("mid/2", "CONSULT", "2023-03-02"),
    ("mid/3", "CONSULT", "2023-03-20"),
    ("mid/3", "AGREE", "2023-03-20"),
    ("emb/2", "ACCUSE", "2023-03-21"),
    ("mid/4", "CONSULT", "2023-03-01..2023-03-31"),
]


# --- /events ----------------------------------------------------------------------------------


def test_the_events_twin_holds_the_records_the_api_gives_each_linked_to_its_post(client, db):
    data = get_json(client, "/events.json")
    with Archive.open(db, create=False) as archive:
        expected = [event.to_dict() for event in archive.events()]
    assert data["total"] == 10 and data["next"] is None
    assert data["index"] == {"built": True, "behind": 0, "outdated": False}
    assert rows(data["events"]) == ALL
    assert records(data["events"]) == expected
    assert [e["link"] for e in data["events"]] == [
        "/posts/mid/dump-1#event-1",
        "/posts/mid/1#event-1",
        "/posts/mid/1#event-2",
        "/posts/emb/1#event-1",
        "/posts/mid/5#event-1",
        "/posts/mid/2#event-1",
        "/posts/mid/3#event-1",
        "/posts/mid/3#event-2",
        "/posts/emb/2#event-1",
        "/posts/mid/4#event-1",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("channel=emb", [("emb/1", "CONSULT"), ("emb/2", "ACCUSE")]),
        ("since=2023-03&until=2023-03-20", [("mid/2", "CONSULT"), ("mid/3", "CONSULT"),
                                            ("mid/3", "AGREE"), ("mid/4", "CONSULT")]),
        ("type=agree", [("mid/3", "AGREE")]),
        ("actor=Putin", [("emb/1", "CONSULT"), ("mid/4", "CONSULT")]),
        ("country=India", [("mid/5", "CONSULT")]),
        ("country=IND", [("mid/5", "CONSULT")]),
        ("dyad=RUS,IND", [("mid/5", "CONSULT")]),
        ("dyad=Russia,China&type=CONSULT&modality=factual",
         [("mid/dump-1", "CONSULT"), ("mid/1", "CONSULT"), ("mid/2", "CONSULT"),
          ("mid/3", "CONSULT")]),
        ("mode=Phone", [("mid/3", "CONSULT")]),
        ("modality=future", [("mid/3", "AGREE"), ("mid/4", "CONSULT")]),
        ("country=WEST", [("emb/2", "ACCUSE")]),
        ("channel=nobody", []),
    ],
)  # fmt: skip
def test_the_filters_are_those_of_tgscope_events(client, query, expected):
    data = get_json(client, f"/events.json?{query}")
    assert [(e["post"], e["type"]) for e in data["events"]] == expected
    assert data["total"] == len(expected)


def test_the_twin_says_the_filter_as_applied(client):
    data = get_json(client, "/events.json?dyad=Russia,%20China&since=2023&type=consult")
    assert data["query"] == {"dyad": "Russia, China", "since": "2023", "type": "consult"}
    assert data["filter"] == {"since": "2023-01-01", "type": "CONSULT", "dyad": ["RUS", "CHN"]}
    assert data["timeline"] == "/events/timeline?dyad=Russia%2C+China&since=2023"


def test_events_are_paged_with_limit_and_offset(client):
    first = get_json(client, "/events.json?limit=4&type=CONSULT")
    assert first["total"] == 7
    assert rows(first["events"]) == [row for row in ALL if row[1] == "CONSULT"][:4]
    assert first["next"] == "/events.json?type=CONSULT&limit=4&offset=4"
    second = get_json(client, first["next"])
    assert rows(second["events"]) == [row for row in ALL if row[1] == "CONSULT"][4:]
    assert second["next"] is None and second["offset"] == 4
    html = get_html(client, "/events?limit=4&type=CONSULT")
    assert (
        '<a class="next" rel="next" href="/events?type=CONSULT&amp;limit=4&amp;offset=4">' in html
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("type=MEET", "type: unknown event type 'MEET': one of CONSULT, AGREE,"),
        ("mode=email", "mode: unknown mode 'email': one of phone, video, visit,"),
        ("modality=maybe", "modality: unknown modality 'maybe': one of factual, future,"),
        ("dyad=RUS", "dyad: a dyad is two countries, as RUS,CHN: not 'RUS'"),
        ("dyad=RUS,Narnia", "dyad: unknown country 'Narnia': use its ISO 3166 alpha-3 code"),
        ("country=Atlantis", "country: unknown country 'Atlantis'"),
        ("since=yesterday", "since: not a date: 'yesterday' (use YYYY-MM-DD)"),
        ("until=2023-02-30", "until: not a date: '2023-02-30' (use YYYY-MM-DD)"),
        ("since=2023-05&until=2023-01", "since, until: the since date 2023-05 is after the until"),
        ("limit=0", "limit: 0 is out of range (1 to 500)"),
        ("offset=x", "offset: 'x' is not a whole number"),
        ("actor=" + "x" * 201, "actor: too long (201 characters, at most 200)"),
    ],
)
def test_bad_filters_are_400s_with_one_line(client, query, message):
    for path in ("/events.json", "/events"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400
    data = get_json(client, f"/events.json?{query}", status=400)
    assert data["ok"] is False and data["error"].startswith(message), data["error"]
    assert "\n" not in data["error"]
    assert message.split(":")[0] in get_html(client, f"/events?{query}", status=400)


def test_the_events_page_shows_each_event_in_a_row_linked_to_its_evidence(client):
    html = get_html(client, "/events?dyad=RUS,CHN")
    page = assert_safe_page(html)
    assert (
        '<tr><td class="event-date">2022-09-01 – 2022-11-15</td>'
        '<td><b>CONSULT</b> <span class="event-mode">(third-party, multilateral)</span></td>'
        '<td class="modality-factual">factual</td>'
        '<td><span class="party" title="Minister of Foreign Affairs">Sergey Lavrov (RUS)</span>; '
        '<span class="party" title="Minister of Foreign Affairs">Wang Yi (CHN)</span></td>'
        "<td></td><td>New York, USA</td><td>UNGA</td>"
        '<td><a href="/posts/mid/dump-1#event-1">mid/dump-1</a></td></tr>'
    ) in html
    assert (
        '<td class="event-date">before 2023-01-20</td><td><b>CONSULT</b> '
        '<span class="event-mode">(third-party)</span></td>'
        '<td class="modality-reported">reported</td>'
    ) in html
    assert '<a class="timeline-link" href="/events/timeline?dyad=RUS%2CCHN">' in html
    links = [link for link in page.links() if link.startswith("/posts/")]
    assert links == [
        "/posts/mid/dump-1#event-1",
        "/posts/mid/1#event-1",
        "/posts/mid/1#event-2",
        "/posts/emb/1#event-1",
        "/posts/mid/2#event-1",
        "/posts/mid/3#event-1",
        "/posts/mid/3#event-2",
        "/posts/mid/4#event-1",
    ]
    assert "<option selected>" not in html  # no type, mode or modality chosen
    chosen = get_html(client, "/events?type=consult&mode=phone")
    assert "<option selected>CONSULT</option>" in chosen
    assert "<option selected>phone</option>" in chosen
    accuse = get_html(client, "/events?type=ACCUSE")
    assert '<span class="party">WEST</span>' in accuse  # a bloc: no name, no role


def test_an_archive_without_events_says_how_to_fill_the_table(tmp_path):
    db = tmp_path / "plain.db"
    with Archive.open(db) as archive:
        archive.ingest(POSTS[:2], source())  # ingest alone does not extract
    client = TestClient(create_app(db))
    data = get_json(client, "/events.json")
    assert data["index"] == {"built": False, "behind": None, "outdated": False}
    assert data["events"] == [] and data["total"] == 0
    assert "The events table has not been filled yet" in get_html(client, "/events")


def test_the_pages_say_when_the_events_table_is_behind(tmp_path):
    db = build(tmp_path / "behind.db")
    client = TestClient(create_app(db))
    with Archive.open(db, create=False) as archive:
        archive.ingest([post("mid/9", INDIA, channel="mid", date="2023-04-01")], source("t://9"))
    assert get_json(client, "/events.json")["index"] == {
        "built": True,
        "behind": 1,
        "outdated": False,
    }
    assert "The events table is 1 write(s) behind the archive" in get_html(client, "/events")
    assert "The events table is 1 write(s) behind" in get_html(client, "/posts/mid/1")
    with Archive.open(db, create=False) as archive:
        archive.store.events.save_state({"version": "older"})
        archive.store.events.db.commit()
    assert get_json(client, "/events/timeline.json")["index"]["outdated"] is True
    assert "extracted with other dictionaries" in get_html(client, "/events/timeline")


# --- /events/timeline -------------------------------------------------------------------------


def test_the_timeline_counts_the_meetings_that_happened_by_month_and_mode(client):
    data = get_json(client, "/events/timeline.json?dyad=RUS,CHN")
    assert data["dyad"] == ["RUS", "CHN"]
    assert data["chart"] == {
        "months": ["2023-01", "2023-02", "2023-03"],
        "series": [
            {"mode": "phone", "counts": [0, 0, 1]},
            {"mode": "visit", "counts": [1, 0, 0]},
            {"mode": "multilateral", "counts": [0, 0, 1]},
        ],
    }
    assert data["total"] == 4 and data["unplaced"] == 1  # the UNGA meeting: Sept. to Nov.
    assert [(e["post"], e["link"]) for e in data["meetings"]] == [
        ("mid/dump-1", "/posts/mid/dump-1#event-1"),
        ("mid/1", "/posts/mid/1#event-1"),
        ("mid/2", "/posts/mid/2#event-1"),
        ("mid/3", "/posts/mid/3#event-1"),
    ]
    assert {name: [e["post"] for e in found] for name, found in data["other"].items()} == {
        "future": ["mid/4"],
        "negated": [],
        "reported": ["emb/1"],
    }
    assert data["other_total"] == {"future": 1, "negated": 0, "reported": 1}
    assert get_json(client, "/events/timeline.json?dyad=China,Russia")["chart"] == data["chart"]
    later = get_json(client, "/events/timeline.json?dyad=RUS,CHN&since=2023-02&channel=mid")
    assert later["chart"] == {
        "months": ["2023-03"],
        "series": [{"mode": "phone", "counts": [1]}, {"mode": "multilateral", "counts": [1]}],
    }
    assert [e["post"] for e in later["other"]["future"]] == ["mid/4"]


def test_the_timeline_page_draws_its_chart_from_an_inert_data_block(client):
    html = get_html(client, "/events/timeline?dyad=RUS,CHN")
    page = assert_safe_page(html)
    assert (
        page.data_block("timeline-data")
        == get_json(client, "/events/timeline.json?dyad=RUS,CHN")["chart"]
    )
    assert '<div class="chart" id="chart-timeline" data-chart="stacked-months"' in html
    assert "<h1>Meetings RUS – CHN</h1>" in html
    assert "1 of them cannot be placed in one month" in html
    assert '<td class="event-date">2023-03-01 – 2023-03-31</td>' in html  # the planned visit
    assert "Planned, invited or agreed (1)" in html and "Reported or recalled (1)" in html
    assert "Denied" not in html
    assert '<a href="/posts/mid/2#event-1">mid/2</a>' in html


def test_a_timeline_without_two_countries_asks_for_them(client):
    data = get_json(client, "/events/timeline.json")
    assert data["dyad"] is None and data["chart"] == {"months": [], "series": []}
    html = get_html(client, "/events/timeline")
    assert "Name two countries" in html and "chart-timeline" not in html
    error = get_json(client, "/events/timeline.json?dyad=RUS,XYZ", status=400)["error"]
    assert error == "dyad: unknown country 'XYZ': use its ISO 3166 alpha-3 code, as RUS"
    none = get_json(client, "/events/timeline.json?dyad=IND,CHN")
    assert none["chart"] == {"months": [], "series": []} and none["meetings"] == []
    assert "No meeting of these two countries" in get_html(client, "/events/timeline?dyad=IND,CHN")


# --- a post's events ------------------------------------------------------------------------


def test_a_post_lists_its_events_and_marks_their_evidence_in_its_text(client, db):
    data = get_json(client, "/posts/mid/1.json")
    with Archive.open(db, create=False) as archive:
        expected = [event.to_dict() for event in archive.events(post="mid/1")]
    assert data["events"] == expected
    talks, praise = BEIJING.index(BEIJING_TALKS), BEIJING.index(BEIJING_PRAISE)
    assert talks == 21  # code points: each flag is two (UTF-16 would count 25)
    assert data["evidence_marks"] == [
        [talks, talks + len(BEIJING_TALKS), 1],
        [praise, praise + len(BEIJING_PRAISE), 2],
    ]
    html = get_html(client, "/posts/mid/1")
    assert_safe_page(html)
    # the bold entity (0..20) ends before the evidence; everything escaped once
    assert (
        '<div class="text"><b>🇷🇺🇨🇳 &lt;Talks&gt; &amp; more:</b> '
        '<mark class="evidence">Sergey Lavrov &amp; Wang Yi held talks in Beijing.</mark> '
        '<mark class="evidence">They praised «ties».</mark></div>'
    ) in html
    assert '<li class="event" id="event-1">' in html and '<li class="event" id="event-2">' in html
    assert (
        '<div class="event-head"><b>CONSULT</b> <span class="event-mode">(visit)</span>'
        ' <span class="modality-factual">factual</span> · 2023-01-09 · Beijing, CHN</div>'
    ) in html
    assert '<blockquote class="event-evidence">They praised «ties».</blockquote>' in html


def test_a_mark_crossing_an_entity_is_closed_and_reopened_around_it(tmp_path):
    db = tmp_path / "cross.db"
    with Archive.open(db) as archive:
        archive.ingest([post("mid/1", BEIJING, channel="mid", date="2023-01-09",
                             entities=[{"type": "bold", "offset": 16, "length": 16}])],
                       source())  # fmt: skip
    write_events(db, {"mid/1": EVENTS["mid/1"][:1]})
    html = get_html(TestClient(create_app(db)), "/posts/mid/1")
    assert (
        '<div class="text">🇷🇺🇨🇳 &lt;Talks&gt; &amp; m<b>ore: <mark class="evidence">Sergey Lavr'
        '</mark></b><mark class="evidence">ov &amp; Wang Yi held talks in Beijing.</mark>'
        " They praised «ties».</div>"
    ) in html


def test_evidence_no_longer_in_the_text_is_not_marked(tmp_path):
    db = tmp_path / "edited.db"
    with Archive.open(db) as archive:
        archive.ingest([post("mid/3", CALL, channel="mid", date="2023-03-20")], source())
    moved = consult("mid/3", CALL, "Lavrov and Qin Gang spoke by phone.", [LAVROV, QIN],
                    ["phone"], **day("2023-03-20"))  # fmt: skip
    moved.evidence = {**moved.evidence, "start": moved.evidence["start"] + 1}
    write_events(db, {"mid/3": [moved]})
    client = TestClient(create_app(db))
    assert get_json(client, "/posts/mid/3.json")["evidence_marks"] == []
    html = get_html(client, "/posts/mid/3")
    assert "<mark" not in html and "This evidence is no longer in the post's text" in html


def test_a_post_without_events_shows_no_events_section(client):
    assert get_json(client, "/posts/emb/3.json")["events"] == []
    assert "<h2>Events</h2>" not in get_html(client, "/posts/emb/3")
    assert "<h2>Events</h2>" in get_html(client, "/posts/mid/5")


def test_every_page_links_the_events_in_its_navigation(client):
    for path in ("/", "/events", "/posts/mid/1", "/search"):
        assert "<nav>" in get_html(client, path)
        assert '<a href="/events">Events</a>' in get_html(client, path)


def test_hostile_text_in_an_event_stays_text(tmp_path):
    db = tmp_path / "hostile.db"
    text = '<script>window.__xss=1</script> Lavrov met <img src=x onerror="alert(1)"> in Bali'
    with Archive.open(db) as archive:
        archive.ingest([post("x/1", text, channel="x", date="2023-05-01")], source())
    hostile = {"name": '"><svg onload=alert(1)>', "country": "RUS", "role": "<b>role</b>"}
    event = consult("x/1", text, "Lavrov met <img", [hostile, WANG], ["meet"],
                    place={"name": "<i>Bali</i>", "country": "IDN"}, occasion="</td><td>",
                    **day("2023-05-01"))  # fmt: skip
    write_events(db, {"x/1": [event]})
    client = TestClient(create_app(db))
    for path in ("/events", "/events/timeline?dyad=RUS,CHN", "/posts/x/1"):
        html = get_html(client, path)
        assert_safe_page(html)
        assert "<svg" not in html and "<img" not in html and "<i>Bali" not in html
    html = get_html(client, "/posts/x/1")
    assert '<mark class="evidence">Lavrov met &lt;img</mark>' in html


# --- serve ----------------------------------------------------------------------------------


def test_serve_brings_the_events_table_up_to_date_before_serving(tmp_path):
    from tgscope.web.server import prepare

    db = tmp_path / "stale.db"
    with Archive.open(db) as archive:
        archive.ingest(POSTS, source())
    said: list[str] = []
    prepare(db, said.append)
    assert said == []
    with sqlite3.connect(db) as connection:
        state = dict(connection.execute("SELECT name, value FROM events_state"))
        (last,) = connection.execute("SELECT value FROM meta WHERE name = 'seq'").fetchone()
    assert state["seq"] == str(last) and state["version"] == load().version
    data = get_json(TestClient(create_app(db)), "/events.json")
    assert data["index"] == {"built": True, "behind": 0, "outdated": False}


# --- the renderer's marks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "marks", "html"),
    [
        ("a<b>c", [(1, 4)], 'a<mark class="evidence">&lt;b&gt;</mark>c'),
        ("🇷🇺 x & y", [(3, 8)], '🇷🇺 <mark class="evidence">x &amp; y</mark>'),
        ("abcdef", [(0, 2), (1, 4), (4, 5)], '<mark class="evidence">abcde</mark>f'),
        ("abc", [(2, 99)], 'ab<mark class="evidence">c</mark>'),
        ("abc", [(2, 1), (-1, 2), (5, 9), ("x", 2), (1,), None], "abc"),
    ],
)
def test_marks_are_ranges_of_code_points_joined_and_kept_in_the_text(text, marks, html):
    assert str(render_text(text, None, marks)) == html


def test_a_post_entity_cannot_pass_for_a_mark():
    entity = {"type": "evidence", "offset": 0, "length": 3}
    assert str(render_text("abc", [entity])) == "abc"


def test_a_link_crossing_a_mark_is_closed_and_reopened():
    text = "see #Tag now"
    tag = {"type": "hashtag", "offset": 4, "length": 4}
    assert str(render_text(text, [tag], [(0, 6)])) == (
        '<mark class="evidence">see <a href="/hashtags/tag">#T</a></mark>'
        '<a href="/hashtags/tag">ag</a> now'
    )


# --- in a browser -----------------------------------------------------------------------------

DRAWN = """element => {
    const chart = echarts.getInstanceByDom(element);
    const canvas = element.querySelector("canvas");
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let colour = 0;  // the bars' saturated pixels, not grey axes and labels
    for (let i = 0; i < pixels.length; i += 4) {
        const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
        if (pixels[i + 3] && Math.max(r, g, b) - Math.min(r, g, b) > 60) colour += 1;
    }
    return {
        series: chart.getOption().series.map(s => [s.name, s.data]),
        months: chart.getOption().xAxis[0].data,
        colour: colour, area: canvas.width * canvas.height,
    };
}"""


@pytest.mark.slow
def test_the_events_pages_in_chromium(tmp_path):
    from .browser import launch_browser, page_errors, serve_archive

    db = build(tmp_path / "browse.db")
    with serve_archive(db) as site, launch_browser() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(10_000)
        errors = page_errors(page)
        response = page.goto(f"{site}/events")
        assert response is not None and response.status == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert page.locator("table.events tbody tr").count() == 10
        page.click("a[href='/posts/mid/1#event-2']")
        page.wait_for_url(f"{site}/posts/mid/1#event-2")
        assert page.locator(".event:target").get_attribute("id") == "event-2"
        assert page.locator(".text mark.evidence").all_inner_texts() == [
            BEIJING_TALKS,
            BEIJING_PRAISE,
        ]
        page.goto(f"{site}/")
        page.click("header nav a[href='/events']")
        page.wait_for_url(f"{site}/events")
        page.fill("input[name=dyad]", "RUS,CHN")
        page.select_option("select[name=type]", "CONSULT")
        page.select_option("select[name=modality]", "factual")
        page.click("form.events-filter button")
        page.wait_for_url(f"{site}/events?*dyad=RUS%2CCHN*")
        assert page.locator("table.events tbody tr").count() == 4
        page.click("a.timeline-link")
        page.wait_for_selector("#chart-timeline[data-drawn=yes]")
        state = page.eval_on_selector("#chart-timeline", DRAWN)
        assert state["months"] == ["2023-01", "2023-02", "2023-03"]
        assert state["series"] == [
            ["phone", [0, 0, 1]],
            ["visit", [1, 0, 0]],
            ["multilateral", [0, 0, 1]],
        ]
        assert state["colour"] > state["area"] // 200, state
        assert page.locator("table.meetings tbody tr").count() == 4
        assert errors == []


def test_an_import_that_changes_nothing_leaves_the_table_up_to_date(tmp_path):
    """Re-importing the same posts moves the archive's write counter, not its posts: the
    page must not say the events table is behind."""
    db = tmp_path / "again.db"
    posts = [
        post(
            "mid/1",
            "Sergey Lavrov held talks with Wang Yi in Beijing.",
            channel="mid",
            date="2024-04-01T09:00:00+00:00",
        )
    ]
    with Archive.open(db) as archive:
        archive.ingest(posts, source("a"))
        archive.update_events()
        archive.ingest(posts, source("b"))  # the same posts, seen again
    index = get_json(TestClient(create_app(db)), "/events.json")["index"]
    assert (index["built"], index["behind"]) == (True, 0)
