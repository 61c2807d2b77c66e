"""The PostgreSQL the storage tests will run against (issue 13: docs/scale-out.md, step 3):
a real server, started by the tests in a temporary folder on a free loopback port."""

from __future__ import annotations

import pytest

from .pg import PgServer, pg_bin, running_server

psycopg = pytest.importorskip("psycopg")


@pytest.fixture(scope="module")
def server():
    with running_server() as running:
        yield running


@pytest.mark.slow
def test_a_real_server_starts_takes_writes_and_reads_them_back(server: PgServer):
    with psycopg.connect(server.dsn, connect_timeout=10) as db:
        (version,) = db.execute("SHOW server_version_num").fetchone()
        assert int(version) >= 130000  # Debian 12 ships 15
        db.execute("CREATE TABLE t (id bigint PRIMARY KEY, text text NOT NULL)")
        db.execute("INSERT INTO t VALUES (%s, %s), (%s, %s)", (1, "Лавров", 2, "Wang Yi"))
        rows = db.execute("SELECT id, text FROM t ORDER BY id").fetchall()
    assert rows == [(1, "Лавров"), (2, "Wang Yi")]
    assert server.host == "127.0.0.1" and (server.folder / "data" / "PG_VERSION").is_file()


@pytest.mark.slow
def test_the_server_is_stopped_and_its_folder_removed_afterwards():
    with running_server() as running:
        folder, dsn = running.folder, running.dsn
        with psycopg.connect(dsn, connect_timeout=10) as db:
            assert db.execute("SELECT 1").fetchone() == (1,)
    assert not folder.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=3)


def test_the_binaries_are_found_where_the_install_script_puts_them(monkeypatch, tmp_path):
    monkeypatch.setenv("TGSCOPE_PG_BIN", str(tmp_path))
    assert pg_bin() is None  # no initdb there
    (tmp_path / "initdb").write_text("#!/bin/sh\n")
    assert pg_bin() == tmp_path
