"""Sync benchmark: CPU time per page of ``sync_channel`` beside a bare fetch loop.

    python bench/bench_sync.py [--pages 200] [--rounds 3]

A replay server (tests/replay_server.py, in a child process so that its work is not counted)
serves generated t.me/s pages of twenty posts on 127.0.0.1.  Measured in this process, by CPU
time (all its threads, tantivy's included), per page:

- the bare loop: ``httpx.Client.get`` of the same pages, nothing done with them (the floor);
- ``sync_channel`` into a fresh archive with the search index committed after every page
  (what sync did before the index was committed per batch);
- ``sync_channel`` as it is: the index committed every ``INDEX_EVERY_PAGES`` pages and at
  the end;
- the same pages synced again (``all_pages``) into the archive they are in: nothing changed,
  so only an observation per post is written; then with every post's views changed, so
  every post is rewritten too.

Target: sync within 3x the bare loop.  Best of ``--rounds`` interleaved rounds, so a busy
shared machine favours no variant.  Then, for the sync as it is, where its CPU goes: fetching
(httpx and the rest of the loop), parsing the page, writing the store (``Archive.ingest``),
indexing (``Archive.flush_index``), per page and per post.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.replay_server import PAGE_SIZE, Channel, ReplayServer
from tgscope.archive import Archive
from tgscope.collect import web_sync
from tgscope.collect.http import FetchPolicy, make_client

CHANNEL = "bench_channel"
POLICY = FetchPolicy(delay=0)


def serve(pages: int, address: multiprocessing.connection.Connection) -> None:
    """Run the replay server until the parent says "stop" or closes the pipe; at "views"
    every post gains a view."""
    channel = Channel(CHANNEL, pages * PAGE_SIZE)
    with ReplayServer([channel]) as server:
        address.send(server.url)
        with contextlib.suppress(EOFError):  # the parent is gone
            while address.recv() == "views":
                channel.views = {number: views + 1 for number, views in channel.views.items()}
                address.send("done")


def page_paths(pages: int) -> list[str]:
    """The pages a full walk fetches, newest first (the server's cursors)."""
    total = pages * PAGE_SIZE
    return [f"/s/{CHANNEL}"] + [
        f"/s/{CHANNEL}?before={total - PAGE_SIZE + 1 - PAGE_SIZE * k}" for k in range(pages - 1)
    ]


def bare_loop(url: str, paths: list[str]) -> int:
    with httpx.Client(base_url=url) as client:
        for path in paths:
            client.get(path).raise_for_status()
    return len(paths)


def sync(
    url: str, every: int, *, between: Callable[[], None] | None = None
) -> tuple[int, float, float]:
    """A full sync into a fresh archive, committing the index every ``every`` pages; with
    ``between``, the sync measured is a second one of the same pages (``between`` called
    before it).  Returns the pages, and the CPU and wall seconds of the sync measured."""
    again = between is not None
    saved = web_sync.INDEX_EVERY_PAGES
    web_sync.INDEX_EVERY_PAGES = every
    try:
        with tempfile.TemporaryDirectory() as folder:
            with (
                Archive.open(Path(folder) / "bench.db") as archive,
                make_client(url, policy=POLICY) as client,
            ):
                if between is not None:
                    web_sync.sync_channel(archive, CHANNEL, client=client, policy=POLICY)
                    between()
                cpu, wall = time.process_time(), time.perf_counter()
                report = web_sync.sync_channel(
                    archive, CHANNEL, client=client, policy=POLICY, all_pages=again
                )
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                assert archive.search("meeting", limit=1).total == report.pages * PAGE_SIZE
                assert report.added == (0 if again else report.pages * PAGE_SIZE)
            return report.pages, cpu, wall
    finally:
        web_sync.INDEX_EVERY_PAGES = saved


def timed(bare: Callable[[], int]) -> tuple[int, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    pages = bare()
    return pages, time.process_time() - cpu, time.perf_counter() - wall


@contextlib.contextmanager
def stage_clock(spent: dict[str, float]) -> Iterator[None]:
    """Add the CPU time of parsing, store writes and indexing to ``spent`` while inside."""
    patched = [
        (web_sync, "parse_page", "parse"),
        (Archive, "ingest", "store"),
        (Archive, "flush_index", "index"),
    ]
    originals = [getattr(owner, name) for owner, name, _ in patched]

    def clocked(function: Callable, stage: str) -> Callable:
        def run(*args, **kwargs):
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[stage] = spent.get(stage, 0.0) + time.process_time() - start

        return run

    for (owner, name, stage), original in zip(patched, originals, strict=True):
        setattr(owner, name, clocked(original, stage))
    try:
        yield
    finally:
        for (owner, name, _), original in zip(patched, originals, strict=True):
            setattr(owner, name, original)


def breakdown(url: str, rounds: int) -> dict[str, float]:
    """CPU seconds by stage of the sync as it is (the round with the least in total)."""
    best: dict[str, float] = {}
    for _ in range(rounds):
        spent: dict[str, float] = {}
        with stage_clock(spent):
            _, cpu, _ = sync(url, web_sync.INDEX_EVERY_PAGES)
        spent["fetch and the rest"] = cpu - sum(spent.values())
        if not best or cpu < sum(best.values()):
            best = spent
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    mine, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(options.pages, theirs), daemon=True)
    server.start()
    url = mine.recv()
    paths = page_paths(options.pages)

    def more_views() -> None:
        mine.send("views")
        mine.recv()

    variants = {
        "bare fetch loop (httpx get)": lambda: timed(lambda: bare_loop(url, paths)),
        "sync, index committed every page": lambda: sync(url, 1),
        f"sync, index every {web_sync.INDEX_EVERY_PAGES} pages": lambda: sync(
            url, web_sync.INDEX_EVERY_PAGES
        ),
        "sync again, nothing changed": lambda: sync(
            url, web_sync.INDEX_EVERY_PAGES, between=lambda: None
        ),
        "sync again, every post's views changed": lambda: sync(
            url, web_sync.INDEX_EVERY_PAGES, between=more_views
        ),
    }
    best = dict.fromkeys(variants, (float("inf"), float("inf")))
    for _ in range(options.rounds):
        for name, run in variants.items():
            pages, cpu, wall = run()
            assert pages == options.pages, (name, pages)
            best[name] = min(best[name], (cpu / pages, wall / pages))
    stages = breakdown(url, options.rounds)
    mine.send("stop")
    server.join(timeout=10)
    floor = best[next(iter(variants))][0]
    print(f"{options.pages} pages of {PAGE_SIZE} posts, best of {options.rounds} rounds")
    print(f"{'':38} {'CPU ms/page':>12} {'wall ms/page':>13} {'CPU vs bare':>12}")
    for name, (cpu, wall) in best.items():
        print(f"{name:38} {cpu * 1000:12.2f} {wall * 1000:13.2f} {cpu / floor:11.1f}x")
    print(f"\nwhere the sync's CPU goes (index every {web_sync.INDEX_EVERY_PAGES} pages)")
    print(f"{'':38} {'CPU ms/page':>12} {'CPU µs/post':>13}")
    for stage, seconds in stages.items():
        per_page = seconds / options.pages
        print(f"{stage:38} {per_page * 1000:12.2f} {per_page / PAGE_SIZE * 1e6:13.1f}")


if __name__ == "__main__":
    main()
