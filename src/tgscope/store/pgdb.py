"""A PostgreSQL connection that the store's helpers can use as they use SQLite's.

The helpers write ``?`` marks, begin and end transactions with plain ``BEGIN``/``COMMIT`` and
expect SQLite's kinds of values back; :class:`PgConnection` wraps a psycopg 3 connection in
autocommit mode so that all of that holds:

- ``?`` becomes ``%s`` outside string literals, and ``%`` becomes ``%%`` (``LIKE '%t.me/%'``);
- parameters are bound on the client (psycopg's ``ClientCursor``), as literals, so that
  ``? IS NULL`` and ``coalesce(?, …)`` need no declared types, as in SQLite;
- ``numeric`` results (``sum``, ``avg``) come back as ``int`` or ``float`` and booleans
  (``EXISTS``, ``x IS NULL``) as 1 or 0, as SQLite gives them; a Python ``bool`` is stored as
  1 or 0 in the ``bigint`` flag columns;
- psycopg's errors become tgscope's: a constraint or a value the database refuses is
  :class:`~tgscope.errors.RecordRejected`, anything else a
  :class:`~tgscope.errors.StoreError` naming the database (never its password).

psycopg is imported only here, and only when a ``postgresql://`` archive is opened.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from ..errors import RecordRejected, StoreError
from .dialect import POSTGRES

URL_SCHEMES = ("postgresql://", "postgres://")
#: how long a session may sit idle inside a transaction before the server ends it: an idle
#: client holding a transaction id holds back every reader's horizon (docs/scale-out.md §2.3)
IDLE_IN_TRANSACTION_TIMEOUT = "10min"


def is_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL database rather than an archive file."""
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


def redacted(url: str) -> str:
    """The URL without its password (``user:secret@`` or ``?password=secret``), for
    messages; it never raises, whatever the URL holds."""
    scheme, _, rest = url.partition("://")
    address, slash, tail = rest.partition("/")
    if "@" in address:
        login, _, host = address.rpartition("@")
        user, colon, _ = login.partition(":")
        address = f"{user}:***@{host}" if colon else f"{login}@{host}"
    tail = _SECRET_PARAMETER.sub(lambda found: found[1] + "***", tail)
    return f"{scheme}://{address}{slash}{tail}"


#: a password given as a parameter of the URL (``?password=…``, ``&sslpassword=…``)
_SECRET_PARAMETER = re.compile(r"((?:^|[?&])(?:ssl)?password=)[^&#]*", re.IGNORECASE)


_CURSORS = itertools.count(1)  # server-side cursors' names: several may be open at once
_MARKS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|(\?)|(%)")


@lru_cache(maxsize=2048)
def to_pyformat(sql: str) -> str:
    """``sql`` with ``?`` marks as psycopg's ``%s`` and every ``%`` doubled (in literals too:
    psycopg reads ``%`` anywhere in a statement that has parameters)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return "%s"
        if match.group(2):
            return "%%"
        return match.group(0).replace("%", "%%")

    return _MARKS.sub(replace, sql)


class PgConnection:
    """A psycopg connection speaking the store's :class:`~tgscope.store.dbapi.Connection`."""

    dialect = POSTGRES

    def __init__(self, url: str, *, connect_timeout: int = 10, raw: Any = None):
        """Connect to ``url``, or speak over ``raw``, a psycopg connection made with
        :func:`connect_options` (a pool's)."""
        import psycopg

        self._psycopg = psycopg
        self.url = url
        self.location = redacted(url)
        if raw is not None:
            self._db = raw
            return
        try:
            self._db = psycopg.connect(url, **connect_options(connect_timeout))
        except psycopg.Error as error:
            raise StoreError(f"{self.location}: cannot connect: {_first_line(error)}") from error
        _register_adapters(self._db)

    @property
    def in_transaction(self) -> bool:
        status = self._db.info.transaction_status
        return status != self._psycopg.pq.TransactionStatus.IDLE

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        try:
            return self._db.execute(to_pyformat(sql), tuple(parameters))
        except self._psycopg.Error as error:
            raise self._translated(error) from error

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any:
        rows = [tuple(row) for row in parameters]
        cursor = self._db.cursor()
        if not rows:
            return cursor
        try:
            cursor.executemany(to_pyformat(sql), rows)
        except self._psycopg.Error as error:
            raise self._translated(error) from error
        return cursor

    def stream(self, sql: str, parameters: Any = (), /, *, size: int = 2000) -> Iterator[Any]:
        """The rows of a large query, a batch at a time (a server-side cursor, inside the
        running transaction or one of its own)."""
        own = not self.in_transaction
        if own:
            self.execute(POSTGRES.begin_read)
        try:
            with self._db.cursor(name=f"tgscope_stream_{next(_CURSORS)}") as cursor:
                cursor.itersize = size
                cursor.execute(to_pyformat(sql), tuple(parameters))  # bound by the server
                yield from cursor
        except self._psycopg.Error as error:
            raise self._translated(error) from error
        finally:
            if own and self.in_transaction:  # it only read: a lost connection ended it
                with contextlib.suppress(StoreError):
                    self.execute("COMMIT")

    def copy_rows(self, table: str, columns: Iterable[str], rows: Iterable[tuple]) -> int:
        """Write rows with ``COPY`` (the fastest way in); returns how many."""
        count = 0
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        try:
            with self._db.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        except self._psycopg.Error as error:
            raise self._translated(error) from error
        return count

    def close(self) -> None:
        self._db.close()

    def _translated(self, error: Exception) -> Exception:
        errors = self._psycopg.errors
        if isinstance(error, errors.IntegrityError | errors.DataError):
            return RecordRejected(f"the archive refused a record: {_first_line(error)}")
        if isinstance(error, errors.DeadlockDetected):
            return StoreError(
                f"{self.location}: another writer held the same channels; nothing was saved,"
                " run it again"
            )
        return StoreError(f"{self.location}: {_first_line(error)}")


def connect_options(connect_timeout: int = 10) -> dict[str, Any]:
    """How the store's connections are made (see the module's docstring)."""
    import psycopg

    return {
        "autocommit": True,
        "cursor_factory": psycopg.ClientCursor,
        "connect_timeout": connect_timeout,
        "options": (
            f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT} -c TimeZone=UTC"
        ),
    }


class PgPool:
    """A pool of connections (psycopg_pool) for a process with threads: the web app.  Each
    :meth:`connection` is checked out for one block and given back; ``read_only``: every
    transaction on them is read-only."""

    def __init__(self, url: str, *, max_size: int = 16, read_only: bool = False):
        from psycopg_pool import ConnectionPool

        def configure(raw: Any) -> None:
            _register_adapters(raw)
            if read_only:
                raw.execute("SET default_transaction_read_only = on")

        self.url, self.location = url, redacted(url)
        PgConnection(url).close()  # one line naming the cause, before the pool retries
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            kwargs=connect_options(),
            configure=configure,
            check=ConnectionPool.check_connection,  # one lost after a restart is replaced
            open=False,
            name="tgscope",
        )
        try:
            self._pool.open(wait=True, timeout=15)
        except Exception as error:  # psycopg_pool.PoolTimeout: the server cannot be reached
            self._pool.close()
            raise StoreError(f"{self.location}: cannot connect: {error}") from error

    @contextmanager
    def connection(self) -> Iterator[PgConnection]:
        from psycopg_pool import PoolTimeout

        try:
            checked_out = self._pool.connection(timeout=30)
            raw = checked_out.__enter__()
        except PoolTimeout as error:
            raise StoreError(f"{self.location}: every connection is busy: {error}") from error
        try:
            yield PgConnection(self.url, raw=raw)
        except BaseException as error:
            checked_out.__exit__(type(error), error, error.__traceback__)
            raise
        else:
            checked_out.__exit__(None, None, None)

    def close(self) -> None:
        self._pool.close()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _register_adapters(db: Any) -> None:
    """SQLite's kinds of values both ways (see the module's docstring)."""
    from psycopg.adapt import Dumper, Loader

    int8 = db.adapters.types["int8"].oid

    class BoolAsInt(Dumper):
        oid = int8

        def dump(self, obj: bool) -> bytes:
            return b"1" if obj else b"0"

        def quote(self, obj: bool) -> bytes:
            return self.dump(obj)

    class NumberLoader(Loader):
        def load(self, data: Any) -> int | float:
            text = bytes(data).decode()
            if text.lstrip("-").isdigit():
                return int(text)
            return float(text)

    class BoolLoader(Loader):
        def load(self, data: Any) -> int:
            return 1 if bytes(data) == b"t" else 0

    db.adapters.register_dumper(bool, BoolAsInt)
    db.adapters.register_loader("numeric", NumberLoader)
    db.adapters.register_loader("bool", BoolLoader)
