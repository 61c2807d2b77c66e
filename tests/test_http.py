"""The HTTP seam against a hostile server: bounded in size, time and waiting, quick to give up
on what will not pass, patient with what will.  Servers here listen on 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tgscope.collect.http import FetchPolicy, Wait, fetch, make_client
from tgscope.errors import FetchError, OptionError

QUICK = FetchPolicy(delay=0, backoff=0.001, retries=3, timeout=5, deadline=5)


@contextmanager
def serving(
    answer: Callable[[BaseHTTPRequestHandler], None], protocol: str = "HTTP/1.0"
) -> Iterator[str]:
    """A loopback HTTP server whose every GET is answered by ``answer(handler)``; with
    ``protocol="HTTP/1.1"`` it keeps connections open between requests."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = protocol

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # it stopped reading
                answer(self)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def mock_client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler), base_url="http://x")


@pytest.mark.slow
def test_an_endless_body_stops_at_the_cap_with_a_clear_error():
    sent = []

    def endless(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        for _ in range(2048):  # 2 GB if nobody stops reading
            handler.wfile.write(b"a" * (1 << 20))
            sent.append(1)

    policy = FetchPolicy(delay=0, retries=3, max_bytes=1 << 20)
    with serving(endless) as url, make_client(url, policy=policy) as client:
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetch(client, "/s/big", policy=policy)
        took = time.monotonic() - started
    assert str(caught.value) == (
        f"{url}/s/big: the answer is larger than 1,048,576 bytes (decompressed); stopped reading it"
    )
    assert took < 5 and len(sent) < 50  # one attempt, not retried, and the rest never read


@pytest.mark.slow
def test_a_gzip_bomb_stops_at_the_cap_without_inflating_in_memory():
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    zeros = bytes(1 << 20)
    bomb = b"".join(packer.compress(zeros) for _ in range(512)) + packer.flush()  # 512 MB
    assert len(bomb) < 1 << 20

    def gzipped(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(bomb)))
        handler.end_headers()
        handler.wfile.write(bomb)

    policy = FetchPolicy(delay=0, retries=0, max_bytes=5 << 20)
    with serving(gzipped) as url, make_client(url, policy=policy) as client:
        tracemalloc.start()
        try:
            with pytest.raises(FetchError, match=r"larger than 5,242,880 bytes \(decompressed\)"):
                fetch(client, "/s/bomb", policy=policy)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 8 << 20  # it inflates to 512 MB; held: the cap and a piece (6.3 MB)


@pytest.mark.slow
def test_a_drip_fed_answer_ends_at_the_deadline_and_is_tried_twice_only():
    asked = []

    def drip(handler):
        asked.append(1)
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        for _ in range(300):  # one byte every 0.2 s for a minute: each read is quick
            handler.wfile.write(b"<")
            handler.wfile.flush()
            time.sleep(0.2)

    policy = FetchPolicy(delay=0, retries=6, backoff=0.01, timeout=5, deadline=1)
    with serving(drip) as url, make_client(url, policy=policy) as client:
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetch(client, "/s/slow", policy=policy)
        took = time.monotonic() - started
    assert str(caught.value) == f"{url}/s/slow: no whole answer within 1 s, twice"
    assert len(asked) == 2  # not the six retries other failures get
    assert 2 <= took < 4  # two attempts of one second each, whatever the server would send


@pytest.mark.slow
def test_a_refused_connection_fails_at_once():
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    waits: list[float] = []
    policy = FetchPolicy()  # six retries with backoff: 63 s if it were retried
    with make_client(f"http://127.0.0.1:{port}", policy=policy) as client:
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetch(client, "/s/chan", policy=policy, sleep=waits.append)
        took = time.monotonic() - started
    assert str(caught.value) == f"http://127.0.0.1:{port}/s/chan: connection refused"
    assert waits == [] and took < 2


def test_a_host_name_that_does_not_resolve_fails_at_once():
    def unresolvable(request):
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as error:
            raise httpx.ConnectError(str(error), request=request) from error

    waits: list[float] = []
    with pytest.raises(FetchError) as caught:
        fetch(mock_client(unresolvable), "/s/a", policy=FetchPolicy(), sleep=waits.append)
    assert str(caught.value) == (
        "http://x/s/a: the host name does not resolve (Name or service not known)"
    )
    assert waits == []


def test_transient_failures_are_still_retried():
    failures = iter(
        [
            httpx.ConnectError("[Errno 104] Connection reset by peer"),
            httpx.ReadTimeout("timed out"),
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
        ]
    )

    def flaky(request):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return httpx.Response(200, text="ok")

    waits: list[float] = []
    assert fetch(mock_client(flaky), "/s/a", policy=QUICK, sleep=waits.append).text == "ok"
    assert len(waits) == 3


def test_a_retry_after_longer_than_the_longest_wait_fails_at_once_saying_so():
    def busy(request):
        return httpx.Response(429, headers={"Retry-After": "100000"})

    waits: list[float] = []
    with pytest.raises(FetchError) as caught:
        fetch(mock_client(busy), "/s/a", policy=FetchPolicy(max_wait=60), sleep=waits.append)
    assert str(caught.value) == (
        "http://x/s/a: 429 Too Many Requests: the server asks to wait 100000 s (Retry-After),"
        " longer than the 60 s allowed; try again later"
    )
    assert waits == []


def test_long_waits_are_announced_before_they_start():
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "30"}),
            httpx.Response(503),
            httpx.Response(503),
            httpx.Response(200, text="ok"),
        ]
    )
    waits: list[float] = []
    announced: list[Wait] = []
    policy = FetchPolicy(delay=0, backoff=1.5, max_wait=60)
    response = fetch(
        mock_client(lambda request: next(answers)),
        "/s/a",
        policy=policy,
        sleep=waits.append,
        on_wait=announced.append,
    )
    assert response.text == "ok"
    assert waits == [30.0, 3.0, 6.0]  # the backoff doubles with each attempt: 1.5 s × 2, × 4
    assert [str(wait) for wait in announced] == [
        "http://x/s/a: 429 Too Many Requests, waiting 30 s (Retry-After)",
        "http://x/s/a: HTTP 503, waiting 3 s (retry 2 of 6)",
        "http://x/s/a: HTTP 503, waiting 6 s (retry 3 of 6)",
    ]


def test_backoff_is_capped_by_the_longest_wait():
    waits: list[float] = []
    with pytest.raises(FetchError, match=r"gave up after 7 attempts \(HTTP 500\)"):
        fetch(
            mock_client(lambda request: httpx.Response(500)),
            "/s/a",
            policy=FetchPolicy(backoff=10, max_wait=25),
            sleep=waits.append,
        )
    assert waits == [10, 20, 25, 25, 25, 25]


def test_a_bad_base_url_names_no_option():
    with pytest.raises(OptionError) as caught:
        make_client("ftp://x")
    assert str(caught.value) == "not an http(s) address: 'ftp://x'"


def drip_headers(handler: BaseHTTPRequestHandler, every: float = 0.2) -> None:
    """Answer with the status line and headers one byte at a time: each read is quick."""
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok":
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(every)


@pytest.mark.slow
def test_headers_drip_fed_end_at_the_deadline():
    asked = []

    def drip(handler):
        asked.append(1)
        drip_headers(handler)

    policy = FetchPolicy(delay=0, retries=6, backoff=0.01, timeout=5, deadline=1)
    with serving(drip) as url, make_client(url, policy=policy) as client:
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetch(client, "/s/slow", policy=policy)
        took = time.monotonic() - started
    assert str(caught.value) == f"{url}/s/slow: no whole answer within 1 s, twice"
    assert len(asked) == 2
    assert 2 <= took < 3.5  # two attempts of one second each; the headers alone take 13 s


@pytest.mark.slow
def test_headers_drip_fed_on_a_reused_connection_end_at_the_deadline_sparing_other_requests():
    """A request waiting for headers on a kept-alive connection is cut at its deadline; a
    request of the same client on another connection (a second sync job) is not."""
    paths = []

    def answer(handler):
        paths.append(handler.path)
        if handler.path == "/s/drip":
            drip_headers(handler)
            return
        handler.send_response(200)
        handler.send_header("Content-Length", "10")
        handler.end_headers()
        for _ in range(10):  # /s/slow: a whole second, still within its deadline
            handler.wfile.write(b"<")
            handler.wfile.flush()
            time.sleep(0.1 if handler.path == "/s/slow" else 0)

    policy = FetchPolicy(delay=0, retries=0, timeout=5, deadline=1.5)
    with serving(answer, protocol="HTTP/1.1") as url, make_client(url, policy=policy) as client:
        assert fetch(client, "/s/warm", policy=policy).text == "<" * 10  # the connection stays
        other: list[bytes] = []
        beside = threading.Timer(
            0.3, lambda: other.append(fetch(client, "/s/slow", policy=policy).content)
        )
        started = time.monotonic()
        beside.start()
        with pytest.raises(FetchError) as caught:
            fetch(client, "/s/drip", policy=policy)
        took = time.monotonic() - started
        beside.join()
    assert (
        str(caught.value)
        == f"{url}/s/drip: gave up after 1 attempts (no whole answer within 1.5 s)"
    )
    assert 1.5 <= took < 2.5
    assert other == [b"<" * 10]
    assert paths == ["/s/warm", "/s/drip", "/s/slow"]


def slow_body(seconds: float) -> Iterator[bytes]:
    """A body streamed in memory that takes ``seconds`` to arrive."""
    yield b"<"
    time.sleep(seconds)
    yield b">"


def test_a_deadline_overrun_is_retried_once_while_other_failures_are_retried_as_before():
    def answers():
        yield httpx.Response(200, content=slow_body(0.2))
        yield httpx.Response(503)
        yield httpx.Response(503)
        yield httpx.Response(200, text="ok")
        yield httpx.Response(200, content=slow_body(0.2))
        yield httpx.Response(503)
        yield httpx.Response(200, content=slow_body(0.2))

    given = answers()
    client = mock_client(lambda request: next(given))
    policy = FetchPolicy(delay=0, backoff=0.001, retries=6, deadline=0.1)
    waits: list[float] = []
    assert fetch(client, "/s/a", policy=policy, sleep=waits.append).text == "ok"
    assert len(waits) == 3
    with pytest.raises(FetchError) as caught:
        fetch(client, "/s/a", policy=policy, sleep=waits.append)
    assert str(caught.value) == "http://x/s/a: no whole answer within 0.1 s, twice"
    assert len(waits) == 5


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        ("gzip", zlib.compress(b"<p>ok</p>", wbits=31)),
        ("x-gzip", zlib.compress(b"<p>ok</p>", wbits=31)),
        ("deflate", zlib.compress(b"<p>ok</p>")),
        ("deflate", zlib.compress(b"<p>ok</p>", wbits=-15)),  # raw, as some servers send
        ("identity", b"<p>ok</p>"),
        ("", b"<p>ok</p>"),
    ],
    ids=["gzip", "x-gzip", "deflate", "raw-deflate", "identity", "none"],
)
def test_the_encodings_asked_for_are_decoded(coding, body):
    def answer(request):
        chunks = iter([body[:3], body[3:]])  # streamed, in two pieces
        return httpx.Response(200, headers={"Content-Encoding": coding}, content=chunks)

    response = fetch(mock_client(answer), "/s/a", policy=QUICK)
    assert response.content == b"<p>ok</p>"
    assert "Content-Encoding" not in response.headers


@pytest.mark.parametrize("coding", ["gzip, gzip", "br", "gzip, identity"])
def test_stacked_or_unknown_encodings_are_refused(coding):
    def answer(request):
        return httpx.Response(200, headers={"Content-Encoding": coding}, content=iter([b"x"]))

    waits: list[float] = []
    with pytest.raises(FetchError) as caught:
        fetch(mock_client(answer), "/s/a", policy=QUICK, sleep=waits.append)
    assert str(caught.value) == (
        f"http://x/s/a: cannot decode Content-Encoding {coding!r}"
        " (only gzip or deflate, applied once)"
    )
    assert waits == []


def test_a_body_that_is_not_what_its_encoding_says_is_refused():
    def answer(request):
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=iter([b"nope"]))

    with pytest.raises(FetchError) as caught:
        fetch(mock_client(answer), "/s/a", policy=QUICK)
    assert str(caught.value) == (
        "http://x/s/a: the answer is not valid gzip"
        " (Error -3 while decompressing data: incorrect header check)"
    )


@pytest.mark.slow
def test_a_stacked_gzip_bomb_is_refused_before_inflating():
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    inner = b"".join(packer.compress(zeros) for _ in range(256)) + packer.flush()  # 256 MB
    bomb = zlib.compress(inner, 9, wbits=31)
    assert len(bomb) < 10_000

    def gzipped(handler):
        handler.send_response(200)
        handler.send_header("Content-Encoding", "gzip, gzip")
        handler.send_header("Content-Length", str(len(bomb)))
        handler.end_headers()
        handler.wfile.write(bomb)

    policy = FetchPolicy(delay=0, retries=3, max_bytes=5 << 20)
    with serving(gzipped) as url, make_client(url, policy=policy) as client:
        tracemalloc.start()
        try:
            with pytest.raises(FetchError) as caught:
                fetch(client, "/s/bomb", policy=policy)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert str(caught.value) == (
        f"{url}/s/bomb: cannot decode Content-Encoding 'gzip, gzip' (only gzip or deflate,"
        " applied once)"
    )
    assert peak < 1 << 20


@pytest.mark.slow
def test_a_redirects_body_is_never_read():
    sent = []

    def answer(handler):
        if handler.path == "/s/moved":
            handler.send_response(302)
            handler.send_header("Location", "/s/here")
            handler.end_headers()
            for _ in range(2048):  # 2 GB if anybody reads it
                handler.wfile.write(b"a" * (1 << 20))
                sent.append(1)
            return
        handler.send_response(200)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"ok")

    policy = FetchPolicy(delay=0, retries=0, max_bytes=1 << 20)
    with serving(answer) as url, make_client(url, policy=policy) as client:
        started = time.monotonic()
        response = fetch(client, "/s/moved", policy=policy)
        took = time.monotonic() - started
    assert (response.text, str(response.url)) == ("ok", f"{url}/s/here")
    assert [str(moved.url) for moved in response.history] == [f"{url}/s/moved"]
    assert took < 2 and len(sent) < 50


def test_endless_redirects_fail_saying_so():
    def moved(request):
        return httpx.Response(302, headers={"Location": "/s/again"}, content=iter([b""]))

    client = httpx.Client(
        transport=httpx.MockTransport(moved), base_url="http://x", follow_redirects=True
    )
    with pytest.raises(FetchError) as caught:
        fetch(client, "/s/a", policy=QUICK)
    assert str(caught.value) == "http://x/s/a: Exceeded maximum allowed redirects (20)"


def test_a_body_inflating_to_exactly_the_cap_is_whole_and_one_byte_more_is_refused():
    page = b"".join(b"<p>%d</p>" % number for number in range(400_000))  # 5 MB, many pieces
    packed = zlib.compress(page, wbits=31)

    def answer(request):
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=iter([packed]))

    exact = FetchPolicy(delay=0, retries=0, max_bytes=len(page))
    assert fetch(mock_client(answer), "/s/a", policy=exact).content == page
    short = FetchPolicy(delay=0, retries=0, max_bytes=len(page) - 1)
    with pytest.raises(FetchError) as caught:
        fetch(mock_client(answer), "/s/a", policy=short)
    assert str(caught.value) == (
        "http://x/s/a: the answer is larger than 5,088,889 bytes (decompressed); stopped reading it"
    )


def test_a_compressed_answer_cut_short_is_not_taken_as_whole():
    import gzip

    whole = gzip.compress(b"<p>" + b"word " * 5000 + b"</p>")

    def answer(request):
        return httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, content=iter([whole[:-40]])
        )

    waits: list[float] = []
    with pytest.raises(FetchError, match=r"\(the gzip answer was cut short\)"):
        fetch(mock_client(answer), "/s/a", policy=QUICK, sleep=waits.append)
    assert len(waits) == QUICK.retries  # retried as a transient failure


class _FakeWatch:
    """Stands for a request's watch: records when the watchdog cuts it."""

    def __init__(self, fails: bool = False):
        import threading

        self.finished, self.fails, self.cut = False, fails, threading.Event()

    def _cut(self) -> None:
        self.cut.set()
        if self.fails:
            raise OSError("a socket that went away meanwhile")


def test_one_watch_failing_to_cut_leaves_the_watchdog_to_the_others():
    from tgscope.collect.http import _WATCHDOG

    failing, later = _FakeWatch(fails=True), _FakeWatch()
    _WATCHDOG.watch(failing, 0.01)
    assert failing.cut.wait(2)
    _WATCHDOG.watch(later, 0.01)
    assert later.cut.wait(2)
    _WATCHDOG.forget(failing)
    _WATCHDOG.forget(later)


def test_a_forked_child_has_its_own_watchdog():
    import multiprocessing

    context = multiprocessing.get_context("fork")
    busy = _FakeWatch()
    from tgscope.collect.http import _WATCHDOG

    _WATCHDOG.watch(busy, 30)  # the parent's watchdog thread is waiting when it forks
    try:
        child = context.Process(target=_cut_in_time)
        child.start()
        child.join(10)
        assert child.exitcode == 0
    finally:
        _WATCHDOG.forget(busy)


def _cut_in_time() -> None:
    import sys

    from tgscope.collect.http import _WATCHDOG

    watch = _FakeWatch()
    _WATCHDOG.watch(watch, 0.01)
    sys.exit(0 if watch.cut.wait(3) else 1)
