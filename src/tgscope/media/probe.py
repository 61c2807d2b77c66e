"""What a stored file is, from its own bytes: a server's Content-Type may be wrong, and an
expired link may answer 200 with an HTML page where a photo was expected."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import filetype
from PIL import Image, UnidentifiedImageError

from ..store.media import FileRow

if TYPE_CHECKING:
    from ..store.media import Wanted
    from .files import Stored

#: the media types whose file must be a picture (a video's poster, a preview's image, an
#: avatar are fetched as "photo")
IMAGE_TYPES = frozenset({"photo"})
#: the types whose file must be audio or video of some kind
PLAYED_TYPES = frozenset({"video", "gif", "round_video", "voice", "audio"})


@dataclass(frozen=True, slots=True)
class Facts:
    mime: str | None
    width: int | None = None
    height: int | None = None


def describe(path: str | os.PathLike) -> Facts:
    """The MIME type (from the first bytes) and, for an image, its size in pixels."""
    kind = filetype.guess(os.fspath(path))
    mime = kind.mime if kind is not None else _text_or_none(path)
    if mime is None or not mime.startswith("image/"):
        return Facts(mime)
    width, height = _image_size(path)
    return Facts(mime, width, height)


def describe_start(head: bytes) -> Facts:
    """The MIME type from a file's first bytes (8 kB are plenty); no size in pixels."""
    kind = filetype.guess(head)
    if kind is not None:
        return Facts(kind.mime)
    return Facts(_html_or_none(head))


def refusal(media_type: str, facts: Facts) -> str | None:
    """Why a file cannot be the medium the post says it carries, or None when it can."""
    mime = facts.mime or "unknown"
    if mime == "text/html":
        return "an HTML page, not the file (an expired or blocked link)"
    if media_type in IMAGE_TYPES and not mime.startswith("image/"):
        return f"not an image ({mime})"
    if media_type in PLAYED_TYPES and not mime.startswith(("video/", "audio/", "image/gif")):
        return f"not audio or video ({mime})"
    return None


def _image_size(path: str | os.PathLike) -> tuple[int | None, int | None]:
    """Width and height from the image's header (the pixels are not decoded)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None, None


def _text_or_none(path: str | os.PathLike) -> str | None:
    """``text/html`` for what looks like a web page, None for other unknown bytes."""
    with open(path, "rb") as handle:
        return _html_or_none(handle.read(512))


def _html_or_none(head: bytes) -> str | None:
    start = head[:512].lstrip().lower()
    if start.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--")):
        return "text/html"
    return None


def file_row(stored: Stored, facts: Facts, wanted: Wanted) -> FileRow:
    """The ``media_files`` row of a file just stored: what its bytes say, else what the post
    said (a video's duration is the post's alone)."""
    return FileRow(
        stored.sha256,
        stored.size,
        facts.mime,
        facts.width if facts.width is not None else wanted.width,
        facts.height if facts.height is not None else wanted.height,
        wanted.duration if wanted.part == "file" else None,
    )
