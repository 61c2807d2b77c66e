"""tgscope: collect, archive, clean, search and analyze public Telegram channels."""

from .errors import ParseError, QueryError, SourceError, StoreError, TgscopeError, UnknownFormat
from .record import Channel, Post
from .sources.textdump import parse_textdump

__version__ = "0.1.0"

__all__ = [
    "Channel",
    "ParseError",
    "Post",
    "QueryError",
    "SourceError",
    "StoreError",
    "TgscopeError",
    "UnknownFormat",
    "__version__",
    "parse_textdump",
]
