"""Search on PostgreSQL (tgscope.search.pg): the tokens tantivy indexes, as tsvector literals,
and the query language as tsquery text; against a real server, the same posts match, are
counted per channel and come in the same date order as in the tantivy index."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tgscope.archive import Archive
from tgscope.errors import QueryError
from tgscope.record import ForwardedFrom, Media, Post
from tgscope.search import (
    Clause,
    ParsedQuery,
    PgTextSearch,
    SearchIndex,
    TextSearch,
    parse_query,
    to_tsquery_text,
)
from tgscope.search.pg import MAX_POSITION, MAX_POSITIONS, tsvector_literal
from tgscope.store import IndexDoc, PostFilter
from tgscope.store.pg_schema import migrate

from .helpers import source

WORDFORMS = json.loads((Path(__file__).parent / "data" / "ru_wordforms.json").read_text("utf-8"))


# -- tsvector literals ------------------------------------------------------------------------


def test_a_posts_tokens_with_their_positions_from_one():
    literal = tsvector_literal("Сергей Лавров провёл встречу с Лавровым")
    assert literal == "'_сергей':1 '_лавров':2,6 'провести':3 'встреча':4 'с':5"


def test_names_keep_their_mark_and_stay_apart_from_common_words():
    assert tsvector_literal("Путина путина Лев лев") == "'_путин':1 'путина':2 '_лев':3 'лев':4"
    assert tsvector_literal("Лавры победителя и кит Китая") == (
        "'_лавр':1 'победитель':2 'и':3 'кит':4 '_китай':5"
    )


def test_english_by_snowball_and_punctuation_between_words():
    assert tsvector_literal("Meetings of ministers met China's G20!") == (
        "'meet':1 'of':2 'minist':3 'met':4 'china':5 's':6 'g20':7"
    )


def test_no_words_is_the_empty_vector():
    assert tsvector_literal("") == ""
    assert tsvector_literal("  🇷🇺 !! — ") == ""


def test_positions_past_postgresqls_limits_are_capped_and_dropped():
    text = "да " * (MAX_POSITION + 2) + "нет нет"
    expected = "'да':" + ",".join(map(str, range(1, MAX_POSITIONS + 1))) + f" 'нет':{MAX_POSITION}"
    assert tsvector_literal(text) == expected


# -- tsquery text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Лавров", "'_лавров'"),
        ("Лаврова", "'_лавров'"),
        ("лавров", "('лавр' | '_лавр' | '_лавров')"),
        ("путина", "('путина' | '_путин')"),
        ("Лавров Китай", "'_лавров' & '_китай'"),
        ('"встреча Сергея Лаврова"', "('встреча' <-> '_сергей' <-> '_лавров')"),
        ('"Лаврова лавров"', "('_лавров' <-> ('лавр' | '_лавр' | '_лавров'))"),
        ("Лавров OR Байден", "('_лавров' | 'байд')"),
        ("Лавров -Китай", "'_лавров' & !'_китай'"),
        ("лавров OR -китай", "(('лавр' | '_лавр' | '_лавров') | !'_китай')"),
        ('-"Ван И" встреча', "!('_ван' <-> 'и') & 'встреча'"),
        ("meeting AND China's", "'meet' & ('china' <-> 's')"),
        ('Путин OR "Лев Толстой" -лев', "('_путин' | ('_лев' <-> '_толстой')) & !('лев' | '_лев')"),
    ],
)
def test_the_query_language_as_tsquery_text(query, expected):
    assert to_tsquery_text(parse_query(query)) == expected


def test_quotes_and_backslashes_in_a_token_are_literal():
    parsed = ParsedQuery(((Clause((("it's", "a\\b"),)),),))
    assert to_tsquery_text(parsed) == "('it''s' | 'a\\\\b')"


def test_both_engines_answer_the_archives_questions():
    engines: list[type[TextSearch]] = [SearchIndex, PgTextSearch]  # mypy checks the shapes
    for engine in engines:
        assert callable(engine.search) and callable(engine.matching_pks)


# -- against a real server --------------------------------------------------------------------

CHANNELS = ("mfarussia", "embassy_china", "rusemb_usa", "tass_agency", "news_digest")
FORMS = {
    "lavrov": ("Лавров", "Лаврова", "Лаврову", "Лавровым", "Лаврове"),
    "laurels": ("лавры", "лавров", "лаврами", "лаврах"),
    "china": ("Китай", "Китая", "Китаю", "Китаем", "Китае"),
    "whale": ("кит", "кита", "киты", "китов", "китами"),
    "meeting": ("встреча", "встречи", "встрече", "встречу", "встречей", "встреч"),
    "putin": ("Путин", "Путина", "Путину"),
    "season": ("путина", "путину", "путиной"),
    "biden": ("Байден", "Байдена", "Байденом"),
    "english": ("meeting", "meetings", "met", "meets", "China", "Chinese", "Lavrov's"),
    "english2": ("meeting", "meetings", "China", "Chinese", "Beijing"),
}
FRAMES = (
    "Сергей {lavrov} провёл {meeting} с министром иностранных дел {china} Ван И.",
    "{meeting} Сергея {lavrov} и Ван И прошла в Пекине.",
    "Учёные наблюдали {whale} у берегов {china}; {season} началась рано.",
    "{putin} и {biden} обсудили {meeting} на полях G20.",
    "Спортсмен не почивает на {laurels}, говорит {lavrov}.",
    "Лев Толстой писал о льве; лев — царь зверей.",
    "The {english} of ministers: Lavrov met Wang Yi, {english2} again in 2023.",
    "Победителя увенчали {laurels}.",
    "{season} и {whale}: рыбаки {china} ждут {meeting}.",
    "Брифинг официального представителя, {meeting} в Москве.",
)
HASHTAGS = ("РоссияКитай", "RussiaChina", "BRICS", "Дипломатия")
QUERIES = (
    "Лавров",
    "лавров",
    "Лаврову",
    "лавры",
    "Китай",
    "китай",
    "кит",
    "китов",
    "встреча",
    "встречей",
    '"встреча Сергея Лаврова"',
    '"встречи сергея лаврова"',
    '"Ван И"',
    "Лавров Китай",
    "Лавров OR Байден",
    '"Ван И" OR Байдена',
    "Лавров -Китай",
    "встреча -Лавров",
    "лавров OR -китай",
    '-"Ван И" встреча',
    "Путина",
    "путина",
    "Лев",
    "лев",
    "meeting",
    "meetings China",
    "Lavrov's",
    "G20 2023",
    "",
)
FILTERS = (
    PostFilter(),
    PostFilter(channel="@MFARussia"),
    PostFilter(since="2023-03-01"),
    PostFilter(until="2022-12-31"),
    PostFilter(since="2023-01-01", until="2023-06-30T12:00:00"),
    PostFilter(hashtag="#россиякитай"),
    PostFilter(media="photo"),
    PostFilter(media="any"),
    PostFilter(media="none"),
    PostFilter(forwarded=True),
    PostFilter(forwarded=False, channel="embassy_china"),
)


def generated_posts(count: int, seed: int = 13) -> Iterator[Post]:
    """Varied Russian and English posts: word forms of names and of the words stemming would
    join with them, channels (and posts without one), dates (some missing), hashtags, media,
    forwards."""
    rng = random.Random(seed)
    moments = rng.sample(range(0, 3 * 365 * 86400, 61), count)  # distinct: no ties in date
    for number in range(1, count + 1):
        sentences = [
            rng.choice(FRAMES).format(**{name: rng.choice(forms) for name, forms in FORMS.items()})
            for _ in range(rng.randint(1, 3))
        ]
        channel = rng.choice(CHANNELS) if number % 23 else None
        seconds = moments[number - 1]
        date = None if number % 17 == 0 else _iso(seconds)
        media = [Media(type=rng.choice(("photo", "video")))] if rng.random() < 0.3 else []
        forwarded = (
            ForwardedFrom(title="МИД России", channel="mid_russia", id=number)
            if rng.random() < 0.25
            else None
        )
        yield Post(
            key=f"{channel}/{number}" if channel else f"dump/{number:x}",
            channel=channel,
            id=number if channel else None,
            date=date,
            text=" ".join(sentences),
            hashtags=rng.sample(HASHTAGS, rng.randint(0, 2)),
            media=media,
            forwarded_from=forwarded,
        )


def _iso(seconds: int) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime(2022, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)).isoformat()


def _make_schema(server, admin, name: str) -> str:
    """A new database ``name`` with the archive's schema."""
    admin.execute(f"CREATE DATABASE {name}")
    dsn = server.dsn.rsplit("/", 1)[0] + f"/{name}"
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(dsn, autocommit=True) as db:
        migrate(db)
    return dsn


def _copy_tables(sqlite_path: Path, dsn: str) -> None:
    """The rows search reads, from the SQLite archive into PostgreSQL (the columns both have)."""
    psycopg = pytest.importorskip("psycopg")
    source_db = sqlite3.connect(sqlite_path)
    with psycopg.connect(dsn, autocommit=True) as db:
        for table in ("channels", "posts", "hashtags", "media"):
            wanted = {
                row[0]
                for row in db.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                    (table,),
                )
            }
            names = [row[1] for row in source_db.execute(f"PRAGMA table_info({table})")]
            names = [name for name in names if name in wanted]
            rows = source_db.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall()
            marks = ", ".join(["%s"] * len(names))
            with db.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows
                )
    source_db.close()


@pytest.fixture(scope="module")
def server():
    pytest.importorskip("psycopg")
    from .pg import running_server

    with running_server() as running:
        yield running


@pytest.fixture(scope="module")
def admin(server):
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(server.dsn, autocommit=True) as db:
        yield db


def _pg_search(dsn: str) -> Iterator[PgTextSearch]:
    from tgscope.store.pgdb import PgConnection

    db = PgConnection(dsn)
    try:
        yield PgTextSearch(db)
    finally:
        db.close()


def _both(tmp_path_factory, server, admin, name: str, posts: list[Post]):
    """The posts in a SQLite archive with its tantivy index, and in PostgreSQL."""
    path = tmp_path_factory.mktemp(name) / "archive.db"
    archive = Archive.open(path)
    archive.ingest(posts, source())
    dsn = _make_schema(server, admin, name)
    _copy_tables(path, dsn)
    return archive, dsn


@pytest.fixture(scope="module")
def engines(tmp_path_factory, server, admin):
    posts = list(generated_posts(300))
    archive, dsn = _both(tmp_path_factory, server, admin, "mixed", posts)
    with archive:
        for pg in _pg_search(dsn):
            assert pg.write(archive.store.iter_index_docs(0)) == 300
            yield archive.index, pg


@pytest.mark.slow
@pytest.mark.parametrize("query", QUERIES)
def test_the_same_posts_match_and_count_per_channel(engines, query):
    tantivy, pg = engines
    for filters in FILTERS:
        expected = tantivy.matching_pks(query, filters)
        assert pg.matching_pks(query, filters) == expected, filters
        assert pg.channel_counts(query, filters) == tantivy.channel_counts(query, filters)
        assert pg.channel_counts(query, filters, size=2) == dict(
            sorted(tantivy.channel_counts(query, filters).items(), key=lambda i: (-i[1], i[0]))[:2]
        )


@pytest.mark.slow
@pytest.mark.parametrize("query", QUERIES)
def test_the_same_posts_by_date_and_by_relevance(engines, query):
    tantivy, pg = engines
    for filters in FILTERS:
        for order in ("newest", "oldest"):
            mine = pg.search(query, filters, limit=400, order=order)
            theirs = tantivy.search(query, filters, limit=400, order=order)
            assert (mine.total, mine.terms) == (theirs.total, theirs.terms)
            dated = [hit.pk for hit in theirs.hits][: len(_dated(pg, mine))]
            assert _dated(pg, mine) == dated  # undated ones last in both, in another order
            assert {hit.pk for hit in mine.hits} == {hit.pk for hit in theirs.hits}
            assert all(hit.score is None for hit in mine.hits)
        mine = pg.search(query, filters, limit=400)
        theirs = tantivy.search(query, filters, limit=400)
        assert {hit.pk for hit in mine.hits} == {hit.pk for hit in theirs.hits}
        scores = [hit.score for hit in mine.hits]
        assert scores == sorted(scores, reverse=True)


def _dated(pg: PgTextSearch, hits) -> list[int]:
    pks = [hit.pk for hit in hits.hits]
    undated = {
        pk
        for (pk,) in pg.db.execute(
            "SELECT pk FROM posts WHERE date IS NULL AND pk = ANY(?)", [pks]
        ).fetchall()
    }
    assert pks[len(pks) - len(undated) :] == [pk for pk in pks if pk in undated]
    return [pk for pk in pks if pk not in undated]


@pytest.mark.slow
def test_pages_follow_each_other_and_the_total_holds_past_the_end(engines):
    _, pg = engines
    everything = pg.search("встреча", PostFilter(), limit=400, order="newest")
    pages = [
        pg.search("встреча", PostFilter(), limit=7, offset=offset, order="newest")
        for offset in range(0, everything.total, 7)
    ]
    assert [hit.pk for page in pages for hit in page.hits] == [h.pk for h in everything.hits]
    past = pg.search("встреча", PostFilter(), limit=5, offset=everything.total + 3)
    assert (past.total, past.hits) == (everything.total, [])
    none = pg.search("встреча", PostFilter(), limit=0)
    assert (none.total, none.hits) == (everything.total, [])
    assert pg.search("Zhongnanhai", PostFilter()).total == 0


@pytest.mark.slow
def test_an_unknown_order_or_a_bad_date_is_a_query_error(engines):
    _, pg = engines
    with pytest.raises(QueryError, match="unknown order 'best'"):
        pg.search("Лавров", PostFilter(), order="best")
    with pytest.raises(QueryError, match="only excludes"):
        pg.matching_pks("-Лавров", PostFilter())
    with pytest.raises(QueryError, match="not a date"):
        pg.channel_counts("Лавров", PostFilter(since="soon"))


@pytest.mark.slow
def test_postgresql_takes_the_literal_as_written_capped_as_it_would_cap_it(engines):
    _, pg = engines
    text = "да " * (MAX_POSITION + 2) + "нет нет Лавров"
    rows = pg.db.execute(
        "SELECT lexeme, positions FROM unnest(CAST(? AS tsvector)) ORDER BY lexeme",
        [tsvector_literal(text)],
    ).fetchall()
    assert rows == [
        ("_лавров", [MAX_POSITION]),
        ("да", list(range(1, MAX_POSITIONS + 1))),
        ("нет", [MAX_POSITION]),
    ]


@pytest.mark.slow
def test_writes_replace_a_posts_words_and_drop_a_removed_posts(engines):
    _, pg = engines
    (pk,), (other,) = pg.db.execute("SELECT posts.pk FROM posts ORDER BY pk LIMIT 2").fetchall()
    before = pg.matching_pks("Zhongnanhai", PostFilter())
    try:
        pg.db.execute("BEGIN")
        pg.write(
            [
                IndexDoc(pk, "Визит в Zhongnanhai", None, None, []),
                IndexDoc(other, "", None, None, [], gone=True),
                IndexDoc(other, "Zhongnanhai again", None, None, []),
            ]
        )
        assert pg.matching_pks("Zhongnanhai", PostFilter()) == before | {pk, other}
        pg.write([IndexDoc(other, "", None, None, [], gone=True)])
        assert pg.matching_pks("Zhongnanhai", PostFilter()) == before | {pk}
    finally:
        pg.db.execute("ROLLBACK")
    assert pg.matching_pks("Zhongnanhai", PostFilter()) == before == set()


@pytest.mark.slow
def test_a_rebuild_writes_every_posts_words_again(tmp_path_factory, server, admin):
    posts = list(generated_posts(40, seed=5))
    archive, dsn = _both(tmp_path_factory, server, admin, "rebuilt", posts)
    with archive:
        for pg in _pg_search(dsn):
            pg.write([IndexDoc(1, "stale words", None, None, [])])
            assert pg.rebuild(archive.store) == 40
            (rows,) = pg.db.execute("SELECT count(*) FROM post_words").fetchone()
            assert rows == 40 and pg.matching_pks("stale", PostFilter()) == set()
            for query in ("Лавров", "кит", '"Ван И"'):
                expected = archive.index.matching_pks(query, PostFilter())
                assert pg.matching_pks(query, PostFilter()) == expected


@pytest.fixture(scope="module")
def wordforms(tmp_path_factory, server, admin):
    names = list(WORDFORMS["sentences"])
    posts = [
        Post(key=f"news/{n}", channel="news", id=n, text=WORDFORMS["sentences"][name])
        for n, name in enumerate(names, 1)
    ]
    archive, dsn = _both(tmp_path_factory, server, admin, "wordforms", posts)
    with archive:
        for pg in _pg_search(dsn):
            pg.write(archive.store.iter_index_docs(0))
            yield archive.index, pg


@pytest.mark.slow
@pytest.mark.parametrize(
    "query", [word["query"] for word in WORDFORMS["words"]] + ['"встреча Сергея Лаврова"']
)
def test_every_word_form_of_the_test_set_meets_as_in_tantivy(wordforms, query):
    tantivy, pg = wordforms
    expected = tantivy.matching_pks(query, PostFilter())
    assert expected  # the set's words are all in its sentences
    assert pg.matching_pks(query, PostFilter()) == expected
    lowered = query.lower()
    assert pg.matching_pks(lowered, PostFilter()) == tantivy.matching_pks(lowered, PostFilter())
