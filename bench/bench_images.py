"""Near-identical images: precision and recall of the clusters, and the speed of hashing and
of the pairwise search.

    python bench/bench_images.py [--images 2000] [--seed 1] [--hash-images 10000]
                                 [--pairs 10000,100000] [--dir DIR] [--skip-speed]

(a) Writes ``--images`` generated pictures with planted variants (``gen_images.py``) into a
temporary folder (or ``--dir``, reused if its ``truth.json`` is there), hashes them, forms
:func:`tgscope.media.images.clusters` and scores them pairwise: a pair of files counts as the
same picture iff the truth puts them in one group.  Recall is also given per variant kind
(pairs of an original and its variant of that kind), and the false pairs are split into
cards of one template (the hard negatives) and the rest.

(b) Hashes ``--hash-images`` JPEGs of 800–1280 px (a few hundred generated pictures saved at
many sizes and qualities, as Telegram serves photos) in this one process, and times
:func:`near_pairs` on ``--pairs`` random hashes (one in ten a planted near-copy of another).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_images import FAMILIES, KINDS, generate, jpeg_bytes, original

from tgscope.media.images import clusters, image_hashes, near_pairs


def truth_of(folder: Path, images: int, seed: int) -> list[dict]:
    """The files of the generated set in ``folder`` (generated now unless already there)."""
    path = folder / "truth.json"
    if not path.exists():
        started = time.perf_counter()
        generate(folder, images, seed)
        print(f"generated {images} images in {time.perf_counter() - started:.1f} s")
    return json.loads(path.read_text(encoding="utf-8"))


def score(folder: Path, truth: list[dict]) -> None:
    """Print precision and recall of the clusters, overall and per variant kind."""
    items = []
    for entry in truth:
        hashes = image_hashes(folder / entry["file"])
        assert hashes is not None, entry["file"]
        items.append((entry["file"], hashes.phash, hashes.dhash))
    started = time.perf_counter()
    found = {
        frozenset(pair) for group in clusters(items) for pair in itertools.combinations(group, 2)
    }
    took = time.perf_counter() - started
    by_file = {entry["file"]: entry for entry in truth}
    groups: dict[int, list[str]] = {}
    for entry in truth:
        groups.setdefault(entry["group"], []).append(entry["file"])
    real = {frozenset(p) for files in groups.values() for p in itertools.combinations(files, 2)}
    hits = found & real
    print(f"\n(a) clusters of {len(truth)} images ({len(groups)} pictures), {took:.2f} s")
    print(f"{'':30} {'pairs':>7} {'found':>7} {'share':>7}")
    row("precision (found pairs right)", len(found), len(hits))
    row("recall (true pairs found)", len(real), len(hits))
    for kind in KINDS:
        pairs = {
            p for p in real if sorted(by_file[f]["kind"] for f in p) == sorted([kind, "original"])
        }
        row(f"  recall, original + {kind}", len(pairs), len(pairs & found))
    for family in FAMILIES:
        pairs = {p for p in real if by_file[next(iter(p))]["family"] == family}
        row(f"  recall, {family}", len(pairs), len(pairs & found))
    wrong = found - real
    template = sum(1 for p in wrong if same_template(p, by_file))
    print(f"false pairs: {len(wrong)}, of them cards of one template: {template}")
    families = Counter(by_file[f]["family"] for p in wrong for f in p)
    print(f"files in false pairs, by family: {dict(families)}")


def same_template(pair: frozenset[str], by_file: dict[str, dict]) -> bool:
    a, b = (by_file[f]["template"] for f in pair)
    return a is not None and a == b


def row(label: str, total: int, right: int) -> None:
    share = f"{right / total:.4f}" if total else "-"
    print(f"{label:30} {total:7} {right:7} {share:>7}")


def hash_speed(folder: Path, count: int, seed: int) -> None:
    """Hash ``count`` Telegram-sized JPEGs in this process; print images per second."""
    rng = random.Random(seed)
    bases = [original(rng, rng.choice(FAMILIES[:4])) for _ in range(max(1, min(300, count // 20)))]
    files, size = [], 0
    for n in range(count):
        image = rng.choice(bases)
        longest = rng.randint(800, 1280)
        scale = longest / max(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)))
        path = folder / f"speed-{n:05d}.jpg"
        path.write_bytes(jpeg_bytes(image, rng.randint(70, 92)))
        files.append(path)
        size += path.stat().st_size
    started = time.perf_counter()
    for path in files:
        image_hashes(path)
    took = time.perf_counter() - started
    mb = size / 2**20
    print(
        f"\n(b) hashing {count} JPEGs (800–1280 px, {mb:.0f} MB) in one process: "
        f"{took:.1f} s, {count / took:.0f} images/s, {mb / took:.1f} MB/s"
    )


def search_speed(sizes: list[int], seed: int) -> None:
    """Time :func:`near_pairs` on random hashes, one in ten with a near-copy planted."""
    rng = np.random.default_rng(seed)
    print(f"\n{'hashes':>8} {'seconds':>8} {'pairs':>8}")
    for n in sizes:
        top = np.iinfo(np.uint64).max
        phash = rng.integers(0, top, n, dtype=np.uint64, endpoint=True)
        dhash = rng.integers(0, top, n, dtype=np.uint64, endpoint=True)
        # one in ten a near-copy of another: 2 pHash bits and 1 dHash bit flipped
        copies = rng.choice(n, 2 * (n // 20), replace=False).reshape(2, -1)
        flips = np.uint64(1) << rng.integers(0, 64, (copies.shape[1], 3), dtype=np.uint64)
        phash[copies[1]] = phash[copies[0]] ^ flips[:, 0] ^ flips[:, 1]
        dhash[copies[1]] = dhash[copies[0]] ^ flips[:, 2]
        items = [
            (str(i), f"{int(p):016x}", f"{int(d):016x}")
            for i, (p, d) in enumerate(zip(phash, dhash, strict=True))
        ]
        started = time.perf_counter()
        pairs = near_pairs(items)
        print(f"{n:8} {time.perf_counter() - started:8.2f} {len(pairs):8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hash-images", type=int, default=10_000)
    parser.add_argument("--pairs", default="10000,100000", help="hash counts, comma-separated")
    parser.add_argument("--dir", type=Path, help="the generated set's folder (kept)")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-images-") as tmp:
        folder = args.dir or Path(tmp) / "set"
        score(folder, truth_of(folder, args.images, args.seed))
        if not args.skip_speed:
            if args.hash_images:
                hash_speed(Path(tmp), args.hash_images, args.seed)
            search_speed([int(n) for n in args.pairs.split(",")], args.seed)


if __name__ == "__main__":
    main()
