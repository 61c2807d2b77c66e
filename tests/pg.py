"""A real PostgreSQL server for the tests: a cluster made with ``initdb`` in a temporary folder
and started on a free port of 127.0.0.1, stopped and removed afterwards.

The binaries are Debian's (``scripts/install-postgres``; ``make test`` runs it) or those in
``$TGSCOPE_PG_BIN``.  Without them the tests that need a server skip, unless
``TGSCOPE_REQUIRE_POSTGRES=1`` (``.ci/run`` sets it): then they fail, so CI cannot pass by
skipping.  ``initdb`` refuses to run as root: as root the cluster belongs to the ``postgres``
user, which runs the server (``runuser``), in a folder made under ``/tmp`` that it may enter.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER_USER = "postgres"


@dataclass(frozen=True)
class PgServer:
    """A running server: connect with ``dsn`` (user ``postgres``, trusted on loopback)."""

    host: str
    port: int
    folder: Path

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"


def pg_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: ``$TGSCOPE_PG_BIN``, else Debian's newest."""
    given = os.environ.get("TGSCOPE_PG_BIN")
    if given:
        return Path(given) if (Path(given) / "initdb").is_file() else None
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


def missing_server(reason: str) -> None:
    """Skip, or fail when a server is required (CI)."""
    if os.environ.get("TGSCOPE_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required here: {reason}")
    pytest.skip(f"no PostgreSQL server to test against: {reason} (scripts/install-postgres)")


@contextlib.contextmanager
def running_server() -> Iterator[PgServer]:
    """A fresh cluster, running, for the duration of the block."""
    binaries = pg_bin()
    if binaries is None:
        missing_server("initdb not found")
    assert binaries is not None
    folder = Path(tempfile.mkdtemp(prefix="tgscope-pg-", dir="/tmp"))
    try:
        as_owner = _owner(folder)
        data, port = folder / "data", _free_port()
        _run([*as_owner, str(binaries / "initdb"), "-D", str(data), "-U", "postgres",
              "-A", "trust", "--no-sync", "-E", "UTF8", "--locale", "C"])  # fmt: skip
        options = (
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off"
        )
        _run([*as_owner, str(binaries / "pg_ctl"), "-D", str(data), "-o", options,
              "-l", str(folder / "server.log"), "-w", "start"])  # fmt: skip
        try:
            yield PgServer("127.0.0.1", port, folder)
        finally:
            subprocess.run(
                [*as_owner, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate",
                 "-w", "stop"],
                capture_output=True, check=False, timeout=60,
            )  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _owner(folder: Path) -> list[str]:
    """The command prefix that runs the server's programs: as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        missing_server("running as root without runuser to start the server as postgres")
    try:
        shutil.chown(folder, user=SERVER_USER)
    except (LookupError, OSError) as error:
        missing_server(f"running as root, and no {SERVER_USER!r} user to own the cluster ({error})")
    os.chmod(folder, 0o755)
    return [str(runuser), "-u", SERVER_USER, "--"]


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[-6:])} failed: {done.stderr or done.stdout}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
