"""Media fetch benchmark: ``fetch_media`` beside a bare httpx download loop, on loopback.

    python bench/bench_media.py [--files 400] [--rounds 5] [--width 1280]

A media server (tests/media_server.py, in a child process so that its work is not counted)
serves generated JPEGs the size of Telegram photos (1280x960, about 150-250 kB) on 127.0.0.1.
Measured here, by wall time, best of ``--rounds`` interleaved rounds:

- the bare loop: ``httpx.Client.get`` of each file and the body written to a file (the floor);
- ``fetch_media`` into an archive whose posts carry those links, with no delay between
  requests: streamed to a temporary file, its type checked from its bytes, hashed, moved under
  its SHA-256 and its rows committed, one transaction per file; into a store in use (its
  ``ab/cd`` folders there already, as in a store of a few hundred thousand files) and into a new
  one (two new folders for nearly every file).

Target: fetch_media within 1.5x the bare loop.  The politeness delay (0.5 s by default on the
command line) is left out of both: it is a choice, not a cost.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import post, source
from tests.media_server import MediaServer, make_jpeg
from tgscope.archive import Archive
from tgscope.collect.http import FetchPolicy, make_client
from tgscope.collect.media import fetch_media
from tgscope.media.files import MediaStore

POLICY = FetchPolicy(delay=0)


def serve(files: int, width: int, pipe) -> None:
    """Run the media server until the parent says "stop"."""
    with MediaServer() as server:
        for number in range(files):
            server.add(f"/f/{number}.jpg", make_jpeg(number, size=(width, width * 3 // 4)))
        pipe.send(server.base_url)
        with contextlib.suppress(EOFError):
            pipe.recv()


def bare_loop(urls: list[str], folder: Path) -> float:
    started = time.perf_counter()
    with httpx.Client() as client:
        for number, url in enumerate(urls):
            response = client.get(url)
            response.raise_for_status()
            (folder / str(number)).write_bytes(response.content)
    return time.perf_counter() - started


def tgscope_fetch(urls: list[str], folder: Path, warm: list[str] = ()) -> tuple[float, int]:
    """``fetch_media`` of ``urls`` into a new archive; with ``warm`` (the files' hashes) the
    store's ``ab/cd`` folders exist already, as in a store that holds many files."""
    db = folder / "bench.db"
    store = MediaStore.beside(db)
    for sha in warm:
        store.path_of(sha).parent.mkdir(parents=True, exist_ok=True)
    with Archive.open(db) as archive:
        archive.ingest(
            [
                post(
                    f"bench/{n}",
                    f"post {n}",
                    channel="bench",
                    date=f"2024-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}+00:00",
                    media=[{"type": "photo", "url": url}],
                )
                for n, url in enumerate(urls, 1)
            ],
            source(),
        )
        with make_client(policy=POLICY) as client:
            started = time.perf_counter()
            report = fetch_media(archive, client=client, policy=POLICY)
            seconds = time.perf_counter() - started
    assert report.stored == len(urls), report.summary()
    return seconds, report.bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args()
    ours, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(args.files, args.width, child))
    server.start()
    try:
        base = ours.recv()
        urls = [f"{base}/f/{n}.jpg" for n in range(args.files)]
        shas = [
            hashlib.sha256(make_jpeg(n, size=(args.width, args.width * 3 // 4))).hexdigest()
            for n in range(args.files)
        ]
        bare, fresh, warm, size = [], [], [], 0
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as folder:
                bare.append(bare_loop(urls, Path(folder)))
            with tempfile.TemporaryDirectory() as folder:
                seconds, size = tgscope_fetch(urls, Path(folder))
                fresh.append(seconds)
            with tempfile.TemporaryDirectory() as folder:
                warm.append(tgscope_fetch(urls, Path(folder), shas)[0])
    finally:
        with contextlib.suppress(OSError):
            ours.send("stop")
        ours.close()
        server.join(10)
    megabytes = size / 1e6
    print(
        f"{args.files} files, {megabytes:.1f} MB ({size / args.files / 1e3:.0f} kB each),"
        f" best of {args.rounds} rounds, loopback\n"
    )
    print(f"{'':28} {'seconds':>8} {'files/s':>9} {'MB/s':>8} {'vs bare':>8}")
    rows = (
        ("bare httpx loop", bare),
        ("fetch_media, store in use", warm),
        ("fetch_media, new store", fresh),
    )
    for name, times in rows:
        best = min(times)
        print(
            f"{name:28} {best:8.2f} {args.files / best:9.0f} {megabytes / best:8.1f}"
            f" {best / min(bare):7.2f}x"
        )
    print(
        f"\ntarget: fetch_media within 1.5x the bare loop: store in use"
        f" {'met' if min(warm) <= 1.5 * min(bare) else 'NOT met'}, new store"
        f" {'met' if min(fresh) <= 1.5 * min(bare) else 'NOT met'} (a new store makes two"
        " folders, ab/ and ab/cd/, for nearly every file)"
    )


if __name__ == "__main__":
    main()
