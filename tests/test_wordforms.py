"""The word-form test set (tests/data/ru_wordforms.json) through a real archive and index:
every form of a word meets, and no other word does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tgscope.archive import Archive
from tgscope.snippets import _matched_spans, _spans_word_by_word
from tgscope.words import WORD, index_token, query_tokens

from .helpers import post, source

DATA = json.loads((Path(__file__).parent / "data" / "ru_wordforms.json").read_text("utf-8"))
NAMES = list(DATA["sentences"])


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    db = tmp_path_factory.mktemp("wordforms") / "archive.db"
    posts = [
        post(f"news/{number}", DATA["sentences"][name], channel="news")
        for number, name in enumerate(NAMES, 1)
    ]
    with Archive.open(db) as opened:
        opened.ingest(posts, source())
        yield opened


def found(archive: Archive, query: str) -> set[str]:
    results = archive.search(query, limit=len(NAMES)).results
    return {NAMES[int(result.post.key.split("/")[1]) - 1] for result in results}


@pytest.mark.parametrize("word", DATA["words"], ids=[word["query"] for word in DATA["words"]])
def test_every_form_meets_and_no_false_friend_does(archive, word):
    hits = found(archive, word["query"])
    misses, extra = set(word.get("known_misses", [])), set(word.get("known_false_hits", []))
    assert set(word["meet"]) - misses - hits == set(), "forms of the word not found"
    assert set(word["never"]) & hits == set(), "other words found"
    assert hits - set(word["meet"]) == extra, "sentences without the word found"
    assert misses & hits == set(), "a known miss is found now: take it off known_misses"


def test_snippets_highlight_every_form_the_query_matched(archive):
    results = archive.search("Лаврова", limit=10).results
    snippets = {result.snippet for result in results}
    assert "Переговоры с <b>Лавровым</b> продлились более трёх часов." in snippets
    assert "<b>Лавров</b> заявил, что Москва готова к диалогу." in snippets


def test_a_phrase_matches_other_forms_of_its_words_in_order(archive):
    assert found(archive, '"встреча Сергея Лаврова"') == {"lavrov-gen"}
    assert found(archive, '"встречи сергея лаврова"') == {"lavrov-gen"}  # lower case: either
    assert found(archive, '"Лаврова Сергея встреча"') == set()


def test_the_snippets_shortcut_finds_every_word_the_index_matches():
    text = " ".join(DATA["sentences"].values()) + " Шёл шел идти люди человек лучше хороший"
    for query in [word["query"] for word in DATA["words"]] + ["идти", "человек", "хороший"]:
        terms = frozenset(query_tokens(query))
        expected = [m.span() for m in WORD.finditer(text) if index_token(m.group()) in terms]
        assert _matched_spans(text, terms) == expected, query
        assert _spans_word_by_word(text, terms) == expected, query
