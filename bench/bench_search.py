"""Search benchmark: an archive of generated posts (1 million by default), English and Russian.

    python bench/bench_search.py [--posts 1000000] [--queries 50]

Builds (once, cached under bench/out/) an archive of generated posts with dates, 42 channels and
hashtags, then times each query class through ``Archive.search`` (ranked results hydrated from
SQLite, with highlighted snippets) beside the bare engine answering the same query (tantivy
parse + top-10 search, nothing else).  Prints p50/p95 in milliseconds and the ratio of p95s.
Targets: p95 ≤ 50 ms for every class, and ≤ 1.5× the bare engine.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tantivy
from gen import CHANNELS, RARE_WORDS, PostGenerator

from tgscope.archive import Archive
from tgscope.search import text_analyzer
from tgscope.store import PostFilter, SourceInfo

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
    analyze = text_analyzer().analyze
    generator = PostGenerator(seed=11)
    frequencies = {}
    for word in {*generator.en, *generator.ru, *RARE_WORDS}:
        tokens = analyze(word)
        if len(tokens) == 1 and len(word) > 3:
            frequencies[word] = searcher.doc_freq("text", tokens[0])
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
    classes = []
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


def bare_engine(archive: Archive, query: str, options: dict):
    """The engine alone: parse the same query with the same filters and take the top 10."""
    index = archive.index
    filters = PostFilter(
        channel=options.get("channel"), since=options.get("since"), until=options.get("until")
    )
    order = options.get("order", "relevance")

    def run():
        parsed = index.parse(query, filters)
        searcher = index.index.searcher()
        if order == "relevance":
            return searcher.search(parsed, 10)
        return searcher.search(parsed, 10, order_by_field="date", order=tantivy.Order.Desc)

    return run


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
        if args.compare_fts5:
            compare_fts5(db, terms, min(args.queries, 10))


if __name__ == "__main__":
    main()
