"""Copy-paste clusters on a million posts: tgscope's near-copy index against datasketch.

    python bench/bench_duplicates.py [--posts 1000000] [--quick] [--new 10000] [--rebuild]

Builds once (cached as ``bench/out/duplicates-<posts>.db``; its own file, not the web
benchmark's) an archive of ``ArchiveGenerator`` posts (gen.py) with planted copies: about
one post in 40 is copied into one of ten "copycat" channels, minutes to days later, lightly
edited (a word changed, an emoji in front, a subscribe line added) or forwarded.  Each run
works on a fresh copy of it, and measures, each in its own process (time and peak RSS):

* ``baseline``: a straightforward datasketch run, one ``MinHash`` per post (the same
  normalised word shingles, ``update_batch``) queried against and inserted into a
  ``MinHashLSH`` (threshold 0.7, the index's floor, 120 permutations); candidates counted,
  not verified;
* ``tgscope``: ``Archive.duplicates()`` on the archive without a near-copy index: every post
  normalised, NumPy MinHash in batches, LSH buckets and signatures written to the archive,
  candidates verified on exact shingle sets, clusters formed;
* ``incremental``: ``--new`` more posts (with copies of archived posts among them) imported,
  then ``Archive.duplicates()`` again: only they are read and signed.

``--quick`` is ``--posts 100000``.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen import ArchiveGenerator
from web_archive import batched

from tgscope.archive import Archive
from tgscope.record import Channel, Post
from tgscope.store import SourceInfo

OUT = Path(__file__).resolve().parent / "out"
POSTS = 1_000_000
NEW = 10_000
COPY_SHARE = 0.025
COPYCATS = tuple(f"copycat_{n:02d}" for n in range(10))
SUBSCRIBE = ("\n\nПодписывайтесь на наш канал 👉 t.me/{0}", "\nSubscribe to our channel: @{0}")


class Planter:
    """Posts with planted copies: ``count`` posts in all, copies included."""

    def __init__(self, seed: int, offset: int = 0):
        """``offset`` is added to every id (a later stretch of the same channels)."""
        self.generator = ArchiveGenerator(seed=seed)
        self.random = random.Random(seed + 1)
        self.offset = offset
        self.ids = dict.fromkeys(COPYCATS, offset)

    def items(self, count: int) -> Iterator[Post | Channel]:
        yield from self.generator.channels()
        made = 0
        for post in self.generator.items(count):
            if not isinstance(post, Post):
                continue
            if self.offset:
                post.id = (post.id or 0) + self.offset
                post.key = f"{post.channel}/{post.id}"
            yield post
            made += 1
            if made < count and self.random.random() < COPY_SHARE:
                yield self.copy(post)
                made += 1
            if made >= count:
                return

    def copy(self, post: Post) -> Post:
        r = self.random
        channel = r.choice(COPYCATS)
        self.ids[channel] += 1
        text = post.text
        kind = r.random()
        forwarded = None
        if kind < 0.3:
            words = text.split(" ")
            words[r.randrange(len(words))] = r.choice(("сообщает", "reports", "официально"))
            text = " ".join(words)
        elif kind < 0.5:
            text = r.choice(("🔥 ", "⚡️ ", "‼️ ")) + text
        elif kind < 0.7:
            text += r.choice(SUBSCRIBE).format(channel)
        else:
            forwarded = {"title": post.channel_title, "channel": post.channel, "id": post.id}
        moment = datetime.fromisoformat(post.date or "2021-01-01T00:00:00+00:00")
        moment += timedelta(seconds=int(r.expovariate(1 / 7200)))
        return Post(
            key=f"{channel}/{self.ids[channel]}",
            channel=channel,
            id=self.ids[channel],
            date=moment.isoformat(timespec="seconds"),
            text=text,
            forwarded_from=forwarded,  # type: ignore[arg-type]
        )


def build(db: Path, posts: int) -> float:
    """The cached archive (posts only: no search index, no near-copy index)."""
    for stale in db.parent.glob(db.name + "*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    db.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with Archive.open(db) as archive:
        for number, chunk in enumerate(batched(Planter(seed=5).items(posts), 50_000), 1):
            source = SourceInfo(
                "bench",
                f"generated:dups:{posts}:{number}",
                f"{number:064x}",
                "2026-11-01T00:00:00+00:00",
            )
            archive.ingest(chunk, source, defer_index=True)
            print(f"  ingest {number}: {time.perf_counter() - start:.0f} s", flush=True)
        archive.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[attr-defined]
    return time.perf_counter() - start


# -- what each child process measures ------------------------------------------------------


def run_baseline(db: Path) -> dict:
    from datasketch import MinHash, MinHashLSH

    from tgscope.analysis import minhash

    archive = Archive.open(db, create=False)
    rows = archive.store.db.execute("SELECT pk, text FROM posts")  # type: ignore[attr-defined]
    start = time.perf_counter()  # the texts streamed from the archive, as tgscope reads them
    lsh = MinHashLSH(threshold=0.7, num_perm=minhash.NUM_PERM)
    candidates = signed = 0
    for pk, text in rows:
        tokens = minhash.words(text)
        if len(tokens) < minhash.MIN_WORDS:
            continue
        shingles = {" ".join(s).encode() for s in minhash.shingles(tokens)}
        signature = MinHash(num_perm=minhash.NUM_PERM)
        signature.update_batch(list(shingles))
        candidates += len(lsh.query(signature))
        lsh.insert(pk, signature)
        signed += 1
    archive.close()
    return {"seconds": time.perf_counter() - start, "signed": signed, "candidates": candidates}


def run_tgscope(db: Path) -> dict:
    with Archive.open(db, create=False) as archive:
        start = time.perf_counter()
        clusters = archive.duplicates()
        seconds = time.perf_counter() - start
        texts, pairs = archive.store.db.execute(  # type: ignore[attr-defined]
            "SELECT (SELECT count(*) FROM nearcopy_texts), (SELECT count(*) FROM nearcopy_pairs)"
        ).fetchone()
    return {
        "seconds": seconds,
        "texts": texts,
        "pairs": pairs,
        "clusters": len(clusters),
        "in_clusters": sum(c.size for c in clusters),
        "copycat_clusters": sum(1 for c in clusters if any(ch in COPYCATS for ch in c.channels)),
    }


def run_incremental(db: Path, new: int) -> dict:
    """``new`` more posts, a later stretch of generated ones with their planted copies
    (and copies of archived posts: their copies' originals are the new posts' namesakes)."""
    generated = Planter(seed=99, offset=10_000_000).items(new)
    posts = [p for p in generated if isinstance(p, Post)]
    with Archive.open(db, create=False) as archive:
        archived = archive.store.db.execute(  # type: ignore[attr-defined]
            "SELECT text FROM posts WHERE pk % 1000 = 7 LIMIT 100"
        ).fetchall()
        for number, (text,) in enumerate(archived):  # copies of archived posts, edited
            posts[number * 50].text = "⚡️ " + text
        source = SourceInfo("bench", "generated:dups:new", "f" * 64, "2026-11-29T00:00:00+00:00")
        start = time.perf_counter()
        archive.ingest(posts, source, defer_index=True)
        imported = time.perf_counter() - start
        start = time.perf_counter()
        clusters = archive.duplicates()
        seconds = time.perf_counter() - start
    return {
        "import_s": imported,
        "seconds": seconds,
        "posts": len(posts),
        "clusters": len(clusters),
    }


def child(kind: str, db: Path, new: int) -> None:
    result = {"baseline": run_baseline, "tgscope": run_tgscope}.get(kind)
    found = result(db) if result else run_incremental(db, new)
    found["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(found))


def measure(kind: str, db: Path, new: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--db", str(db), "--new", str(new)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"{kind} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=POSTS)
    parser.add_argument("--quick", action="store_true", help="100,000 posts")
    parser.add_argument("--new", type=int, default=NEW, help="posts added in the incremental case")
    parser.add_argument("--rebuild", action="store_true", help="build the archive again")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, Path(args.db), args.new)
        return
    posts = 100_000 if args.quick else args.posts
    base = OUT / f"duplicates-{posts}.db"
    if args.rebuild or not base.exists():
        print(f"building {base} ({posts:,} posts)…", flush=True)
        print(f"built in {build(base, posts):.0f} s", flush=True)
    work = OUT / f"duplicates-{posts}-work.db"
    for stale in OUT.glob(work.name + "*"):
        stale.unlink()
    shutil.copyfile(base, work)
    print(f"{posts:,} posts; each measured in its own process", flush=True)
    results = {}
    if not args.skip_baseline:
        results["baseline"] = measure("baseline", work, args.new)
        print(f"datasketch baseline: {results['baseline']}", flush=True)
    results["tgscope"] = measure("tgscope", work, args.new)
    print(f"tgscope: {results['tgscope']}", flush=True)
    results["incremental"] = measure("incremental", work, args.new)
    print(f"incremental: {results['incremental']}", flush=True)
    print_table(posts, args.new, results)


def print_table(posts: int, new: int, results: dict) -> None:
    print(f"\n| {posts:,} posts | time | peak RSS | notes |\n|---|---|---|---|")
    if "baseline" in results:
        b = results["baseline"]
        print(
            f"| datasketch MinHash + MinHashLSH | {b['seconds']:.0f} s | {b['peak_mb']:,.0f} MB |"
            f" {b['signed']:,} posts signed, {b['candidates']:,} candidates (not verified) |"
        )
    t = results["tgscope"]
    print(
        f"| tgscope duplicates (index from scratch) | {t['seconds']:.0f} s |"
        f" {t['peak_mb']:,.0f} MB |"
        f" {t['texts']:,} texts signed, {t['pairs']:,} verified pairs, {t['clusters']:,} clusters"
        f" ({t['copycat_clusters']:,} with a copycat channel) |"
    )
    i = results["incremental"]
    print(
        f"| + {new:,} new posts: catch-up and clusters | {i['seconds']:.1f} s |"
        f" {i['peak_mb']:,.0f} MB |"
        f" import {i['import_s']:.1f} s; {i['clusters']:,} clusters |"
    )


if __name__ == "__main__":
    main()
