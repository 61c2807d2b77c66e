"""The library surface: what ``import tgscope`` offers, documented, with the same filters
everywhere."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import tgscope
from tgscope import Archive, OptionError, PostFilter

PUBLIC = [
    "Archive",
    "Channel",
    "ChannelUnavailable",
    "Event",
    "EventFilter",
    "FetchError",
    "FileReport",
    "ImportReport",
    "Observation",
    "OptionError",
    "ParseError",
    "Post",
    "PostFilter",
    "QueryError",
    "RecordRejected",
    "SearchResult",
    "SearchResults",
    "SourceError",
    "Stats",
    "StoreError",
    "TgscopeError",
    "UnknownFormat",
    "__version__",
    "extract_events",
    "parse_textdump",
]


def test_the_public_names_are_pinned_and_import():
    assert sorted(tgscope.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(tgscope, name) is not None, name
    with pytest.raises(AttributeError):
        tgscope.nothing_here  # noqa: B018


def test_every_public_method_has_a_docstring():
    missing = []
    for name in tgscope.__all__:
        value = getattr(tgscope, name)
        if not inspect.isclass(value):
            continue
        for attribute, member in vars(value).items():
            function = getattr(member, "fget", getattr(member, "__func__", member))
            if attribute.startswith("_") or not callable(function):
                continue
            if not (function.__doc__ or "").strip():
                missing.append(f"{name}.{attribute}")
    assert missing == []


def test_importing_tgscope_loads_nothing_heavy():
    code = (
        "import sys, tgscope; "
        "print([m for m in ('tgscope.archive', 'tantivy', 'selectolax', 'rich') "
        "if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


@pytest.fixture
def archive(tmp_path, seed_path):
    with Archive.open(tmp_path / "api.db") as opened:
        opened.import_paths([seed_path], channel="china_embassy")
        yield opened


def test_posts_stats_and_search_take_the_same_filters(archive):
    as_keywords = {"channel": "china_embassy", "hashtag": "UNGA77"}
    as_object = PostFilter(**as_keywords)
    keys = [post.key for post in archive.posts(**as_keywords)]
    assert keys == [post.key for post in archive.posts(as_object)]
    assert len(keys) == 1
    assert archive.stats(**as_keywords).posts == archive.stats(as_object).posts == 1
    found = archive.search("Lavrov", **as_keywords)
    assert [r.post.key for r in found.results] == keys
    assert [r.post.key for r in archive.search("Lavrov", as_object).results] == keys
    with pytest.raises(OptionError, match="not both"):
        archive.stats(as_object, channel="china_embassy")


def test_the_library_reads_no_environment_for_its_archive(tmp_path, monkeypatch):
    monkeypatch.setenv("TGSCOPE_DB", str(tmp_path / "elsewhere.db"))
    monkeypatch.chdir(tmp_path)
    with Archive.open() as opened:
        assert opened.path.name == "tgscope.db"
