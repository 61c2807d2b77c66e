from __future__ import annotations

import json
import shutil

import pytest
import tantivy
from hypothesis import given
from hypothesis import strategies as st

from tgscope.archive import Archive
from tgscope.errors import QueryError, StoreError
from tgscope.search import INDEX_FORMAT, _empty_index_folder
from tgscope.snippets import snippet
from tgscope.store import PostFilter
from tgscope.words import MAX_WORD, WORD, index_text, query_tokens, words

from .helpers import POSTS, post, source


@pytest.fixture
def archive(archive_db):
    with Archive.open(archive_db) as opened:
        opened.ingest(POSTS, source())
        yield opened


def keys(found) -> list[str]:
    return [result.post.key for result in found.results]


def test_words_stem_english_and_lemmatize_russian():
    assert index_text("meeting meetings meets") == "meet meet meet"
    assert index_text("Лавров Лаврова Лаврову Лавровым") == " ".join(["_лавров"] * 4)
    assert index_text("Китай Китая Китаем китов кит") == "_китай _китай _китай кит кит"
    assert index_text("лавры провёл провел стали") == "лавр провести провести стать"
    assert index_text("Байден Байдена Байденом") == "байд байд байд"  # unknown: Snowball


def test_a_lower_case_query_word_asks_for_the_name_and_the_common_word():
    assert query_tokens("Лавров") == ("_лавров",)
    # laurels (and the first name Лавр, as a sentence's first word "Лавры" is read), the surname
    assert query_tokens("лавров") == ("лавр", "_лавр", "_лавров")
    assert query_tokens("китов") == ("кит", "_кит")  # whales, and "Кит …" starting a sentence
    assert query_tokens("Встреча") == query_tokens("встречи") == ("встреча",)


def test_english_word_forms(archive):
    assert sorted(keys(archive.search("meeting"))) == ["embassy/3", "mfarussia/2"]
    assert sorted(keys(archive.search("meets"))) == ["embassy/3", "mfarussia/2"]


def test_russian_word_forms(archive):
    assert sorted(keys(archive.search("Лавров"))) == ["embassy/1", "embassy/2", "mfarussia/3"]
    assert sorted(keys(archive.search("лаврову"))) == ["embassy/1", "embassy/2", "mfarussia/3"]
    assert keys(archive.search("переговорах")) == ["mfarussia/3"]  # text: "переговоры"


def test_channel_filter(archive):
    assert sorted(keys(archive.search("Лавров", channel="embassy"))) == ["embassy/1", "embassy/2"]
    assert keys(archive.search("Лавров", channel="@MFARussia")) == ["mfarussia/3"]


def test_date_filters_include_whole_days(archive):
    found = archive.search("", since="2023-01-10", until="2023-01-10", order="oldest")
    assert keys(found) == ["mfarussia/2", "embassy/2"]
    assert keys(archive.search("Лавров", until="2023-01-09")) == ["embassy/1"]
    assert keys(archive.search("Лавров", since="2023-01-10T12:00:00+00:00", order="oldest")) == [
        "embassy/2",
        "mfarussia/3",
    ]


def test_hashtag_filter_any_case_with_or_without_hash(archive):
    assert sorted(keys(archive.search("", hashtag="#russiachina"))) == ["embassy/1", "mfarussia/1"]
    assert keys(archive.search("Лавров", hashtag="РоссияКитай")) == ["mfarussia/3"]


def test_ranked_by_date_newest_first_and_undated_last(archive):
    found = archive.search("", order="newest", limit=100)
    assert keys(found)[:3] == ["embassy/3", "mfarussia/3", "embassy/2"]
    assert keys(found)[-1] == "embassy/4"


def test_relevance_prefers_more_matches(archive):
    found = archive.search("meeting")
    assert keys(found)[0] == "embassy/3"  # "meeting meets": two matches in a short post
    assert found.results[0].score > found.results[1].score


def test_two_terms_phrase_or_and_exclusion(archive):
    assert keys(archive.search("Lavrov Beijing")) == ["mfarussia/1"]
    assert keys(archive.search('"strategic partnership"')) == ["embassy/3"]
    assert keys(archive.search('"partnership strategic"')) == []
    assert sorted(keys(archive.search("Пекин OR partnership"))) == ["embassy/1", "embassy/3"]
    assert keys(archive.search("meeting -expectations")) == ["mfarussia/2"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Lavrov's", ["lavrov_s"]),
        ("G20:", ["g20"]),
        ("12:00", ["time"]),
        ('"Indian counterpart', ["indian"]),
    ],
)
def test_punctuation_is_text_not_syntax(archive_db, query, expected):
    posts = [
        post("c/lavrov_s", "Lavrov's remarks"),
        post("c/g20", "At the G20: talks"),
        post("c/time", "Briefing at 12:00 today"),
        post("c/indian", "Met his Indian counterpart"),
    ]
    with Archive.open(archive_db) as archive:
        archive.ingest(posts, source())
        found = archive.search(query, order="oldest")
    assert sorted(r.post.key.removeprefix("c/") for r in found.results) == sorted(expected)


def test_snippets_highlight_the_matched_forms(archive):
    (result,) = archive.search("Лавров", channel="embassy", until="2023-01-09").results
    assert result.snippet == "Встреча <b>Лаврова</b> и Ван И в Пекине"


def test_limit_and_total(archive):
    found = archive.search("", limit=2)
    assert found.total == len(POSTS)
    assert len(found.results) == 2


def test_bad_query_and_bad_dates_are_clear_errors(archive):
    with pytest.raises(QueryError, match="only excludes"):
        archive.search("-Лавров -meeting")
    with pytest.raises(QueryError, match="not a date"):
        archive.search("x", since="yesterday")
    with pytest.raises(QueryError, match="unknown order"):
        archive.search("x", order="sideways")


@pytest.mark.parametrize("query", ["(", "*", "OR OR", "-", '""', "( OR", "AND", "— …"])
def test_a_query_of_only_punctuation_or_operators_is_refused(archive, query):
    with pytest.raises(QueryError, match="no words to search for"):
        archive.search(query)
    with pytest.raises(QueryError, match="no words to search for"):
        list(archive.posts(query=query))


def test_an_empty_query_lists_every_post(archive):
    assert archive.search("", limit=100).total == len(POSTS)
    assert archive.search("   ", limit=100).total == len(POSTS)


def test_until_a_time_includes_that_second_in_search_and_export(archive_db):
    posts = [
        post("c/1", "Лавров", date="2022-11-15T09:12:00+00:00"),
        post("c/2", "Лавров", date="2022-11-15T09:12:00.500000+00:00"),
        post("c/3", "Лавров", date="2022-11-15T09:12:01+00:00"),
        post("c/4", "Лавров", date="2022-11-15T09:11:59+00:00"),
    ]
    with Archive.open(archive_db) as archive:
        archive.ingest(posts, source())
        for since, until, expected in [
            (None, "2022-11-15T09:12:00", ["c/1", "c/2", "c/4"]),
            (None, "2022-11-15T12:12:00+03:00", ["c/1", "c/2", "c/4"]),
            ("2022-11-15T09:12:00", None, ["c/1", "c/2", "c/3"]),
            ("2022-11-15T09:12:00", "2022-11-15T09:12:00", ["c/1", "c/2"]),
            ("2022-11-15T09:12:00.7", "2022-11-15T09:12:00.2", ["c/1", "c/2"]),  # whole seconds
        ]:
            searched = keys(archive.search("Лавров", since=since, until=until))
            exported = [p.key for p in archive.posts(PostFilter(since=since, until=until))]
            assert sorted(searched) == sorted(exported) == expected, (since, until)


def test_or_joins_the_words_on_either_side(archive):
    assert sorted(keys(archive.search("Lavrov Beijing OR partnership"))) == ["mfarussia/1"]
    assert sorted(keys(archive.search("meeting OR Пекин expectations"))) == ["embassy/3"]
    assert sorted(keys(archive.search("partnership OR -meeting"))) == [
        "embassy/1",
        "embassy/2",
        "embassy/3",
        "embassy/4",
        "mfarussia/1",
        "mfarussia/3",
    ]


def test_a_long_post_is_cut_around_the_matches():
    text = "Вступление. " * 30 + "Сергей Лавров провёл переговоры. " + "Заключение. " * 30
    cut = snippet(text, frozenset(query_tokens("Лаврова")))
    assert "Сергей <b>Лавров</b> провёл переговоры." in cut
    assert len(cut.replace("<b>", "").replace("</b>", "")) <= 160
    assert cut.startswith("Вступление") and cut.endswith("Заключение.")
    assert snippet("<Лавров> & co", frozenset(["_лавров"])) == "&lt;<b>Лавров</b>&gt; &amp; co"


def test_a_symlinked_index_folder_is_followed_and_kept(tmp_path, db_path):
    elsewhere = tmp_path / "disk" / "archive.db.index"
    elsewhere.mkdir(parents=True)
    link = db_path.with_name(db_path.name + ".index")
    link.symlink_to(elsewhere)
    with Archive.open(db_path) as archive:
        archive.ingest(POSTS, source())
        assert archive.search("Лавров").total == 3
    (elsewhere / "state.json").write_text('{"format": 1}')  # an older layout: emptied, rebuilt
    with Archive.open(db_path) as archive:
        assert archive.search("Лавров").total == 3
    assert link.is_symlink() and (elsewhere / "meta.json").exists()


def test_a_symlink_to_nothing_is_a_one_line_error(tmp_path, db_path):
    db_path.with_name(db_path.name + ".index").symlink_to(tmp_path / "gone")
    with Archive.open(db_path) as archive, pytest.raises(StoreError) as caught:
        archive.ingest(POSTS, source())
    assert str(caught.value) == (
        f"{db_path}.index: symbolic link to nothing; tgscope keeps the search index there"
    )


def test_an_index_of_the_older_layout_is_rebuilt_from_the_archive(db_path):
    with Archive.open(db_path) as archive:
        archive.ingest(POSTS, source())
        archive_id, seq = archive.store.archive_id(), archive.store.last_seq()
    folder = db_path.with_name(db_path.name + ".index")
    shutil.rmtree(folder)
    old = tantivy.SchemaBuilder()  # format 1: stemmed text in "text", nothing in "words"
    old.add_integer_field("pk", stored=True, indexed=True, fast=True)
    old.add_text_field("text", stored=True)
    folder.mkdir()
    tantivy.Index(old.build(), path=str(folder))
    state = {"format": 1, "seq": seq, "archive": archive_id}
    (folder / "state.json").write_text(json.dumps(state))
    with Archive.open(db_path) as archive:
        assert sorted(keys(archive.search("Лаврову"))) == ["embassy/1", "embassy/2", "mfarussia/3"]
    assert json.loads((folder / "state.json").read_text())["format"] == INDEX_FORMAT


def test_a_damaged_folder_that_is_not_an_index_is_not_deleted(db_path):
    folder = db_path.with_name(db_path.name + ".index")
    folder.mkdir()
    (folder / "state.json").write_text(json.dumps({"format": INDEX_FORMAT}))
    (folder / "meta.json").write_text("{ not json")
    with Archive.open(db_path) as archive:
        archive.ingest(POSTS, source())  # ours (state.json, meta.json): emptied and rebuilt
        assert archive.search("Лавров").total == 3
    assert folder.is_dir()
    other = db_path.with_name("other.db.index")
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not a tgscope search index"):
        _empty_index_folder(other)  # what an open failure calls: it checks first
    assert (other / "notes.txt").read_text() == "mine"


@given(st.text(alphabet=st.sampled_from("Лавров_ab1 \n\t-:.\u200b²é"), max_size=80))
def test_words_split_as_the_word_pattern_does(text):
    assert words(text) == [word for word in WORD.findall(text) if len(word) <= MAX_WORD]


@pytest.mark.slow  # starts a process
def test_an_english_search_does_not_load_the_russian_dictionary(tmp_path):
    """Loading pymorphy3's dictionary costs ~60 ms: an English query's snippets need none of
    it, even over posts that mix English and Russian."""
    import subprocess
    import sys

    db = tmp_path / "mixed.db"
    with Archive.open(db) as archive:
        archive.ingest(
            [post("chan/1", "Lavrov met Wang Yi: Лавров встретился с Ван И", channel="chan")],
            source("page"),
        )
    code = (
        "import sys; from tgscope import Archive; "
        f"found = Archive.open({str(db)!r}).search('Lavrov'); "
        "print(found.total, found.results[0].snippet.startswith('<b>Lavrov</b>'), "
        "'pymorphy3' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["1", "True", "False"], result.stderr


def test_an_index_being_built_is_not_emptied_by_another_opener(tmp_path):
    """A new index has no commit yet while its first import runs; another process (a search,
    say) opening it then must not take it for an older layout and empty it."""
    from tgscope.search import SearchIndex
    from tgscope.store import IndexDoc

    path = tmp_path / "a.db.index"
    builder = SearchIndex(path)
    builder.stage(
        [IndexDoc(n, f"Lavrov talks {n}", "chan", None, [], new=True) for n in range(500)]
    )
    SearchIndex(path)  # opened meanwhile, as a search in another process would
    builder.commit(1)
    reopened = SearchIndex(path)
    assert reopened.seq == 1
    assert reopened.index.searcher().num_docs == 500
