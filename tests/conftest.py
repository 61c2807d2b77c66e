from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"


@pytest.fixture
def seed_path() -> Path:
    return SAMPLES / "russia_china_dump.txt"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "archive.db"


# -- PostgreSQL (issue 13): one server per test session, a fresh database per test ----------

_DATABASES = itertools.count(1)
TEMPLATE = "tgscope_template"


@pytest.fixture(scope="session")
def pg_server() -> Iterator:
    """A PostgreSQL server for the whole session, with a migrated template database."""
    pytest.importorskip("psycopg")
    import psycopg

    from tgscope.store.postgres import PostgresStore

    from .pg import running_server

    with running_server() as server:
        with psycopg.connect(server.dsn, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {TEMPLATE}")
        PostgresStore(server.dsn.rsplit("/", 1)[0] + f"/{TEMPLATE}").close()
        yield server


def create_database(base: str) -> str:
    """A new archive database on the server at ``base`` (a URL without the database): a copy
    of the migrated template, with an archive id of its own; its URL."""
    import psycopg

    name = f"t{next(_DATABASES)}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
    with psycopg.connect(f"{base}/{name}", autocommit=True) as db:
        db.execute("UPDATE meta SET value = md5(random()::text) WHERE name = 'archive_id'")
    return f"{base}/{name}"


def drop_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_url_factory(pg_server) -> Iterator:
    """``make()``: the URL of a new, empty archive in PostgreSQL (:func:`create_database`);
    each is dropped after the test."""
    made: list[str] = []

    def make() -> str:
        made.append(create_database(pg_server.dsn.rsplit("/", 1)[0]))
        return made[-1]

    yield make
    for url in made:
        drop_database(url)


@pytest.fixture
def pg_url(pg_url_factory) -> str:
    """The URL of a new, empty archive in PostgreSQL, dropped after the test."""
    return pg_url_factory()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
def archive_db(request, tmp_path: Path, monkeypatch) -> str:
    """An archive to write to, on each engine: a SQLite file's path, or a PostgreSQL URL (its
    media folder in ``$TGSCOPE_MEDIA``, as a file's is beside it)."""
    if request.param == "sqlite":
        return str(tmp_path / "archive.db")
    monkeypatch.setenv("TGSCOPE_MEDIA", str(tmp_path / "archive.media"))
    return request.getfixturevalue("pg_url")
