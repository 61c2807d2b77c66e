"""Scale-out benchmark (issue 13): the same work on SQLite and on PostgreSQL, side by side.

    python bench/bench_scale.py [--posts 1000000] [--batch 10000] [--queries 40] [--pg URL]

Without ``--pg`` a throwaway PostgreSQL server is started on a free loopback port (Debian's
``postgresql``, as the tests start it: ``initdb`` in a temporary folder, ``fsync=off``), and
removed at the end.  Prints:

1. **import**: ``--posts`` generated posts (bench/gen.py, the same seed as bench_search)
   ingested through ``Archive.ingest`` in batches of ``--batch`` (one transaction each, as a
   sync's pages or a folder's files are), into a SQLite file and its tantivy index, and into a
   PostgreSQL database with its ``post_words``: seconds, posts/s, and what each takes on disk.
2. **search**: query classes (rare/mid/common terms in both languages, by relevance and by date,
   with a channel or date filter, two terms, a phrase, OR, exclusion) through
   ``Archive.search``: p50/p95 per engine, and whether both found the same number of posts.

3. **workers**: ``--channels`` channels (60-200 posts each) served by the loopback replay
   server of the tests, with faults (5 %: 429, 500, resets, cut pages, slow answers) and
   ``--latency`` seconds per answer (a network's), synced into a new PostgreSQL database by
   one ``tgscope worker`` process, then by three at once: seconds, pages/s, and whether every
   post is stored once.  All workers share one politeness budget of ``--delay`` seconds per
   request: it bounds what more workers can gain.

4. **near-duplicates**: the near-copy index of the PostgreSQL archive built from scratch by
   one process, then by a Dask ``LocalCluster`` of ``--dask-workers`` processes (the clusters
   found must be equal), with where the cluster's time goes: the tasks (which more workers
   shorten) and the client's writes (which they do not), for a crossover estimate.

``--only workers`` or ``--only dask`` runs just that part (the latter imports the posts into
PostgreSQL alone first).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from bench_search import percentiles
from gen import CHANNELS, RARE_WORDS, PostGenerator

from tgscope.archive import Archive
from tgscope.store import SourceInfo

OUT = Path(__file__).resolve().parent / "out"


def ingest(target: str, count: int, batch: int) -> float:
    """Ingest ``count`` generated posts, ``batch`` per transaction; the seconds it took."""
    records = PostGenerator(seed=11).records(count)
    start = time.perf_counter()
    with Archive.open(target) as archive:
        for number in range(0, count, batch):
            chunk = list(islice(records, batch))
            source = SourceInfo(
                "bench", f"generated:{count}:{number}", "0" * 64, "2026-11-28T00:00:00+00:00"
            )
            report = archive.ingest(chunk, source)
            assert report.added == len(chunk), report
        archive.flush_index()
    return time.perf_counter() - start


def sqlite_size(db: Path) -> tuple[int, int]:
    """Bytes of the SQLite file (with its WAL) and of its index folder."""
    files = [db, db.with_name(db.name + "-wal")]
    index = db.with_name(db.name + ".index")
    return (
        sum(f.stat().st_size for f in files if f.exists()),
        sum(f.stat().st_size for f in index.rglob("*") if f.is_file()),
    )


def pg_size(url: str) -> tuple[int, int]:
    """Bytes of the whole database, and of ``post_words`` with its GIN index."""
    with Archive.open(url, create=False) as archive:
        db = archive.store.db
        db.execute("VACUUM ANALYZE post_words")
        (whole,) = db.execute("SELECT pg_database_size(current_database())").fetchone()
        (words,) = db.execute("SELECT pg_total_relation_size('post_words')").fetchone()
    return whole, words


def query_classes() -> list[tuple[str, str, dict]]:
    """(name, query, options): terms of every frequency band the generator makes."""
    generator = PostGenerator(seed=11)
    en, ru = sorted(generator.en), sorted(generator.ru)
    common_en, mid_en, common_ru, mid_ru = en[0], en[len(en) // 2], ru[0], ru[len(ru) // 2]
    classes = [
        ("rare-en", RARE_WORDS[0], {}),
        ("rare-ru", RARE_WORDS[1], {}),
        ("mid-en", mid_en, {}),
        ("mid-ru", mid_ru, {}),
        ("common-en", common_en, {}),
        ("common-ru", common_ru, {}),
        ("common-en by date", common_en, {"order": "newest"}),
        ("mid-ru by date", mid_ru, {"order": "newest"}),
        ("common-en + channel", common_en, {"channel": CHANNELS[3]}),
        ("mid-ru + date range", mid_ru, {"since": "2020-03-01", "until": "2020-06-30"}),
        ("two terms en", f"{mid_en} {common_en}", {}),
        ("phrase ru", f'"{common_ru} {mid_ru}"', {}),
        ("a OR b", f"{RARE_WORDS[0]} OR {RARE_WORDS[2]}", {}),
        ("a -b", f"{mid_en} -{common_en}", {}),
    ]
    return classes


@contextmanager
def postgres(url: str | None) -> Iterator[str]:
    """A database for the benchmark: ``url``'s, or one on a throwaway local server."""
    if url:
        yield url
        return
    import psycopg

    from tests.pg import running_server

    with running_server() as server:
        with psycopg.connect(server.dsn, autocommit=True) as admin:
            admin.execute("CREATE DATABASE bench")
        yield server.dsn.rsplit("/", 1)[0] + "/bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=40, help="runs of each query class")
    parser.add_argument("--pg", help="a postgresql:// URL of an empty database")
    parser.add_argument("--channels", type=int, default=30, help="channels the workers sync")
    parser.add_argument("--latency", type=float, default=0.03, help="seconds per answer")
    parser.add_argument("--delay", type=float, default=0.02, help="the workers' budget gap")
    parser.add_argument("--only", choices=["workers", "dask"], help="run just this part")
    parser.add_argument("--dask-workers", type=int, default=2)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    sqlite_db = OUT / f"scale-{args.posts}.db"
    for leftover in [sqlite_db, *sqlite_db.parent.glob(f"{sqlite_db.name}*")]:
        if leftover.is_dir():
            import shutil

            shutil.rmtree(leftover)
        elif leftover.exists():
            leftover.unlink()
    with ExitStack() as stack:
        pg_url = stack.enter_context(postgres(args.pg))
        if args.only == "workers":
            workers_table(pg_url, args.channels, args.latency, args.delay)
            return
        if args.only == "dask":
            seconds = ingest(pg_url, args.posts, args.batch)
            print(f"{args.posts:,} posts imported into PostgreSQL in {seconds:.0f} s")
            near_copies_table(pg_url, args.dask_workers)
            return
        print(f"import of {args.posts:,} generated posts, {args.batch:,} per transaction")
        header = (
            f"{'engine':<12} {'seconds':>9} {'posts/s':>9} {'archive MB':>11} {'search MB':>10}"
        )
        print(header)
        print("-" * len(header))
        seconds = ingest(str(sqlite_db), args.posts, args.batch)
        data, index = sqlite_size(sqlite_db)
        print(
            f"{'SQLite':<12} {seconds:>9.1f} {args.posts / seconds:>9,.0f}"
            f" {data / 1e6:>11,.0f} {index / 1e6:>10,.0f}"
        )
        seconds = ingest(pg_url, args.posts, args.batch)
        whole, words = pg_size(pg_url)
        print(
            f"{'PostgreSQL':<12} {seconds:>9.1f} {args.posts / seconds:>9,.0f}"
            f" {whole / 1e6:>11,.0f} {words / 1e6:>10,.0f}"
        )
        print("(SQLite: the file and its tantivy folder; PostgreSQL: the whole database, and")
        print(" post_words with its GIN index, which is part of it)")
        search_table(str(sqlite_db), pg_url, args.queries)
        workers_table(pg_url, args.channels, args.latency, args.delay)
        near_copies_table(pg_url, args.dask_workers)


def search_table(sqlite_db: str, pg_url: str, repeats: int) -> None:
    print(f"\nsearch through Archive.search (top 10, snippets), {repeats} runs per class")
    header = (
        f"{'class':<22} {'matches':>9} {'tantivy p50':>12} {'p95':>7}"
        f" {'PG p50':>8} {'p95':>8} {'p95 ×':>7}"
    )
    print(header)
    print("-" * len(header))
    with Archive.open(sqlite_db, create=False) as lite, Archive.open(pg_url, create=False) as pg:
        for name, query, options in query_classes():
            found = lite.search(query, **options).total
            pg_found = pg.search(query, **options).total
            t50, t95 = percentiles(lambda q=query, o=options: lite.search(q, **o), repeats)
            p50, p95 = percentiles(lambda q=query, o=options: pg.search(q, **o), repeats)
            same = "" if found == pg_found else f" (PG found {pg_found:,})"
            print(
                f"{name:<22} {found:>9,} {t50:>12.1f} {t95:>7.1f} {p50:>8.1f} {p95:>8.1f}"
                f" {p95 / t95:>6.1f}×{same}"
            )


def workers_table(pg_url: str, channels: int, latency: float, delay: float) -> None:
    """One worker, then three, syncing the same channels from the loopback fault server."""
    from tests.replay_server import Channel, ReplayServer

    site = [Channel(f"chan{n:03d}", 60 + (n * 47) % 141) for n in range(channels)]
    posts = sum(len(channel.posts) for channel in site)
    print(
        f"\n{channels} channels, {posts:,} posts, from the loopback server ({latency * 1000:.0f} ms"
        f" an answer, 5 % faults); one budget of {delay * 1000:.0f} ms a request"
    )
    header = f"{'workers':<8} {'seconds':>8} {'requests':>9} {'req/s':>7} {'posts once':>11}"
    print(header)
    print("-" * len(header))
    for count in (1, 3):
        url = _new_database(pg_url, f"workers{count}")
        faults = ("429", "500", "reset", "truncated", "slow")
        with ReplayServer(
            site, fault_rate=0.05, seed=7, latency=latency, fault_kinds=faults
        ) as server:
            with Archive.open(url) as archive:
                from tgscope.collect.worker import watch

                watch(archive, [channel.name for channel in site], 3600)
            start = time.perf_counter()
            command = [sys.executable, "-m", "tgscope", "worker", "--db", url, "--base-url",
                       server.url, "--delay", str(delay), "--poll", "0.2", "--exit-when-idle",
                       "--max-wait", "2"]  # fmt: skip
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
            processes = [
                subprocess.Popen([*command, "--name", f"w{n}"], **quiet) for n in range(count)
            ]
            codes = [process.wait() for process in processes]
            seconds = time.perf_counter() - start
            requests = len(server.requests)
        with Archive.open(url, create=False) as archive:
            db = archive.store.db
            (stored,) = db.execute("SELECT count(*) FROM posts").fetchone()
            (keys,) = db.execute("SELECT count(DISTINCT key) FROM posts").fetchone()
        once = "yes" if stored == keys == posts and codes == [0] * count else f"NO ({stored:,})"
        print(f"{count:<8} {seconds:>8.1f} {requests:>9,} {requests / seconds:>7.1f} {once:>11}")
    print(
        f"(the budget allows at most {1 / delay:.0f} requests/s to the host, whatever the workers)"
    )


def near_copies_table(pg_url: str, workers: int) -> None:
    """The near-copy index built from scratch by one process, then on a LocalCluster."""
    from tgscope.analysis.dask_jobs import build_near_copies
    from tgscope.analysis.distributed import cluster

    print(f"\nnear-copy index from scratch, on one process and on a LocalCluster({workers})")
    with Archive.open(pg_url, create=False) as archive:
        start = time.perf_counter()
        alone = [c.to_dict() for c in archive.duplicates(rebuild=True)]
        single = time.perf_counter() - start
        phases: dict[str, float] = {}
        start = time.perf_counter()
        with cluster(f"local:{workers}") as client:
            started = time.perf_counter() - start
            read = build_near_copies(archive, client, floor=0.7, phases=phases)
        spread = time.perf_counter() - start
        together = [c.to_dict() for c in archive.duplicates()]
    same = "yes" if together == alone else "NO"
    print(f"{'run':<22} {'seconds':>8}")
    print("-" * 31)
    print(f"{'one process':<22} {single:>8.1f}")
    print(
        f"{f'LocalCluster({workers})':<22} {spread:>8.1f}   ({read:,} posts, same clusters: {same})"
    )
    tasks = phases.get("sign", 0) + phases.get("verify", 0)
    client_side = phases.get("write", 0) + phases.get("buckets", 0)
    print(
        f"  of which: cluster start {started:.1f} s, waiting for tasks {tasks:.1f} s"
        f" (sign {phases.get('sign', 0):.1f}, verify {phases.get('verify', 0):.1f}),"
        f" the client's writes {client_side:.1f} s"
    )
    work = tasks * workers  # the tasks' time on one worker
    for cores in (4, 8, 16, 32):
        print(f"  estimate on {cores} workers: {started + work / cores + client_side:.0f} s")


def _new_database(pg_url: str, name: str) -> str:
    import psycopg

    base = pg_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"


if __name__ == "__main__":
    main()
