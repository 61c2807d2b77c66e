"""Import benchmark: a generated ~100 MB text dump, end to end, beside the search engine alone.

    python bench/bench_import.py [--mb 100]

Prints one table.  The floor is tantivy indexing the same texts with the archive's own schema and
analyzer (documents built and committed, nothing else); the target is total ≤ 1.5× the floor's
time, and dump parsing alone ≥ 20 MB/s.  Peak memory is the process's maximum RSS.
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

from gen import write_dump

from tgscope.archive import Archive, _read_text
from tgscope.record import Post
from tgscope.search import SearchIndex
from tgscope.sources.textdump import parse_textdump
from tgscope.store import IndexDoc


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def parse_only(path: Path) -> int:
    """Read, decode and parse the dump as an import does, keeping nothing."""
    items = parse_textdump(_read_text(path, None), channel="bench")
    return sum(1 for item in items if isinstance(item, Post))


def load_docs(path: Path) -> list[IndexDoc]:
    items = parse_textdump(_read_text(path, None), channel="bench")
    posts = (item for item in items if isinstance(item, Post))
    return [
        IndexDoc(pk, p.text, p.channel, p.date, p.hashtags, True) for pk, p in enumerate(posts, 1)
    ]


def index_only(docs: list[IndexDoc], folder: Path) -> float:
    """The floor: the same documents into a fresh index with the archive's schema, nothing else."""
    target = folder / "floor.index"
    shutil.rmtree(target, ignore_errors=True)
    index = SearchIndex(target)
    _, seconds = timed(lambda: (index.stage(docs), index.commit(1)))
    return seconds


def import_end_to_end(dump: Path, folder: Path) -> tuple[float, float, int, float]:
    """A fresh archive: import the dump, then again (which must change nothing), in a child
    process so that its peak memory is the import's own."""
    for path in folder.glob("bench.db*"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(dump), str(folder / "bench.db")],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(child.stdout)
    return result["first"], result["second"], result["added"], result["rss_mb"]


def child(dump: Path, db: Path) -> None:
    with Archive.open(db) as archive:
        report, first = timed(lambda: archive.import_paths([dump], channel="bench"))
        again, second = timed(lambda: archive.import_paths([dump], channel="bench"))
    assert again.total("unchanged") == report.total("added"), "re-import changed the archive"
    print(
        json.dumps(
            {
                "first": first,
                "second": second,
                "added": report.total("added"),
                "rss_mb": peak_rss_mb(),
            }
        )
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]), Path(sys.argv[3]))
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
        parse, floor, first, second, rss = [], [], [], [], []
        for _ in range(args.rounds):  # interleaved, so a noisy neighbour hits every step alike
            parsed, seconds = timed(lambda: parse_only(dump))
            assert parsed == posts
            parse.append(seconds)
            floor.append(index_only(docs, folder))
            once, twice, added, peak = import_end_to_end(dump, folder)
            assert added == posts
            first.append(once)
            second.append(twice)
            rss.append(peak)
        p, f, t, a = median(parse), median(floor), median(first), median(second)
        rows = [
            ("dump", f"{size_mb:.1f} MB, {posts:,} posts", f"medians of {args.rounds} rounds"),
            ("parse only", f"{size_mb / p:.1f} MB/s ({p:.2f} s)", "target ≥ 20 MB/s"),
            ("floor: tantivy indexing alone", f"{posts / f:,.0f} posts/s ({f:.2f} s)", ""),
            (
                "import end to end",
                f"{posts / t:,.0f} posts/s ({t:.2f} s)",
                f"{t / f:.2f}× floor (target ≤ 1.5×)",
            ),
            ("re-import (no changes)", f"{posts / a:,.0f} posts/s ({a:.2f} s)", ""),
            ("peak RSS of the import", f"{max(rss):.0f} MB", "its own process"),
        ]
        width = max(len(name) for name, _, _ in rows)
        for name, value, note in rows:
            print(f"{name:<{width}}  {value:<36}  {note}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
