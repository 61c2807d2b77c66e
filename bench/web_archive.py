"""The archive the web benchmark serves: a researcher's archive of 20 state channels.

    python bench/web_archive.py [--posts 1000000] [--rebuild]

Builds (once, cached as ``bench/out/web-<posts>.db`` and its ``.index`` folder) an archive of
generated posts through the public API, ``Archive.ingest``, 50,000 posts per ingest so memory
stays bounded.  Skewed channel sizes (the biggest ~250k posts of a million), five years of
dates with a daily rhythm, English and Russian text with entities, hashtags on ~30% of posts,
log-normal views, reactions, forwards from the archive's other channels, media, link previews
and edits: see ``ArchiveGenerator`` in ``gen.py``.  Seeded: the same arguments, the same archive.
Prints the time the build took and the process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen import ArchiveGenerator

from tgscope.archive import Archive
from tgscope.store import SourceInfo

OUT = Path(__file__).resolve().parent / "out"
POSTS = 1_000_000
BATCH = 50_000


def archive_path(posts: int = POSTS) -> Path:
    return OUT / f"web-{posts}.db"


def build(db: Path, posts: int, batch: int = BATCH) -> float:
    """Write a fresh archive of ``posts`` generated posts at ``db``; return the seconds taken."""
    for stale in (db, db.with_name(db.name + ".index")):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    for extra in db.parent.glob(db.name + "-*"):  # SQLite's -wal and -shm
        extra.unlink()
    db.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    added = 0
    with Archive.open(db) as archive:
        for number, chunk in enumerate(batched(ArchiveGenerator(seed=5).items(posts), batch), 1):
            source = SourceInfo(
                "bench", f"generated:web:{posts}:{number}", f"{number:064x}", _observed(number)
            )
            added += archive.ingest(chunk, source).added
            print(
                f"  ingest {number}: {added:,} posts, {time.perf_counter() - start:.0f} s",
                flush=True,
            )
    assert added == posts, (added, posts)
    return time.perf_counter() - start


def batched(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in lists of ``size`` (the last one shorter); ``itertools.batched`` is 3.12+."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _observed(number: int) -> str:
    return f"2026-11-01T00:{number // 60:02d}:{number % 60:02d}+00:00"


def ensure(posts: int = POSTS, rebuild: bool = False) -> Path:
    """The cached archive of ``posts`` posts, built first when missing (or when asked)."""
    db = archive_path(posts)
    index = db.with_name(db.name + ".index")
    if rebuild or not db.exists() or not index.is_dir():
        print(f"building {db} ({posts:,} posts)…")
        seconds = build(db, posts)
        print(f"built in {seconds:.0f} s; {_size(db)}; peak RSS {_peak_mb():.0f} MB")
    return db


def _size(db: Path) -> str:
    index = db.with_name(db.name + ".index")
    index_bytes = sum(f.stat().st_size for f in index.rglob("*") if f.is_file())
    return f"SQLite {db.stat().st_size / 1e9:.2f} GB, index {index_bytes / 1e6:.0f} MB"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=POSTS)
    parser.add_argument("--rebuild", action="store_true", help="build again even when cached")
    args = parser.parse_args()
    db = ensure(args.posts, args.rebuild)
    print(f"{db}: {_size(db)}")


if __name__ == "__main__":
    main()
