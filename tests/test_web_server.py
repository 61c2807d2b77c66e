"""``tgscope serve`` as a command: what it checks before serving, and the real server."""

from __future__ import annotations

import sys

import httpx
import pytest
from click.testing import CliRunner

from tgscope.archive import Archive
from tgscope.cli import cli
from tgscope.errors import OptionError, StoreError
from tgscope.search import INDEX_FORMAT
from tgscope.web.server import is_loopback, prepare, serve

from .browser import free_port, serve_process
from .helpers import POSTS, source


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.org", False),
    ],
)
def test_only_loopback_addresses_count_as_private(host, loopback):
    assert is_loopback(host) is loopback


def test_serving_no_archive_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert (
        result.output
        == f"Error: {tmp_path / 'none.db'}: no archive here (create one with tgscope import)\n"
    )


def test_workers_out_of_range_are_refused_before_anything_starts(db_path):
    with pytest.raises(OptionError, match="workers: 0 is out of range"):
        serve(db_path, workers=0)


def test_prepare_builds_a_missing_index_and_says_nothing(db_path):
    with Archive.open(db_path) as archive:
        archive.ingest(POSTS, source())
    index = db_path.with_name(db_path.name + ".index")
    for child in index.iterdir():
        child.unlink()
    said: list[str] = []
    prepare(db_path, said.append)
    assert said == []
    assert f'"format": {INDEX_FORMAT}' in (index / "state.json").read_text()


def test_prepare_serves_an_unwritable_archive_as_it_is(tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database at all" * 100)
    said: list[str] = []
    prepare(broken, said.append)
    assert len(said) == 1 and said[0].startswith(f"warning: {broken}: cannot open archive")
    with pytest.raises(StoreError, match="cannot"):
        from tgscope.web import create_app

        create_app(broken)


@pytest.mark.slow
def test_serving_on_every_address_warns_and_still_serves(db_path, tmp_path):
    with Archive.open(db_path) as archive:
        archive.ingest(POSTS, source())
    port = free_port()
    command = [sys.executable, "-m", "tgscope", "serve", "--db", str(db_path)]
    command += ["--host", "0.0.0.0", "--port", str(port)]
    with serve_process(command, f"http://127.0.0.1:{port}") as base:
        page = httpx.get(f"{base}/channels/mfarussia.json", trust_env=False)
    assert page.status_code == 200
    assert [post["key"] for post in page.json()["posts"]] == [
        "mfarussia/3",
        "mfarussia/2",
        "mfarussia/1",
    ]


@pytest.mark.slow
def test_two_worker_processes_serve_the_same_archive(db_path):
    with Archive.open(db_path) as archive:
        archive.ingest(POSTS, source())
    port = free_port()
    command = [sys.executable, "-m", "tgscope", "serve", "--db", str(db_path)]
    command += ["--port", str(port), "--workers", "2"]
    with (
        serve_process(command, f"http://127.0.0.1:{port}") as base,
        httpx.Client(trust_env=False) as client,
    ):
        answers = [client.get(f"{base}/search.json?q=Lavrov") for _ in range(8)]
    assert {answer.status_code for answer in answers} == {200}
    assert {answer.json()["results"][0]["post"]["key"] for answer in answers} == {"mfarussia/1"}
