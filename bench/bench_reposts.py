"""``tgscope images reposts`` end to end: precision and recall on generated pictures that went
through the whole path, fetched from a loopback server into an archive.

    python bench/bench_reposts.py [--images 2000] [--seed 1] [--dir DIR]

The set of ``bench/gen_images.py`` (originals, planted variants: resized 50–150 %, JPEG quality
30–90, 5 % cropped, watermarked, and combinations; unrelated pictures, and cards of one template
that differ in their picture and headline, the hard negatives) is served by a media server
(tests/media_server.py, in a child process), each file the photo of one post of its own
channel, so that every copy is a repost in another channel.  Then, timed: ``fetch_media`` (no
delay), the perceptual hashes (``archive.media.update_hashes``) and ``archive.media.reposts()``.
Scored pairwise: two files (by the posts that carried them: byte-identical files are one
stored file) are in one group of the output iff the truth says they are one picture.
Targets: precision and recall >= 0.95.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_images import row, truth_of

from tests.helpers import post, source
from tests.media_server import MediaServer
from tgscope.archive import Archive
from tgscope.collect.http import FetchPolicy, make_client
from tgscope.collect.media import fetch_media

POLICY = FetchPolicy(delay=0)


def serve(folder: Path, names: list[str], pipe) -> None:
    """Serve the set's files until the parent says "stop"."""
    with MediaServer() as server:
        for name in names:
            server.add(f"/{name}", (folder / name).read_bytes())
        pipe.send(server.base_url)
        with contextlib.suppress(EOFError):
            pipe.recv()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, help="the generated set's folder (kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reposts-") as tmp:
        folder = args.dir or Path(tmp) / "set"
        truth = truth_of(folder, args.images, args.seed)
        names = [entry["file"] for entry in truth]
        ours, child = multiprocessing.Pipe()
        server = multiprocessing.Process(target=serve, args=(folder, names, child))
        server.start()
        try:
            base = ours.recv()
            groups, timings = run(Path(tmp) / "reposts.db", base, names)
        finally:
            with contextlib.suppress(OSError):
                ours.send("stop")
            server.join(10)
    score(folder, truth, groups, timings)


def run(db: Path, base: str, names: list[str]) -> tuple[list[list[str]], dict[str, float]]:
    """Archive one post per file, each in its own channel; fetch, hash, find the reposts."""
    timings = {}
    with Archive.open(db) as archive:
        archive.ingest(
            [
                post(f"channel{n:05d}/1", "", channel=f"channel{n:05d}",
                     date=f"2024-01-01T00:00:{n % 60:02d}+00:00",
                     media=[{"type": "photo", "url": f"{base}/{name}"}])
                for n, name in enumerate(names)
            ],
            source(),
        )  # fmt: skip
        started = time.perf_counter()
        with make_client(policy=POLICY) as client:
            report = fetch_media(archive, client=client, policy=POLICY)
        assert report.taken == len(names), report.summary()
        timings["fetch"] = time.perf_counter() - started
        started = time.perf_counter()
        archive.media.update_hashes()
        timings["hash"] = time.perf_counter() - started
        started = time.perf_counter()
        groups = [
            [names[int(c.post.split("/")[0].removeprefix("channel"))] for c in group.carriers]
            for group in archive.media.reposts(min_channels=2)
        ]  # the files by the posts that carried them (identical files are one stored file)
        timings["reposts"] = time.perf_counter() - started
    return groups, timings


def score(folder: Path, truth: list[dict], groups: list[list[str]], timings) -> None:
    found = {frozenset(pair) for files in groups for pair in itertools.combinations(files, 2)}
    same: dict[int, list[str]] = {}
    for entry in truth:
        same.setdefault(entry["group"], []).append(entry["file"])
    real = {frozenset(p) for files in same.values() for p in itertools.combinations(files, 2)}
    hits = found & real
    print(
        f"{len(truth)} images ({len(same)} pictures), each a post of its own channel: fetched"
        f" in {timings['fetch']:.1f} s, hashed in {timings['hash']:.1f} s,"
        f" reposts found in {timings['reposts']:.2f} s; {len(groups)} groups\n"
    )
    print(f"{'images reposts, pairwise':30} {'pairs':>7} {'found':>7} {'share':>7}")
    row("precision (found pairs right)", len(found), len(hits))
    row("recall (true pairs found)", len(real), len(hits))
    precision = len(hits) / len(found) if found else 0.0
    recall = len(hits) / len(real) if real else 0.0
    met = "met" if min(precision, recall) >= 0.95 else "NOT met"
    print(f"\ntarget: precision and recall >= 0.95: {met}")


if __name__ == "__main__":
    main()
