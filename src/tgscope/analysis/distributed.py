"""The heavy analyses on a Dask cluster: the near-copy index built from scratch, and the
events of every post extracted again, with more cores than one machine has.

``--dask tcp://scheduler:8786`` uses a running cluster; ``--dask local:N`` starts a
``LocalCluster`` of N worker processes for the run.  Without ``--dask`` nothing here is
imported and no cluster starts.  The archive must be in PostgreSQL: the workers read it
straight from the database, each a range of posts by pk, all in one snapshot the client
exports (``pg_export_snapshot``), so every partition sees the state one process would.

The workers do the work that costs (words, shingles, MinHash signatures, the exact Jaccard of
each candidate pair; the events' extraction); the client merges their results in pk order and
writes them in one transaction, with the same calls the single process makes, so the tables
are the same as a single-process run's on the same archive (``tests/test_distributed.py``
compares every row).
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import OptionError, StoreError

if TYPE_CHECKING:
    from distributed import Client

    from ..archive import Archive

#: posts a partition holds, about (smaller ones balance a cluster better; larger ones cost
#: fewer round trips)
PARTITION_POSTS = 50_000
#: candidate pairs verified by one task
PAIRS_PER_TASK = 200_000
_LOCAL = re.compile(r"local:(\d{1,3})")


@contextlib.contextmanager
def cluster(spec: str) -> Iterator[Client]:
    """A client of the cluster ``spec`` names: ``local:N`` (a LocalCluster of N worker
    processes, one thread each, for this run) or a scheduler's address (``tcp://host:8786``)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:  # pragma: no cover - an install without the extra
        raise OptionError("dask: Dask is not installed (pip install 'tgscope[dask]')") from error
    local = _LOCAL.fullmatch(spec.strip())
    if local is not None:
        workers = int(local[1])
        if not 1 <= workers <= 256:
            raise OptionError(f"dask: {spec!r}: between local:1 and local:256 workers")
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as local_cluster,
            Client(local_cluster) as client,
        ):
            yield client
        return
    if not spec.startswith(("tcp://", "tls://")):
        raise OptionError(f"dask: {spec!r} is neither local:N nor a tcp:// scheduler address")
    try:
        client = Client(spec, timeout="20s")
    except OSError as error:
        raise OptionError(f"dask: cannot reach the scheduler at {spec}: {error}") from error
    with client:
        yield client


def require_postgres(archive: Archive) -> str:
    """The archive's URL, which the workers connect to; a file is refused in one line."""
    url = getattr(archive.store, "_url", None)
    if archive.path is not None or url is None:
        raise OptionError(
            f"{archive.location}: the Dask workers read the archive over the network: use an"
            " archive in PostgreSQL (tgscope copy moves a file there)"
        )
    return url


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a task needs to read the archive as the client sees it (its URL, which may hold
    a password, is left out of its repr: Dask logs a failed task's arguments)."""

    url: str = field(repr=False)
    snapshot: str
    upto: int


@contextlib.contextmanager
def exported_snapshot(archive: Archive, upto: int) -> Iterator[Snapshot]:
    """A snapshot of the archive the workers can share, held open while they read."""
    url = require_postgres(archive)
    db = archive.store.another_connection()
    try:
        db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        keep_open_while_waiting(db)
        (name,) = db.execute("SELECT pg_export_snapshot()").fetchone()
        yield Snapshot(url, name, upto)
    finally:
        if db.in_transaction:
            db.execute("COMMIT")
        db.close()


def pk_ranges(archive: Archive, upto: int, workers: int) -> list[tuple[int, int]]:
    """``[low, high)`` pk ranges of about :data:`PARTITION_POSTS` posts each (at least two
    per worker), covering every post written up to ``upto``."""
    store: Any = archive.store
    db = store.db
    (count, low, high) = db.execute(
        "SELECT count(*), min(pk), max(pk) FROM posts WHERE seq <= ?", (upto,)
    ).fetchone()
    if not count:
        return []
    parts = max(2 * workers, -(-count // PARTITION_POSTS))
    fractions = [i / parts for i in range(1, parts)]
    cuts = db.execute(
        "SELECT percentile_disc(f) WITHIN GROUP (ORDER BY pk) FROM posts,"
        " unnest(CAST(? AS double precision[])) AS f WHERE seq <= ? GROUP BY f ORDER BY f",
        ("{" + ",".join(map(str, fractions)) + "}", upto),
    ).fetchall()
    bounds = sorted({low, *(cut for (cut,) in cuts), high + 1})
    return list(itertools.pairwise(bounds))


# -- in the workers -------------------------------------------------------------------------

_connections: dict[str, Any] = {}


def _reading(snapshot: Snapshot) -> Any:
    """This worker process's connection to the archive, in a transaction on the snapshot."""
    from ..store.pgdb import PgConnection

    db = _connections.get(snapshot.url)
    if db is None:
        db = _connections[snapshot.url] = PgConnection(snapshot.url)
    if db.in_transaction:
        db.execute("ROLLBACK")
    db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    db.execute(f"SET TRANSACTION SNAPSHOT '{_snapshot_name(snapshot.snapshot)}'")
    return db


def _snapshot_name(name: str) -> str:
    if not re.fullmatch(r"[0-9A-Fa-f-]+", name):
        raise StoreError(f"not a snapshot id: {name!r}")
    return name


def rows_in(snapshot: Snapshot, sql: str, parameters: tuple | list) -> list[tuple]:
    """The rows of ``sql`` read in the snapshot (by a task, in a worker process)."""
    db = _reading(snapshot)
    try:
        return db.execute(sql, parameters).fetchall()
    finally:
        db.execute("COMMIT")


def release_connections() -> None:
    """Close this process's connections (a worker plugin's teardown, or a test's)."""
    while _connections:
        _, db = _connections.popitem()
        with contextlib.suppress(Exception):
            db.close()


def keep_open_while_waiting(db: Any) -> None:
    """The running transaction may sit idle for as long as the tasks take (the store ends
    idle transactions after 10 minutes otherwise, and with them the snapshot)."""
    db.execute("SET LOCAL idle_in_transaction_session_timeout = 0")


def gathered(futures: list) -> Iterator[Any]:
    """The futures' results in order, each as soon as it and those before it are done, and
    let go of once taken (the client never holds them all); a task's error as a one-line
    StoreError."""
    for index in range(len(futures)):
        future, futures[index] = futures[index], None
        try:
            result = future.result()
        except (StoreError, OptionError):
            raise
        except Exception as error:
            raise StoreError(f"a Dask task failed: {type(error).__name__}: {error}") from error
        del future
        yield result


def workers_of(client: Client) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def as_bytes(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array).tobytes()
