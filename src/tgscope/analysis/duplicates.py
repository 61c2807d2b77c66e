"""Copy-paste clusters: posts whose texts are the same or nearly so, in any channels.

Two posts are near-copies when the Jaccard index of their word-shingle sets, after
normalising (:mod:`.minhash`: case, punctuation, emoji and trailing "subscribe" lines do not
count), is at least the threshold.  A cluster is a connected group of such posts: every post
is a near-copy of at least one other in it.  Its ``similarity`` is the lowest Jaccard among
the verified pairs that hold it together (1.0 for copies of one text), so every link in the
cluster is at least that similar.

The near-copy index (tables ``nearcopy_*`` in the archive, :mod:`tgscope.store.nearcopies`)
is derived from the posts as the search index is: it records the archive's last write it
holds and catches up from the sequence numbers, adding the posts written since (new texts
get a signature, changed texts a new one), dropping posts merged away, forgetting texts no
post has any more.  Equal normalised texts are one row (a forward and its original cost one
signature).  A text's MinHash signature is split into LSH bands; texts sharing a band's
bucket are candidates, and every candidate pair is verified on the exact shingle sets: the
pairs kept have a Jaccard of at least the index's floor (0.7 unless rebuilt lower), so any
threshold from the floor up is answered from the same index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import combinations, islice
from typing import TYPE_CHECKING, Any

import numpy as np

from ..dates import day_bounds, parse_bound
from ..errors import OptionError
from ..store.nearcopies import NearCopyTables
from . import minhash
from .minhash import MIN_WORDS, NUM_PERM, SHINGLE, Hasher, Signer

if TYPE_CHECKING:
    import pyarrow

DEFAULT_FLOOR = 0.7  # the lowest threshold the index answers unless rebuilt for less
INDEX_VERSION = 1  # bump when what is stored changes meaning: the index is rebuilt
_BATCH = 20_000  # posts read and signed at once


class ThresholdBelowIndex(OptionError):
    """The threshold asked for is lower than the near-copy index was built for."""

    def __init__(self, threshold: float, floor: float):
        self.threshold, self.floor = threshold, floor
        super().__init__(
            f"threshold: {threshold:g} is below the {floor:g} the near-copy index was built"
            f" for; rebuild it for {threshold:g} (rebuild=True) to ask for less"
        )


@dataclass(frozen=True, slots=True)
class CopyPost:
    """One post of a cluster."""

    key: str
    channel: str | None
    date: str | None
    forwarded: bool  # a forward (of whatever): marked, not hidden


@dataclass(frozen=True, slots=True)
class Cluster:
    """Posts that say the same or nearly, in date order (undated last)."""

    cluster: int  # numbered 1.. by the date of the first post, at the time it is asked
    similarity: float  # the lowest verified Jaccard among the pairs that join the cluster
    posts: list[CopyPost] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.posts)

    @property
    def first(self) -> str:
        return self.posts[0].key

    @property
    def channels(self) -> list[str]:
        """Its channels, in the order they first posted it."""
        return list(dict.fromkeys(p.channel for p in self.posts if p.channel))

    @property
    def forwards(self) -> list[str]:
        return [p.key for p in self.posts if p.forwarded]

    @property
    def spread_s(self) -> int | None:
        """Seconds from the first post to the last (None when fewer than two are dated)."""
        dates = [parse_bound(p.date) for p in self.posts if p.date]  # naive: UTC
        if len(dates) < 2:
            return None
        return int((max(dates) - min(dates)).total_seconds())

    def to_dict(self) -> dict[str, Any]:
        """The JSON Lines record of ``tgscope duplicates --format jsonl``."""
        return {
            "cluster": self.cluster,
            "size": self.size,
            "similarity": self.similarity,
            "first": self.first,
            "posts": [p.key for p in self.posts],
            "channels": self.channels,
            "forwards": self.forwards,
            "spread_s": self.spread_s,
        }


class Clusters(list[Cluster]):
    """The clusters found, as plain records; :meth:`to_arrow` for pandas or polars."""

    def to_arrow(self) -> pyarrow.Table:
        import pyarrow

        rows = [cluster.to_dict() for cluster in self]
        schema = pyarrow.schema(
            [
                ("cluster", pyarrow.int64()),
                ("size", pyarrow.int64()),
                ("similarity", pyarrow.float64()),
                ("first", pyarrow.string()),
                ("posts", pyarrow.list_(pyarrow.string())),
                ("channels", pyarrow.list_(pyarrow.string())),
                ("forwards", pyarrow.list_(pyarrow.string())),
                ("spread_s", pyarrow.int64()),
            ]
        )
        return pyarrow.Table.from_pylist(rows, schema=schema)


# -- the index --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexParams:
    """What an index was built for; another value of any of them means a rebuild."""

    floor: float = DEFAULT_FLOOR
    rows: int = minhash.rows_for(DEFAULT_FLOOR)
    num_perm: int = NUM_PERM
    shingle: int = SHINGLE
    min_words: int = MIN_WORDS
    version: int = INDEX_VERSION

    @classmethod
    def for_floor(cls, floor: float) -> IndexParams:
        return cls(floor=floor, rows=minhash.rows_for(floor))

    @classmethod
    def read(cls, state: dict[str, str]) -> IndexParams | None:
        try:
            return cls(
                floor=float(state["floor"]),
                rows=int(state["rows"]),
                num_perm=int(state["num_perm"]),
                shingle=int(state["shingle"]),
                min_words=int(state["min_words"]),
                version=int(state["version"]),
            )
        except (KeyError, ValueError):
            return None

    def as_state(self) -> dict[str, Any]:
        return {
            "floor": self.floor,
            "rows": self.rows,
            "num_perm": self.num_perm,
            "shingle": self.shingle,
            "min_words": self.min_words,
            "version": self.version,
        }


@dataclass(slots=True)
class _Batch:
    """New texts met in one batch of posts: their ids and shingle sets."""

    ids: list[int] = field(default_factory=list)
    sets: list[np.ndarray] = field(default_factory=list)


class NearCopyIndex:
    """The near-copy index in the archive's ``nearcopy_*`` tables."""

    def __init__(self, tables: NearCopyTables):
        self.tables = tables
        self.hasher = Hasher()
        self.signer = Signer(NUM_PERM)
        self._fresh = False  # a build from scratch into empty tables: rows written as new

    def params(self) -> IndexParams | None:
        """What the index was built for (None: never built)."""
        return IndexParams.read(self.tables.state())

    def catch_up(self, *, floor: float | None = None, rebuild: bool = False) -> int:
        """Bring the index up to date with the archive; return how many posts were read.

        Built from scratch when asked (``rebuild``, for ``floor`` if given, else the default
        or the floor it had), when never built, or when built by another method.
        """
        with self.tables.writing() as last:
            state = self.tables.state()
            held = IndexParams.read(state)
            if floor is None:
                floor = held.floor if held else DEFAULT_FLOOR
            wanted = IndexParams.for_floor(floor)  # today's method: another means a rebuild
            seq = int(state.get("seq", 0))
            if rebuild or held != wanted:
                self.tables.clear()
                seq = 0
            elif seq >= last:
                if seq > last:  # claims writes the archive lacks: not this archive's
                    self.tables.clear()
                    seq = 0
                else:
                    return 0
            read = self._apply(seq, wanted, last)
            self.tables.save_state({"seq": last, **wanted.as_state()})
        return read

    def _apply(self, held: int, params: IndexParams, upto: int) -> int:
        """Read the posts written after ``held`` and up to ``upto`` (the write horizon the
        state will hold: a later post is read by the next catch-up, once, and none is
        missed however writers commit).  From scratch (``held`` 0) the buckets are
        compared once at the end, all in memory, and written in order; otherwise each batch
        is compared with itself and with the buckets stored."""
        touched = self._drop_removed(held)
        bulk = held == 0
        self._fresh = bulk and self.tables.is_empty()  # every row written is new
        seen: set[int] = set()
        all_keys: list[np.ndarray] = []
        all_ids: list[np.ndarray] = []
        read = 0
        rows = self.tables.written_since(held, upto)
        while chunk := list(islice(rows, _BATCH)):
            read += len(chunk)
            batch = _Batch()
            touched |= self._read_posts(chunk, batch, seen)
            if not batch.ids:
                continue
            keys, ids = self._add_texts(batch, params)
            if bulk:
                all_keys.append(keys)
                all_ids.append(ids)
                continue
            self.tables.save_buckets(_bucket_rows(keys, ids))
            candidates = _shared_buckets(keys, ids) | self._stored_mates(keys, ids)
            self._verify(candidates, dict(zip(batch.ids, batch.sets, strict=True)), params.floor)
        if all_keys:
            keys, ids = np.concatenate(all_keys), np.concatenate(all_ids)
            del all_keys, all_ids
            self.tables.save_buckets(_bucket_rows(keys, ids), new=self._fresh)
            self._verify(_shared_buckets(keys, ids), {}, params.floor)
        self._forget_orphans(touched, params)
        return read

    def _drop_removed(self, held: int) -> set[int]:
        removed = self.tables.removed_since(held)
        before = self.tables.text_ids_of(removed)
        self.tables.drop_posts(removed)
        return set(before.values())

    def _read_posts(
        self, chunk: list[tuple[int, str, int]], batch: _Batch, seen: set[int]
    ) -> set[int]:
        """Record which text each post now has; texts the index lacks join ``batch``.
        Returns the texts posts left (which may now have no post)."""
        before = self.tables.text_ids_of([pk for pk, _, _ in chunk])
        keep, drop = [], []
        new: dict[int, list[str]] = {}
        for pk, text, seq in chunk:
            tokens = minhash.words(text)
            if len(tokens) < MIN_WORDS:
                drop.append(pk)
                continue
            text_id = minhash.text_digest(tokens)
            keep.append((pk, text_id, seq))
            if text_id not in seen:
                new[text_id] = tokens
        self.tables.drop_posts(drop)
        self.tables.save_posts(keep, new=self._fresh)
        now = {pk: text_id for pk, text_id, _ in keep}
        known = self.tables.known_texts(new)
        for text_id, tokens in new.items():
            seen.add(text_id)
            if text_id not in known:
                batch.ids.append(text_id)
                batch.sets.append(self.hasher.shingle_hashes(tokens))
        return {old for pk, old in before.items() if now.get(pk) != old}

    def _add_texts(self, batch: _Batch, params: IndexParams) -> tuple[np.ndarray, np.ndarray]:
        """Sign the batch's texts and store them; return their band keys and ids."""
        signatures = self.signer.sign(batch.sets)
        self.tables.save_texts(
            (
                (text_id, signatures[i].tobytes(), int(batch.sets[i].size))
                for i, text_id in enumerate(batch.ids)
            ),
            new=self._fresh,
        )
        return minhash.band_keys(signatures, params.rows), np.array(batch.ids, dtype=np.int64)

    def _stored_mates(self, keys: np.ndarray, ids: np.ndarray) -> set[tuple[int, int]]:
        """Pairs of a batch text and a stored text in one bucket."""
        owners: dict[int, list[int]] = defaultdict(list)
        flat_ids = np.repeat(ids, keys.shape[1]).tolist()
        for key, text_id in zip(keys.ravel().tolist(), flat_ids, strict=True):
            owners[key].append(text_id)
        pairs: set[tuple[int, int]] = set()
        for bucket, mate in self.tables.bucket_mates(list(owners)):
            for text_id in owners[bucket]:
                if text_id != mate:
                    pairs.add((min(text_id, mate), max(text_id, mate)))
        return pairs

    def _verify(
        self, candidates: set[tuple[int, int]], known: dict[int, np.ndarray], floor: float
    ) -> None:
        """Keep the candidate pairs whose exact Jaccard is at least ``floor``."""
        if not candidates:
            return
        missing = {t for pair in candidates for t in pair if t not in known}
        for text_id, text in self.tables.sample_texts(sorted(missing)).items():
            known[text_id] = self.hasher.shingle_hashes(minhash.words(text))
        kept = []
        for a, b in sorted(candidates):
            if a in known and b in known:
                similarity = minhash.jaccard(known[a], known[b])
                if similarity >= floor:
                    kept.append((a, b, round(similarity, 6)))
        self.tables.save_pairs(kept)

    def _forget_orphans(self, touched: set[int], params: IndexParams) -> None:
        """Texts no post has any more leave the index (their buckets and pairs too), so an
        index caught up holds what a rebuild would."""
        orphans = self.tables.orphans(touched)
        if not orphans:
            return
        signatures = np.stack(
            [np.frombuffer(blob, dtype=minhash.SIGNATURE_DTYPE) for _, blob in orphans]
        )
        keys = minhash.band_keys(signatures, params.rows)
        buckets = [
            (int(key), text_id)
            for (text_id, _), row in zip(orphans, keys.tolist(), strict=True)
            for key in row
        ]
        self.tables.drop_texts([text_id for text_id, _ in orphans], buckets)


def _bucket_rows(keys: np.ndarray, ids: np.ndarray) -> Iterator[tuple[int, int]]:
    """``(bucket, text_id)`` rows in bucket order (SQLite appends instead of inserting)."""
    order = np.argsort(keys, axis=None)
    bands = keys.shape[1]
    for start in range(0, order.size, 1 << 18):
        part = order[start : start + (1 << 18)]
        yield from zip(keys.ravel()[part].tolist(), ids[part // bands].tolist(), strict=True)


def _shared_buckets(keys: np.ndarray, ids: np.ndarray) -> set[tuple[int, int]]:
    """Pairs of texts (smaller id first) that share a bucket in any band."""
    pairs: set[tuple[int, int]] = set()
    for band in range(keys.shape[1]):
        column = keys[:, band]
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        ends = np.concatenate((starts[1:], [ordered.size]))
        shared = ends - starts > 1
        for start, end in zip(starts[shared].tolist(), ends[shared].tolist(), strict=True):
            members = sorted(ids[order[start:end]].tolist())
            pairs.update(combinations(members, 2))
    return pairs


# -- clusters ---------------------------------------------------------------------------


def check_options(threshold: float, min_size: int) -> None:
    if not 0 < threshold <= 1:
        raise OptionError(f"threshold: {threshold!r} is not between 0 (excluded) and 1")
    if min_size < 2:
        raise OptionError(f"min_size: {min_size!r} is less than 2 (a cluster is two posts or more)")


def find_clusters(
    tables: NearCopyTables,
    *,
    threshold: float,
    min_size: int = 2,
    channels: Sequence[str] = (),
    since: str | None = None,
    until: str | None = None,
) -> Clusters:
    """The clusters of the index as it is (caught up by the caller), numbered by date.

    ``since``/``until`` keep the posts dated in that range (undated posts are then left
    out); ``channels``: only clusters with a post in one of them (all their posts shown).
    """
    low, high = day_bounds(since, until)
    edges = tables.pairs(threshold)
    texts = set(tables.repeated_texts())
    texts.update(t for a, b, _ in edges for t in (a, b))
    by_text: dict[int, list[CopyPost]] = defaultdict(list)
    for text_id, key, channel, date, forwarded, _ in tables.members(sorted(texts)):
        if (low or high) and (not date or (low and date < low) or (high and date >= high)):
            continue
        by_text[text_id].append(CopyPost(key, channel, date, bool(forwarded)))
    groups = _components(by_text, edges)
    wanted = {name.lstrip("@").lower() for name in channels}
    found = []
    for members, similarity in groups:
        posts = sorted((post for text_id in members for post in by_text[text_id]), key=_date_order)
        if len(posts) < min_size:
            continue
        if wanted and not any(post.channel in wanted for post in posts):
            continue
        found.append((posts, similarity))
    found.sort(key=lambda item: _date_order(item[0][0]))
    return Clusters(
        Cluster(number, round(similarity, 3), posts)
        for number, (posts, similarity) in enumerate(found, 1)
    )


def _date_order(post: CopyPost) -> tuple:
    return (post.date is None, post.date or "", post.key)


def _components(
    by_text: dict[int, list[CopyPost]], edges: Iterable[tuple[int, int, float]]
) -> Iterator[tuple[list[int], float]]:
    """Connected groups of the texts that have posts, with the lowest Jaccard among the
    edges inside each."""
    parent = {text_id: text_id for text_id in by_text}

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    inside = [(a, b, j) for a, b, j in edges if a in parent and b in parent]
    for a, b, _ in inside:
        parent[root(a)] = root(b)
    groups: dict[int, list[int]] = defaultdict(list)
    for text_id in parent:
        groups[root(text_id)].append(text_id)
    lowest: dict[int, float] = {}
    for a, _, similarity in inside:
        top = root(a)
        lowest[top] = min(lowest.get(top, 1.0), similarity)
    for top, members in groups.items():
        yield members, lowest.get(top, 1.0)
