"""Near-copy detection's arithmetic: what a text says, its word shingles, MinHash signatures
and LSH band keys, in NumPy batches.

What counts as the same text (:func:`words`):

* NFKC, case-folded; words are runs of letters and digits, so punctuation, emoji, hashtag
  signs and line breaks do not count (``#BRICS`` is the word ``brics``);
* trailing lines that only point elsewhere are dropped, one after another from the end: a
  line asking to subscribe or follow (starting, after emoji and punctuation, with
  "подписывайтесь", "подписаться", "подпишитесь", "subscribe", "follow us", "join us", "наш
  канал", "our channel" and a few more: :data:`SUBSCRIBE`, at most :data:`SUBSCRIBE_WORDS`
  words), or a line holding nothing but ``t.me`` links and ``@mentions`` (and emoji);
* texts of fewer than :data:`MIN_WORDS` words are left out (every "🔥" post would be one
  cluster otherwise).

Similarity is the Jaccard index of the sets of word :data:`SHINGLE`-grams (a text shorter
than that is one shingle).  Hashes are made from ``zlib.crc32`` of each word and a fixed
mixing step, and the permutations from BLAKE2b of their number: a text gets the same
signature bytes in every process, which the archive relies on (signatures are stored).

MinHash: ``h_i(x) = (a_i * x + b_i mod 2**64) >> 32`` over 64-bit shingle hashes, the
minimum per text, :data:`NUM_PERM` of them (``uint32``).  Measured against datasketch
(``bench/bench_duplicates.py``): one NumPy pass over a batch of posts instead of one
``MinHash`` object per post.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Sequence

import numpy as np

SHINGLE = 2  # words per shingle: one word changed in 20 still leaves Jaccard 0.81
MIN_WORDS = 5  # texts with fewer words are not compared
NUM_PERM = 120  # hash functions in a signature (20 bands of 6, 24 of 5, 30 of 4...)
SIGNATURE_DTYPE = np.dtype("<u4")
SUBSCRIBE_WORDS = 12  # a longer line is text, whatever it starts with
#: the starts of a trailing line that asks readers to subscribe (after case-folding, emoji
#: and punctuation removed)
SUBSCRIBE = (
    "подписывайтесь",
    "подписаться",
    "подпишитесь",
    "подписка",
    "наш канал",
    "наш телеграм",
    "мы в телеграм",
    "мы в telegram",
    "читайте нас",
    "подписывайся",
    "subscribe",
    "follow us",
    "join us",
    "join our",
    "our channel",
    "our telegram",
)

_WORD = re.compile(r"[^\W_]+")
_POINTER = re.compile(r"(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me)/\S*|@\w+", re.IGNORECASE)
_MASK64 = (1 << 64) - 1


def words(text: str) -> list[str]:
    """The words a text is compared by: normalised, without trailing subscribe lines."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    lines = folded.split("\n")
    while lines and _points_elsewhere(lines[-1]):
        lines.pop()
    return _WORD.findall("\n".join(lines))


def _points_elsewhere(line: str) -> bool:
    """A trailing line to drop: empty, a call to subscribe, or only links and mentions."""
    found = _WORD.findall(line)
    if not found:
        return True
    if len(found) <= SUBSCRIBE_WORDS and " ".join(found).startswith(SUBSCRIBE):
        return True
    return not _WORD.search(_POINTER.sub(" ", line))


def shingles(tokens: Sequence[str], size: int = SHINGLE) -> set[tuple[str, ...]]:
    """The set of word ``size``-grams (one shingle of all words when there are fewer)."""
    if len(tokens) <= size:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def jaccard(one: set | np.ndarray, other: set | np.ndarray) -> float:
    """|A ∩ B| / |A ∪ B| of two sets (or of two arrays of distinct values)."""
    if isinstance(one, np.ndarray) and isinstance(other, np.ndarray):
        common = np.intersect1d(one, other, assume_unique=True).size
        union = one.size + other.size - common
    else:
        common = len(one & other)
        union = len(one) + len(other) - common
    return common / union if union else 1.0


def text_digest(tokens: Sequence[str]) -> int:
    """A signed 64-bit id of a normalised text: equal texts, equal ids."""
    data = "\x1f".join(tokens).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little", signed=True)


class Hasher:
    """Word hashes (cached: a vocabulary is small next to its uses) and shingle hashes."""

    def __init__(self) -> None:
        self._cache: dict[str, int] = {}

    def word_hashes(self, tokens: Sequence[str]) -> list[int]:
        cache = self._cache
        out = []
        for token in tokens:
            value = cache.get(token)
            if value is None:
                value = cache[token] = zlib.crc32(token.encode())
            out.append(value)
        return out

    def shingle_hashes(self, tokens: Sequence[str]) -> np.ndarray:
        """The distinct 64-bit hashes of a text's shingles, sorted (``uint64``)."""
        return batch_shingles([self.word_hashes(tokens)])[0]


def _mix(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: spreads every input bit over the 64 (in place, ``uint64``)."""
    values ^= values >> np.uint64(30)
    values *= np.uint64(0xBF58476D1CE4E5B9)
    values ^= values >> np.uint64(27)
    values *= np.uint64(0x94D049BB133111EB)
    values ^= values >> np.uint64(31)
    return values


def batch_shingles(word_hashes: Sequence[Sequence[int]]) -> list[np.ndarray]:
    """Each text's distinct shingle hashes (sorted ``uint64``), from its words' hashes."""
    out = []
    for hashes in word_hashes:
        words_ = np.asarray(hashes, dtype=np.uint64)
        if words_.size <= SHINGLE:
            combined = np.array([_fold(words_)], dtype=np.uint64)
        else:
            combined = words_[: words_.size - 1] << np.uint64(32)
            combined ^= words_[1:]
        out.append(np.unique(_mix(combined)))
    return out


def _fold(words_: np.ndarray) -> int:
    """One hash for a text of at most :data:`SHINGLE` words."""
    value = 0
    for word in words_.tolist():
        value = ((value << 32) ^ word ^ (value >> 32)) & _MASK64
    return value


def permutations(num_perm: int = NUM_PERM) -> tuple[np.ndarray, np.ndarray]:
    """The hash functions' ``a`` (odd) and ``b``, derived from their numbers alone."""
    a, b = [], []
    for number in range(num_perm):
        digest = hashlib.blake2b(f"tgscope-minhash-{number}".encode(), digest_size=16).digest()
        a.append(int.from_bytes(digest[:8], "little") | 1)
        b.append(int.from_bytes(digest[8:], "little"))
    return np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64)


_CHUNK = 4096  # shingles per NumPy pass: the (chunk, NUM_PERM) block stays in cache


class Signer:
    """MinHash signatures of many texts at once."""

    def __init__(self, num_perm: int = NUM_PERM):
        self.num_perm = num_perm
        self.a, self.b = permutations(num_perm)

    def sign(self, sets: Sequence[np.ndarray]) -> np.ndarray:
        """One signature row per shingle set (``uint32``, shape ``(len(sets), num_perm)``)."""
        out = np.empty((len(sets), self.num_perm), dtype=SIGNATURE_DTYPE)
        if not sets:
            return out
        sizes = np.fromiter((s.size for s in sets), dtype=np.int64, count=len(sets))
        flat = np.concatenate(sets)
        block = np.empty((_CHUNK, self.num_perm), dtype=np.uint64)
        mins = np.full((len(sets), self.num_perm), np.iinfo(np.uint64).max, dtype=np.uint64)
        owner = np.repeat(np.arange(len(sets)), sizes)
        for low in range(0, flat.size, _CHUNK):
            part = flat[low : low + _CHUNK]
            rows = block[: part.size]
            np.multiply(part[:, None], self.a[None, :], out=rows)
            rows += self.b
            rows >>= np.uint64(32)
            who = owner[low : low + _CHUNK]
            cuts = np.flatnonzero(np.diff(who)) + 1
            firsts = np.concatenate(([0], cuts))
            reduced = np.minimum.reduceat(rows, firsts, axis=0)
            targets = who[firsts]
            np.minimum(mins[targets], reduced, out=reduced)
            mins[targets] = reduced
        out[:] = mins
        return out


def rows_for(threshold: float, num_perm: int = NUM_PERM, recall: float = 0.9) -> int:
    """Rows per band: the most (fewest false candidates) that still find a pair of Jaccard
    ``threshold`` with probability ``recall``."""
    for rows in range(8, 0, -1):
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= recall:
            return rows
    return 1


def floor_for(rows: int, num_perm: int = NUM_PERM, recall: float = 0.9) -> float:
    """The lowest Jaccard (in hundredths) an index of ``rows`` rows per band finds with
    probability ``recall``: the lowest threshold it answers."""
    bands = num_perm // rows
    for hundredths in range(1, 101):
        if 1 - (1 - (hundredths / 100) ** rows) ** bands >= recall:
            return hundredths / 100
    return 1.0


def band_keys(signatures: np.ndarray, rows: int) -> np.ndarray:
    """Each signature's band keys (signed ``int64``, shape ``(n, bands)``): the band's
    number and its rows, hashed; equal keys put two texts in one bucket."""
    count, num_perm = signatures.shape
    bands = num_perm // rows
    keys = np.zeros((count, bands), dtype=np.uint64)
    for band in range(bands):
        acc = np.full(count, band + 1, dtype=np.uint64)
        for column in signatures[:, band * rows : (band + 1) * rows].T:
            acc = _mix(acc * np.uint64(0x9E3779B97F4A7C15) + column.astype(np.uint64))
        keys[:, band] = acc
    return keys.view(np.int64)
