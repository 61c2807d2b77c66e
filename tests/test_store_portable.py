"""The store's SQL is written in forms PostgreSQL takes too (docs/scale-out.md, step 1), and
what it stores is text PostgreSQL takes: no NUL."""

from __future__ import annotations

import copy
import re
import sqlite3
from pathlib import Path

import pytest

from tgscope.record import Channel
from tgscope.store.sqlite import SQLiteStore

from .helpers import lines_matching, post, source

STORE = Path(__file__).resolve().parent.parent / "src" / "tgscope" / "store"
#: the schema's migrations, which have shipped and are SQLite's (PostgreSQL gets a baseline
#: of its own, step 4); engine-specific pieces live in dialect.py (tests/test_store_dialect.py)
SKIPPED = {"schema.py"}
SQLITE_ONLY = {
    "INSERT OR / UPDATE OR": re.compile(r"\b(?:INSERT|UPDATE)\s+OR\s+(?:IGNORE|REPLACE)\b"),
    "numbered parameter": re.compile(r"\?\d"),
    "INSERT without a column list": re.compile(r"\bINSERT\s+INTO\s+[\w{}]+\s+(?:VALUES|SELECT)\b"),
    "lastrowid": re.compile(r"\blastrowid\b"),
    "sum of a condition": re.compile(r"\bsum\([^()]*\bIS\b", re.IGNORECASE),
    "COLLATE NOCASE in a query": re.compile(r"COLLATE\s+NOCASE"),
}


@pytest.mark.parametrize("form", SQLITE_ONLY)
def test_store_sql_avoids_sqlite_only_forms(form):
    assert lines_matching(STORE, SQLITE_ONLY[form], skipped=SKIPPED) == []


def test_events_index_leaves_sql_to_the_events_tables():
    index = STORE.parent / "events" / "index.py"
    assert ".db.execute" not in index.read_text()


def test_a_nul_in_a_record_is_stored_as_u_fffd_and_importing_again_changes_nothing(tmp_path):
    store = SQLiteStore(tmp_path / "a.db")
    record = post(
        "nulls/1",
        "a\x00b",
        channel="nulls",
        channel_title="T\x00",
        author="x\x00",
        links=["https://a.b/\x00"],
        entities=[{"type": "text_link", "offset": 0, "length": 1, "url": "https://c.d/\x00"}],
    )
    for _ in range(2):
        with store.transaction():
            result = store.save_posts([copy.deepcopy(record)], store.add_source(source()))
    store.save_channel(Channel(username="nulls", title="T\x00", description="d\x00"))
    db = sqlite3.connect(tmp_path / "a.db")
    assert db.execute("SELECT text, author, length(text) FROM posts").fetchall() == [
        ("a\ufffdb", "x\ufffd", 3)
    ]
    assert db.execute("SELECT url FROM links").fetchall() == [("https://a.b/\ufffd",)]
    assert db.execute("SELECT title, description FROM channels").fetchall() == [
        ("T\ufffd", "d\ufffd")
    ]
    assert (result.added, result.updated, result.unchanged) == (0, 0, 1)
    stored = store.get_post("nulls/1")
    assert stored is not None and stored.entities[0]["url"] == "https://c.d/\ufffd"
    store.close()


def test_forget_target_drops_only_the_target(tmp_path):
    store = SQLiteStore(tmp_path / "a.db")
    with store.events.writing():
        store.events.save_state({"target": 5, "cursor": 3, "seq": 2})
        store.events.forget_target()
    assert store.events.state() == {"cursor": "3", "seq": "2"}
    store.close()


def test_a_copy_merged_into_its_post_keeps_the_posts_own_rows(tmp_path):
    """The rows a copy without an id brings move to the post unless the post has the same
    one already (``UPDATE OR IGNORE`` before): then the post's stays and the copy's goes."""
    store = SQLiteStore(tmp_path / "a.db")
    db = store.db
    with store.transaction():
        first = store.add_source(source("test://a"))
        store.save_posts([post("c/1", "one text", channel="c")], first)
        store.save_posts([post("c/x1", "other text", channel="c")], first)
        second = store.add_source(source("test://b"))
        store.save_posts([post("c/x1", "other text", channel="c")], second)
    pk, copy_pk = (store.reader.pk("c/1"), store.reader.pk("c/x1"))
    with store.transaction() as seq:
        db.execute(
            "INSERT INTO post_versions (post_pk, replaced_at, text) VALUES (?, 't', 'same'),"
            " (?, 't', 'same'), (?, 'u', 'copy only')",
            (pk, copy_pk, copy_pk),
        )
        store.copies._take_in(pk, copy_pk, "c/1", seq)
    rows = db.execute(
        "SELECT post_pk, source_pk FROM observations ORDER BY post_pk, source_pk"
    ).fetchall()
    assert rows == [(pk, first), (pk, second)]
    versions = db.execute("SELECT post_pk, replaced_at, text FROM post_versions ORDER BY 2")
    assert versions.fetchall() == [(pk, "t", "same"), (pk, "u", "copy only")]
    assert db.execute("SELECT count(*) FROM posts WHERE pk = ?", (copy_pk,)).fetchone() == (0,)
    store.close()
