"""Import benchmark: a generated ~100 MB text dump, end to end, beside the search engine alone.

    python bench/bench_import.py [--mb 100] [--rounds 3]

Prints one table.  The floor is tantivy indexing the same texts with the archive's own schema and
analyzer (documents built and committed, nothing else); the target is total ≤ 1.5× the floor's
time, and dump parsing alone ≥ 20 MB/s.  Peak memory is the process's maximum RSS.

The import runs twice a round, interleaved: with the word analyzer as shipped (Russian lemmas,
tgscope.words) and with the analyzer before it (Snowball twice inside tantivy, a copy kept
below), so the lemmatizer's cost is measured side by side (target: ≤ 15% slower).  The
generated dump repeats a small vocabulary, so its words are soon cached; the last row
lemmatizes 100,000 distinct dictionary word forms with cold caches: the worst case, met once
per new word form in a real archive.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tantivy
from gen import write_dump

from tgscope import search, words
from tgscope.archive import Archive
from tgscope.dates import to_epoch
from tgscope.inputs import read_text
from tgscope.record import Post
from tgscope.search import SearchIndex
from tgscope.sources.textdump import parse_textdump
from tgscope.store import IndexDoc, fold_hashtag

ANALYZERS = ("lemmas", "snowball")  # as shipped; as before index format 2


def old_text_analyzer() -> tantivy.TextAnalyzer:
    """The analyzer before index format 2: words, lower case, stemmed (en, ru) twice."""
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    builder = builder.filter(tantivy.Filter.remove_long(40)).filter(tantivy.Filter.lowercase())
    for _ in range(2):
        builder = builder.filter(tantivy.Filter.stemmer("english"))
        builder = builder.filter(tantivy.Filter.stemmer("russian"))
    return builder.build()


def old_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("pk", stored=True, indexed=True, fast=True)
    builder.add_text_field(
        "text", stored=True, tokenizer_name=search.TOKENIZER, index_option="position"
    )
    builder.add_text_field("channel", stored=False, tokenizer_name="raw")
    builder.add_text_field("hashtag", stored=False, tokenizer_name="raw")
    builder.add_integer_field("date", stored=False, indexed=True, fast=True)
    return builder.build()


def old_document(doc: IndexDoc) -> tantivy.Document:
    fields: dict = {
        "pk": doc.pk,
        "text": doc.text,
        "hashtag": list(map(fold_hashtag, doc.hashtags)),
    }
    if doc.channel:
        fields["channel"] = doc.channel
    if doc.date:
        fields["date"] = to_epoch(doc.date)
    return tantivy.Document(**fields)


def use_analyzer(name: str) -> None:
    """Index with the analyzer before index format 2 ("snowball") instead of the shipped one."""
    if name == "snowball":  # in the module that calls them
        search.index.build_schema = old_schema
        search.index.make_document = old_document
        search.index.words_analyzer = old_text_analyzer


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def parse_only(path: Path) -> int:
    """Read, decode and parse the dump as an import does, keeping nothing."""
    items = parse_textdump(read_text(path, None), channel="bench")
    return sum(1 for item in items if isinstance(item, Post))


def load_docs(path: Path) -> list[IndexDoc]:
    items = parse_textdump(read_text(path, None), channel="bench")
    posts = (item for item in items if isinstance(item, Post))
    return [
        IndexDoc(pk, p.text, p.channel, p.date, p.hashtags, True) for pk, p in enumerate(posts, 1)
    ]


def cold_lemmas(count: int) -> float:
    """Words per second of :func:`tgscope.words.index_text` on ``count`` distinct dictionary
    word forms (capitalised every third), caches emptied first."""
    morph, _ = words._morph()
    forms: list[str] = []
    seen = set()
    for word, *_ in morph.dictionary.iter_known_words():
        if word.isalpha() and word not in seen:
            seen.add(word)
            forms.append(word.capitalize() if len(forms) % 3 == 0 else word)
            if len(forms) == count:
                break
    for cached in (words.index_token, words.lexemes, words.stem):
        cached.cache_clear()
    _, seconds = timed(lambda: words.index_text(" ".join(forms)))
    return count / seconds


def index_only(docs: list[IndexDoc], folder: Path) -> float:
    """The floor: the same documents into a fresh index with the archive's schema, nothing else."""
    target = folder / "floor.index"
    shutil.rmtree(target, ignore_errors=True)
    index = SearchIndex(target)
    start = time.perf_counter()
    index.stage(docs)
    index.commit(1)
    return time.perf_counter() - start


def import_end_to_end(
    dump: Path, folder: Path, analyzer: str = "lemmas"
) -> tuple[float, float, int, float, float]:
    """A fresh archive: import the dump (the events pass apart: timed after it), then again
    (which must change nothing), in a child process so that its peak memory is the
    import's own."""
    for path in folder.glob("bench.db*"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    child = subprocess.run(
        [sys.executable, __file__, "--child", analyzer, str(dump), str(folder / "bench.db")],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(child.stdout)
    return result["first"], result["second"], result["added"], result["rss_mb"], result["events"]


def child(analyzer: str, dump: Path, db: Path) -> None:
    use_analyzer(analyzer)
    with Archive.open(db) as archive:
        report, first = timed(lambda: archive.import_paths([dump], channel="bench", events=False))
        _, events = timed(archive.update_events)  # what the import does after, by default
        again, second = timed(lambda: archive.import_paths([dump], channel="bench"))
    assert again.total("unchanged") == report.total("added"), "re-import changed the archive"
    print(
        json.dumps(
            {
                "first": first,
                "second": second,
                "events": events,
                "added": report.total("added"),
                "rss_mb": peak_rss_mb(),
            }
        )
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=100, help="dump size (default 100 MB)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each step (median)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tgscope-bench-"))
    try:
        dump = folder / "dump.txt"
        posts = write_dump(dump, int(args.mb * 1_000_000))
        size_mb = dump.stat().st_size / 1_000_000
        docs = load_docs(dump)
        assert len(docs) == posts, (len(docs), posts)
        parse, floor, rss = [], [], []
        first: dict[str, list[float]] = {name: [] for name in ANALYZERS}
        events: list[float] = []
        second: dict[str, list[float]] = {name: [] for name in ANALYZERS}
        for _ in range(args.rounds):  # interleaved, so a noisy neighbour hits every step alike
            parsed, seconds = timed(lambda: parse_only(dump))
            assert parsed == posts
            parse.append(seconds)
            floor.append(index_only(docs, folder))
            for name in ANALYZERS:
                once, twice, added, peak, read = import_end_to_end(dump, folder, name)
                assert added == posts
                first[name].append(once)
                second[name].append(twice)
                if name == ANALYZERS[0]:
                    rss.append(peak)
                    events.append(read)
        p, f = median(parse), median(floor)
        t, a = median(first["lemmas"]), median(second["lemmas"])
        old = median(first["snowball"])
        rows = [
            ("dump", f"{size_mb:.1f} MB, {posts:,} posts", f"medians of {args.rounds} rounds"),
            ("parse only", f"{size_mb / p:.1f} MB/s ({p:.2f} s)", "target ≥ 20 MB/s"),
            ("floor: tantivy indexing alone", f"{posts / f:,.0f} posts/s ({f:.2f} s)", ""),
            (
                "import end to end (no events)",
                f"{posts / t:,.0f} posts/s ({t:.2f} s)",
                f"{t / f:.2f}× floor (target ≤ 1.5×)",
            ),
            (
                "import, analyzer before (Snowball)",
                f"{posts / old:,.0f} posts/s ({old:.2f} s)",
                f"lemmas cost {(t / old - 1) * 100:+.0f}% time (target ≤ +15%)",
            ),
            ("re-import (no changes)", f"{posts / a:,.0f} posts/s ({a:.2f} s)", ""),
            (
                "then the events pass (default)",
                f"{posts / median(events):,.0f} posts/s ({median(events):.2f} s)",
                "import --no-events skips it",
            ),
            ("peak RSS of the import", f"{max(rss):.0f} MB", "its own process"),
            (
                "lemmas, 100,000 new word forms",
                f"{cold_lemmas(100_000):,.0f} words/s",
                "cold caches: the worst case",
            ),
        ]
        width = max(len(name) for name, _, _ in rows)
        for name, value, note in rows:
            print(f"{name:<{width}}  {value:<36}  {note}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
