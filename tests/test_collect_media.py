"""``tgscope media fetch``: media downloaded from a real loopback server, faults and all."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tgscope.archive import Archive
from tgscope.cli import cli
from tgscope.collect.http import FetchPolicy, make_client
from tgscope.collect.media import MAX_ATTEMPTS, fetch_media
from tgscope.collect.web_sync import sync_channel
from tgscope.errors import StoreError
from tgscope.media.files import MediaStore

from .helpers import post, source
from .media_server import MediaServer, channel_page, make_jpeg, make_mp4, make_png

POLICY = FetchPolicy(delay=0, retries=2, backoff=0, deadline=5)
ROOT = Path(__file__).resolve().parent.parent


def sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@pytest.fixture
def server():
    with MediaServer(huge_size=2 * 1024**3) as running:
        yield running


def fetch(archive: Archive, server: MediaServer, **options):
    with make_client(server.base_url, policy=POLICY) as client:
        return fetch_media(archive, client=client, policy=POLICY, **options)


def rows(db: Path) -> list[tuple]:
    with Archive.open(db) as archive:
        return archive.store.db.execute(
            "SELECT post, position, part, type, status, sha256, http_status, size, reason,"
            " attempts FROM media_fetches ORDER BY post, position, part"
        ).fetchall()


def test_a_synced_channel_s_media_are_stored_once_each_with_their_hash(server, db_path):
    photo, same, poster, video = make_jpeg(1), make_jpeg(1), make_jpeg(2), make_mp4(3)
    preview, avatar, round_video = make_png(4), make_jpeg(5, size=(160, 160)), make_mp4(6)
    server.add("/p/1.jpg", photo)
    server.add("/p/2.jpg", same)  # the same bytes at another link (a repost)
    server.add("/v/3.mp4", video, "video/mp4")
    server.add("/v/3.jpg", poster)
    server.add("/l/4.png", preview, "image/png")
    server.add("/a.jpg", avatar)
    server.add("/r/6.mp4", round_video, "video/mp4")
    page = channel_page(
        "mfarussia",
        {
            1: [("photo", server.url("/p/1.jpg"))],
            2: [
                ("photo", server.url("/p/2.jpg?sig=x")),
                ("video", server.url("/v/3.mp4"), server.url("/v/3.jpg")),
            ],
            3: [("link_preview", server.url("/l/4.png"))],
            4: [("round_video", server.url("/r/6.mp4"))],
        },
        avatar=server.url("/a.jpg"),
    )
    server.add_page("mfarussia", page)
    with Archive.open(db_path) as archive, make_client(server.base_url, policy=POLICY) as client:
        sync_channel(archive, "mfarussia", client=client, policy=POLICY)
        report = fetch_media(archive, client=client, policy=POLICY)
        store = MediaStore.beside(db_path)
        assert archive.media.update_hashes() == 6  # and the pictures' sizes in pixels
        assert archive.media.update_hashes() == 0  # each file once
    assert rows(db_path) == [
        ("@mfarussia", 0, "avatar", "photo", "stored", sha(avatar), 200, len(avatar), None, 1),
        ("mfarussia/1", 0, "file", "photo", "stored", sha(photo), 200, len(photo), None, 1),
        ("mfarussia/2", 0, "file", "photo", "stored", sha(same), 200, len(same), None, 1),
        ("mfarussia/2", 1, "file", "video", "stored", sha(video), 200, len(video), None, 1),
        ("mfarussia/2", 1, "thumb", "video", "stored", sha(poster), 200, len(poster), None, 1),
        (
            "mfarussia/3",
            0,
            "link_preview",
            "photo",
            "stored",
            sha(preview),
            200,
            len(preview),
            None,
            1,
        ),
        (
            "mfarussia/4",
            0,
            "file",
            "round_video",
            "stored",
            sha(round_video),
            200,
            len(round_video),
            None,
            1,
        ),
    ]
    for body in (photo, poster, video, preview, avatar, round_video):
        assert store.path_of(sha(body)).read_bytes() == body
    assert (report.stored, report.again, dict(report.not_stored)) == (6, 1, {})
    assert report.bytes == sum(map(len, (photo, same, video, poster, preview, avatar, round_video)))
    with Archive.open(db_path) as archive:
        files = archive.store.db.execute(
            "SELECT sha256, size, mime, width, height FROM media_files ORDER BY mime, sha256"
        ).fetchall()
    assert sorted(files) == sorted(
        [
            (sha(photo), len(photo), "image/jpeg", 800, 600),
            (sha(poster), len(poster), "image/jpeg", 800, 600),
            (sha(avatar), len(avatar), "image/jpeg", 160, 160),
            (sha(preview), len(preview), "image/png", 800, 600),
            (sha(video), len(video), "video/mp4", None, None),
            (sha(round_video), len(round_video), "video/mp4", None, None),
        ]
    )
    media_asked = {path: n for path, n in server.requests.items() if path != "/s/mfarussia"}
    assert media_asked == dict.fromkeys(
        ["/p/1.jpg", "/p/2.jpg", "/v/3.mp4", "/v/3.jpg", "/l/4.png", "/a.jpg", "/r/6.mp4"], 1
    )


def _archive_of(db: Path, urls: dict[str, str], kind: str = "photo") -> None:
    """Posts x/1, x/2, ... each carrying one medium of ``kind`` at these URLs."""
    with Archive.open(db) as archive:
        archive.ingest(
            [
                post(
                    f"x/{number}",
                    f"post {number}",
                    channel="x",
                    date=f"2024-01-{number:02d}T00:00:00+00:00",
                    media=[{"type": kind, "url": url}],
                )
                for number, url in enumerate(urls.values(), 1)
            ],
            source(),
        )


FAULT_OUTCOMES = {  # fault: (status, http status, size, reason)
    "404": ("missing", 404, None, "HTTP 404"),
    "403": ("expired", 403, None, "HTTP 403"),
    "410": ("expired", 410, None, "HTTP 410"),
    "huge": (
        "too_large",
        None,
        2 * 1024**3,
        "the answer is 2,147,483,648 bytes, larger than the 1,048,576 allowed; not read",
    ),
    "huge-chunked": (
        "too_large",
        None,
        1024**2 + 1,  # "larger than the cap": tried again under a larger one
        "the answer is larger than 1,048,576 bytes (decompressed); stopped reading it",
    ),
    "html": ("refused", 200, None, "an HTML page, not the file (an expired or blocked link)"),
}


def test_each_fault_is_recorded_with_its_reason_and_the_rest_stored(server, db_path):
    body = make_jpeg(7)
    urls = {fault: server.add(f"/{fault}.jpg", body, fault=fault) for fault in FAULT_OUTCOMES}
    for fault in ("wrong-type", "500-once", "429-once", "cut-once"):
        urls[fault] = server.add(f"/{fault}.jpg", make_jpeg(8), fault=fault)
    urls["cut"] = server.add("/cut.jpg", make_jpeg(9), fault="cut")
    _archive_of(db_path, urls)
    with Archive.open(db_path) as archive:
        report = fetch(archive, server, max_size=1024**2)
    found = {row[0]: row[4:9] for row in rows(db_path)}
    number = {fault: f"x/{i}" for i, fault in enumerate(urls, 1)}
    for fault, (status, code, size, reason) in FAULT_OUTCOMES.items():
        assert found[number[fault]] == (status, None, code, size, reason), fault
    for fault in ("wrong-type", "500-once", "429-once", "cut-once"):  # stored in the end
        assert found[number[fault]][:3] == ("stored", sha(make_jpeg(8)), 200), fault
    status, digest, code, size, reason = found[number["cut"]]
    assert (status, digest, code, size) == ("failed", None, None, None)
    assert reason.startswith("gave up after 3 attempts (RemoteProtocolError")
    assert dict(report.not_stored) == {
        "expired": 2,
        "failed": 1,
        "missing": 1,
        "refused": 1,
        "too_large": 2,
    }
    assert (report.stored, report.again) == (1, 3)
    assert report.problems[0] == f"{urls['404']}: HTTP 404"
    assert list((MediaStore.beside(db_path).root / "tmp").iterdir()) == []


def test_a_rerun_asks_again_only_what_may_pass_and_new_links(server, db_path):
    urls = {
        "ok": server.add("/ok.jpg", make_jpeg(1)),
        "gone": server.add("/gone.jpg", make_jpeg(2), fault="403"),
        "cut": server.add("/cut.jpg", make_jpeg(3), fault="cut"),
        "page": server.add("/page.jpg", make_jpeg(4), fault="html"),
    }
    _archive_of(db_path, urls)
    for _ in range(MAX_ATTEMPTS + 2):
        with Archive.open(db_path) as archive:
            fetch(archive, server)
    asked = server.requests
    assert asked["/ok.jpg"] == asked["/gone.jpg"] == asked["/page.jpg"] == 1
    assert asked["/cut.jpg"] == MAX_ATTEMPTS * (POLICY.retries + 1)
    assert [row[9] for row in rows(db_path)] == [1, 1, MAX_ATTEMPTS, 1]
    # a later sync gives the expired post a fresh link: that one is tried
    fresh = server.add("/fresh.jpg", make_jpeg(2))
    with Archive.open(db_path) as archive:
        archive.ingest(
            [
                post(
                    "x/2",
                    "post 2",
                    channel="x",
                    date="2024-01-02T00:00:00+00:00",
                    media=[{"type": "photo", "url": fresh}],
                )
            ],
            source("test://again"),
        )
        report = fetch(archive, server)
    assert (report.stored, report.done_before) == (1, 3)
    assert rows(db_path)[1][4:6] == ("stored", sha(make_jpeg(2)))


def test_types_dates_channel_and_size_choose_what_is_fetched(server, db_path):
    photo, video = (
        server.add("/1.jpg", make_jpeg(1)),
        server.add("/2.mp4", make_mp4(size=100_000), "video/mp4"),
    )
    with Archive.open(db_path) as archive:
        archive.ingest(
            [
                post(
                    "a/1",
                    "a",
                    channel="a",
                    date="2024-01-01T00:00:00+00:00",
                    media=[{"type": "photo", "url": photo}, {"type": "video", "url": video}],
                ),
                post(
                    "b/1",
                    "b",
                    channel="b",
                    date="2024-02-01T00:00:00+00:00",
                    media=[{"type": "photo", "url": photo}],
                ),
            ],
            source(),
        )
        assert fetch(archive, server, types=["video"], channel="b").stored == 0
        assert fetch(archive, server, since="2024-01-15").stored == 1  # b/1's photo
        report = fetch(archive, server, max_size=50_000)
    assert dict(report.not_stored) == {"too_large": 1}  # a/1's video says it is 100,000 bytes
    assert report.again == 1  # a/1's photo: the bytes b/1's brought already
    assert rows(db_path)[1][4:8] == ("too_large", None, None, len(make_mp4(size=100_000)))


def test_media_fetch_on_the_command_line_and_verify(server, db_path):
    urls = {
        "ok": server.add("/ok.jpg", make_jpeg(1)),
        "gone": server.add("/g.jpg", b"", fault="410"),
    }
    _archive_of(db_path, urls)
    runner = CliRunner()
    result = runner.invoke(cli, ["media", "fetch", "--db", str(db_path), "--delay", "0"])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        r"fetched 1 file\(s\) \(0\.0 MB\); not stored: 1 expired in \d+\.\d s",
        result.stdout.splitlines()[0],
    )
    assert "perceptual hashes of 1 new file(s)" in result.stdout
    assert f"not stored: {urls['gone']}: HTTP 410" in result.stderr
    result = runner.invoke(cli, ["media", "verify", "--db", str(db_path)])
    assert (result.exit_code, result.stdout) == (0, "checked 1 file(s) (0.0 MB): all intact\n")
    stored = MediaStore.beside(db_path).path_of(sha(make_jpeg(1)))
    os.chmod(stored, 0o644)  # stored read-only: an edit takes a deliberate step
    stored.write_bytes(make_jpeg(2))
    result = runner.invoke(cli, ["media", "verify", "--db", str(db_path)])
    assert result.exit_code == 1
    aside = MediaStore.beside(db_path).root / "altered" / f"{sha(make_jpeg(1))}.1"
    assert result.stdout == (
        f"checked 1 file(s) (0.0 MB): 0 missing, 1 altered\n"
        f"  altered {sha(make_jpeg(1))} (x/1), moved to {aside}\n"
    )
    assert "tgscope media fetch fetches them again" in result.stderr
    assert aside.read_bytes() == make_jpeg(2)  # the altered bytes kept to look at
    result = runner.invoke(cli, ["media", "fetch", "--db", str(db_path), "--delay", "0"])
    assert result.exit_code == 0 and stored.read_bytes() == make_jpeg(1)  # repaired
    result = runner.invoke(cli, ["media", "verify", "--db", str(db_path)])
    assert result.exit_code == 0


def test_bad_options_are_one_line_errors(db_path):
    Archive.open(db_path).close()
    runner = CliRunner()
    result = runner.invoke(cli, ["media", "fetch", "--db", str(db_path), "--types", "photo,gifs"])
    assert result.exit_code == 1
    assert "media types: gifs unknown" in result.output
    result = runner.invoke(cli, ["media", "fetch", "--db", str(db_path), "--max-size", "lots"])
    assert "max size: 'lots' is not a size" in result.output


def test_show_and_export_give_each_stored_medium_its_hash_and_path(server, db_path, tmp_path):
    body = make_jpeg(1)
    urls = {"ok": server.add("/ok.jpg", body), "gone": server.add("/g.jpg", b"", fault="403")}
    _archive_of(db_path, urls)
    with Archive.open(db_path) as archive:
        fetch(archive, server)
    stored = MediaStore.beside(db_path).path_of(sha(body))
    runner = CliRunner()
    shown = json.loads(runner.invoke(cli, ["show", "--db", str(db_path), "--json", "x/1"]).stdout)
    assert shown["media"] == [
        {"type": "photo", "url": urls["ok"], "sha256": sha(body), "path": str(stored)}
    ]
    shown = json.loads(runner.invoke(cli, ["show", "--db", str(db_path), "--json", "x/2"]).stdout)
    assert shown["media"] == [{"type": "photo", "url": urls["gone"], "fetch_status": "expired"}]
    text = runner.invoke(cli, ["show", "--db", str(db_path), "x/1"]).stdout
    assert f"file stored: {stored} (sha256 {sha(body)})" in text.replace("\n", "")
    out, folder = tmp_path / "posts.jsonl", tmp_path / "files"
    result = runner.invoke(
        cli, ["export", "--db", str(db_path), "-o", str(out), "--with-media", str(folder)]
    )
    assert result.exit_code == 0, result.output
    assert "1 media file(s) in" in result.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records[0]["media"][0]["path"] == f"files/{sha(body)}"  # beside the JSONL
    assert (folder / sha(body)).read_bytes() == body
    assert (folder / "SHA256SUMS").read_text() == f"{sha(body)}  {sha(body)}\n"
    assert sorted(os.listdir(folder)) == sorted([sha(body), "SHA256SUMS"])
    result = runner.invoke(
        cli, ["export", "--db", str(db_path), "--format", "csv", "--with-media", str(folder)]
    )
    assert result.exit_code == 2 and "--with-media goes with --format jsonl" in result.output


KILLED_FETCH = """
import sys
from tgscope.archive import Archive
from tgscope.collect.http import FetchPolicy, make_client
from tgscope.collect.media import fetch_media
policy = FetchPolicy(delay=0, retries=0, deadline=60)
with Archive.open(sys.argv[1]) as archive, make_client(policy=policy) as client:
    fetch_media(archive, client=client, policy=policy)
"""


@pytest.mark.slow
def test_a_killed_fetch_loses_nothing_and_a_rerun_fetches_nothing_twice(server, db_path):
    bodies = {f"/{n}.jpg": make_jpeg(n, size=(200, 150)) for n in range(1, 9)}
    urls = {}
    for path, body in bodies.items():
        slow = path == "/5.jpg"
        urls[path] = server.add(path, body, fault="slow" if slow else None, slow_seconds=30)
    _archive_of(db_path, urls)
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_FETCH, str(db_path)],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    try:
        end = time.monotonic() + 30
        while server.requests["/5.jpg"] == 0 and time.monotonic() < end:
            time.sleep(0.05)
        assert server.requests["/5.jpg"] == 1
        time.sleep(0.3)  # mid-body
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(10)
    done_before = {row[0] for row in rows(db_path) if row[4] == "stored"}
    assert done_before == {"x/1", "x/2", "x/3", "x/4"}
    server.add("/5.jpg", bodies["/5.jpg"])  # the slow link answers at once now
    with Archive.open(db_path) as archive:
        report = fetch(archive, server)
    assert (report.stored, report.done_before) == (4, 4)
    assert server.requests == {path: 2 if path == "/5.jpg" else 1 for path in bodies}
    assert [row[4] for row in rows(db_path)] == ["stored"] * 8
    assert list((MediaStore.beside(db_path).root / "tmp").iterdir()) == []
    for body in bodies.values():
        assert MediaStore.beside(db_path).path_of(sha(body)).read_bytes() == body


def test_a_stored_file_lost_from_the_store_is_fetched_again(server, db_path):
    body = make_jpeg(1)
    _archive_of(db_path, {"ok": server.add("/ok.jpg", body)})
    with Archive.open(db_path) as archive:
        fetch(archive, server)
        stored = MediaStore.beside(db_path).path_of(sha(body))
        stored.unlink()
        shown = archive.media.annotated([archive.get("x/1")])[0]["media"][0]
        assert shown["fetch_status"] == "file_missing" and "path" not in shown
        report = fetch(archive, server)
    assert (report.taken, server.requests["/ok.jpg"]) == (1, 2)
    assert stored.read_bytes() == body


def test_a_body_too_large_without_a_length_is_tried_again_under_a_larger_cap(server, db_path):
    big = server.add("/chunked.bin", b"", fault="huge-chunked")
    _archive_of(db_path, {"big": big}, kind="document")
    with Archive.open(db_path) as archive:
        assert dict(fetch(archive, server, max_size=1024).not_stored) == {"too_large": 1}
        assert fetch(archive, server, max_size=1024).done_before == 1  # the same cap
        assert dict(fetch(archive, server, max_size=4096).not_stored) == {"too_large": 1}
    assert server.requests["/chunked.bin"] == 2


def test_a_record_cannot_claim_a_stored_file_the_archive_does_not_have(db_path):
    forged = {"type": "photo", "url": None, "sha256": "0" * 64, "path": "/etc/passwd"}
    with Archive.open(db_path) as archive:
        archive.ingest([post("x/1", "forged", channel="x", media=[forged])], source())
        shown = archive.media.annotated([archive.get("x/1")])[0]["media"][0]
    assert shown == {"type": "photo", "url": None}


def test_sync_with_media_fetches_the_channel_s_media_after_its_posts(server, db_path):
    photo = server.add("/p/1.jpg", make_jpeg(1))
    gone = server.add("/p/2.jpg", b"", fault="403")
    page = channel_page("mfarussia", {1: [("photo", photo)], 2: [("photo", gone)]})
    server.add_page("mfarussia", page)
    runner = CliRunner()
    common = ["sync", "--db", str(db_path), "--base-url", server.base_url, "--delay", "0"]
    result = runner.invoke(cli, [*common, "--media", "--media-types", "photos", "mfarussia"])
    assert result.exit_code == 1 and "--media-types: media types: photos unknown" in result.output
    assert server.requests == {}  # refused before anything was asked
    result = runner.invoke(cli, [*common, "--media", "mfarussia", "nosuchchannel"])
    assert result.exit_code == 1, result.output  # the channel without a preview
    assert "nosuchchannel: media" not in result.output  # its sync said why: nothing more
    assert re.search(
        r"^mfarussia: media: fetched 1 file\(s\) \(0\.0 MB\); not stored: 1 expired in [\d.]+ s$",
        result.stdout,
        re.M,
    )
    assert f"not stored: {gone}: HTTP 403" in result.stderr
    assert [row[4] for row in rows(db_path)] == ["stored", "expired"]


def test_fetching_an_unknown_channel_s_media_is_an_error(db_path):
    Archive.open(db_path).close()
    result = CliRunner().invoke(cli, ["media", "fetch", "--db", str(db_path), "--channel", "@Nope"])
    assert result.exit_code == 1 and "no channel 'nope' in the archive" in result.output


def test_a_second_fetch_on_the_same_archive_at_once_is_refused(server, db_path):
    _archive_of(db_path, {"ok": server.add("/ok.jpg", make_jpeg(1))})
    busy = "another media fetch is running on this archive"
    with (
        Archive.open(db_path) as archive,
        MediaStore.beside(db_path).fetching(),
        pytest.raises(StoreError, match=busy),
    ):
        fetch(archive, server)
    assert server.requests == {}
