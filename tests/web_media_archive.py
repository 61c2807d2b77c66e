"""A small archive with media kept beside it, for the web app's media tests.

Two channels.  ``news/1`` carries picture A, which ``other/1`` reposted byte for byte and
``other/2`` as a smaller, recompressed copy (A2); ``other/3`` carries a cropped copy (A3)
stored after the perceptual hashes were made (the app hashes it in memory).  ``news/2`` is a
video with its poster and file stored, ``news/3`` a photo whose link had expired, ``news/4``
a photo never fetched, ``news/5`` a link preview with its image, ``news/6`` and ``news/7``
documents that are an SVG image and an HTML page, ``news/8`` an unrelated picture (B) with a
hostile caption and a hostile reason for its second medium's failure.  The media URLs are on
``cdn4.telesco.pe``: a page must never name that host.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from tgscope.archive import Archive
from tgscope.media.files import MediaStore
from tgscope.media.probe import describe
from tgscope.record import Channel
from tgscope.store.media import Fetched, FileRow, Wanted

from .helpers import post, source

CDN = "https://cdn4.telesco.pe/file"
FETCHED_AT = "2026-11-29T08:00:00+00:00"
HOSTILE = '"><script>window.__xss=1</script><img src=x onerror=alert(1)>'
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 40


def picture(size: int = 320, *, seed: int = 0) -> Image.Image:
    """A picture with structure at every scale (a perceptual hash has something to see);
    another seed, another picture."""
    chance = random.Random(seed)
    image = Image.new("RGB", (size, size * 3 // 4), tuple(chance.randrange(256) for _ in "rgb"))
    draw = ImageDraw.Draw(image)
    width, height = image.size
    for _ in range(12):
        x, y = chance.randrange(width), chance.randrange(height)
        w, h = chance.randrange(20, width // 2), chance.randrange(20, height // 2)
        shape = draw.ellipse if chance.random() < 0.5 else draw.rectangle
        shape([x, y, x + w, y + h], fill=tuple(chance.randrange(256) for _ in "rgb"))
    return image


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


PICTURE_A = jpeg(picture())
PICTURE_A2 = jpeg(picture().resize((200, 150)), quality=40)  # smaller, recompressed
PICTURE_A3 = jpeg(picture().crop((8, 6, 312, 234)), quality=70)  # lightly cropped
PICTURE_B = png(picture(seed=3).transpose(Image.Transpose.ROTATE_90))  # another picture
POSTER = jpeg(picture(seed=1).resize((160, 90)))
PREVIEW = png(picture(seed=2).resize((120, 60)))


@dataclass
class Built:
    path: Path
    sha: dict[str, str]  # A, A2, A3, B, poster, video, preview, svg, html


def photo(name: str) -> dict:
    return {"type": "photo", "url": f"{CDN}/{name}.jpg"}


POSTS = [
    post("news/1", "A picture", channel="news", date="2023-01-01T10:00:00+00:00",
         media=[photo("a")]),
    post("news/2", "A video", channel="news", date="2023-01-02T10:00:00+00:00",
         media=[{"type": "video", "url": f"{CDN}/v.mp4", "duration": 12,
                 "thumb": f"{CDN}/poster.jpg"}]),
    post("news/3", "An expired picture", channel="news", date="2023-01-03T10:00:00+00:00",
         media=[photo("gone")]),
    post("news/4", "A picture never fetched", channel="news",
         date="2023-01-04T10:00:00+00:00", media=[photo("later")]),
    post("news/5", "A link https://example.org/", channel="news",
         date="2023-01-05T10:00:00+00:00",
         link_preview={"url": "https://example.org/", "title": "Example",
                       "image": f"{CDN}/preview.png"}),
    post("news/6", "A drawing", channel="news", date="2023-01-06T10:00:00+00:00",
         media=[{"type": "document", "file_name": "drawing.svg", "url": f"{CDN}/d.svg"}]),
    post("news/7", "A page", channel="news", date="2023-01-07T10:00:00+00:00",
         media=[{"type": "document", "file_name": "page.html", "url": f"{CDN}/p.html"}]),
    post("news/8", HOSTILE, channel="news", date="2023-01-08T10:00:00+00:00",
         media=[photo("b"), {"type": "photo", "url": f"{CDN}/bad.jpg"}]),
    post("other/1", "Reposted", channel="other", date="2023-01-02T12:00:00+00:00",
         media=[photo("a-again")]),
    post("other/2", "Reposted smaller", channel="other", date="2023-01-03T12:00:00+00:00",
         media=[photo("a-small")]),
    post("other/3", "Reposted cropped", channel="other", date="2023-01-04T12:00:00+00:00",
         media=[photo("a-cropped")]),
]  # fmt: skip


def build(path: Path) -> Built:
    """The archive at ``path`` with its media folder beside it."""
    with Archive.open(path) as archive:
        archive.ingest(
            [Channel("news", title="News Daily"), Channel("other", title="Other"), *POSTS],
            source(),
        )
        store = MediaStore.beside(path)
        scratch = path.parent / "incoming"
        scratch.mkdir(exist_ok=True)
        sha: dict[str, str] = {}

        def keep(name, key, position, part, kind, url, data, mime=None):
            sha[name] = _keep(
                archive, store, scratch / name, Wanted(key, position, part, kind, url), data, mime
            )

        keep("A", "news/1", 0, "file", "photo", f"{CDN}/a.jpg", PICTURE_A)
        keep("video", "news/2", 0, "file", "video", f"{CDN}/v.mp4", VIDEO, "video/mp4")
        keep("poster", "news/2", 0, "thumb", "video", f"{CDN}/poster.jpg", POSTER)
        keep("preview", "news/5", 0, "link_preview", "photo", f"{CDN}/preview.png", PREVIEW)
        keep("svg", "news/6", 0, "file", "document", f"{CDN}/d.svg", SVG, "image/svg+xml")
        keep("html", "news/7", 0, "file", "document", f"{CDN}/p.html", HTML, "text/html")
        keep("B", "news/8", 0, "file", "photo", f"{CDN}/b.jpg", PICTURE_B)
        keep("A", "other/1", 0, "file", "photo", f"{CDN}/a-again.jpg", PICTURE_A)
        keep("A2", "other/2", 0, "file", "photo", f"{CDN}/a-small.jpg", PICTURE_A2)
        tables = archive.store.media
        with tables.writing():
            tables.record(
                Wanted("news/3", 0, "file", "photo", f"{CDN}/gone.jpg"),
                Fetched("expired", http_status=403, reason="HTTP 403"),
                FETCHED_AT,
            )
            tables.record(
                Wanted("news/8", 1, "file", "photo", f"{CDN}/bad.jpg"),
                Fetched("failed", reason=HOSTILE),
                FETCHED_AT,
            )
        archive.media.update_hashes()
        keep("A3", "other/3", 0, "file", "photo", f"{CDN}/a-cropped.jpg", PICTURE_A3)
    return Built(path, sha)  # fmt: skip


def _keep(
    archive: Archive, store: MediaStore, scratch: Path, wanted: Wanted, data: bytes, mime
) -> str:
    scratch.write_bytes(data)
    stored = store.put_file(scratch)
    facts = describe(stored.path)
    row = FileRow(stored.sha256, stored.size, mime or facts.mime, facts.width, facts.height, None)
    tables = archive.store.media
    with tables.writing():
        tables.add_file(row, FETCHED_AT)
        tables.record(wanted, Fetched("stored", stored.sha256, 200, stored.size), FETCHED_AT)
    return stored.sha256


def media_queries(built: Built, monkeypatch: Any, path: str) -> int:
    """How many statements reading ``media_fetches`` a fresh app runs to answer ``path``."""
    import tgscope.web.data as data

    statements: list[str] = []
    connect = data._connect

    def traced(*args, **kwargs):
        db = connect(*args, **kwargs)
        db.set_trace_callback(statements.append)
        return db

    monkeypatch.setattr(data, "_connect", traced)
    from starlette.testclient import TestClient

    from tgscope.web import create_app

    client = TestClient(create_app(built.path))
    assert client.get(path).status_code == 200
    return len([s for s in statements if "FROM media_fetches" in s])
