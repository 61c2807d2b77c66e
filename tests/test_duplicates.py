"""Copy-paste clusters (tgscope duplicates, Archive.duplicates) and the near-copy index."""

from __future__ import annotations

import json
import math
import random
import sqlite3
from collections import Counter, defaultdict
from itertools import pairwise

import pytest
from click.testing import CliRunner

from tests.helpers import post, source
from tgscope.analysis import minhash
from tgscope.analysis.duplicates import ThresholdBelowIndex
from tgscope.archive import Archive
from tgscope.cli import cli
from tgscope.errors import OptionError, QueryError
from tgscope.store import SourceInfo

from .engines import execute, rows, sibling

# Texts on the same topics, as the ministry and embassies write them.
LAVROV_WANG = (
    "🇷🇺🇨🇳 Сергей Лавров провёл переговоры с Министром иностранных дел КНР Ван И в Пекине.\n"
    "Министры подробно обсудили ключевые вопросы двусторонней повестки дня, подготовку к "
    "предстоящим контактам на высшем уровне, а также взаимодействие в ООН, ШОС и БРИКС. "
    "Стороны подтвердили настрой на дальнейшее укрепление всеобъемлющего партнёрства."
)
LAVROV_WANG_EDITED = LAVROV_WANG.replace("подробно", "детально")
BRICS = (
    "Foreign Minister Sergey Lavrov took part in the meeting of BRICS foreign ministers in "
    "Nizhny Novgorod. The ministers discussed the expansion of the association, cooperation "
    "in trade and finance, and the preparations for the summit in Kazan in October."
)
BRICS_EDITED = BRICS.replace("discussed", "reviewed")
# unrelated posts on the same topics: the same names and words, other sentences
PHONE_CALL = (
    "🇷🇺🇨🇳 Состоялся телефонный разговор Сергея Лаврова с Ван И. Министры обменялись "
    "мнениями по актуальным международным проблемам и договорились о новых контактах."
)
LAVROV_EN = (
    "Sergey Lavrov met Wang Yi in Beijing. The ministers discussed the BRICS agenda, the "
    "situation in the region and the preparations for the visit of the President."
)
BRIEFING = (
    "Брифинг официального представителя МИД России М.В.Захаровой по актуальным вопросам "
    "внешней политики состоится в четверг в 12:00 по московскому времени."
)
SCO = (
    "The Council of Foreign Ministers of the SCO member states met in Astana to prepare the "
    "summit of the heads of state; the ministers adopted a joint communique."
)

DAY = "2024-04-01T"
POSTS = [
    post("mid_russia/1", LAVROV_WANG, channel="mid_russia", date=DAY + "09:00:00+00:00"),
    post(
        "rusemb_india/41",
        LAVROV_WANG,
        channel="rusemb_india",
        date=DAY + "09:05:00+00:00",
        forwarded_from={"title": "МИД России", "channel": "mid_russia", "id": 1},
    ),
    post("rusembchina/11", LAVROV_WANG_EDITED, channel="rusembchina", date=DAY + "10:30:00+00:00"),
    post(
        "china_embassy_ru/21",
        "🔥 " + LAVROV_WANG,
        channel="china_embassy_ru",
        date=DAY + "11:00:00+00:00",
    ),
    post(
        "rusemb_kz/31",
        LAVROV_WANG + "\n\n👉 Подписывайтесь на наш канал: t.me/rusemb_kz",
        channel="rusemb_kz",
        date=DAY + "12:00:00+00:00",
    ),
    post("mfarussia/2", BRICS, channel="mfarussia", date=DAY + "08:00:00+00:00"),
    post("sco_secretariat/5", BRICS_EDITED, channel="sco_secretariat", date=DAY + "14:00:00+00:00"),
    post(
        "mfarussia/3",
        BRICS + "\nSubscribe to our channel",
        channel="mfarussia",
        date="2024-04-02T08:00:00+00:00",
    ),
    post("mid_russia/2", PHONE_CALL, channel="mid_russia", date=DAY + "15:00:00+00:00"),
    post("mfarussia/4", LAVROV_EN, channel="mfarussia", date=DAY + "16:00:00+00:00"),
    post("mid_russia/3", BRIEFING, channel="mid_russia", date=DAY + "17:00:00+00:00"),
    post("sco_secretariat/6", SCO, channel="sco_secretariat", date=DAY + "18:00:00+00:00"),
    # too short to compare, however often they are posted
    post("mid_russia/4", "🔥", channel="mid_russia", date=DAY + "19:00:00+00:00"),
    post("rusemb_kz/32", "🔥", channel="rusemb_kz", date=DAY + "19:00:00+00:00"),
    post("mfarussia/5", "Доброе утро, друзья!", channel="mfarussia", date=DAY + "19:00:00+00:00"),
    post("rusemb_kz/33", "Доброе утро, друзья!", channel="rusemb_kz", date=DAY + "19:00:00+00:00"),
]


def one_word_changed(text: str) -> float:
    """Jaccard of word pairs when one word inside an n-word text (distinct pairs) changes."""
    n = len(minhash.words(text))
    return round((n - 3) / (n + 1), 3)


EXPECTED = [
    {
        "cluster": 1,
        "size": 3,
        "similarity": one_word_changed(BRICS),
        "first": "mfarussia/2",
        "posts": ["mfarussia/2", "sco_secretariat/5", "mfarussia/3"],
        "channels": ["mfarussia", "sco_secretariat"],
        "forwards": [],
        "spread_s": 86400,
    },
    {
        "cluster": 2,
        "size": 5,
        "similarity": one_word_changed(LAVROV_WANG),
        "first": "mid_russia/1",
        "posts": [
            "mid_russia/1",
            "rusemb_india/41",
            "rusembchina/11",
            "china_embassy_ru/21",
            "rusemb_kz/31",
        ],
        "channels": ["mid_russia", "rusemb_india", "rusembchina", "china_embassy_ru", "rusemb_kz"],
        "forwards": ["rusemb_india/41"],
        "spread_s": 3 * 3600,
    },
]


@pytest.fixture
def archive(archive_db):
    with Archive.open(archive_db) as opened:
        opened.ingest(POSTS, source())
        yield opened


def records(clusters) -> list[dict]:
    return [cluster.to_dict() for cluster in clusters]


def test_the_similarity_of_a_changed_word_is_what_the_shingles_say():
    for text, edited, count in ((LAVROV_WANG, LAVROV_WANG_EDITED, 44), (BRICS, BRICS_EDITED, 39)):
        tokens = minhash.words(text)
        assert len(tokens) == len(set(pairwise(tokens))) + 1 == count
        exact = minhash.jaccard(minhash.shingles(tokens), minhash.shingles(minhash.words(edited)))
        assert round(exact, 3) == one_word_changed(text) == round((count - 3) / (count + 1), 3)


def test_planted_copies_cluster_exactly(archive):
    assert records(archive.duplicates()) == EXPECTED


def test_a_higher_threshold_keeps_the_same_texts_only(archive):
    found = records(archive.duplicates(threshold=0.95))
    assert [(c["posts"], c["similarity"]) for c in found] == [
        (["mfarussia/2", "mfarussia/3"], 1.0),
        (["mid_russia/1", "rusemb_india/41", "china_embassy_ru/21", "rusemb_kz/31"], 1.0),
    ]


def test_filters_min_size_channel_and_dates(archive):
    assert [c.size for c in archive.duplicates(min_size=4)] == [5]
    assert [c.first for c in archive.duplicates(channel="@SCO_Secretariat")] == ["mfarussia/2"]
    assert [c.first for c in archive.duplicates(channel=["rusemb_kz", "nobody"])] == [
        "mid_russia/1"
    ]
    only_day = archive.duplicates(since="2024-04-01", until="2024-04-01")
    assert [c.posts[-1].key for c in only_day] == ["sco_secretariat/5", "rusemb_kz/31"]


def test_arrow_table(archive):
    table = archive.duplicates().to_arrow()
    assert table.num_rows == 2
    assert table.column_names == [
        "cluster",
        "size",
        "similarity",
        "first",
        "posts",
        "channels",
        "forwards",
        "spread_s",
    ]
    assert table.to_pylist() == EXPECTED


def test_bad_options_are_one_line_errors(archive):
    with pytest.raises(OptionError, match=r"threshold: 1\.5 is not between"):
        archive.duplicates(threshold=1.5)
    with pytest.raises(OptionError, match="min_size: 1 is less than 2"):
        archive.duplicates(min_size=1)
    with pytest.raises(QueryError, match="not a date"):
        archive.duplicates(since="yesterday")
    with pytest.raises(ThresholdBelowIndex, match=r"below the 0\.7 the near-copy index was built"):
        archive.duplicates(threshold=0.5)


def test_a_lower_threshold_after_a_rebuild(archive_db, archive):
    archive.duplicates()
    loose = archive.duplicates(threshold=0.5, rebuild=True)
    assert [c.size for c in loose] == [3, 5]
    assert archive.duplicates(threshold=0.6).to_arrow().num_rows == 2  # answered: floor 0.5
    assert dict(rows(archive_db, "SELECT name, value FROM nearcopy_state"))["floor"] == "0.5"


def test_the_cli_formats(archive_db, archive):
    runner = CliRunner()
    lines = runner.invoke(cli, ["duplicates", "--db", archive_db, "--format", "jsonl"])
    assert lines.exit_code == 0, lines.output
    assert [json.loads(line) for line in lines.output.splitlines()] == EXPECTED
    csv = runner.invoke(cli, ["duplicates", "--db", archive_db, "--format", "csv"])
    rows = csv.output.splitlines()
    assert rows[0] == "cluster,size,similarity,key,channel,date,forwarded"
    assert rows[1] == f"1,3,{one_word_changed(BRICS)},mfarussia/2,mfarussia,{DAY}08:00:00+00:00,0"
    assert (
        rows[5]
        == f"2,5,{one_word_changed(LAVROV_WANG)},rusemb_india/41,rusemb_india,{DAY}09:05:00+00:00,1"
    )
    assert len(rows) == 9
    table = runner.invoke(cli, ["duplicates", "--db", archive_db, "--channel", "rusemb_kz"])
    assert table.exit_code == 0
    assert table.output.splitlines()[:3] == [
        "1 cluster(s), 5 post(s)",
        "",
        f"#1: 5 posts in 5 channel(s), similarity {one_word_changed(LAVROV_WANG):.2f},"
        " over 3 h 00 min",
    ]
    assert "  2024-04-01 09:05  rusemb_india/41  (forward)" in table.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--threshold", "0.5"], "Error: --threshold 0.5 is below the 0.7 the near-copy index"),
        (["--threshold", "0"], "Error: threshold: 0.0 is not between 0 (excluded) and 1"),
        (["--min-size", "1"], "Error: min_size: 1 is less than 2"),
        (["--since", "soon"], "Error: not a date: 'soon'"),
    ],
)
def test_the_cli_says_what_is_wrong_in_one_line(archive_db, archive, args, message):
    result = CliRunner().invoke(cli, ["duplicates", "--db", archive_db, *args])
    assert result.exit_code == 1
    assert result.output.startswith(message) and result.output.count("\n") == 1
    if "below" in message:
        assert result.output.rstrip().endswith("run again with --rebuild to build it for that")


# -- the index follows the archive ----------------------------------------------------------


def signed(monkeypatch) -> list[int]:
    """Count the texts signed from now on."""
    from tgscope.analysis.minhash import Signer

    counts: list[int] = []
    original = Signer.sign

    def counting(self, sets):
        counts.append(len(sets))
        return original(self, sets)

    monkeypatch.setattr(Signer, "sign", counting)
    return counts


def index_rows(target: str) -> dict[str, int]:
    tables = ("nearcopy_texts", "nearcopy_posts", "nearcopy_buckets", "nearcopy_pairs")
    found = {t: rows(target, f"SELECT count(*) FROM {t}")[0][0] for t in tables}
    found["pairs"] = rows(target, "SELECT a, b, jaccard FROM nearcopy_pairs ORDER BY 1, 2")
    found["texts"] = rows(target, "SELECT id, signature FROM nearcopy_texts ORDER BY 1")
    return found


def test_new_posts_alone_get_signatures_and_the_clusters_equal_a_rebuild(
    archive_db, request, monkeypatch
):
    counts = signed(monkeypatch)
    whole_db = sibling(request, archive_db, "whole")
    with Archive.open(archive_db) as archive:
        archive.ingest(POSTS[:8], source("test://one"))
        archive.duplicates()
        assert sum(counts) == 4  # each text and its edit (copies of one text: one signature)
        archive.ingest(POSTS[8:], source("test://two"))
        counts.clear()
        stepped = records(archive.duplicates())
        assert sum(counts) == 4  # the four new texts long enough (the short ones are left out)
        assert archive.duplicates() and sum(counts) == 4  # nothing new: nothing read
    with Archive.open(whole_db) as whole:
        whole.ingest(POSTS, source())
        assert records(whole.duplicates()) == stepped == EXPECTED
    assert index_rows(archive_db) == index_rows(whole_db)


def test_a_changed_text_gets_a_new_signature_and_the_old_one_goes(archive_db, request):
    whole_db = sibling(request, archive_db, "whole")
    with Archive.open(archive_db) as archive:
        archive.ingest(POSTS, source())
        archive.duplicates()
        edited = post(
            "rusembchina/11", PHONE_CALL, channel="rusembchina", date=DAY + "10:30:00+00:00"
        )
        later = SourceInfo("test", "test://later", "1" * 64, "2026-11-29T07:00:00+00:00")
        archive.ingest([edited], later)
        found = records(archive.duplicates())
        assert [c["posts"] for c in found] == [
            ["mfarussia/2", "sco_secretariat/5", "mfarussia/3"],
            ["mid_russia/1", "rusemb_india/41", "china_embassy_ru/21", "rusemb_kz/31"],
            ["rusembchina/11", "mid_russia/2"],
        ]
        assert found[1]["similarity"] == 1.0  # the edited copy left this cluster
    with Archive.open(whole_db) as whole:
        whole.ingest([*POSTS[:2], edited, *POSTS[3:]], source())
        assert records(whole.duplicates()) == found
    assert index_rows(archive_db) == index_rows(whole_db)


def test_a_post_merged_away_leaves_its_cluster(archive_db, request):
    """A text dump's copy (no id) is merged into the post with an id when that arrives:
    the copy's pk is removed, and the index drops it."""
    dump_copy = post("rusemb_uk/dump-1", SCO, channel="rusemb_uk", date=DAY + "18:30:00+00:00")
    whole_db = sibling(request, archive_db, "whole")
    with Archive.open(archive_db) as archive:
        archive.ingest([*POSTS, dump_copy], source())
        before = records(archive.duplicates())
        assert before[-1]["posts"] == ["sco_secretariat/6", "rusemb_uk/dump-1"]
        with_id = post("rusemb_uk/7", SCO, channel="rusemb_uk", date=DAY + "18:30:00+00:00")
        report = archive.ingest([with_id], source("test://ids"))
        assert report.merged == 1
        after = records(archive.duplicates())
        assert after[-1]["posts"] == ["sco_secretariat/6", "rusemb_uk/7"]
    with Archive.open(whole_db) as whole:
        whole.ingest([*POSTS, with_id], source())
        assert records(whole.duplicates()) == after
    assert index_rows(archive_db) == index_rows(whole_db)


# -- against exact all pairs ------------------------------------------------------------------


def generated_sample(count: int, seed: int = 3) -> list:
    """``count`` posts of Zipf-distributed words (so common pairs like "of the" recur), a
    fifth of them lightly edited copies of earlier ones: 1-8 words substituted, inserted or
    deleted, an emoji in front, a subscribe line added, so Jaccards spread around 0.8."""
    rng = random.Random(seed)
    vocabulary = [f"w{rank}" for rank in range(4000)]
    weights = [1 / (rank + 1) for rank in range(4000)]
    posts: list = []
    texts: list[str] = []
    for number in range(count):
        if texts and rng.random() < 0.2:
            tokens = rng.choice(texts).split()
            for _ in range(rng.randint(1, 8)):
                at = rng.randrange(len(tokens))
                action = rng.random()
                if action < 0.5:
                    tokens[at] = rng.choice(vocabulary)
                elif action < 0.75:
                    tokens.insert(at, rng.choice(vocabulary))
                elif len(tokens) > 6:
                    del tokens[at]
            text = " ".join(tokens)
        else:
            text = " ".join(rng.choices(vocabulary, weights, k=rng.randint(12, 90)))
        texts.append(text)
        shown = ("🔥 " if rng.random() < 0.1 else "") + text
        if rng.random() < 0.1:
            shown += "\nПодписывайтесь на наш канал t.me/sample"
        channel = f"channel_{number % 37:02d}"
        posts.append(post(f"{channel}/{number + 1}", shown, channel=channel, date=None))
    return posts


def exact_pairs(sets: dict[int, set], threshold: float) -> set[tuple[int, int]]:
    """Every pair of Jaccard ≥ threshold, exactly: an inverted index over each set's rarest
    shingles (a pair at the threshold must share one of its first |x| - ⌈t·|x|⌉ + 1 shingles
    in rarity order: prefix filtering, no pair lost), each candidate verified."""
    frequency = Counter(s for shingles in sets.values() for s in shingles)
    postings: dict[tuple, list[int]] = defaultdict(list)
    found = set()
    for text_id, shingles in sets.items():
        ordered = sorted(shingles, key=lambda s: (frequency[s], s))
        prefix = ordered[: len(ordered) - math.ceil(threshold * len(ordered)) + 1]
        candidates = {other for s in prefix for other in postings[s]}
        for other in candidates:
            if minhash.jaccard(shingles, sets[other]) >= threshold:
                found.add((min(text_id, other), max(text_id, other)))
        for s in prefix:
            postings[s].append(text_id)
    return found


@pytest.mark.slow
def test_precision_and_recall_against_exact_all_pairs(db_path):
    sample = generated_sample(20_000)
    with Archive.open(db_path) as archive:
        archive.ingest(sample, source())
        archive.duplicates()
    sets = {
        minhash.text_digest(tokens): minhash.shingles(tokens)
        for tokens in (minhash.words(p.text) for p in sample)
        if len(tokens) >= minhash.MIN_WORDS
    }
    db = sqlite3.connect(db_path)
    for threshold in (0.8, 0.7):  # 0.7: the index's floor, reported only
        truth = exact_pairs(sets, threshold)
        query = "SELECT a, b FROM nearcopy_pairs WHERE jaccard >= ?"
        found = set(db.execute(query, (threshold,)))
        hits = len(truth & found)
        precision, recall = hits / len(found), hits / len(truth)
        print(
            f"pairs >= {threshold}: exact {len(truth)}, found {len(found)},"
            f" precision {precision:.4f}, recall {recall:.4f}"
        )
        if threshold == 0.8:
            assert len(truth) > 1000
            assert precision >= 0.95 and recall >= 0.95
    db.close()


def test_an_index_of_another_method_is_built_again(archive_db, archive, monkeypatch):
    archive.duplicates()
    execute(archive_db, "UPDATE nearcopy_state SET value = '0' WHERE name = 'version'")
    counts = signed(monkeypatch)
    assert records(archive.duplicates()) == EXPECTED
    assert sum(counts) == 8  # every text long enough, signed again


@pytest.mark.pg
def test_posts_committed_while_an_older_writer_is_open_are_read_once(pg_url, monkeypatch):
    """PostgreSQL: B commits, and the near-copy index catches up, while A, which began
    writing before, is still open; the catch-up goes only up to the write horizon (just
    before A), and the next one, after A commits, reads A's post and B's: each once."""
    from tgscope.analysis.duplicates import NearCopyIndex

    read: list[int] = []
    catch_up = NearCopyIndex.catch_up

    def counted(self, **options):
        read.append(catch_up(self, **options))
        return read[-1]

    monkeypatch.setattr(NearCopyIndex, "catch_up", counted)
    alpha = post("mid_russia/1", LAVROV_WANG, channel="mid_russia", date=DAY + "09:00:00+00:00")
    beta = post("rusemb_kz/31", LAVROV_WANG, channel="rusemb_kz", date=DAY + "12:00:00+00:00")
    with Archive.open(pg_url) as first, Archive.open(pg_url) as second:

        def meanwhile(store) -> None:
            second.ingest([beta], source("test://beta"))
            second.duplicates()

        first.ingest([alpha], source("test://alpha"), before_commit=meanwhile)
        found = [cluster.to_dict()["posts"] for cluster in first.duplicates()]
    assert found == [["mid_russia/1", "rusemb_kz/31"]]
    assert sum(read) == 2


def test_rows_of_a_build_from_scratch_are_written_as_new_ones_each_once(archive_db):
    """A build from scratch into empty tables writes its rows as new (COPY on PostgreSQL);
    a bucket row that two bands of one text hash to is written once, as an insert would."""
    with Archive.open(archive_db) as archive:
        tables = archive.store.nearcopies
        assert tables.is_empty()
        with tables.writing():
            tables.save_texts([(1, b"\x00" * 8, 3), (2, b"\x01" * 8, 4)], new=True)
            tables.save_posts([(10, 1, 5), (11, 2, 5)], new=True)
            tables.save_buckets([(-7, 1), (-7, 2), (-7, 1), (3, 1), (3, 1)], new=True)
        assert not tables.is_empty()
    assert rows(archive_db, "SELECT bucket, text_id FROM nearcopy_buckets ORDER BY 1, 2") == [
        (-7, 1),
        (-7, 2),
        (3, 1),
    ]
    assert rows(archive_db, "SELECT post_pk, text_id FROM nearcopy_posts ORDER BY 1") == [
        (10, 1),
        (11, 2),
    ]
