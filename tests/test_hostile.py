"""Hostile input: every import ends in bounded time and memory, in a success or one line of
error per bad file, never a traceback, and a failed file leaves the archive as it was.

The inputs come from ``tests/hostile_inputs.py`` (hand-made: the issue's reproductions, every
field with every wrong kind of value, truncations, garbage) and from Hypothesis (any JSON value
in any field, any markup in a post).  The counts the closing note needs (inputs tried, one-line
errors, tracebacks, peak memory, longest run) are written to ``hostile_summary.json`` in
pytest's base temporary folder and printed with ``-s``; ``bench/hostile_report.py`` runs this
file and prints them as a table.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tgscope.archive import Archive
from tgscope.cli import cli

from . import hostile_inputs as hostile

SUMMARY: dict = {
    "inputs tried": 0,
    "successes": 0,
    "one-line errors": 0,
    "tracebacks": 0,
    "peak memory of one import (MB)": 0.0,
    "peak memory of the test process (MB)": 0.0,
    "longest run (s)": 0.0,
    "longest run": "",
    "largest inputs, each in its own process": {},
}
MAX_SECONDS = 20.0  # any one input, in-process (the slowest here take well under a second)
MAX_RSS_MB = 500


@pytest.fixture(scope="module", autouse=True)
def summary(tmp_path_factory):
    yield SUMMARY
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    SUMMARY["peak memory of the test process (MB)"] = round(rss, 1)
    out = tmp_path_factory.getbasetemp() / "hostile_summary.json"
    out.write_text(json.dumps(SUMMARY, indent=1, ensure_ascii=False))
    print(f"\nhostile-input summary ({out}):")
    for name, value in SUMMARY.items():
        if isinstance(value, dict):
            print(f"  {name}:")
            for key, line in value.items():
                print(f"    {key}: {line}")
        else:
            print(f"  {name}: {value}")


def _timed(name: str, seconds: float) -> None:
    SUMMARY["inputs tried"] += 1
    if seconds > SUMMARY["longest run (s)"]:
        SUMMARY["longest run (s)"], SUMMARY["longest run"] = round(seconds, 3), name


# -- in-process, through the library: many inputs into one archive ------------------------


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    with Archive.open(folder / "archive.db") as archive:
        yield archive, folder


def _snapshot(archive: Archive) -> str:
    posts = [post.to_dict() for post in archive.posts()]
    return json.dumps(posts, sort_keys=True, ensure_ascii=False, default=str)


def import_case(shared, case: hostile.Case) -> str | None:
    """Import one input; check the outcome; return its error line (None: imported)."""
    archive, folder = shared
    path = folder / case.filename
    path.write_bytes(case.data)
    before = _snapshot(archive)
    start = time.perf_counter()
    try:
        report = archive.import_paths([path], channel=hostile.CHANNEL)
    except BaseException:
        SUMMARY["tracebacks"] += 1
        raise
    finally:
        _timed(case.name, time.perf_counter() - start)
    assert time.perf_counter() - start < MAX_SECONDS, case.name
    (file,) = report.files
    if file.error is None:
        SUMMARY["successes"] += 1
        return None
    assert "\n" not in file.error and "Traceback" not in file.error, file.error
    assert _snapshot(archive) == before, f"{case.name}: a failed file changed the archive"
    SUMMARY["one-line errors"] += 1
    assert case.filename in file.error, file.error  # names the file
    return file.error


CASES = list(hostile.all_cases())


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name[:80])
def test_hand_made_input(shared, case):
    import_case(shared, case)


@pytest.mark.parametrize("case", list(hostile.jsonl_cases()), ids=lambda case: case.name)
def test_json_lines_input(shared, case):
    import_case(shared, case)


# -- what the errors say ------------------------------------------------------------------


def _error(shared, case: hostile.Case) -> str:
    error = import_case(shared, case)
    assert error is not None, f"{case.name}: imported"
    return error


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("reactions", "abc", "message 2: field 'reactions' should be a list, got a string"),
        ("photo", 5, "message 2: field 'photo' should be a string, got an integer"),
        ("text_entities", 7, "message 1: field 'text_entities' should be a list, got an integer"),
        ("from", {"a": 1}, "message 2: field 'from' should be a string, got an object"),
        ("width", 1.5, "message 2: field 'width' should be an integer, got a number"),
        ("poll", [], "message 4: field 'poll' should be an object, got a list"),
    ],
)
def test_a_wrong_type_names_the_file_message_and_field(shared, field, value, expected):
    messages = hostile.desktop_messages()
    for message in messages:
        if field in message:
            message[field] = value
    case = hostile.Case(field, "result.json", hostile.as_json(hostile.desktop_export(messages)))
    assert _error(shared, case).endswith(f"result.json: {expected}")


def test_nested_parts_are_checked_too(shared):
    messages = hostile.desktop_messages()
    messages[1]["reactions"][0] = {"type": "emoji", "count": "many", "emoji": ["👍"]}
    case = hostile.Case(
        "reaction", "result.json", hostile.as_json(hostile.desktop_export(messages))
    )
    assert _error(shared, case).endswith(
        "result.json: message 2: a reaction: field 'count' should be an integer, got a string"
    )


def test_an_id_beyond_64_bits(shared):
    messages = hostile.desktop_messages()
    messages[1]["id"] = str(10**30)
    case = hostile.Case("id", "result.json", hostile.as_json(hostile.desktop_export(messages)))
    assert _error(shared, case).endswith(
        "result.json: message 2 of chat 'Hostile': field 'id' does not fit in 64 bits:"
        " 100000000000000000000000…"
    )


def test_lone_surrogates_become_replacement_characters_with_a_warning(shared):
    archive, folder = shared
    data = hostile.as_json(hostile.desktop_export()).replace(
        b'"A file"', rb'"A \ud800 file \udc00 \ud83d\ude00"'
    )
    path = folder / "surrogates.json"
    path.write_bytes(data)
    report = archive.import_paths([path], channel="surrogates")
    (file,) = report.files
    assert file.error is None
    assert file.warnings == [
        "2 lone surrogate escape(s) (half of a \\uD800-\\uDFFF pair: not text) replaced with U+FFFD"
    ]
    assert archive.get("surrogates/3").text == "A \ufffd file \ufffd 😀"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (0, "deep_list.json: JSON nested deeper than 64 levels"),
        (1, "deep_map.json: JSON nested deeper than 64 levels"),
        (2, "deep_open.json: JSON nested deeper than 64 levels"),
        (3, "deep_header.json: JSON nested deeper than 64 levels"),
        (5, "deep_65.json: JSON nested deeper than 64 levels"),
    ],
)
def test_deep_json_is_refused_saying_so(shared, case, expected):
    error = _error(shared, list(hostile.desktop_json_deep())[case])
    assert expected in error


def test_brackets_inside_strings_are_text(shared):
    (case,) = [c for c in hostile.desktop_json_deep() if "inside strings" in c.name]
    assert import_case(shared, case) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("web text 300 nested <b>", "page.html: rusembchina/500: text nested deeper than 256"),
        ("web text 3000 nested <span>", "page.html: rusembchina/500: text nested deeper than 256"),
        ("web text 100000 nested <x-a>", "page.html: HTML nested deeper than 256 levels"),
        ("desktop-html text 300 nested <strong>", "messages.html: message500: text nested"),
        ("desktop-html text 1000 nested <div>", "messages.html: message500: text nested"),
    ],
)
def test_deep_html_is_refused_saying_so(shared, name, expected):
    (case,) = [case for case in CASES if case.name == name]
    assert expected in _error(shared, case)


# -- through the CLI, as a user runs it -------------------------------------------------


def _cli(*args: str):
    start = time.perf_counter()
    result = CliRunner().invoke(cli, list(args))
    _timed(" ".join(args[-1:]), time.perf_counter() - start)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        SUMMARY["tracebacks"] += 1
        raise result.exception
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    return result


@pytest.mark.parametrize("case", CASES[::25], ids=lambda case: case.name[:80])
def test_cli_prints_one_line_per_bad_file(tmp_path, case):
    path = tmp_path / case.filename
    path.write_bytes(case.data)
    result = _cli("import", "--db", str(tmp_path / "a.db"), "--channel", hostile.CHANNEL, str(path))
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == (result.exit_code == 1)
    assert all(
        line.startswith(("Error:", "warning:", str(path))) for line in result.output.splitlines()
    ), result.output
    SUMMARY["one-line errors" if errors else "successes"] += 1


def test_one_bad_file_in_a_folder_does_not_stop_the_others(tmp_path, seed_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a_dump.txt").write_bytes(seed_path.read_bytes())
    deep = next(hostile.desktop_json_deep())
    (folder / "b_deep.json").write_bytes(deep.data)
    (folder / "c_page.html").write_text(hostile.WEB_PAGE, encoding="utf-8")
    result = _cli(
        "import", "--db", str(tmp_path / "a.db"), "--channel", hostile.CHANNEL, str(folder)
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert [line for line in lines if line.startswith("Error:")] == [
        f"Error: {folder / 'b_deep.json'}: JSON nested deeper than 64 levels (within its first"
        " 65,536 bytes) (nothing of it was imported)"
    ]
    assert any(line.startswith(f"{folder / 'a_dump.txt'} (textdump): 5 post(s)") for line in lines)
    assert any(line.startswith(f"{folder / 'c_page.html'} (web): 4 post(s)") for line in lines)
    SUMMARY["one-line errors"] += 1


# -- Hypothesis: any value in any field, any markup in a post ------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["text", "type", "count", "emoji", "href"]), children)
    ),
    max_leaves=8,
)
FIELD_VALUES = st.dictionaries(
    st.sampled_from([*hostile.MESSAGE_FIELDS, "id", "extra"]), JSON_VALUES, min_size=1, max_size=3
)
_EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_EXAMPLES
@given(changes=FIELD_VALUES, which=st.integers(min_value=0, max_value=3))
def test_any_json_value_in_any_field(shared, changes, which):
    messages = hostile.desktop_messages()
    messages[which].update(changes)
    data = hostile.as_json(hostile.desktop_export(messages))
    import_case(shared, hostile.Case(f"hypothesis fields {changes!r}"[:200], "any.json", data))


MARKUP = st.lists(
    st.sampled_from(
        [
            *("<b>", "</b>", "<i>", "</i>", "<div>", "</div>", "<br>", "<span>", "</a>", "x"),
            *(" ", "\n", '<a href="?q=%23tag">', '<a href="https://t.me/x">', "#tag"),
            *('<i class="emoji">', "@name", "&amp;", "&#xD800;", "<tg-spoiler>", "<pre>", "👍"),
            *("<blockquote>", "«", '<div class="tgme_widget_message_text">'),
            '<span class="tgme_reaction">7',
        ]
    ),
    max_size=40,
).map("".join)


@_EXAMPLES
@given(markup=MARKUP, where=st.sampled_from(["Sergey Lavrov", "2.1K", "rusembchina/500"]))
def test_any_markup_in_a_saved_page(shared, markup, where):
    data = hostile.WEB_PAGE.replace(where, markup, 1).encode()
    import_case(shared, hostile.Case(f"hypothesis page {markup!r}"[:200], "any.html", data))


@_EXAMPLES
@given(markup=MARKUP)
def test_any_markup_in_a_desktop_html_export(shared, markup):
    data = hostile.DESKTOP_HTML.replace("Lavrov", markup, 1).encode()
    import_case(shared, hostile.Case(f"hypothesis export {markup!r}"[:200], "any.html", data))


DUMP_LINES = st.lists(
    st.text(alphabet="👍❤🔥⭐🇷 0123456789.,KkMm views:APM Forwarded from@abc\t", max_size=30)
    | st.sampled_from(["VIEW IN TELEGRAM", "Forwarded from X", "12 subscribers", "@hostile"]),
    max_size=30,
)


@_EXAMPLES
@given(lines=DUMP_LINES)
def test_any_lines_in_a_text_dump(shared, lines):
    data = (hostile.TEXTDUMP + "\n".join(lines) + "\n").encode()
    import_case(shared, hostile.Case(f"hypothesis dump {lines!r}"[:200], "any.txt", data))


# -- the largest inputs, each in its own process: memory and time ---------------------------


#: runs the CLI and writes the process's peak resident memory (kB) where $HOSTILE_PEAK says:
#: VmHWM counts this program alone, where ru_maxrss would count the test process it was
#: forked from, up to exec
_CHILD = """
import atexit, os, resource


def peak():
    try:
        with open("/proc/self/status") as status:
            kilobytes = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    except OSError:
        kilobytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(os.environ["HOSTILE_PEAK"], "w") as out:
        out.write(str(kilobytes))


atexit.register(peak)
from tgscope.cli import cli

cli(prog_name="tgscope")
"""


def _run_alone(path: Path, db: Path, format: str | None = None) -> tuple[int, str, float, float]:
    """Exit code, output, peak memory (MB) and seconds of ``tgscope import`` in a new process."""
    command = [sys.executable, "-c", _CHILD, "import", "--db", str(db)]
    command += ["--channel", hostile.CHANNEL, *(["--format", format] if format else []), str(path)]
    peak = db.with_suffix(".peak")
    start = time.perf_counter()
    child = subprocess.run(
        command,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        env={**os.environ, "HOSTILE_PEAK": str(peak)},
    )
    seconds = time.perf_counter() - start
    output = child.stdout + child.stderr
    return child.returncode, output, int(peak.read_text()) / 1024, seconds


HEAVY = hostile.heavy_cases()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(HEAVY))
def test_largest_inputs_stay_bounded(tmp_path, name):
    case = HEAVY[name]()
    path = tmp_path / case.filename
    path.write_bytes(case.data)
    code, output, rss, seconds = _run_alone(path, tmp_path / "a.db", case.format)
    SUMMARY["peak memory of one import (MB)"] = max(
        SUMMARY["peak memory of one import (MB)"], round(rss, 1)
    )
    _timed(case.name, seconds)
    if "Traceback" in output:
        SUMMARY["tracebacks"] += 1
    assert "Traceback" not in output, output[-2000:]
    assert code in (0, 1), output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == code
    SUMMARY["one-line errors" if errors else "successes"] += 1
    SUMMARY["largest inputs, each in its own process"][case.name] = (
        f"{len(case.data) / 1e6:.1f} MB in, {rss:.0f} MB peak, {seconds:.1f} s, "
        + (errors[0][:120] if errors else "imported")
    )
    assert rss < MAX_RSS_MB, f"{case.name}: {rss:.0f} MB"
    assert seconds < 60, f"{case.name}: {seconds:.1f} s"


# -- the Telegram API mapping: offsets from the network may be anything --------------------


@_EXAMPLES
@given(
    text=st.text(max_size=12),
    spans=st.lists(
        st.tuples(st.integers(-(2**31), 2**31 - 1), st.integers(-(2**31), 2**31 - 1)),
        max_size=4,
    ),
)
def test_api_entities_with_any_offsets_map_inside_the_text(text, spans):
    types = pytest.importorskip("telethon.tl.types")
    from tgscope.sources.telegram_api import message_to_post

    entities = [types.MessageEntityBold(offset=start, length=size) for start, size in spans]
    message = types.Message(
        id=1, peer_id=types.PeerChannel(1), date=None, message=text, entities=entities
    )
    start = time.perf_counter()
    post = message_to_post(message, "hostile")
    _timed(f"api entities {spans!r}", time.perf_counter() - start)
    SUMMARY["successes"] += 1
    for entity in post.entities:
        assert 0 <= entity["offset"] < entity["offset"] + entity["length"] <= len(text)
