"""Generated pictures with planted near-copies, for the image-similarity benchmark and tests.

    python bench/gen_images.py OUT_DIR [--images 2000] [--seed 1]

Writes ``OUT_DIR/*.jpg`` and ``OUT_DIR/truth.json``.  Originals come in several families,
each drawn with Pillow and NumPy from one seeded RNG (the same seed gives the same files):

* ``photo``: smooth colour fields (low-frequency noise upsampled, several octaves, grain),
  sometimes with soft blobs, like out-of-focus photographs;
* ``shapes``: gradients under many shapes (ellipses, polygons, lines, rectangles);
* ``texture``: noise textures at a random scale, with shapes or text over them;
* ``poster``: text lines of several sizes on a gradient or a field, like screenshots and quotes;
* ``card``: templated cards, as channels post them: one template (background, frame, logo
  band, headline position) shared by 2–4 *different* pictures, each with its own central
  picture and headline.  Cards of one template are the hard negatives: alike in layout,
  not the same picture.

A share of the originals get planted variants, each a kind from :data:`KINDS`: ``resize``
(50–150 %), ``jpeg`` (quality 30–90), ``crop`` (5 % of the area cut from the edges),
``watermark`` (a semi-transparent text in a corner or across), and ``combo`` (two or three
of these together).  ``truth.json`` lists every file with its ``group`` (files with the same
group are the same picture), its ``kind`` (``original`` or a variant kind) and its
``template`` (cards only, else null).
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

KINDS = ("resize", "jpeg", "crop", "watermark", "combo")
FAMILIES = ("photo", "shapes", "texture", "poster", "card")
VARIANT_SHARE = 0.45  # originals that get variants
ORIGINAL_QUALITY = 90  # originals, and variants of kinds other than jpeg, are saved at this
WORDS = (
    "срочно новости заявление министр встреча саммит санкции цены рынок рост падение "
    "breaking news statement minister summit sanctions prices market growth weather "
    "video photo update official report today tonight exclusive analysis war peace"
).split()
SIZES = ((1280, 960), (1280, 720), (1024, 1024), (960, 1280), (800, 600), (1280, 853), (720, 1280))


@dataclass
class Entry:
    """One file written: its name, the picture it shows (group) and how it was made."""

    file: str
    group: int
    kind: str
    family: str
    template: int | None = None


@functools.cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans (it has Cyrillic) at ``size`` pixels, else Pillow's bundled font."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def colour(rng: random.Random, lo: int = 0, hi: int = 255) -> tuple[int, int, int]:
    return (rng.randint(lo, hi), rng.randint(lo, hi), rng.randint(lo, hi))


def phrase(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def smooth_field(rng: random.Random, size: tuple[int, int], octaves: int = 3) -> Image.Image:
    """A photo-like colour field: random low-resolution noise upsampled, a few octaves."""
    w, h = size
    nrng = np.random.default_rng(rng.getrandbits(32))
    total = np.zeros((h, w, 3), dtype=np.float32)
    weight = 1.0
    for octave in range(octaves):
        cells = 2 + rng.randint(1, 4) * (2**octave)
        small = nrng.uniform(0, 255, (max(2, cells * h // w), cells, 3)).astype(np.uint8)
        layer = Image.fromarray(small, "RGB").resize(size, Image.Resampling.BICUBIC)
        total += weight * np.asarray(layer, dtype=np.float32)
        weight *= 0.5
    total /= sum(0.5**o for o in range(octaves))
    total += nrng.normal(0, rng.uniform(1, 6), total.shape)
    return Image.fromarray(np.clip(total, 0, 255).astype(np.uint8), "RGB")


def gradient(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """A linear gradient between two colours at a random angle."""
    w, h = size
    a, b = np.array(colour(rng)), np.array(colour(rng))
    angle = rng.uniform(0, np.pi)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    t = xs / w * np.cos(angle) + ys / h * np.sin(angle)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    pixels = a[None, None, :] * (1 - t[..., None]) + b[None, None, :] * t[..., None]
    return Image.fromarray(pixels.astype(np.uint8), "RGB")


def texture(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Noise at a random scale (blocky, smooth or fine), tinted."""
    w, h = size
    nrng = np.random.default_rng(rng.getrandbits(32))
    cell = rng.choice((4, 8, 16, 32))
    small = nrng.uniform(0, 255, (max(2, h // cell), max(2, w // cell), 3)).astype(np.uint8)
    method = rng.choice((Image.Resampling.NEAREST, Image.Resampling.BILINEAR))
    image = Image.fromarray(small, "RGB").resize(size, method)
    tint = Image.new("RGB", size, colour(rng))
    return Image.blend(image, tint, rng.uniform(0.2, 0.6))


def draw_shapes(rng: random.Random, image: Image.Image, count: int, box=None) -> None:
    """``count`` random shapes inside ``box`` (the whole image by default)."""
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = box or (0, 0, *image.size)
    for _ in range(count):
        xa, xb = sorted(rng.randint(x0, x1) for _ in range(2))
        ya, yb = sorted(rng.randint(y0, y1) for _ in range(2))
        fill, shape = colour(rng), rng.randrange(4)
        if shape == 0:
            draw.ellipse((xa, ya, xb, yb), fill=fill)
        elif shape == 1:
            draw.rectangle((xa, ya, xb, yb), fill=fill, outline=colour(rng))
        elif shape == 2:
            points = [(rng.randint(x0, x1), rng.randint(y0, y1)) for _ in range(rng.randint(3, 6))]
            draw.polygon(points, fill=fill)
        else:
            draw.line((xa, ya, xb, yb), fill=fill, width=rng.randint(2, 14))


def draw_text(rng: random.Random, image: Image.Image, lines: int, box=None) -> None:
    """``lines`` lines of random words in random sizes inside ``box``."""
    draw = ImageDraw.Draw(image)
    x0, y0, _x1, y1 = box or (0, 0, *image.size)
    y = y0 + rng.randint(5, 40)
    for _ in range(lines):
        size = rng.randint(18, 64)
        if y + size > y1:
            break
        ink = colour(rng, 0, 80) if rng.random() < 0.5 else colour(rng, 175, 255)
        draw.text(
            (x0 + rng.randint(5, 60), y), phrase(rng, rng.randint(2, 6)), font=font(size), fill=ink
        )
        y += int(size * rng.uniform(1.1, 1.8))


def background(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    pick = rng.randrange(3)
    if pick == 0:
        return gradient(rng, size)
    if pick == 1:
        return smooth_field(rng, size)
    return texture(rng, size)


def original(rng: random.Random, family: str) -> Image.Image:
    """A fresh picture of ``family`` (cards are made by :class:`Template`)."""
    size = rng.choice(SIZES)
    if family == "photo":
        image = smooth_field(rng, size, octaves=rng.randint(2, 4))
        if rng.random() < 0.5:
            blobs = Image.new("RGB", size)
            draw_shapes(rng, blobs, rng.randint(3, 10))
            mask = Image.new("RGB", size)
            draw_shapes(rng, mask, rng.randint(3, 10))
            mask = mask.convert("L").filter(ImageFilter.GaussianBlur(rng.uniform(10, 40)))
            image = Image.composite(blobs.filter(ImageFilter.GaussianBlur(8)), image, mask)
        return image
    if family == "shapes":
        image = gradient(rng, size)
        draw_shapes(rng, image, rng.randint(5, 40))
        return image
    if family == "texture":
        image = texture(rng, size)
        if rng.random() < 0.5:
            draw_shapes(rng, image, rng.randint(2, 8))
        else:
            draw_text(rng, image, rng.randint(2, 6))
        return image
    image = background(rng, size)
    draw_text(rng, image, rng.randint(4, 16))
    return image


class Template:
    """A card layout shared by several different pictures: background, frame, logo band."""

    def __init__(self, rng: random.Random, number: int):
        self.number = number
        self.size = rng.choice(SIZES[:3])
        self.back = background(rng, self.size)
        w, h = self.size
        draw = ImageDraw.Draw(self.back)
        margin = rng.randint(20, 60)
        band = rng.randint(60, 140)
        draw.rectangle((0, h - band, w, h), fill=colour(rng))
        draw.text((margin, h - band + 10), phrase(rng, 2).upper(), font=font(40), fill=colour(rng))
        self.frame = (margin, margin, w - margin, h - band - margin)
        # the picture fills 40–70 % of the frame's height; the headline sits under it
        self.split = rng.uniform(0.4, 0.7)

    def card(self, rng: random.Random) -> Image.Image:
        image = self.back.copy()
        x0, y0, x1, y1 = self.frame
        cut = y0 + int((y1 - y0) * self.split)
        inner = (x1 - x0, cut - y0)
        picture = smooth_field(rng, inner) if rng.random() < 0.5 else gradient(rng, inner)
        draw_shapes(rng, picture, rng.randint(3, 15))
        image.paste(picture, (x0, y0))
        draw_text(rng, image, rng.randint(2, 4), box=(x0, cut, x1, y1))
        return image


def resized(rng: random.Random, image: Image.Image) -> Image.Image:
    scale = rng.uniform(0.5, 1.5)
    w, h = image.size
    return image.resize(
        (max(8, round(w * scale)), max(8, round(h * scale))), Image.Resampling.LANCZOS
    )


def cropped(rng: random.Random, image: Image.Image) -> Image.Image:
    """5 % of the area cut away: from one edge, two edges, or all four evenly."""
    w, h = image.size
    keep = 0.95
    how = rng.randrange(3)
    if how == 0:  # one side
        side = rng.randrange(4)
        if side < 2:
            cut = round(w * (1 - keep))
            return image.crop((cut, 0, w, h) if side == 0 else (0, 0, w - cut, h))
        cut = round(h * (1 - keep))
        return image.crop((0, cut, w, h) if side == 2 else (0, 0, w, h - cut))
    if how == 1:  # a corner
        f = keep**0.5
        cw, ch = round(w * (1 - f)), round(h * (1 - f))
        return image.crop((cw, ch, w, h) if rng.random() < 0.5 else (0, 0, w - cw, h - ch))
    f = keep**0.5
    cw, ch = round(w * (1 - f) / 2), round(h * (1 - f) / 2)
    return image.crop((cw, ch, w - cw, h - ch))


def watermarked(rng: random.Random, image: Image.Image) -> Image.Image:
    """A channel's name in a corner (most often) or across the middle, semi-transparent."""
    w, h = image.size
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    text = "@" + rng.choice(WORDS) + "_" + rng.choice(WORDS)
    alpha = rng.randint(110, 220)
    ink = (255, 255, 255, alpha) if rng.random() < 0.6 else (0, 0, 0, alpha)
    if rng.random() < 0.75:
        size = max(12, int(min(w, h) * rng.uniform(0.03, 0.06)))
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font(size))
        x = 10 if rng.random() < 0.5 else w - (right - left) - 10
        y = 10 if rng.random() < 0.5 else h - (bottom - top) - 14
        draw.text((x, y), text, font=font(size), fill=ink)
    else:
        size = max(14, int(min(w, h) * rng.uniform(0.06, 0.1)))
        draw.text((w // 8, h // 2 - size // 2), text, font=font(size), fill=ink)
    return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")


def variant(rng: random.Random, image: Image.Image, kind: str) -> tuple[Image.Image, int]:
    """A near-copy of ``image`` of ``kind``, and the JPEG quality to save it at."""
    if kind == "resize":
        return resized(rng, image), ORIGINAL_QUALITY
    if kind == "jpeg":
        return image, rng.randint(30, 90)
    if kind == "crop":
        return cropped(rng, image), ORIGINAL_QUALITY
    if kind == "watermark":
        return watermarked(rng, image), ORIGINAL_QUALITY
    steps = rng.sample((resized, cropped, watermarked), rng.randint(1, 3))
    for step in steps:
        image = step(rng, image)
    return image, rng.randint(30, 90)


def jpeg_bytes(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def generate(out: Path, images: int = 2000, seed: int = 1) -> list[Entry]:
    """Write ``images`` files (originals and their variants) and ``truth.json`` into ``out``."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    entries: list[Entry] = []
    templates: list[Template] = []
    pending: list[tuple[int, Image.Image, str]] = []  # a card template's unused siblings
    group = 0
    while len(entries) < images:
        family = rng.choice(FAMILIES)
        template = None
        if family == "card":
            if not pending:
                made = Template(rng, len(templates))
                templates.append(made)
                pending = [(made.number, made.card(rng), "card") for _ in range(rng.randint(2, 4))]
            template, image, _ = pending.pop()
        else:
            image = original(rng, family)
        facts = {"group": group, "family": family, "template": template}
        entries.append(save(out, len(entries), image, ORIGINAL_QUALITY, kind="original", **facts))
        if rng.random() < VARIANT_SHARE:
            for _ in range(rng.randint(1, 3)):
                if len(entries) >= images:
                    break
                kind = rng.choice(KINDS)
                copy, quality = variant(rng, image, kind)
                entries.append(save(out, len(entries), copy, quality, kind=kind, **facts))
        group += 1
    (out / "truth.json").write_text(
        json.dumps([vars(e) for e in entries], indent=1), encoding="utf-8"
    )
    return entries


def save(out: Path, number: int, image: Image.Image, quality: int, **facts) -> Entry:
    """Write file ``number`` into ``out`` as a JPEG; its entry in the truth."""
    name = f"{number:05d}.jpg"
    (out / name).write_bytes(jpeg_bytes(image, quality))
    return Entry(name, **facts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    entries = generate(args.out, args.images, args.seed)
    groups = len({e.group for e in entries})
    print(f"{len(entries)} images, {groups} pictures, written to {args.out}")


if __name__ == "__main__":
    main()
