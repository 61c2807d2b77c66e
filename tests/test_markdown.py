"""Telethon-style markdown read back into text and entities (tgscope.sources.markdown)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgscope.sources.markdown import parse


@pytest.mark.parametrize(
    ("markdown", "text", "entities"),
    [
        ("plain text", "plain text", []),
        (
            "**bold** and __italic__",
            "bold and italic",
            [
                {"type": "bold", "offset": 0, "length": 4},
                {"type": "italic", "offset": 9, "length": 6},
            ],
        ),
        (
            "~~gone~~ `x = 1` ```pre\nblock```",
            "gone x = 1 pre\nblock",
            [
                {"type": "strikethrough", "offset": 0, "length": 4},
                {"type": "code", "offset": 5, "length": 5},
                {"type": "pre", "offset": 11, "length": 9},
            ],
        ),
        (
            "🇷🇺🇨🇳 **Лавров** [Read in full](https://mid.ru/en/1)",
            "🇷🇺🇨🇳 Лавров Read in full",
            [
                {"type": "bold", "offset": 5, "length": 6},
                {"type": "text_link", "offset": 12, "length": 12, "url": "https://mid.ru/en/1"},
            ],
        ),
        (  # nested, and overlapping as Telethon writes overlapping entities
            "**a __b__ c** **x __y** z__",
            "a b c x y z",
            [
                {"type": "bold", "offset": 0, "length": 5},
                {"type": "italic", "offset": 2, "length": 1},
                {"type": "bold", "offset": 6, "length": 3},
                {"type": "italic", "offset": 8, "length": 3},
            ],
        ),
        ("`**not bold**`", "**not bold**", [{"type": "code", "offset": 0, "length": 12}]),
        (  # a link's text is not formatted; formatting around a link is
            "**[a](u)** [**b**](v)",
            "a **b**",
            [
                {"type": "bold", "offset": 0, "length": 1},
                {"type": "text_link", "offset": 0, "length": 1, "url": "u"},
                {"type": "text_link", "offset": 2, "length": 5, "url": "v"},
            ],
        ),
        ("****", "****", []),  # a delimiter closes one character after it, at the earliest
        ("**open only", "**open only", []),
        ("[not a link] (x)", "[not a link] (x)", []),
        ("  **x**  \n", "x", [{"type": "bold", "offset": 0, "length": 1}]),
        (
            "[[[a](b)",  # the text ends at the first ], the URL at the first )
            "[[a",
            [{"type": "text_link", "offset": 0, "length": 3, "url": "b"}],
        ),
        (
            "tg: [Ann](tg://user?id=42)",
            "tg: Ann",
            [{"type": "text_link", "offset": 4, "length": 3, "url": "tg://user?id=42"}],
        ),
    ],
)
def test_markdown_gives_exact_text_and_entities(markdown, text, entities):
    assert parse(markdown) == (text, entities)


_PLAIN = st.sampled_from([*"ab .,\nЛя", "🇷🇺", "😀"])
_KINDS = ("bold", "italic", "strikethrough", "code", "pre", "text_link")


@st.composite
def _formatted(draw) -> tuple[str, list[dict]]:
    """A text and entities as a Telegram post has them (two of one kind never overlap)."""
    text = "".join(draw(st.lists(_PLAIN, min_size=1, max_size=30)))
    entities: list[dict] = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(_KINDS))
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        same = (e for e in entities if e["type"] == kind)
        if any(start <= e["offset"] + e["length"] and e["offset"] <= end for e in same):
            continue
        entity = {"type": kind, "offset": start, "length": end - start}
        if kind == "text_link":
            entity["url"] = draw(st.sampled_from(["https://mid.ru/x", "http://a.b/c?d=1"]))
        entities.append(entity)
    return text, entities


def _telethon(text: str, entities: list[dict]):
    from telethon.tl import types

    classes = {
        "bold": types.MessageEntityBold,
        "italic": types.MessageEntityItalic,
        "strikethrough": types.MessageEntityStrike,
        "code": types.MessageEntityCode,
    }
    units = [0]  # code point -> UTF-16 offset, as Telegram counts
    for character in text:
        units.append(units[-1] + (2 if ord(character) > 0xFFFF else 1))
    made = []
    for entity in entities:
        start, end = units[entity["offset"]], units[entity["offset"] + entity["length"]]
        if entity["type"] == "pre":
            made.append(types.MessageEntityPre(start, end - start, ""))
        elif entity["type"] == "text_link":
            made.append(types.MessageEntityTextUrl(start, end - start, entity["url"]))
        else:
            made.append(classes[entity["type"]](start, end - start))
    return made


def _ordered(entities):
    return sorted(entities, key=lambda entity: sorted(entity.items()))


@settings(max_examples=400, deadline=None)
@given(_formatted())
def test_what_telethon_writes_reads_back_at_least_as_well_as_telethon_reads_it(post):
    """Markdown written by Telethon's ``unparse``: wherever Telethon's own parser gets the post
    back, so does ours (and ours also where Telethon's does not, e.g. ``pre`` ending in a
    backtick)."""
    markdown_module = pytest.importorskip("telethon.extensions.markdown")
    text, entities = post
    if text != text.strip():
        return  # both strip the text, as Telegram does
    written = markdown_module.unparse(text, _telethon(text, entities))
    theirs_text, theirs = markdown_module.parse(written)
    theirs_ok = theirs_text == text and [
        (type(e).__name__, e.offset, e.length) for e in theirs
    ] == [(type(e).__name__, e.offset, e.length) for e in _telethon(text, entities)]
    ours_text, ours = parse(written)
    if theirs_ok:
        assert (ours_text, _ordered(ours)) == (text, _ordered(entities))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["**", "__", "~~", "`", "```", "[", "]", "(", ")", "](", "a", " ", "😀"]),
        max_size=40,
    ).map("".join)
)
def test_any_markup_soup_gives_entities_inside_the_text(markdown):
    text, entities = parse(markdown)
    assert text == text.strip()
    for entity in entities:
        assert entity["length"] > 0
        assert entity["offset"] >= 0 and entity["offset"] + entity["length"] <= len(text)


@pytest.mark.parametrize(
    "hostile",
    [
        "**a" * 100_000,
        "[" * 200_000 + "](x)",
        "[a](" * 100_000,
        "`" * 200_001,
        "**__~~" * 50_000 + "x" + "~~__**" * 50_000,
    ],
    ids=["unclosed-bold", "brackets", "unclosed-links", "backticks", "deep-nesting"],
)
def test_hostile_markup_is_read_in_linear_time(hostile):
    started = time.perf_counter()
    text, entities = parse(hostile)
    assert time.perf_counter() - started < 2.0
    assert all(0 <= e["offset"] <= e["offset"] + e["length"] <= len(text) for e in entities)
