"""The ``tgscope`` command: each command is a few lines over :class:`tgscope.archive.Archive`.

One module per family of commands; importing this package registers them all on :data:`cli`.
"""

from __future__ import annotations

from . import (  # noqa: F401  (registers the commands)
    analyzing,
    collecting,
    copying,
    events,
    importing,
    media,
    reading,
    serving,
    working,
)
from .base import cli, main

__all__ = ["cli", "main"]

if __name__ == "__main__":
    main()
