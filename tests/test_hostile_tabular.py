"""Hostile rows: tgscope's own JSON Lines, other tools' JSON Lines, JSON arrays and CSV, and
Telethon markdown, generated to break the readers.

Every input must end, quickly and in bounded memory, in a success or a one-line error naming
the file, and a failed file must leave the archive as it was.  An "unexpected error" report
(the per-file catch-all) counts as a traceback: it is a bug.  The last test prints the tally
(inputs tried, one-line errors, tracebacks, longest run, peak memory).
"""

from __future__ import annotations

import json
import resource
import sqlite3
import sys
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tgscope.archive import Archive
from tgscope.errors import TgscopeError
from tgscope.record import FIELD_NAMES

TALLY: Counter = Counter()
LONGEST: dict[str, float] = {"seconds": 0.0}
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["\ud800", "x\udfff", "5.3K", "1e999", "https://t.me/a_chan/5", "", " "]),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_VALID = {
    "key": "mychan/1",
    "channel": "mychan",
    "id": 1,
    "text": "hello",
    "sources": [{"kind": "web", "ref": "https://t.me/s/mychan", "observed_at": "2026-01-01"}],
}


def _posts(db) -> tuple[int, int]:
    connection = sqlite3.connect(db)
    try:
        return (
            connection.execute("SELECT count(*) FROM posts").fetchone()[0],
            connection.execute("SELECT count(*) FROM sources").fetchone()[0],
        )
    finally:
        connection.close()


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=True)  # lone surrogates written as \ud800 escapes


def attempt(tmp_path, name: str, content: bytes | str, **options) -> None:
    """Import one hostile file into a fresh archive and check the promise; tally the outcome."""
    folder = tmp_path / f"case{TALLY['tried']}"
    folder.mkdir()
    path = folder / name
    path.write_bytes(
        content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    )
    db = folder / "archive.db"
    with Archive.open(db):
        pass  # an empty archive to compare with
    before = _posts(db)
    TALLY["tried"] += 1
    started = time.perf_counter()
    try:
        with Archive.open(db) as archive:
            report = archive.import_paths([path], **options)
    except TgscopeError as error:  # an option refused: still one line
        TALLY["one-line errors"] += 1
        assert "\n" not in str(error)
        return
    except Exception:
        TALLY["tracebacks"] += 1
        raise
    finally:
        LONGEST["seconds"] = max(LONGEST["seconds"], time.perf_counter() - started)
    (file,) = report.files
    if file.error is None:
        TALLY["imported"] += 1
        return
    if "unexpected error while reading" in file.error:
        TALLY["tracebacks"] += 1
        pytest.fail(file.error)
    TALLY["one-line errors"] += 1
    assert "\n" not in file.error and str(path) in file.error
    assert _posts(db) == before, "a failed file changed the archive"


@SETTINGS
@given(field=st.sampled_from(FIELD_NAMES), value=_JSON)
def test_tgscope_records_with_any_value_in_any_field(tmp_path, field, value):
    record = {**_VALID, field: value}
    attempt(tmp_path, "export.jsonl", _dump(record) + "\n", format="tgscope-jsonl")


_SNSCRAPE_POST = {
    "_type": "snscrape.modules.telegram.TelegramPost",
    "url": "https://t.me/mychan/1",
    "date": "2023-01-09T10:00:00+00:00",
    "content": "hello",
}
_SNSCRAPE_FIELDS = ["url", "date", "content", "views", "outlinks", "linkPreview", "forwarded"]
_SNSCRAPE_FIELDS += ["forwardedUrl", "_type"]


@SETTINGS
@given(field=st.sampled_from(_SNSCRAPE_FIELDS), value=_JSON)
def test_snscrape_posts_with_any_value_in_any_field(tmp_path, field, value):
    item = {**_SNSCRAPE_POST, field: value}
    attempt(tmp_path, "snscrape.jsonl", _dump(item) + "\n", format="snscrape")


@SETTINGS
@given(
    field=st.sampled_from(
        [
            *("id", "text", "date", "views", "reactions", "media", "links", "reply_to"),
            *("channel", "forwarded_from_id", "forwarded_from_channel", "album_id"),
            *("author", "url"),
        ]
    ),
    value=_JSON,
    shape=st.sampled_from(["lines", "array"]),
    markdown=st.booleans(),
)
def test_other_tools_rows_with_any_value_in_any_mapped_field(
    tmp_path, field, value, shape, markdown
):
    row = {"n": 1, "body": "**hi** [x](https://a.b)", "cell": value}
    mapping = f"id=n,text=body,{field}=cell" if field not in ("id", "text") else f"{field}=cell"
    content = _dump([row]) if shape == "array" else _dump(row) + "\n"
    attempt(
        tmp_path,
        "rows.json",
        content,
        format="jsonl",
        channel="mychan",
        mapping=mapping,
        markdown=markdown,
    )


@SETTINGS
@given(
    cells=st.lists(st.text(max_size=30), min_size=1, max_size=4),
    delimiter=st.sampled_from([None, ";", "tab", "|"]),
    encoding=st.sampled_from([None, "cp1251", "koi8-r"]),
)
def test_csv_with_any_cells_delimiter_and_encoding(tmp_path, cells, delimiter, encoding):
    separator = {"tab": "\t", None: ","}.get(delimiter, delimiter)
    body = separator.join(cells)
    content = f"id{separator}text{separator}views\n1{separator}{body}\n"
    data = content.encode(encoding or "utf-8", "replace")
    attempt(
        tmp_path,
        "t.csv",
        data,
        channel="mychan",
        delimiter=delimiter,
        encoding=encoding,
        markdown=True,
    )


@SETTINGS
@given(data=st.binary(max_size=300), name=st.sampled_from(["x.csv", "x.jsonl", "x.json", "x.txt"]))
def test_any_bytes_at_all(tmp_path, data, name):
    attempt(tmp_path, name, data, channel="mychan")


CRAFTED = [
    ("deep.jsonl", '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}\n", {"format": "jsonl"}),
    (
        "deep2.jsonl",
        '{"key": "a/1", "x": ' + '{"a":' * 100_000 + "1" + "}" * 100_001 + "\n",
        {},
    ),
    ("unclosed.jsonl", '{"id": 1, "text": ' + "[" * 100_000 + "\n", {"format": "jsonl"}),
    ("deep.json", '[{"text": ' + "[" * 100_000 + "]" * 100_000 + "}]", {}),
    ("unclosed.json", '[{"id": 1, "text": "a"}, ' + "{" * 100_000, {"format": "jsonl"}),
    ("huge-int.json", '[{"id": 1' + "0" * 40 + ', "text": "a"}]', {}),
    ("surrogate.jsonl", '{"id": 1, "text": "\\ud800"}\n', {}),
    ("surrogate.json", '[{"id": 1, "text": "a\\udc00b"}]', {}),
    ("markdown.csv", "id,text\n1," + "**a" * 40_000 + "\n", {"markdown": True}),
    (
        "markdown.jsonl",
        _dump({"id": 1, "text": "**a" * 200_000}) + "\n",
        {"format": "jsonl", "markdown": True},
    ),
    (
        "links.jsonl",
        _dump({"id": 1, "text": "[" * 300_000 + "](x"}) + "\n",
        {"format": "jsonl", "markdown": True},
    ),
    ("long-cell.csv", "id,text\n1," + "a" * 300_000 + "\n", {}),
    ("many-rows.csv", "id,text\n" + "".join(f"{n},t{n}\n" for n in range(1, 5_000)), {}),
    ("wide.csv", "id,text," + ",".join(f"c{n}" for n in range(20_000)) + "\n", {}),
    ("cp1251.csv", "id;text\n1;Привет\n".encode("cp1251"), {}),
    ("array-of-numbers.json", "[1, 2, 3]", {"format": "jsonl"}),
    ("object.json", '{"id": 1, "text": "a"}', {"format": "jsonl"}),
    ("reply-string.jsonl", _dump({**_VALID, "reply_to": "abc"}) + "\n", {}),
    ("sources-kind.jsonl", _dump({**_VALID, "sources": [{"kind": 1}]}) + "\n", {}),
    ("text-number.jsonl", _dump({**_VALID, "text": 5}) + "\n", {}),
]


@pytest.mark.parametrize(("name", "content", "options"), CRAFTED, ids=[c[0] for c in CRAFTED])
def test_crafted_hostile_files(tmp_path, name, content, options):
    attempt(tmp_path, name, content, channel="mychan", **options)


def test_zz_tally(capsys):
    """Print what the hostile inputs above did (run last: pytest keeps the file's order)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    if sys.platform == "darwin":
        rss /= 1024
    line = (
        f"hostile tabular inputs: {TALLY['tried']} tried, {TALLY['one-line errors']} one-line"
        f" errors, {TALLY['imported']} imported, {TALLY['tracebacks']} tracebacks; longest"
        f" {LONGEST['seconds']:.2f} s; peak RSS of the test process so far {rss:.0f} MB (all"
        " of the inputs when this file runs alone)"
    )
    with capsys.disabled():
        print(f"\n{line}")
    assert TALLY["tracebacks"] == 0
    assert LONGEST["seconds"] < 10
