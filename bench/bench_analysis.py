"""Time the network (each kind) and the engagement analysis over a big archive, read-only.

    .venv/bin/python bench/bench_analysis.py [bench/out/web-1000000.db]

The archive is opened through a read-only SQLite connection (``mode=ro``): nothing is
written to it.  Prints one row per analysis: seconds, peak memory of the process so far,
and what it found.
"""

from __future__ import annotations

import resource
import sqlite3
import sys
import time
from pathlib import Path

from tgscope.analysis.engagement import engagement
from tgscope.analysis.network import network
from tgscope.store import PostFilter
from tgscope.store.engagement import EngagementQueries
from tgscope.store.networks import NetworkQueries

DEFAULT = Path(__file__).parent / "out" / "web-1000000.db"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.execute("PRAGMA cache_size = -262144")
    (posts,) = db.execute("SELECT count(*) FROM posts").fetchone()
    networks, queries = NetworkQueries(db), EngagementQueries(db)
    print(f"{path}: {posts:,} posts")
    print(f"{'analysis':<28}{'seconds':>9}{'peak MB':>9}  result")
    for kind in ("forwards", "mentions", "links"):
        started = time.perf_counter()
        found = network(networks, PostFilter(), kind=kind)
        found.to_networkx()
        row(
            f"network --kind {kind}", started, f"{len(found.edges)} edges, {len(found.nodes)} nodes"
        )
    for label, zone in (("engagement", "UTC"), ("engagement (Europe/Moscow)", "Europe/Moscow")):
        started = time.perf_counter()
        result = engagement(queries, networks, PostFilter(), timezone=zone)
        outliers = sum(len(channel.outliers) for channel in result.channels)
        row(label, started, f"{len(result.channels)} channels, {outliers} outliers")


def row(label: str, started: float, result: str) -> None:
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:<28}{seconds:>9.2f}{peak:>9.0f}  {result}")


if __name__ == "__main__":
    main()
