"""The two jobs that run on a Dask cluster (:mod:`.distributed`): the near-copy index built
from scratch, and every post's events extracted again.

Each is the single process's full pass cut in two: the tasks compute, by pk range, what costs
(signatures and band keys; the exact Jaccard of candidate pairs; the events of each post) from
the snapshot the client exported, and the client writes their results, in pk order, with the
same calls as :class:`~tgscope.analysis.duplicates.NearCopyIndex` and
:class:`~tgscope.events.index.EventIndex`, in one transaction under the same lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

from . import minhash
from .distributed import (
    PAIRS_PER_TASK,
    Snapshot,
    exported_snapshot,
    gathered,
    keep_open_while_waiting,
    pk_ranges,
    rows_in,
    workers_of,
)
from .minhash import MIN_WORDS, NUM_PERM, Hasher, Signer

if TYPE_CHECKING:
    from distributed import Client

    from ..archive import Archive
    from ..events.index import CatchUp

_RANGE_POSTS = "SELECT pk, text, seq FROM posts WHERE pk >= ? AND pk < ? AND seq <= ? ORDER BY pk"
_RANGE_EVENTS = (
    "SELECT pk, key, text, date, channel_pk FROM posts"
    " WHERE pk >= ? AND pk < ? AND seq <= ? ORDER BY pk"
)


@dataclass(frozen=True, slots=True)
class SignedRange:
    """What a task found in one pk range: each post's text id, and each text met first
    there with the post it was first met in, its signature, shingle count and band keys."""

    read: int
    posts: list[tuple[int, int, int]]  # (post pk, text id, seq)
    ids: list[int]
    first_pks: list[int]
    signatures: list[bytes]
    sizes: list[int]
    keys: np.ndarray  # (texts, bands)


@cache
def _hashing() -> tuple[Hasher, Signer]:
    """One hasher and one signer per worker process (the permutations are made once)."""
    return Hasher(), Signer(NUM_PERM)


def sign_range(snapshot: Snapshot, low: int, high: int, rows: int) -> SignedRange:
    """A task: the posts of ``[low, high)`` signed as :meth:`NearCopyIndex._read_posts` and
    :meth:`NearCopyIndex._add_texts` sign them."""
    hasher, signer = _hashing()
    found = rows_in(snapshot, _RANGE_POSTS, (low, high, snapshot.upto))
    posts: list[tuple[int, int, int]] = []
    ids: list[int] = []
    first_pks: list[int] = []
    sets: list[np.ndarray] = []
    met: set[int] = set()
    for pk, text, seq in found:
        tokens = minhash.words(text)
        if len(tokens) < MIN_WORDS:
            continue
        text_id = minhash.text_digest(tokens)
        posts.append((pk, text_id, seq))
        if text_id not in met:
            met.add(text_id)
            ids.append(text_id)
            first_pks.append(pk)
            sets.append(hasher.shingle_hashes(tokens))
    if not sets:
        return SignedRange(len(found), posts, [], [], [], [], np.zeros((0, 0), np.int64))
    signatures = signer.sign(sets)
    return SignedRange(
        len(found),
        posts,
        ids,
        first_pks,
        [signature.tobytes() for signature in signatures],
        [int(shingles.size) for shingles in sets],
        minhash.band_keys(signatures, rows),
    )


def verify_pairs(
    snapshot: Snapshot, pairs: list[tuple[int, int, int, int]], floor: float
) -> list[tuple[int, int, float]]:
    """A task: ``(a, b, a's post, b's post)`` pairs kept as :meth:`NearCopyIndex._verify`
    keeps them (exact Jaccard of the shingle sets at least ``floor``, to 6 places)."""
    hasher, _ = _hashing()
    pks = sorted({pk for _, _, a_pk, b_pk in pairs for pk in (a_pk, b_pk)})
    texts: dict[int, str] = {}
    for start in range(0, len(pks), 500):
        part = pks[start : start + 500]
        marks = ",".join("?" * len(part))
        texts.update(rows_in(snapshot, f"SELECT pk, text FROM posts WHERE pk IN ({marks})", part))
    sets = {pk: hasher.shingle_hashes(minhash.words(text)) for pk, text in texts.items()}
    kept = []
    for a, b, a_pk, b_pk in pairs:
        similarity = minhash.jaccard(sets[a_pk], sets[b_pk])
        if similarity >= floor:
            kept.append((a, b, round(similarity, 6)))
    return kept


def build_near_copies(
    archive: Archive, client: Client, *, floor: float, phases: dict[str, float] | None = None
) -> int:
    """Build the near-copy index from scratch on the cluster; returns the posts read.
    ``phases`` receives the seconds each part took: ``sign`` and ``verify``, waiting for
    the tasks (the part more workers shorten); ``write`` and ``buckets``, the client's own
    work (the part they do not)."""
    from .duplicates import IndexParams, _bucket_rows, _shared_buckets

    store: Any = archive.store
    tables = store.nearcopies
    params = IndexParams.for_floor(floor)
    read = 0
    with _from_scratch(archive, tables, client, sign_range, params.rows) as (
        last,
        snapshot,
        signing,
    ):
        first_pk: dict[int, int] = {}
        keys_parts, ids_parts = [], []
        clock = _Clock(phases)
        for part in clock.timed("sign", gathered(signing)):
            read += part.read
            new = [i for i, text_id in enumerate(part.ids) if text_id not in first_pk]
            for i in new:
                first_pk[part.ids[i]] = part.first_pks[i]
            tables.save_posts(part.posts, new=True)  # into the tables just cleared
            tables.save_texts(
                ((part.ids[i], part.signatures[i], part.sizes[i]) for i in new), new=True
            )
            if new:
                keys_parts.append(part.keys[new])
                ids_parts.append(np.array([part.ids[i] for i in new], dtype=np.int64))
        clock.lap("write")
        if keys_parts:
            keys, ids = np.concatenate(keys_parts), np.concatenate(ids_parts)
            tables.save_buckets(_bucket_rows(keys, ids), new=True)
            candidates = [
                (a, b, first_pk[a], first_pk[b]) for a, b in sorted(_shared_buckets(keys, ids))
            ]
            clock.lap("buckets")  # written, and the candidate pairs found, by the client
            verifying = [
                client.submit(verify_pairs, snapshot, candidates[i : i + PAIRS_PER_TASK],
                              params.floor, pure=False)
                for i in range(0, len(candidates), PAIRS_PER_TASK)
            ]  # fmt: skip
            for kept in clock.timed("verify", gathered(verifying)):
                tables.save_pairs(kept)
        clock.lap("write")
        tables.save_state({"seq": last, **params.as_state()})
    return read


class _Clock:
    """Seconds spent by phase: the waits for tasks, and the client's own work between."""

    def __init__(self, phases: dict[str, float] | None):
        self.phases = phases if phases is not None else {}
        self.mark = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - self.mark
        self.mark = now

    def timed(self, phase: str, results: Iterable[Any]) -> Iterator[Any]:
        """``results`` as they come: the waits for them count to ``phase``, the client's
        work between them to ``write``."""
        iterator = iter(results)
        while True:
            self.lap("write")
            try:
                item = next(iterator)
            except StopIteration:
                self.lap(phase)
                return
            self.lap(phase)
            yield item


def extract_range(snapshot: Snapshot, low: int, high: int) -> list[tuple[int, list, int | None]]:
    """A task: ``(post pk, its events, its channel)`` for the posts of ``[low, high)``, as
    :meth:`EventIndex.catch_up` extracts them."""
    from ..events.extract import extract_events
    from ..events.lexicon import load

    lexicon = load()
    return [
        (pk, extract_events(key, text, day, lexicon), channel_pk)
        for pk, key, text, day, channel_pk in rows_in(
            snapshot, _RANGE_EVENTS, (low, high, snapshot.upto)
        )
    ]


def extract_all_events(archive: Archive, client: Client) -> CatchUp:
    """Extract every post's events again on the cluster (a rebuild of the events table)."""
    from ..events.index import EventIndex

    store: Any = archive.store
    index = EventIndex(store.events)
    tables = index.tables
    posts = events = 0
    channels: set[int] = set()
    with _from_scratch(archive, tables, client, extract_range) as (target, _, futures):
        for part in gathered(futures):
            for pk, found, channel_pk in part:
                tables.save(pk, found)
                posts += 1
                events += len(found)
                if channel_pk is not None:
                    channels.add(channel_pk)
        return index.finish_rebuild(target, channels, posts, events)


@contextmanager
def _from_scratch(
    archive: Archive, tables: Any, client: Client, task: Callable, *arguments: Any
) -> Iterator[tuple[int, Snapshot, list]]:
    """A derived table's full pass: its write transaction (cleared, and allowed to wait for
    the tasks), the snapshot they read, and ``task(snapshot, low, high, *arguments)``
    submitted for each pk range, in pk order; yields ``(last write, snapshot, futures)``."""
    store: Any = archive.store
    with tables.writing() as last:
        keep_open_while_waiting(store.db)
        tables.clear()
        with exported_snapshot(archive, last) as snapshot:
            futures = [
                client.submit(task, snapshot, low, high, *arguments, pure=False)
                for low, high in pk_ranges(archive, last, workers_of(client))
            ]
            yield last, snapshot, futures
