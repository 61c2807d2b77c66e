"""Perceptual hashes and the near-identical image search (tgscope.media.images)."""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from tgscope.media.images import (
    MAX_DHASH,
    MAX_PHASH,
    MAX_SUM,
    ImageHashes,
    clusters,
    image_hashes,
    near_pairs,
    similar_to,
)


def picture(seed: int, size: tuple[int, int] = (480, 360)) -> Image.Image:
    """A photo-like field with shapes and a line of text, different for every seed."""
    rng = random.Random(seed)
    small = np.random.default_rng(seed).uniform(0, 255, (4, 5, 3)).astype(np.uint8)
    image = Image.fromarray(small, "RGB").resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    w, h = size
    for _ in range(8):
        xa, xb = sorted(rng.randint(0, w) for _ in range(2))
        ya, yb = sorted(rng.randint(0, h) for _ in range(2))
        fill = tuple(rng.randint(0, 255) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((xa, ya, xb, yb), fill=fill)
    draw.text((20, h - 60), f"picture {seed}", font=ImageFont.load_default(size=32), fill="white")
    return image


def save(image: Image.Image, path: Path, **options) -> Path:
    image.save(path, **options)
    return path


def jpeg(image: Image.Image, path: Path, quality: int = 90) -> Path:
    return save(image, path, format="JPEG", quality=quality)


def watermark(image: Image.Image) -> Image.Image:
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    ImageDraw.Draw(layer).text(
        (image.width - 170, image.height - 30),
        "@some_channel",
        font=ImageFont.load_default(size=20),
        fill=(255, 255, 255, 180),
    )
    return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")


def variants(image: Image.Image) -> dict[str, Image.Image]:
    w, h = image.size
    small = image.resize((w * 6 // 10, h * 6 // 10), Image.Resampling.LANCZOS)
    return {
        "resized": small,
        "enlarged": image.resize((w * 3 // 2, h * 3 // 2), Image.Resampling.LANCZOS),
        "cropped": image.crop((0, 0, w - round(w * 0.05), h)),
        "watermarked": watermark(image),
        "all": watermark(
            small.crop((0, 0, small.width, small.height - round(small.height * 0.05)))
        ),
    }


def items_of(paths: dict[str, Path]) -> list[tuple[str, str, str]]:
    out = []
    for name, path in paths.items():
        hashes = image_hashes(path)
        assert hashes is not None
        out.append((name, hashes.phash, hashes.dhash))
    return out


def hexes(value: int) -> str:
    return f"{value:016x}"


# -- hashes -------------------------------------------------------------------------------


def test_hashes_are_imagehash_phash_and_dhash_in_16_lowercase_hex_digits(tmp_path):
    image = picture(1)
    hashes = image_hashes(save(image, tmp_path / "a.png"))
    grey = image.convert("L")
    assert hashes == ImageHashes(str(imagehash.phash(grey)), str(imagehash.dhash(grey)))
    for value in (hashes.phash, hashes.dhash):
        assert len(value) == 16 and value == value.lower() and int(value, 16) >= 0


def test_a_file_object_is_hashed_like_its_path(tmp_path):
    path = jpeg(picture(2), tmp_path / "a.jpg")
    assert image_hashes(io.BytesIO(path.read_bytes())) == image_hashes(path)


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, not an image\n", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"],
    ids=["empty", "text", "pdf"],
)
def test_a_file_that_is_not_an_image_has_no_hashes(tmp_path, content):
    path = tmp_path / "file"
    path.write_bytes(content)
    assert image_hashes(path) is None


def test_a_truncated_image_has_no_hashes(tmp_path):
    whole = jpeg(picture(3), tmp_path / "whole.jpg").read_bytes()
    for name, cut in (("jpeg", whole[: len(whole) // 2]), ("png", png_bytes(picture(3))[:500])):
        path = tmp_path / f"cut.{name}"
        path.write_bytes(cut)
        assert image_hashes(path) is None, name


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` pixels (its data is a few bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [10_000, 100_000], ids=["over-the-limit", "twice-the-limit"])
def test_a_decompression_bomb_has_no_hashes(tmp_path, side):
    assert side * side > Image.MAX_IMAGE_PIXELS  # 10,000² warns in Pillow, 100,000² raises
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header(side, side))
    assert image_hashes(path) is None


@pytest.mark.parametrize("side", [40, 100], ids=["warned", "refused"])
def test_a_readable_image_over_the_pixel_limit_has_no_hashes(tmp_path, monkeypatch, side):
    """Pillow warns above MAX_IMAGE_PIXELS and raises above twice it: both mean None."""
    path = save(picture(12, (side, side)), tmp_path / "big.png")
    assert image_hashes(path) is not None
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 40² is 1.6 times it, 100² is 10
    assert image_hashes(path) is None


def test_transparency_is_laid_on_white(tmp_path):
    image = picture(4)
    alpha = Image.new("L", image.size, 255)
    ImageDraw.Draw(alpha).rectangle((0, 0, 200, 150), fill=0)
    noisy = image.copy()  # what is under the transparent corner must not count
    ImageDraw.Draw(noisy).rectangle((0, 0, 200, 150), fill=(255, 0, 0))
    noisy.putalpha(alpha)
    flat = image.copy()
    ImageDraw.Draw(flat).rectangle((0, 0, 200, 150), fill="white")
    expected = image_hashes(save(flat, tmp_path / "flat.png"))
    assert image_hashes(save(noisy, tmp_path / "rgba.png")) == expected
    box = (0, 0, 200, 150)
    palette = image.quantize(63)
    palette.putpalette([*palette.getpalette()[: 63 * 3], 255, 0, 0])  # colour 63: red
    ImageDraw.Draw(palette).rectangle(box, fill=63)
    flat = palette.convert("RGB")
    ImageDraw.Draw(flat).rectangle(box, fill="white")
    expected = image_hashes(save(flat, tmp_path / "p-flat.png"))
    assert image_hashes(save(palette, tmp_path / "p.png", transparency=63)) == expected


def test_a_palette_image_is_hashed_as_its_colours(tmp_path):
    palette = picture(5).quantize(128)
    expected = image_hashes(save(palette.convert("RGB"), tmp_path / "rgb.png"))
    assert image_hashes(save(palette, tmp_path / "p.png")) == expected
    assert image_hashes(save(palette, tmp_path / "p.gif")) == expected


def test_exif_orientation_is_applied(tmp_path):
    image = picture(6)
    upright = image_hashes(save(image, tmp_path / "upright.png"))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    turned = image.transpose(Image.Transpose.ROTATE_90)
    assert image_hashes(save(turned, tmp_path / "tagged.png", exif=exif)) == upright
    assert image_hashes(save(turned, tmp_path / "untagged.png")) != upright


def test_damaged_metadata_does_not_stop_the_hashing(tmp_path):
    """Pillow warns about a cut EXIF block (warnings are errors here): the picture counts."""
    image = picture(13)
    cut_exif = (
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06"
    )
    damaged = image_hashes(save(image, tmp_path / "damaged.jpg", format="JPEG", exif=cut_exif))
    assert damaged is not None
    assert damaged == image_hashes(jpeg(image, tmp_path / "plain.jpg", quality=75))


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    grey = picture(7).convert("L")
    wide = Image.fromarray(np.asarray(grey).astype(np.uint16) * 257)
    path = save(wide, tmp_path / "wide.png")
    with Image.open(path) as opened:
        assert opened.mode.startswith("I")
    assert image_hashes(path) == image_hashes(save(grey, tmp_path / "grey.png"))


def test_cmyk_is_hashed_as_its_colours(tmp_path):
    image = picture(8)
    path = save(image.convert("CMYK"), tmp_path / "cmyk.tiff")
    assert image_hashes(path) == image_hashes(save(image, tmp_path / "rgb.png"))


def test_an_animation_is_hashed_by_its_first_frame(tmp_path):
    first, second = picture(9), picture(10)
    path = save(first, tmp_path / "anim.gif", save_all=True, append_images=[second], duration=100)
    hashes = image_hashes(path)
    assert hashes is not None
    items = items_of(
        {"first": save(first, tmp_path / "1.png"), "second": save(second, tmp_path / "2.png")}
    )
    assert [name for name, _ in similar_to(hashes, items)] == ["first"]


# -- near-identical search ----------------------------------------------------------------


def test_resized_recompressed_cropped_and_watermarked_copies_are_found(tmp_path):
    image = picture(11)
    paths = {"original": jpeg(image, tmp_path / "original.jpg")}
    for kind, copy in variants(image).items():
        paths[kind] = jpeg(copy, tmp_path / f"{kind}.jpg")
    paths["quality 30"] = jpeg(image, tmp_path / "q30.jpg", quality=30)
    paths["png"] = save(image, tmp_path / "png.png")
    for seed in range(12, 18):
        paths[f"other {seed}"] = jpeg(picture(seed), tmp_path / f"other{seed}.jpg")
    items = items_of(paths)
    copies = [
        "original",
        "resized",
        "enlarged",
        "cropped",
        "watermarked",
        "all",
        "quality 30",
        "png",
    ]
    assert clusters(items) == [copies]
    original = image_hashes(paths["original"])
    assert original is not None
    assert sorted(name for name, _ in similar_to(original, items)) == sorted(copies)


def test_different_pictures_are_not_matched(tmp_path):
    paths = {f"p{seed}": jpeg(picture(seed), tmp_path / f"{seed}.jpg") for seed in range(20, 40)}
    assert near_pairs(items_of(paths)) == []


def test_the_rule_keeps_both_distances_and_their_sum_under_their_limits():
    zero = hexes(0)

    def bits(count: int) -> str:
        return hexes((1 << count) - 1)

    items = [
        ("base", zero, zero),
        ("edge", bits(MAX_PHASH), bits(MAX_SUM - MAX_PHASH)),  # both at their limits
        ("phash-over", bits(MAX_PHASH + 1), zero),
        ("dhash-over", zero, bits(MAX_DHASH + 1)),
        ("sum-over", bits(MAX_SUM - MAX_DHASH + 1), bits(MAX_DHASH)),
    ]
    assert MAX_SUM - MAX_PHASH <= MAX_DHASH and MAX_SUM - MAX_DHASH + 1 <= MAX_PHASH
    found = [(a, b, d) for a, b, d in near_pairs(items) if a == "base"]
    assert found == [("base", "edge", MAX_SUM)]


def test_pairs_are_in_input_order_with_their_distance():
    items = [
        ("a", hexes(0), hexes(0)),
        ("b", hexes(0xFFFF_0000_0000_0000), hexes(0)),
        ("c", hexes(1), hexes(0b11)),
        ("d", hexes(0xFFFF_0000_0000_0001), hexes(1)),
        ("e", hexes(0b111), hexes(0b111)),
    ]
    assert near_pairs(items) == [
        ("a", "c", 3),
        ("a", "e", 6),
        ("b", "d", 2),
        ("c", "e", 3),
    ]


def test_clusters_join_chains_and_keep_the_input_order():
    far = hexes(0xFFFF_FFFF_FFFF_FFFF)
    step = (1 << 12) - 1  # 12 bits: a ~ b and b ~ c, but a and c are 24 bits apart
    items = [
        ("x", far, far),
        ("c", hexes(step << 12 | step), hexes(0)),
        ("alone", hexes(0x0F0F_0F0F_0F0F_0F0F), hexes(0x0F0F_0F0F_0F0F_0F0F)),
        ("a", hexes(0), hexes(0)),
        ("y", far, far),
        ("b", hexes(step), hexes(0)),
    ]
    assert [(a, b) for a, b, _ in near_pairs(items) if {a, b} == {"a", "c"}] == []
    assert clusters(items) == [["x", "y"], ["c", "a", "b"]]
    assert clusters(list(reversed(items))) == [["b", "a", "c"], ["y", "x"]]
    assert clusters([]) == [] and near_pairs([]) == []


def test_every_chunk_size_gives_the_same_pairs():
    rng = np.random.default_rng(5)
    top = np.iinfo(np.uint64).max
    phash = rng.integers(0, top, 400, dtype=np.uint64, endpoint=True)
    dhash = rng.integers(0, top, 400, dtype=np.uint64, endpoint=True)
    copies = rng.choice(400, 120, replace=False)
    flips = np.uint64(1) << rng.integers(0, 64, (60, 2), dtype=np.uint64)
    phash[copies[60:]] = phash[copies[:60]] ^ flips[:, 0]
    dhash[copies[60:]] = dhash[copies[:60]] ^ flips[:, 1]
    items = [
        (f"i{n}", hexes(int(p)), hexes(int(d)))
        for n, (p, d) in enumerate(zip(phash, dhash, strict=True))
    ]
    whole = near_pairs(items)
    assert len(whole) >= 60
    # one cell, 7 of a row, one row, 7 rows, 64 rows a tile
    for chunk_bytes in (1, 10 * 7, 10 * 400, 10 * 400 * 7, 10 * 400 * 64):
        assert near_pairs(items, chunk_bytes=chunk_bytes) == whole


def test_similar_to_lists_the_nearest_first():
    items = [
        ("far", hexes((1 << (MAX_PHASH + 1)) - 1), hexes(0)),
        ("near", hexes(0b1), hexes(0)),
        ("same", hexes(0), hexes(0)),
        ("other", hexes(0xFFFF_FFFF_0000_0000), hexes(0)),
    ]
    found = similar_to(ImageHashes(hexes(0), hexes(0)), items)
    assert found == [("same", 0), ("near", 1)]
    assert similar_to(ImageHashes(hexes(0), hexes(0)), []) == []


@pytest.mark.parametrize("bad", ["xyz", "0123456789abcdeg", "0123456789abcdef0"])
def test_a_hash_that_is_not_16_hex_digits_is_refused_naming_the_image(bad):
    items = [("fine", hexes(0), hexes(0)), ("post 7", bad, hexes(0))]
    with pytest.raises(ValueError, match="image post 7: hash"):
        near_pairs(items)


def test_a_picture_without_detail_is_blank_and_one_with_detail_is_not(tmp_path):
    from PIL import Image

    from tgscope.media.images import image_hashes, is_blank

    flat, black = tmp_path / "flat.png", tmp_path / "black.png"
    Image.new("RGB", (64, 48), (90, 140, 200)).save(flat)
    Image.new("RGB", (64, 48), (0, 0, 0)).save(black)
    for path in (flat, black):
        found = image_hashes(path)
        assert found is not None and is_blank(found.phash, found.dhash)
    busy = tmp_path / "busy.png"
    image = Image.new("RGB", (64, 48), (0, 0, 0))
    for x in range(0, 64, 8):
        image.paste((255, 255, 255), (x, 0, x + 4, 48))
    image.save(busy)
    found = image_hashes(busy)
    assert found is not None and not is_blank(found.phash, found.dhash)
