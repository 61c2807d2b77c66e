"""The same picture, resized, recompressed, lightly cropped or watermarked: perceptual hashes
and the search for near-identical images among many.

An image gets two 64-bit perceptual hashes (imagehash on Pillow), written as 16 lowercase
hex digits: pHash (the signs of the 8×8 lowest frequencies of a 32×32 DCT) and dHash
(whether each of 8×8 pixels is brighter than its right neighbour, on a 9×8 thumbnail).
Both survive resizing and recompression; they differ in what else they survive, so two
images are judged the same picture when *both* distances are small (:func:`same_picture`).

The search is exhaustive, not approximate: every pair's Hamming distances are computed with
NumPy (``uint64`` XOR and ``np.bitwise_count``), a tile of the pairs at a time so that
memory stays under :data:`CHUNK_BYTES` however many hashes there are.
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import imagehash
import numpy as np
from PIL import Image, ImageOps

# Thresholds (Hamming distances out of 64), chosen on bench/gen_images.py's 2,000 images
# (seed 1; checked on seed 2) from every pair's distances.  Copies of one picture: pHash
# 95th/99th percentile/max 12/14/22, dHash 9/14/21, sum 18/25/41 (crops and combined edits
# are the far ones; resizes and recompressions stay within 8).  Different cards of one
# template: pHash from 10, dHash from 5, sum from 17; unrelated pictures: pHash from 10,
# dHash from 0 (gradients), sum from 16.  A grid over the three limits put pairwise
# precision and recall both at 0.986 for pHash 14-15 with sum 25, the dHash limit not
# binding; the values below sit a step inside that (clusters: precision 0.985, recall
# 0.991 on seed 1; 0.989 and 0.976 on seed 2).
MAX_PHASH = 14  # pHash bits that may differ between copies of one picture
MAX_DHASH = 16  # dHash bits that may differ (copies' 99th percentile: 14)
MAX_SUM = 24  # and the two together

# JPEGs are decoded at 1/2, 1/4 or 1/8 scale, to no less than this many pixels a side:
# 372 images/s against 76 decoding in full (256: 180/s; 64: 416/s)
DRAFT = 128
# the pairwise search's working memory: a bound whatever the number of hashes, and small
# enough to stay in cache (30,000 hashes: 1.1 s with 4 MB, 1.8 s with 64 MB)
CHUNK_BYTES = 4 * 2**20
_BYTES_PER_CELL = 8 + 1 + 1  # a block's pHash XORs, their bit counts, the mask of close ones
_WHITE = (255, 255, 255)
# what Pillow raises for a file it cannot read as an image (UnidentifiedImageError is an
# OSError; damaged files give the others)
_UNREADABLE = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


@dataclass(frozen=True)
class ImageHashes:
    """An image's perceptual hashes, each 16 lowercase hex digits (64 bits)."""

    phash: str
    dhash: str


def image_hashes(source: str | os.PathLike[str] | BinaryIO) -> ImageHashes | None:
    """The perceptual hashes of an image file (a path or a binary file object).

    None when Pillow cannot read it as an image (not an image, truncated, an unknown
    format) or when it is larger than ``Image.MAX_IMAGE_PIXELS`` (a decompression bomb).
    Animated images are hashed by their first frame; EXIF orientation is applied.
    """
    try:
        with warnings.catch_warnings():
            # damaged metadata (Pillow warns) still gives a picture; a bomb gives None
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                grey = _greyscale(image)
    except _UNREADABLE:
        return None
    return ImageHashes(str(imagehash.phash(grey)), str(imagehash.dhash(grey)))


def _greyscale(image: Image.Image) -> Image.Image:
    """The first frame, upright, transparency laid on white, as 8-bit grey ("L")."""
    image.draft("RGB", (DRAFT, DRAFT))  # JPEG only: decode at a reduced scale
    image = ImageOps.exif_transpose(image) or image
    mode = image.mode
    if mode in ("L", "RGB"):
        return image.convert("L")
    if mode.startswith("I") or mode == "F":
        return _wide_to_grey(image)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, _WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat.convert("L")
    return image.convert("RGB").convert("L")  # P, 1, CMYK, YCbCr, LAB, HSV


def _wide_to_grey(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit or float grey scaled into 8 bits (Pillow's convert would clip it)."""
    pixels = np.asarray(image, dtype=np.float64)
    top = float(pixels.max()) if pixels.size else 0.0
    if image.mode.startswith("I;16") or 255 < top <= 65535:
        pixels = pixels / 257
    elif top <= 1.0 and image.mode == "F":
        pixels = pixels * 255
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), "L")


BLANK_BITS = 2  # a picture whose two hashes have at most this many bits set has no detail


def is_blank(phash: str, dhash: str) -> bool:
    """Whether the hashes are those of a picture without detail (one colour, a black video
    frame): all such pictures hash alike, so they are never "the same picture" by look."""
    return int(phash, 16).bit_count() <= BLANK_BITS and int(dhash, 16).bit_count() <= BLANK_BITS


def same_picture(phash_distance: np.ndarray, dhash_distance: np.ndarray) -> np.ndarray:
    """Whether pairs at these distances show the same picture (element-wise).

    Both hashes must agree closely, and their sum must stay under :data:`MAX_SUM`: pHash
    alone lets templated cards (one background, different pictures on it) through, dHash
    alone matches unrelated pictures on the same gradient (it only sees which way
    brightness runs).
    """
    p = phash_distance.astype(np.int16)
    d = dhash_distance.astype(np.int16)
    return (p <= MAX_PHASH) & (d <= MAX_DHASH) & (p + d <= MAX_SUM)


def near_pairs(
    items: Sequence[tuple[str, str, str]], *, chunk_bytes: int = CHUNK_BYTES
) -> list[tuple[str, str, int]]:
    """The pairs of ``(id, phash, dhash)`` items judged the same picture.

    Each pair is ``(id_a, id_b, distance)`` with ``id_a`` before ``id_b`` in ``items``, and
    distance the sum of the pHash and dHash Hamming distances (0–128); pairs in the order
    of their first item, then their second.  ``ValueError`` for a hash that is not 16 hex
    digits.
    """
    ids = [item[0] for item in items]
    tiles = list(_close(_parse(items, 1), _parse(items, 2), chunk_bytes))
    if not tiles:
        return []
    rows, cols, dist = (np.concatenate(part) for part in zip(*tiles, strict=True))
    order = np.lexsort((cols, rows))
    return [
        (ids[r], ids[c], d)
        for r, c, d in zip(
            rows[order].tolist(), cols[order].tolist(), dist[order].tolist(), strict=True
        )
    ]


def _close(
    phashes: np.ndarray, dhashes: np.ndarray, chunk_bytes: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Row indices, column indices (column > row) and distances of the close pairs, one tile
    of the upper triangle at a time (rows in order, then columns).

    A tile's pHash distances are computed in full, into buffers reused from tile to tile;
    the dHash distances only for the pairs whose pHash distance passed.
    """
    n = len(phashes)
    cells = max(1, chunk_bytes // _BYTES_PER_CELL)
    width = min(max(n, 1), cells)
    height = max(1, min(n, cells // width))
    xor = np.empty(height * width, dtype=np.uint64)
    count = np.empty(height * width, dtype=np.uint8)
    mask = np.empty(height * width, dtype=np.bool_)
    for top in range(0, n, height):
        bottom = min(n, top + height)
        for left in range(top, n, width):
            right = min(n, left + width)
            yield _tile(phashes, dhashes, (top, bottom, left, right), (xor, count, mask))


def _tile(
    phashes: np.ndarray,
    dhashes: np.ndarray,
    bounds: tuple[int, int, int, int],
    buffers: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The close pairs among rows ``top:bottom`` and columns ``left:right`` (column > row)."""
    top, bottom, left, right = bounds
    shape = (bottom - top, right - left)
    x, p, m = (buffer[: shape[0] * shape[1]].reshape(shape) for buffer in buffers)
    np.bitwise_xor(phashes[top:bottom, None], phashes[None, left:right], out=x)
    np.bitwise_count(x, out=p)
    np.less_equal(p, MAX_PHASH, out=m)
    r, c = np.nonzero(m)
    pd = p[r, c]
    r, c = r + top, c + left
    keep = c > r  # the upper triangle only
    r, c, pd = r[keep], c[keep], pd[keep]
    dd = np.bitwise_count(dhashes[r] ^ dhashes[c])
    hit = same_picture(pd, dd)
    dist = pd[hit].astype(np.int64) + dd[hit]
    return r[hit], c[hit], dist


def clusters(
    items: Sequence[tuple[str, str, str]], *, chunk_bytes: int = CHUNK_BYTES
) -> list[list[str]]:
    """Groups of two or more items showing the same picture (pairs joined transitively).

    Each group's ids are in the order of ``items``, groups in the order of their first id.
    """
    pairs = near_pairs(items, chunk_bytes=chunk_bytes)
    position = {item[0]: i for i, item in enumerate(items)}
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b, _ in pairs:
        ra, rb = root(position[a]), root(position[b])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[str]] = {}
    for i, item in enumerate(items):
        groups.setdefault(root(i), []).append(item[0])
    return [group for group in groups.values() if len(group) > 1]


def similar_to(hashes: ImageHashes, items: Sequence[tuple[str, str, str]]) -> list[tuple[str, int]]:
    """The items judged the same picture as ``hashes``, nearest first (ties in ``items``
    order), each with its distance (pHash plus dHash Hamming distance, 0–128)."""
    if not items:
        return []
    p = np.bitwise_count(_parse(items, 1) ^ np.uint64(int(hashes.phash, 16)))
    d = np.bitwise_count(_parse(items, 2) ^ np.uint64(int(hashes.dhash, 16)))
    hit = np.nonzero(same_picture(p, d))[0]
    dist = p[hit].astype(np.int64) + d[hit]
    order = np.argsort(dist, kind="stable")
    return [(items[int(hit[i])][0], int(dist[i])) for i in order]


def _parse(items: Sequence[tuple[str, str, str]], field: int) -> np.ndarray:
    """Column ``field`` of ``items`` (hex hashes) as a ``uint64`` array."""
    text = "".join(item[field] for item in items)
    if len(text) != 16 * len(items) or any(len(item[field]) != 16 for item in items):
        bad = next(item for item in items if len(item[field]) != 16)
        raise ValueError(f"image {bad[0]}: hash {bad[field]!r} is not 16 hex digits")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        bad = next(item for item in items if not _is_hex(item[field]))
        raise ValueError(f"image {bad[0]}: hash {bad[field]!r} is not 16 hex digits") from None
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64)


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return len(text) == 16
