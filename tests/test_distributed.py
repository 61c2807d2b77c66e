"""The batch analyses on a Dask cluster (issue 13, docs/scale-out.md §2.8): a real
LocalCluster of worker processes reads a real PostgreSQL archive by pk range, and the
near-copy index and the events it builds equal the single process's, row for row."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tgscope.archive import Archive
from tgscope.errors import OptionError
from tgscope.store import SourceInfo

from .conftest import ROOT, SAMPLES

pytestmark = [pytest.mark.pg, pytest.mark.slow]
distributed = pytest.importorskip("distributed")

sys.path.insert(0, str(ROOT / "bench"))
from gen_diplomatic import DiplomaticGenerator  # noqa: E402

#: the near-copy tables, as compared (a post's ``seq`` is its archive's own write number)
NEARCOPY_TABLES = {
    "nearcopy_texts": "SELECT * FROM nearcopy_texts ORDER BY id",
    "nearcopy_posts": "SELECT post_pk, text_id FROM nearcopy_posts ORDER BY post_pk",
    "nearcopy_buckets": "SELECT * FROM nearcopy_buckets ORDER BY bucket, text_id",
    "nearcopy_pairs": "SELECT * FROM nearcopy_pairs ORDER BY a, b",
    "nearcopy_state": "SELECT * FROM nearcopy_state WHERE name <> 'seq' ORDER BY name",
}


@pytest.fixture(scope="module")
def client():
    from tgscope.analysis.distributed import cluster

    with cluster("local:2") as running:
        yield running


def _fill(url: str) -> None:
    """The samples, a dump copied with a few words changed, and generated diplomatic posts
    (with planted copies), imported without their events."""
    with Archive.open(url) as archive:
        archive.import_paths([SAMPLES / "russia_china_dump.txt"], channel="russia_china_demo",
                             events=False)  # fmt: skip
        archive.import_paths([SAMPLES / "mid_ru_dump.txt"], channel="mid_russia", events=False)
        archive.import_paths(
            [SAMPLES / "rusembchina_page.html", SAMPLES / "rusembchina_export.json"],
            events=False,
        )
        posts = list(DiplomaticGenerator(seed=5).posts(1500))
        copies = [replace(post) for post in posts[:300:3]]
        for number, post in enumerate(copies):
            post.channel, post.id = "copycat_channel", 10_000 + number
            post.key = f"copycat_channel/{post.id}"
            post.text = post.text.replace(" the ", " the very ", 1)
        source = SourceInfo("bench", "generated", "0" * 64, "2026-11-28T00:00:00+00:00")
        archive.ingest([*posts, *copies], source)


def _rows(url: str, query: str) -> list[tuple]:
    with Archive.open(url, create=False) as archive:
        return archive.store.db.execute(query).fetchall()


def _events(url: str) -> list[tuple]:
    with Archive.open(url, create=False) as archive:
        db = archive.store.db
        events = db.execute(
            "SELECT post_pk, position, type, modality, mode, date, date_min, date_max, partial,"
            " own_min, own_max, occasion, place_country, record FROM events"
            " ORDER BY post_pk, position"
        ).fetchall()
        parties = db.execute(
            "SELECT events.post_pk, events.position, side, name, country, org FROM event_parties"
            " JOIN events ON events.pk = event_parties.event_pk"
            " ORDER BY 1, 2, 3, 4, 5, 6"
        ).fetchall()
    return events + parties


def test_the_near_copy_index_built_on_a_cluster_is_the_single_process_one(client, pg_url, request):
    from tgscope.analysis.dask_jobs import build_near_copies

    other = request.getfixturevalue("pg_url_factory")()
    _fill(pg_url)
    _fill(other)
    with Archive.open(pg_url) as single:
        alone = [c.to_dict() for c in single.duplicates(threshold=0.8, rebuild=True)]
    with Archive.open(other) as spread:
        read = build_near_copies(spread, client, floor=0.7)
        together = [cluster.to_dict() for cluster in spread.duplicates(threshold=0.8)]
        posts = spread.stats().posts
    assert read == posts and len(alone) >= 90
    assert together == alone
    for table, query in NEARCOPY_TABLES.items():
        assert _rows(other, query) == _rows(pg_url, query), table


def test_the_events_extracted_on_a_cluster_are_the_single_process_ones(client, pg_url, request):
    from tgscope.analysis.dask_jobs import extract_all_events

    other = request.getfixturevalue("pg_url_factory")()
    _fill(pg_url)
    _fill(other)
    with Archive.open(pg_url) as single:
        single.update_events()
        alone = [event.to_json() for event in single.events()]
    with Archive.open(other) as spread:
        done = extract_all_events(spread, client)
        together = [event.to_json() for event in spread.events()]
    assert done.events == len(alone) > 100
    assert together == alone
    assert _events(other) == _events(pg_url)


def test_a_sqlite_archive_is_refused_before_a_cluster_starts(tmp_path: Path):
    with Archive.open(tmp_path / "a.db") as archive:
        with pytest.raises(OptionError, match="use an archive in PostgreSQL"):
            archive.duplicates(dask="local:2")
        with pytest.raises(OptionError, match="use an archive in PostgreSQL"):
            archive.rebuild_events(dask="local:2")


def test_a_cluster_spec_that_is_neither_local_nor_an_address_is_one_line():
    from tgscope.analysis.distributed import cluster

    for spec in ("local:0", "local:x", "http://x:1", "8786"):
        with pytest.raises(OptionError, match="dask: "), cluster(spec):
            pass


def test_nothing_imports_dask_unless_asked(tmp_path: Path):
    """The commands that could use a cluster start none, and import no Dask, without --dask."""
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from tgscope.cli import cli\n"
        f"db = {str(tmp_path / 'a.db')!r}\n"
        f"CliRunner().invoke(cli, ['import', '--db', db, '--channel', 'demo_chan',"
        f" {str(SAMPLES / 'russia_china_dump.txt')!r}])\n"
        "for args in (['duplicates'], ['events', '--rebuild']):\n"
        "    result = CliRunner().invoke(cli, [*args, '--db', db])\n"
        "    assert result.exit_code == 0, result.output\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('dask', 'distributed'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", "import json\n" + code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_the_clients_transactions_outlive_the_idle_limit_while_tasks_run(pg_url, monkeypatch):
    """The store ends a transaction left idle (10 min); the client's, and the one that
    exported the snapshot, wait for the tasks however long they take."""
    import time

    from tgscope.analysis.distributed import (
        exported_snapshot,
        keep_open_while_waiting,
        release_connections,
        rows_in,
    )
    from tgscope.errors import StoreError
    from tgscope.store import pgdb

    monkeypatch.setattr(pgdb, "IDLE_IN_TRANSACTION_TIMEOUT", "300ms")
    with Archive.open(pg_url) as archive:
        tables = archive.store.nearcopies
        with tables.writing() as last:
            keep_open_while_waiting(archive.store.db)
            with exported_snapshot(archive, last) as snapshot:
                time.sleep(0.8)
                try:  # a task's read, here in the test's own process
                    assert rows_in(snapshot, "SELECT count(*) FROM posts WHERE seq <= ?", (last,))
                finally:
                    release_connections()
            tables.save_state({"probe": 1})
        with pytest.raises(StoreError), tables.writing():  # without it: ended by the server
            time.sleep(0.8)
            tables.save_state({"probe": 2})
