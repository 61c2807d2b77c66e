"""The errors tgscope raises, as one small tree.

Every error a user can cause (a bad file, a bad query, a locked archive) is a
:class:`TgscopeError` whose message is one line naming the file, line or URL.
The CLI prints that line and exits non-zero; it never shows a traceback for them.

    TgscopeError
    ├── SourceError
    │   ├── ParseError          (bad or truncated input; carries path and line)
    │   ├── UnknownFormat       (no source recognises the input)
    │   ├── FetchError          (an HTTP fetch that failed after its retries)
    │   │   └── TooLarge        (an answer larger than the size cap)
    │   └── ChannelUnavailable  (no such channel, or no public preview)
    ├── StoreError              (locked, corrupt or unwritable archive)
    │   └── RecordRejected      (a record the archive's constraints refuse: the input's fault)
    ├── QueryError              (a search query or date filter that cannot be used)
    └── OptionError             (an option value that cannot be right, e.g. --channel)
"""

from __future__ import annotations


class TgscopeError(Exception):
    """Base of every error tgscope reports to its users."""


class SourceError(TgscopeError):
    """Reading an input (file, page, API) failed."""


class ParseError(SourceError):
    """Input that a source recognised but could not parse."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path, self.line, self.reason = path, line, message
        where = path or "<input>"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {message}")


class UnknownFormat(SourceError):
    """No source recognises the input."""


class FetchError(SourceError):
    """A fetch over the network failed after its retries."""


class TooLarge(FetchError):
    """An answer larger than the cap: said by its ``Content-Length`` (``size``) before any of
    it was read, or found while reading it (``size`` None)."""

    def __init__(self, message: str, *, size: int | None = None):
        self.size = size
        super().__init__(message)


class ChannelUnavailable(SourceError):
    """A channel does not exist or has no public preview."""


class StoreError(TgscopeError):
    """The archive cannot be opened, read or written."""


class RecordRejected(StoreError):
    """The archive refused a record (it breaks a constraint, e.g. two posts with one id):
    the input's fault, so an import fails that file only."""


class QueryError(TgscopeError):
    """A search query that cannot be run."""


class OptionError(TgscopeError):
    """An option value that cannot be right (a malformed channel name, say)."""
