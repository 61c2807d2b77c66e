"""``tgscope serve``: the archive in a browser (read-only), each page with a JSON twin."""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
