"""tgscope: collect, archive, clean, search and analyze public Telegram channels.

The public API is importable from here; each name is loaded on first use so that the
``tgscope`` command starts fast::

    from tgscope import Archive

    with Archive.open("tgscope.db") as archive:
        print(archive.stats().posts)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "Archive": "archive",
    "FileReport": "archive",
    "ImportReport": "archive",
    "SearchResult": "archive",
    "SearchResults": "archive",
    "Event": "events.model",
    "EventFilter": "store.events",
    "extract_events": "events.extract",
    "Channel": "record",
    "Post": "record",
    "PostFilter": "store",
    "Observation": "store",
    "Stats": "store",
    "parse_textdump": "sources.textdump",
    "TgscopeError": "errors",
    "SourceError": "errors",
    "ParseError": "errors",
    "UnknownFormat": "errors",
    "FetchError": "errors",
    "ChannelUnavailable": "errors",
    "StoreError": "errors",
    "QueryError": "errors",
    "OptionError": "errors",
    "RecordRejected": "errors",
}

__all__ = [
    "Archive",
    "Channel",
    "ChannelUnavailable",
    "Event",
    "EventFilter",
    "FetchError",
    "FileReport",
    "ImportReport",
    "Observation",
    "OptionError",
    "ParseError",
    "Post",
    "PostFilter",
    "QueryError",
    "RecordRejected",
    "SearchResult",
    "SearchResults",
    "SourceError",
    "Stats",
    "StoreError",
    "TgscopeError",
    "UnknownFormat",
    "__version__",
    "extract_events",
    "parse_textdump",
]

if TYPE_CHECKING:
    from .archive import Archive, FileReport, ImportReport, SearchResult, SearchResults
    from .errors import (
        ChannelUnavailable,
        FetchError,
        OptionError,
        ParseError,
        QueryError,
        RecordRejected,
        SourceError,
        StoreError,
        TgscopeError,
        UnknownFormat,
    )
    from .events.extract import extract_events
    from .events.model import Event
    from .record import Channel, Post
    from .sources.textdump import parse_textdump
    from .store import Observation, PostFilter, Stats
    from .store.events import EventFilter


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tgscope' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
