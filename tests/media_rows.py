"""What the media tests read back: the media tables' rows, a file's hash, a plain JPEG."""

from __future__ import annotations

import hashlib
import io

from PIL import Image

from tgscope.archive import Archive

FETCH_COLUMNS = (
    "post, position, part, type, url, status, sha256, http_status, size, reason, attempts"
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def jpeg(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    """A one-colour JPEG (hashes alike with any other: for storage, not for look-alikes)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=90)
    return out.getvalue()


def fetches(archive: Archive) -> list[tuple]:
    """Every ``media_fetches`` row (:data:`FETCH_COLUMNS`), by post, position and part."""
    db = archive.store.media.db  # type: ignore[attr-defined]
    query = f"SELECT {FETCH_COLUMNS} FROM media_fetches ORDER BY post, position, part"
    return db.execute(query).fetchall()


def files(archive: Archive) -> list[tuple]:
    """Every ``media_files`` row: sha256, size, mime, width, height, duration."""
    db = archive.store.media.db  # type: ignore[attr-defined]
    query = "SELECT sha256, size, mime, width, height, duration FROM media_files ORDER BY 1"
    return db.execute(query).fetchall()
