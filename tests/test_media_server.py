"""The loopback media server the media-download tests use: each fault does what it says."""

from __future__ import annotations

import io
import threading
import time
import tracemalloc

import filetype
import httpx
import pytest
from PIL import Image

from tgscope.sources.web import parse_page

from .media_server import (
    HUGE_SIZE,
    MediaServer,
    channel_page,
    make_jpeg,
    make_mp4,
    make_png,
)

JPEG = make_jpeg(1, size=(120, 90))


@pytest.fixture
def server():
    with MediaServer(slow_seconds=0.3) as server:
        yield server


@pytest.fixture
def client():
    with httpx.Client(timeout=5) as client:
        yield client


def test_serves_a_file_and_counts_it(server, client):
    url = server.add("file/a.jpg", JPEG)
    assert url == server.url("/file/a.jpg") == f"{server.base_url}/file/a.jpg"
    first, again = client.get(url + "?token=1"), client.get(url)
    assert (first.status_code, first.content, first.headers["content-type"]) == (
        200,
        JPEG,
        "image/jpeg",
    )
    assert first.headers["content-length"] == str(len(JPEG))
    assert again.content == JPEG
    assert client.get(server.url("/nowhere.jpg")).status_code == 404
    assert server.requests == {"/file/a.jpg": 2, "/nowhere.jpg": 1}
    assert server.completed == {"/file/a.jpg": 2}


def test_the_content_type_is_the_registered_one(server, client):
    url = server.add("/v.mp4", make_mp4(), "video/mp4")
    assert client.get(url).headers["content-type"] == "video/mp4"


@pytest.mark.parametrize("status", [404, 403, 410])
def test_error_statuses_every_time(server, client, status):
    url = server.add("/gone.jpg", JPEG, fault=str(status))
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == status
        assert response.headers["content-type"].startswith("text/html")
        assert response.content != JPEG
    assert server.requests["/gone.jpg"] == 2
    assert not server.completed


def test_500_once_then_the_file(server, client):
    url = server.add("/flaky.jpg", JPEG, fault="500-once")
    assert client.get(url).status_code == 500
    assert client.get(url).content == JPEG
    assert server.requests["/flaky.jpg"] == 2
    assert server.completed == {"/flaky.jpg": 1}


def test_429_once_asks_to_retry_at_once(server, client):
    url = server.add("/busy.jpg", JPEG, fault="429-once")
    first = client.get(url)
    assert (first.status_code, first.headers["retry-after"]) == (429, "0")
    assert client.get(url).content == JPEG
    assert server.completed == {"/busy.jpg": 1}


def _read_until_error(client: httpx.Client, url: str) -> tuple[httpx.Headers, int]:
    """The headers and how many bytes came before the connection broke."""
    received = 0
    with client.stream("GET", url) as response:
        with pytest.raises(httpx.RemoteProtocolError):
            for chunk in response.iter_raw():
                received += len(chunk)
        return response.headers, received


def test_cut_sends_half_and_closes(server, client):
    url = server.add("/cut.jpg", JPEG, fault="cut")
    for _ in range(2):
        headers, received = _read_until_error(client, url)
        assert headers["content-length"] == str(len(JPEG))
        assert received == len(JPEG) // 2
    assert server.requests["/cut.jpg"] == 2
    assert not server.completed


def test_cut_once_then_the_file(server, client):
    url = server.add("/cut.jpg", JPEG, fault="cut-once")
    assert _read_until_error(client, url)[1] == len(JPEG) // 2
    assert client.get(url).content == JPEG
    assert server.completed == {"/cut.jpg": 1}


@pytest.mark.parametrize("fault", ["huge", "huge-chunked"])
def test_huge_streams_without_holding_it(server, client, fault):
    url = server.add("/huge.jpg", b"", fault=fault)
    tracemalloc.start()
    try:
        received = 0
        with client.stream("GET", url) as response:
            for chunk in response.iter_raw():
                assert not chunk.strip(b"\0")
                received += len(chunk)
                if received >= 5_000_000:
                    break
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if fault == "huge":
        assert response.headers["content-length"] == str(HUGE_SIZE) == "2147483648"
    else:
        assert "content-length" not in response.headers
        assert response.headers["transfer-encoding"] == "chunked"
    assert peak < 4_000_000  # server and client together: a few 64 kB pieces
    assert server.wait_idle(5.0, connections=True)  # the handler saw the client go, and ended
    assert not server.completed


@pytest.mark.parametrize("size", [200_001, 2 * 65536, 1])
@pytest.mark.parametrize("fault", ["huge", "huge-chunked"])
def test_huge_ends_properly_for_a_patient_client(client, fault, size):
    with MediaServer(huge_size=size) as server:
        url = server.add("/huge.jpg", b"", fault=fault)
        response = client.get(url)
        assert response.content == bytes(size)
        assert server.completed == {"/huge.jpg": 1}


def test_wrong_type_serves_the_file_as_html(server, client):
    url = server.add("/a.jpg", JPEG, fault="wrong-type")
    response = client.get(url)
    assert response.content == JPEG
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert server.completed == {"/a.jpg": 1}


def test_html_answers_an_error_page_with_200(server, client):
    url = server.add("/a.jpg", JPEG, fault="html")
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text.startswith("<!DOCTYPE html>")
    assert not server.completed  # the file itself was not sent


def test_slow_drips_the_body_over_the_time_asked(server, client):
    url = server.add("/slow.jpg", JPEG, fault="slow")
    pieces, start = [], time.monotonic()
    with client.stream("GET", url) as response:
        pieces = list(response.iter_raw())
    elapsed = time.monotonic() - start
    assert b"".join(pieces) == JPEG
    assert len(pieces) >= 4
    assert 0.25 <= elapsed < 1.5  # slow_seconds=0.3
    assert server.completed == {"/slow.jpg": 1}


def test_slow_seconds_per_file(server, client):
    url = server.add("/slower.jpg", JPEG, fault="slow", slow_seconds=0.6)
    start = time.monotonic()
    assert client.get(url).content == JPEG
    assert time.monotonic() - start >= 0.55


@pytest.mark.parametrize("fault", ["slow", "huge"])
def test_close_returns_promptly_with_a_client_mid_body(fault):
    """A dripping body, and a huge one the client stopped reading (the server blocked on a
    full socket buffer): close() cuts both."""
    server = MediaServer(slow_seconds=60)
    url = server.add("/a.jpg", JPEG, fault=fault)
    started, outcome = threading.Event(), []

    def download() -> None:
        with httpx.Client(timeout=30) as client:
            try:
                with client.stream("GET", url) as response:
                    for _ in response.iter_raw():
                        started.set()
                        if fault == "huge":
                            time.sleep(30)  # stop reading; the server fills the buffers
                outcome.append("whole")
            except httpx.HTTPError as error:
                outcome.append(type(error).__name__)

    thread = threading.Thread(target=download, daemon=True)
    thread.start()
    assert started.wait(5)
    time.sleep(0.2)
    start = time.monotonic()
    server.close()
    assert time.monotonic() - start < 1.0
    assert server.open_connections == 0
    if fault == "slow":  # the client learns at once that the answer is cut
        thread.join(2)
        assert outcome == ["RemoteProtocolError"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=1)
    server.close()  # a second close does nothing


def test_close_ends_idle_keep_alive_connections(server, client):
    assert client.get(server.add("/a.jpg", JPEG)).content == JPEG
    assert server.open_connections == 1  # kept alive
    server.close()
    assert server.open_connections == 0


def test_counts_under_concurrent_requests(server):
    url = server.add("/a.jpg", JPEG)

    def fetch_many() -> None:
        with httpx.Client() as client:
            for _ in range(10):
                client.get(url)

    threads = [threading.Thread(target=fetch_many) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.requests == {"/a.jpg": 60}
    assert server.completed == {"/a.jpg": 60}


def test_completed_is_counted_by_the_time_the_client_has_the_body(server, client):
    urls = [server.add("/a.jpg", JPEG), server.add("/empty.jpg", b"", fault="slow")]
    for number in range(1, 51):
        for url in urls:
            client.get(url)
        assert server.completed == {"/a.jpg": number, "/empty.jpg": number}


def test_unknown_fault_is_refused(server):
    with pytest.raises(ValueError, match="unknown fault 'teapot'"):
        server.add("/a.jpg", JPEG, fault="teapot")


def test_generated_media_are_seeded():
    assert make_jpeg(7) == make_jpeg(7) != make_jpeg(8)
    assert make_jpeg(7, quality=30) != make_jpeg(7)
    assert make_png(7) == make_png(7) != make_png(8)
    assert make_mp4(7) == make_mp4(7) != make_mp4(8)
    with Image.open(io.BytesIO(make_jpeg(3, size=(64, 48)))) as image:
        assert (image.format, image.size) == ("JPEG", (64, 48))
    with Image.open(io.BytesIO(make_png(3))) as image:
        assert (image.format, image.size) == ("PNG", (800, 600))
    assert len(make_mp4(size=2048)) == 2048
    assert [filetype.guess_mime(blob) for blob in (make_jpeg(1), make_png(1), make_mp4())] == [
        "image/jpeg",
        "image/png",
        "video/mp4",
    ]


def test_jpeg_and_png_of_a_seed_are_the_same_picture():
    with (
        Image.open(io.BytesIO(make_jpeg(5, quality=95))) as jpeg,
        Image.open(io.BytesIO(make_png(5))) as png,
    ):
        difference = [abs(a - b) for a, b in zip(jpeg.tobytes(), png.tobytes(), strict=True)]
    assert sum(difference) / len(difference) < 4


def test_a_channel_page_from_the_same_server(server, client):
    photo = server.add("/file/p.jpg", JPEG)
    video, poster = server.add("/file/v.mp4", make_mp4(), "video/mp4"), server.add("/t.jpg", JPEG)
    avatar = server.add("/avatar.jpg", JPEG)
    page = channel_page(
        "chan",
        {
            2: [("video", video, poster), ("link_preview", photo)],
            1: [("photo", photo)],
            3: [("round_video", video, poster)],
            4: [("round_video", video)],
        },
        avatar=avatar,
    )
    url = server.add_page("chan", page)
    assert url == f"{server.base_url}/s/chan"
    response = client.get(url + "?before=4")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    parsed = parse_page(response.text, url)
    assert parsed.warnings == []
    assert parsed.channel is not None and parsed.channel.avatar == avatar
    assert [(post.key, post.media) for post in parsed.posts] == [
        ("chan/1", [{"type": "photo", "url": photo}]),
        ("chan/2", [{"type": "video", "url": video, "duration": 5, "thumb": poster}]),
        ("chan/3", [{"type": "round_video", "url": video, "duration": 7, "thumb": poster}]),
        ("chan/4", [{"type": "round_video", "url": video, "duration": 7}]),
    ]
    assert parsed.posts[1].link_preview == {
        "url": "https://example.org/2",
        "site_name": "example.org",
        "title": "Article 2",
        "description": None,
        "image": photo,
    }
    assert server.requests["/s/chan"] == 1


def test_unknown_kind_of_medium_is_refused():
    with pytest.raises(ValueError, match="unknown kind of medium 'hologram'"):
        channel_page("chan", {1: [("hologram", "http://x/")]})
