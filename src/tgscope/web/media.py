"""The media kept beside the archive, in the web app.

``/media/<sha256>`` serves a stored file with the MIME type found in its bytes when it was
stored (never from a name), as a download unless it is a picture, a video or a sound a
browser only ever shows as such (an HTML page or an SVG image kept as a document must never
run in the app's origin).  ``/images/<sha256>`` is an image's page: every post that carried
it and the pictures like it, with their channels and first appearance.
``/channels/<channel>/images`` is a channel's gallery.  The post cards show what
:func:`media_of` gives them: the stored files, or why there is none (never a link to
Telegram's servers: ``img-src 'self'``).

The app only reads: the perceptual hashes are those ``tgscope media fetch`` (or ``images``)
computed; an image not hashed yet is hashed here, in memory, to find its look-alikes.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlencode

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response

from ..errors import OptionError
from ..media import images
from ..media.files import MediaStore
from ..media.kept import Carrier, ImageGroup
from ..store.dbapi import dialect_of
from ..store.media import FileRow, MediaTables, Medium
from .data import Reader, WebArchive
from .params import Page, int_param, not_found

GALLERY_SIZE = 60
MAX_OFFSET = 1_000_000
SIMILAR_SHOWN = 12  # look-alikes an image's page lists
CACHING = "public, max-age=31536000, immutable"  # a file's name is its hash: it never changes
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: what the post cards say of a medium that was not stored, by fetch status
STATUS_LABELS = {
    "stored": "stored",
    "expired": "expired link",
    "missing": "gone from its link",
    "too_large": "too large to keep",
    "refused": "not the file expected",
    "failed": "fetch failed",
    "file_missing": "its file is gone from the archive",
}
NOT_FETCHED = "not fetched"


# -- the files ---------------------------------------------------------------------------


def file_response(archive: WebArchive, sha256: str, headers: Headers) -> Response:
    """The stored file named by ``sha256``; a 404 unless the archive keeps it."""
    if not _SHA256.fullmatch(sha256):
        raise not_found(f"no stored file {sha256[:80]!r} (a file is named by its SHA-256)")
    with archive.read() as reader:
        row = MediaTables(reader.db).file(sha256)
    path = archive.media_files().path_of(sha256)
    if row is None or not path.is_file():
        raise not_found(f"no stored file {sha256} in this archive")
    etag = f'"{sha256}"'
    kept = {"etag": etag, "cache-control": CACHING}
    if _matches(headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=kept)
    mime = row.mime or "application/octet-stream"
    disposition = "inline" if shown_inline(mime) else "attachment"
    name = sha256 + (mimetypes.guess_extension(mime) or "")
    kept["content-disposition"] = f'{disposition}; filename="{name}"'
    return FileResponse(path, media_type=mime, headers=kept)


def shown_inline(mime: str) -> bool:
    """Whether a browser may show the file in the page: pictures, videos and sounds, but
    not SVG (an SVG image is a document that can run scripts)."""
    kind = mime.split(";", 1)[0].strip().lower()
    return (
        kind.startswith(("image/", "video/", "audio/")) and "svg" not in kind and "xml" not in kind
    )


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


# -- what the post cards show ------------------------------------------------------------


def media_of(reader: Reader, keys: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The fetched media of these posts (one query), as records, by post key; a stored file
    that has gone from the media folder is said to be gone, never served as if it were there."""
    found = MediaTables(reader.db).of_posts(keys)
    store = _store_of(reader)
    return {
        key: [medium_record(_as_found(medium, store)) for medium in media]
        for key, media in found.items()
    }


def _store_of(reader: Reader) -> MediaStore | None:
    """The media folder of the archive ``reader`` reads: beside its file, or for an archive in
    PostgreSQL the one ``$TGSCOPE_MEDIA`` names (None: none is set)."""
    if dialect_of(reader.db).name != "sqlite":
        try:
            return MediaStore.of_archive(None, "")
        except OptionError:  # none set: every stored file is shown as gone
            return None
    (_, _, path) = reader.db.execute("PRAGMA database_list").fetchone()
    return MediaStore.beside(path)


def _as_found(medium: Medium, store: MediaStore | None) -> Medium:
    if (
        medium.status == "stored"
        and medium.sha256
        and (store is None or not store.has(medium.sha256))
    ):
        return replace(medium, status="file_missing")
    return medium


def medium_record(medium: Medium) -> dict[str, Any]:
    """One medium as a page and its twin show it: ``path`` (``/media/<sha256>``) when stored,
    ``image`` (its page) when it is a picture, and ``label``, its status in words."""
    stored = medium.status == "stored" and medium.sha256 is not None
    picture = stored and (medium.mime or "").startswith("image/")
    return {
        "position": medium.position,
        "part": medium.part,
        "type": medium.type,
        "status": medium.status,
        "label": STATUS_LABELS.get(medium.status, medium.status),
        "sha256": medium.sha256 if stored else None,
        "path": f"/media/{medium.sha256}" if stored else None,
        "image": f"/images/{medium.sha256}" if picture else None,
        "mime": medium.mime,
        "width": medium.width,
        "height": medium.height,
        "size": medium.size,
        "reason": medium.reason,
        "http_status": medium.http_status,
        "attempts": medium.attempts,
        "fetched_at": medium.fetched_at,
        "url": medium.url,  # where it was fetched from (the page never links to it)
    }


# -- a channel's gallery -------------------------------------------------------------------


def gallery_page(archive: WebArchive, name: str, params: Mapping[str, str]) -> Page:
    from .channels import _header  # channels imports this module for its post cards

    limit = int_param(params, "limit", GALLERY_SIZE, 1, 500) or GALLERY_SIZE
    offset = int_param(params, "offset", 0, 0, MAX_OFFSET) or 0
    with archive.read() as reader:
        header = _header(archive, reader, name)
        username = header["username"]
        found = MediaTables(reader.db).gallery(username, limit=limit + 1, offset=offset)
    extra = {"limit": limit} if limit != GALLERY_SIZE else {}
    path = f"/channels/{quote(username, safe='')}/images"
    following = offset + limit
    data = {
        "channel": {"username": username, "title": header["title"]},
        "offset": offset,
        "images": [{"post": medium.post, **medium_record(medium)} for medium in found[:limit]],
        "next": f"{path}?{urlencode({**extra, 'offset': following})}"
        if len(found) > limit and following <= MAX_OFFSET
        else None,
    }
    return Page("media_gallery.html", data, title=f"Images of {header['title'] or username}")


# -- an image's page -----------------------------------------------------------------------


def image_page(archive: WebArchive, sha256: str, params: Mapping[str, str]) -> Page:
    limit = int_param(params, "limit", SIMILAR_SHOWN, 1, 100) or SIMILAR_SHOWN
    if not _SHA256.fullmatch(sha256):
        raise not_found(f"no stored image {sha256[:80]!r} (an image is named by its SHA-256)")
    with archive.read() as reader:
        tables = MediaTables(reader.db)
        row = tables.file(sha256)
        if row is None or not (row.mime or "").startswith("image/"):
            raise not_found(f"no stored image {sha256} in this archive")
        group = ImageGroup([sha256], [Carrier(*found) for found in tables.carriers([sha256])])
        similar, hashed = _similar(archive, tables, sha256, limit)
        behind = bool(tables.unhashed(1))
        posts = [c.post for c in group.carriers] + [c.post for g in similar for c in g.carriers]
        excerpts = reader.views.excerpts(set(posts))
        others = tables.file_rows([found.files[0] for found in similar]) if similar else {}
    everywhere = ImageGroup(group.files, group.carriers + [c for g in similar for c in g.carriers])
    data = {
        "image": _file_record(row),
        **_carried(group, excerpts),
        "similar": [
            {**_file_record(others.get(g.files[0]), g.files[0]), "distance": g.distance}
            | _carried(g, excerpts)
            for g in similar
        ],
        "hashed": hashed,  # False: no perceptual hash could be made (an unreadable picture)
        "hashes_behind": behind,  # stored files not hashed yet: look-alikes may be missing
        "travel": {  # the picture and its look-alikes together: where it travelled
            "channels": everywhere.channels,
            "first": _carrier_record(everywhere.first, excerpts) if everywhere.first else None,
            "posts": len(everywhere.carriers),
        },
    }
    return Page("image.html", data, title=f"Image {sha256[:12]}")


def _similar(
    archive: WebArchive, tables: MediaTables, sha256: str, limit: int
) -> tuple[list[ImageGroup], bool]:
    """The stored images judged the same picture, nearest first, each with its carriers."""
    hashes = tables.image_hashes()
    mine = next((images.ImageHashes(p, d) for s, p, d in hashes if s == sha256), None)
    if mine is None:  # not hashed yet (the app writes nothing): hashed here, in memory
        mine = images.image_hashes(archive.media_files().path_of(sha256))
    if mine is None:
        return [], False
    found = images.similar_to(mine, [row for row in hashes if row[0] != sha256])[:limit]
    carriers: dict[str, list[Carrier]] = {}
    for row in tables.carriers([sha for sha, _ in found]):
        carriers.setdefault(row[5], []).append(Carrier(*row))
    return [ImageGroup([sha], carriers.get(sha, []), distance) for sha, distance in found], True


def _file_record(row: FileRow | None, sha256: str = "") -> dict[str, Any]:
    sha = row.sha256 if row is not None else sha256
    facts = {"size": None, "mime": None, "width": None, "height": None, "duration": None}
    if row is not None:
        facts = {name: getattr(row, name) for name in facts}
    return {"sha256": sha, "path": f"/media/{sha}", "page": f"/images/{sha}", **facts}


def _carried(group: ImageGroup, excerpts: Mapping[str, str]) -> dict[str, Any]:
    """The channels that carried a file, the first post that did, and every post."""
    first = group.first
    return {
        "channels": group.channels,
        "first": _carrier_record(first, excerpts) if first else None,
        "posts": [_carrier_record(carrier, excerpts) for carrier in group.carriers],
    }


def _carrier_record(carrier: Carrier, excerpts: Mapping[str, str]) -> dict[str, Any]:
    avatar = carrier.post.startswith("@")  # a channel's picture
    link = (
        f"/channels/{quote(carrier.post[1:], safe='')}"
        if avatar
        else (f"/posts/{quote(carrier.post, safe='/')}")
    )
    return {
        "post": carrier.post,
        "channel": carrier.post[1:] if avatar else carrier.channel,
        "date": carrier.date,
        "part": carrier.part,
        "position": carrier.position,
        "sha256": carrier.sha256,
        "link": link,
        "excerpt": excerpts.get(carrier.post),
        "source": carrier.url,  # where the file was fetched from, and when
        "fetched_at": carrier.fetched_at,
    }
