"""Search benchmark: an archive of generated posts (1 million by default), English and Russian.

    python bench/bench_search.py [--posts 1000000] [--queries 50] [--small 2000] [--runs 15]

Builds (once, cached under bench/out/) an archive of generated posts with dates, 42 channels and
hashtags, then prints three tables:

1. each query class through ``Archive.search`` (ranked results hydrated from SQLite, with
   highlighted snippets) beside the bare engine answering the same query (tantivy parse +
   top-10 search, nothing else): p50/p95 in milliseconds and their ratios.  Targets: p95 ≤ 50 ms
   for every class, and ≤ 1.5× the bare engine.
2. a rare-term search's fixed costs, step by step, beside bare tantivy with its top 10 loaded
   (search, then each document fetched from tantivy's store).  Target: ``Archive.search``
   within 3× that.
3. the whole command on a small archive (``--small`` posts): ``tgscope search --db small.db
   TERM`` beside ``sqlite-utils search copy.db posts TERM --limit 10`` on an FTS5-enabled copy,
   each run ``--runs`` times as a new process (wall-clock medians).  Target: within 1.2×.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tantivy
from gen import CHANNELS, RARE_WORDS, PostGenerator

from tgscope.archive import Archive
from tgscope.snippets import snippet
from tgscope.store import PostFilter, SourceInfo
from tgscope.words import index_token

OUT = Path(__file__).resolve().parent / "out"


def build(db: Path, count: int) -> float:
    """Ingest ``count`` generated posts in one transaction; return the seconds it took."""
    source = SourceInfo("bench", f"generated:{count}", "0" * 64, "2026-11-28T00:00:00+00:00")
    start = time.perf_counter()
    with Archive.open(db) as archive:
        report = archive.ingest(PostGenerator(seed=11).records(count), source)
    assert report.added == count, report
    return time.perf_counter() - start


def pick_terms(archive: Archive) -> dict[str, tuple[str, int]]:
    """Rare (< 5k posts), mid (50k-300k) and common (> 300k) terms for each language."""
    searcher = archive.index.index.searcher()
    generator = PostGenerator(seed=11)
    frequencies = {}
    for word in {*generator.en, *generator.ru, *RARE_WORDS}:
        if len(word) > 3 and word.isalpha():
            frequencies[word] = searcher.doc_freq("words", index_token(word))
    total = searcher.num_docs
    picks = {}
    for language, alphabet in (("en", str.isascii), ("ru", lambda w: not w.isascii())):
        words = {w: f for w, f in frequencies.items() if alphabet(w)}
        bands = {
            "rare": [w for w, f in words.items() if 0 < f < 5_000],
            "mid": [
                w for w, f in words.items() if 50_000 * total / 1e6 <= f <= 300_000 * total / 1e6
            ],
            "common": [w for w, f in words.items() if f > 300_000 * total / 1e6],
        }
        for band, candidates in bands.items():
            if candidates:
                word = sorted(candidates, key=lambda w: (words[w], w))[len(candidates) // 2]
                picks[f"{band}-{language}"] = (word, words[word])
    return picks


def query_classes(terms: dict[str, tuple[str, int]]) -> list[tuple[str, str, dict]]:
    """(name, query, options) for every class the issue names."""
    classes: list[tuple[str, str, dict]] = []
    for name, (word, _) in terms.items():
        classes.append((f"{name} by relevance", word, {}))
    for language in ("en", "ru"):
        mid, common = terms[f"mid-{language}"][0], terms[f"common-{language}"][0]
        rare = terms[f"rare-{language}"][0]
        classes += [
            (f"common-{language} by date", common, {"order": "newest"}),
            (f"mid-{language} by date", mid, {"order": "newest"}),
            (f"common-{language} + channel", common, {"channel": CHANNELS[3]}),
            (f"mid-{language} + channel", mid, {"channel": CHANNELS[3]}),
            (
                f"common-{language} + date range",
                common,
                {"since": "2020-03-01", "until": "2020-06-30"},
            ),
            (f"two terms {language} (mid + common)", f"{mid} {common}", {}),
            (f"two terms {language} (rare + common)", f"{rare} {common}", {}),
            (f"phrase {language}", f'"{common} {mid}"', {}),
        ]
    return classes


def fixed_costs(archive: Archive, word: str, repeats: int) -> None:
    """A rare term: where ``Archive.search``'s time goes, beside bare tantivy with its top 10
    loaded (the same term query, each hit's stored document fetched)."""
    index, filters = archive.index, PostFilter()
    parsed, terms = index.parse(word, filters)
    hits = index.search(word, filters)
    pks = [hit.pk for hit in hits.hits]
    posts = archive.store.load_posts(pks)

    def bare():
        searcher = index.index.searcher()
        return [searcher.doc(address) for _, address in searcher.search(parsed, 10).hits]

    steps = [
        ("bare tantivy, top 10 loaded", bare),
        ("Archive.search, whole", lambda: archive.search(word)),
        ("  catch-up check (2 SQLite reads)", lambda: index.catch_up(archive.store)),
        ("  query parsed, engine, pks", lambda: index.search(word, filters)),
        ("  store.load_posts(10 pks)", lambda: archive.store.load_posts(pks)),
        ("  snippets of 10 posts", lambda: [snippet(post.text, terms) for post in posts.values()]),
    ]
    print(f"\nrare term {word!r} ({hits.total:,} posts): where a search's time goes")
    header = f"{'step':<36} {'p50 ms':>8} {'p95 ms':>8} {'× bare p50':>11}"
    print(header)
    print("-" * len(header))
    base = None
    for name, function in steps:
        p50, p95 = percentiles(function, repeats)
        base = base or p50
        print(f"{name:<36} {p50:>8.3f} {p95:>8.3f} {p50 / base:>10.1f}×")
    print("target: Archive.search within 3× bare tantivy with its top 10 loaded")


def whole_commands(count: int, runs: int) -> None:
    """``tgscope search`` beside ``sqlite-utils search`` on a small archive, as new processes."""
    db = OUT / f"small-{count}.db"
    if not db.exists():
        build(db, count)
    fts = OUT / f"small-{count}-fts.db"
    if not fts.exists():
        shutil.copy(db, fts)
        run([BIN / "sqlite-utils", "enable-fts", fts, "posts", "text", "--fts5"])
    with Archive.open(db) as archive:
        archive.search("warm")  # the index is caught up before timing
        terms = pick_terms(archive)
    print(f"\nwhole commands on {count:,} posts, {runs} runs each as a new process (wall clock)")
    header = f"{'term':<28} {'tgscope ms':>11} {'sqlite-utils ms':>16} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    ours = timed_runs([BIN / "tgscope", "--help"], runs)
    theirs = timed_runs([BIN / "sqlite-utils", "--help"], runs)
    print(f"{'--help':<28} {ours:>11.0f} {theirs:>16.0f} {ours / theirs:>6.2f}×")
    for name in ("rare-ru", "rare-en", "common-ru", "common-en"):
        if name not in terms:
            continue
        word = terms[name][0]
        ours = timed_runs([BIN / "tgscope", "search", "--db", db, word], runs)
        theirs = timed_runs(
            [BIN / "sqlite-utils", "search", fts, "posts", word, "--limit", "10"], runs
        )
        print(f"{name + ' ' + word:<28} {ours:>11.0f} {theirs:>16.0f} {ours / theirs:>6.2f}×")
    print("target: tgscope (--help, and a search) within 1.2× sqlite-utils")


BIN = Path(sys.executable).parent


def run(command: list) -> None:
    subprocess.run([str(part) for part in command], check=True, stdout=subprocess.DEVNULL)


def timed_runs(command: list, runs: int) -> float:
    """Median wall-clock milliseconds of ``runs`` interleaved-safe runs (one warm-up first)."""
    run(command)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run(command)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bare_engine(archive: Archive, query: str, options: dict):
    """The engine alone: parse the same query with the same filters and take the top 10."""
    index = archive.index
    filters = PostFilter(
        channel=options.get("channel"), since=options.get("since"), until=options.get("until")
    )
    order = options.get("order", "relevance")

    def engine():
        parsed, _ = index.parse(query, filters)
        searcher = index.index.searcher()
        if order == "relevance":
            return searcher.search(parsed, 10)
        return searcher.search(parsed, 10, order_by_field="date", order=tantivy.Order.Desc)

    return engine


def compare_fts5(db: Path, terms: dict[str, tuple[str, int]], repeats: int) -> None:
    """SQLite FTS5 (unicode61, no stemming: FTS5 has no Russian stemmer) over the same texts."""
    fts = OUT / f"{db.stem}-fts5.db"
    build_seconds = None
    if not fts.exists():
        connection = sqlite3.connect(fts)
        connection.execute("ATTACH ? AS archive", (str(db),))
        connection.execute("CREATE VIRTUAL TABLE posts_fts USING fts5(text, tokenize=unicode61)")
        start = time.perf_counter()
        connection.execute("INSERT INTO posts_fts(rowid, text) SELECT pk, text FROM archive.posts")
        connection.commit()
        build_seconds = time.perf_counter() - start
        connection.close()
    connection = sqlite3.connect(fts)
    (count,) = connection.execute("SELECT count(*) FROM posts_fts").fetchone()
    if build_seconds:
        print(
            f"FTS5 indexed {count:,} posts in {build_seconds:.0f} s "
            f"({count / build_seconds:,.0f} posts/s)"
        )
    for name in ("rare-en", "mid-en", "common-en", "mid-ru"):
        word = terms[name][0]

        def query(word=word):
            return connection.execute(
                "SELECT rowid FROM posts_fts WHERE posts_fts MATCH ? ORDER BY bm25(posts_fts)"
                " LIMIT 10",
                (f'"{word}"',),
            ).fetchall()

        p50, p95 = percentiles(query, repeats)
        print(f"FTS5 {name} {word!r} by relevance: p50 {p50:.1f} ms, p95 {p95:.1f} ms")


def percentiles(function, repeats: int) -> tuple[float, float]:
    function()  # warm caches once
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=50, help="runs of each query")
    parser.add_argument(
        "--compare-fts5", action="store_true", help="also time SQLite FTS5 on the same texts"
    )
    parser.add_argument("--small", type=int, default=2000, help="posts for the command timing")
    parser.add_argument("--runs", type=int, default=15, help="runs of each whole command")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    db = OUT / f"search-{args.posts}.db"
    if not db.exists():
        seconds = build(db, args.posts)
        print(
            f"built {db.name}: {args.posts:,} posts in {seconds:.0f} s "
            f"({args.posts / seconds:,.0f} posts/s)"
        )
    with Archive.open(db) as archive:
        terms = pick_terms(archive)
        print("terms: " + ", ".join(f"{k}={w!r} ({f:,} posts)" for k, (w, f) in terms.items()))
        header = (
            f"{'query class':<34} {'matches':>9} {'ours p50':>9} {'p95':>7} "
            f"{'bare p50':>9} {'p95':>7} {'ratio p50':>9} {'p95':>6}"
        )
        print(header)
        print("-" * len(header))
        worst = 0.0
        for name, query, options in query_classes(terms):
            total = archive.search(query, **options).total

            def ours(query=query, options=options):
                return archive.search(query, **options)

            ours50, ours95 = percentiles(ours, args.queries)
            bare50, bare95 = percentiles(bare_engine(archive, query, options), args.queries)
            worst = max(worst, ours95)
            print(
                f"{name:<34} {total:>9,} {ours50:>9.2f} {ours95:>7.2f} "
                f"{bare50:>9.2f} {bare95:>7.2f} {ours50 / bare50:>8.2f}× {ours95 / bare95:>5.2f}×"
            )
        print(f"worst p95: {worst:.1f} ms (target ≤ 50 ms; ratio target ≤ 1.5×)")
        fixed_costs(archive, terms["rare-ru"][0], args.queries)
        if args.compare_fts5:
            compare_fts5(db, terms, min(args.queries, 10))
    whole_commands(args.small, args.runs)


if __name__ == "__main__":
    main()
