"""A real HTTP server on 127.0.0.1 serving media files (and t.me/s-like pages that show them),
with a fault chosen per file: what Telegram's CDN and a hostile server can answer.

``with MediaServer() as server: url = server.add("/file/a.jpg", make_jpeg(1), fault="cut")``

Faults (see :data:`FAULTS`): ``404``, ``403`` (an expired link, as the CDN answers one),
``410``, ``500-once`` and ``429-once`` (``Retry-After: 0``): the fault the first time, the file
after; ``cut`` (the whole file's Content-Length, half of it sent, the connection closed) and
``cut-once``; ``huge`` (a 2 GB Content-Length and zeros streamed as the client reads, never held
in memory) and ``huge-chunked`` (the same, chunked, no length); ``wrong-type`` (the body as
``text/html``); ``html`` (200 with an HTML error page instead of the file); ``slow`` (the body
dripped a few bytes at a time over ``slow_seconds``).

The server speaks HTTP/1.1 with keep-alive, as a CDN does.  ``close()`` returns promptly even
while a client is mid-body: it cuts every open connection.  The images are generated, seeded:
the same seed gives the same bytes (with the same Pillow).
"""

from __future__ import annotations

import contextlib
import html
import io
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, ImageDraw

FAULTS = frozenset(
    {
        "404",
        "403",
        "410",
        "500-once",
        "429-once",
        "cut",
        "cut-once",
        "huge",
        "huge-chunked",
        "wrong-type",
        "html",
        "slow",
    }
)
HUGE_SIZE = 2 * 1024**3  # what a "huge" answer claims (and sends, to a patient client); > 0
_CHUNK = 64 * 1024
_ZEROS = bytes(_CHUNK)
_FRAMED_ZEROS = b"%x\r\n" % _CHUNK + _ZEROS + b"\r\n"  # one chunk of a chunked body
_DRIP_INTERVAL = 0.05  # seconds between two pieces of a "slow" body
_HTML = "text/html; charset=utf-8"
_STATUS_PAGES = {
    403: "<html><body><h1>403 Forbidden</h1><p>The link has expired.</p></body></html>",
    404: "<html><body><h1>404 Not Found</h1></body></html>",
    410: "<html><body><h1>410 Gone</h1></body></html>",
    500: "<html><body><h1>500 Internal Server Error</h1></body></html>",
}
_ERROR_PAGE = (  # what "html" answers, with status 200, in place of the file
    "<!DOCTYPE html><html><head><title>Telegram</title></head><body>"
    "<div class='tgme_page'>Sorry, this file is not available.</div></body></html>"
)


@dataclass(frozen=True)
class _File:
    body: bytes
    content_type: str
    fault: str | None
    slow_seconds: float


class MediaServer:
    """Files by path, each with its fault; ``requests`` and ``completed`` count by path."""

    def __init__(self, *, slow_seconds: float = 2.0, huge_size: int = HUGE_SIZE) -> None:
        self.slow_seconds = slow_seconds  # how long a "slow" body takes, unless add() says
        self.huge_size = huge_size  # what a "huge" answer claims, and streams
        self._requests: Counter[str] = Counter()
        self._completed: Counter[str] = Counter()
        self._finishing = 0  # answers sending their last bytes, not yet counted complete
        self._files: dict[str, _File] = {}
        self._pages: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._busy = 0  # requests being answered
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def __enter__(self) -> MediaServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def add(
        self,
        path: str,
        body: bytes,
        content_type: str = "image/jpeg",
        *,
        fault: str | None = None,
        slow_seconds: float | None = None,
    ) -> str:
        """Serve ``body`` at ``path`` (with or without its leading slash); its absolute URL."""
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(sorted(FAULTS))}")
        path = _path(path)
        seconds = self.slow_seconds if slow_seconds is None else slow_seconds
        with self._lock:
            self._files[path] = _File(body, content_type, fault, seconds)
        return self.url(path)

    def add_page(self, channel: str, page: str) -> str:
        """Serve ``page`` at ``/s/<channel>``, whatever the query (``?before=`` included)."""
        with self._lock:
            self._pages[channel] = page.encode()
        return self.url(f"/s/{channel}")

    def url(self, path: str) -> str:
        return self.base_url + _path(path)

    @property
    def requests(self) -> Counter[str]:
        """Every GET so far by URL path (query left out), unknown paths too: a copy."""
        with self._lock:
            return Counter(self._requests)

    @property
    def completed(self) -> Counter[str]:
        """The paths whose registered body was sent whole, as often as it was: a copy.

        A client can hold the last byte before the server has counted it: this waits (a
        second at most) for the answers sending their last bytes, so a test that has just
        read a whole body finds it counted."""
        end = time.monotonic() + 1.0
        while True:
            with self._lock:
                if not self._finishing or time.monotonic() > end:
                    return Counter(self._completed)
            time.sleep(0.001)

    @property
    def busy(self) -> int:
        """How many requests are being answered now."""
        with self._lock:
            return self._busy

    @property
    def open_connections(self) -> int:
        """How many client connections have a live handler thread."""
        with self._lock:
            return len(self._connections)

    def wait_idle(self, timeout: float = 5.0, *, connections: bool = False) -> bool:
        """Whether, within ``timeout``, no request is being answered (and, with
        ``connections``, no connection is open any more)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.busy == 0 and not (connections and self.open_connections):
                return True
            time.sleep(0.01)
        return False

    def close(self, timeout: float = 2.0) -> None:
        """Stop serving and cut every open connection, a client mid-body included; waits at
        most about ``timeout`` for the handler threads (daemons) to end."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._server.shutdown()
        with self._lock:
            connections = dict(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        end = time.monotonic() + timeout
        for thread in connections.values():
            thread.join(max(0.0, end - time.monotonic()))

    # what the handler calls

    def _begin(self, path: str) -> tuple[int, _File | bytes | None]:
        """Count a request; what it asks for, and how many times it has been asked for."""
        with self._lock:
            self._requests[path] += 1
            self._busy += 1
            thing: _File | bytes | None = self._files.get(path)
            if thing is None and path.startswith("/s/"):
                thing = self._pages.get(path.removeprefix("/s/"))
            return self._requests[path], thing

    def _end(self) -> None:
        with self._lock:
            self._busy -= 1

    def _finishing_begins(self) -> None:
        with self._lock:
            self._finishing += 1

    def _finishing_ends(self, path: str, whole: bool) -> None:
        with self._lock:
            self._finishing -= 1
            if whole:
                self._completed[path] += 1

    def _connected(self, sock: socket.socket) -> None:
        with self._lock:
            self._connections[sock] = threading.current_thread()
        if self._closing.is_set():  # accepted as close() was cutting the others
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _disconnected(self, sock: socket.socket) -> None:
        with self._lock:
            self._connections.pop(sock, None)


def _path(path: str) -> str:
    return "/" + path.lstrip("/")


def _handler(server: MediaServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, and chunked answers
        disable_nagle_algorithm = True  # headers and body go out at once
        timeout = 30  # an abandoned connection ends its thread in the end

        def setup(self) -> None:
            super().setup()
            server._connected(self.connection)

        def finish(self) -> None:
            try:
                with contextlib.suppress(OSError):
                    super().finish()
            finally:
                server._disconnected(self.connection)

        def handle(self) -> None:
            with contextlib.suppress(OSError):  # a client that reset its idle connection
                super().handle()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            count, thing = server._begin(path)
            try:
                if isinstance(thing, bytes):
                    self._send(200, _HTML, thing)
                elif thing is None:
                    self._send(404, _HTML, _STATUS_PAGES[404].encode())
                else:
                    self._answer(path, thing, count)
            except OSError:  # the client went away, or close() cut the connection
                self.close_connection = True
            finally:
                server._end()

        def _answer(self, path: str, file: _File, count: int) -> None:
            fault = file.fault
            if fault in ("404", "403", "410") or (fault == "500-once" and count == 1):
                status = 500 if fault == "500-once" else int(fault or 0)
                return self._send(status, _HTML, _STATUS_PAGES[status].encode())
            if fault == "429-once" and count == 1:
                return self._send(429, _HTML, b"", {"Retry-After": "0"})
            if fault == "html":
                return self._send(200, _HTML, _ERROR_PAGE.encode())
            if fault == "cut" or (fault == "cut-once" and count == 1):
                return self._cut(file)
            if fault == "huge":
                return self._huge(path)
            if fault == "huge-chunked":
                return self._huge_chunked(path)
            kind = _HTML if fault == "wrong-type" else file.content_type
            head = {"Content-Length": str(len(file.body))}
            if not file.body:  # the headers are the whole answer
                with self._finishing(path):
                    return self._head(200, kind, head)
            self._head(200, kind, head)
            if fault == "slow":
                return self._drip(path, file.body, file.slow_seconds)
            self.wfile.write(file.body[:-1])
            with self._finishing(path):
                self.wfile.write(file.body[-1:])
            return None

        @contextlib.contextmanager
        def _finishing(self, path: str) -> Iterator[None]:
            """Around the sending of the last bytes of ``path``'s body: counts it complete
            once they are sent (``completed`` waits for answers in here)."""
            server._finishing_begins()
            whole = False
            try:
                yield
                whole = True
            finally:
                server._finishing_ends(path, whole)

        def _head(self, status: int, content_type: str, headers: Mapping[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()

        def _send(
            self,
            status: int,
            content_type: str,
            body: bytes,
            headers: Mapping[str, str] | None = None,
        ) -> None:
            self._head(status, content_type, {"Content-Length": str(len(body)), **(headers or {})})
            self.wfile.write(body)

        def _cut(self, file: _File) -> None:
            self._head(200, file.content_type, {"Content-Length": str(len(file.body))})
            self.wfile.write(file.body[: len(file.body) // 2])
            self.close_connection = True

        def _huge(self, path: str) -> None:
            self._head(200, "image/jpeg", {"Content-Length": str(server.huge_size)})
            left = server.huge_size
            while left > _CHUNK and not server._closing.is_set():
                self.wfile.write(_ZEROS)
                left -= _CHUNK
            if server._closing.is_set():
                self.close_connection = True
                return
            with self._finishing(path):
                self.wfile.write(_ZEROS[:left])

        def _huge_chunked(self, path: str) -> None:
            self._head(200, "image/jpeg", {"Transfer-Encoding": "chunked"})
            left = server.huge_size
            while left > _CHUNK and not server._closing.is_set():
                self.wfile.write(_FRAMED_ZEROS)
                left -= _CHUNK
            if server._closing.is_set():
                self.close_connection = True
                return
            with self._finishing(path):
                self.wfile.write(b"%x\r\n" % left + _ZEROS[:left] + b"\r\n0\r\n\r\n")

        def _drip(self, path: str, body: bytes, seconds: float) -> None:
            """Send ``body`` in even pieces over about ``seconds``."""
            steps = max(1, round(seconds / _DRIP_INTERVAL))
            size = max(1, -(-len(body) // steps))
            for start in range(0, len(body), size):
                if server._closing.wait(_DRIP_INTERVAL):
                    self.close_connection = True
                    return
                if start + size < len(body):
                    self.wfile.write(body[start : start + size])
                else:
                    with self._finishing(path):
                        self.wfile.write(body[start:])

    return Handler


# generated media


def make_jpeg(seed: int, size: tuple[int, int] = (800, 600), quality: int = 85) -> bytes:
    """A JPEG of coloured shapes on a gradient, different for each seed."""
    buffer = io.BytesIO()
    _picture(seed, size).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def make_png(seed: int, size: tuple[int, int] = (800, 600)) -> bytes:
    """The picture :func:`make_jpeg` draws for ``seed``, as a PNG."""
    buffer = io.BytesIO()
    _picture(seed, size).save(buffer, "PNG")
    return buffer.getvalue()


def make_mp4(seed: int = 0, size: int = 4096) -> bytes:
    """An MP4 as far as sniffing goes (``video/mp4``): an ``ftyp`` box, then an ``mdat`` of
    seeded bytes so that different seeds give different files.  It does not play."""
    ftyp = b"ftyp" + b"isom" + (512).to_bytes(4, "big") + b"isomiso2avc1mp41"
    ftyp = (len(ftyp) + 4).to_bytes(4, "big") + ftyp
    payload = random.Random(seed).randbytes(max(0, size - len(ftyp) - 8))
    return ftyp + (len(payload) + 8).to_bytes(4, "big") + b"mdat" + payload


def _picture(seed: int, size: tuple[int, int]) -> Image.Image:
    chance = random.Random(seed)
    width, height = size
    top, bottom = _colour(chance), _colour(chance)
    image = Image.linear_gradient("L").resize(size)  # 0 at the top, 255 at the bottom
    image = Image.composite(
        Image.new("RGB", size, bottom), Image.new("RGB", size, top), image
    ).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = chance.randrange(width), chance.randrange(height)
        w = chance.randrange(1 + width // 10, 2 + width // 2)
        h = chance.randrange(1 + height // 10, 2 + height // 2)
        shape = draw.ellipse if chance.random() < 0.5 else draw.rectangle
        shape((x - w // 2, y - h // 2, x + w // 2, y + h // 2), fill=_colour(chance))
    return image


def _colour(chance: random.Random) -> tuple[int, int, int]:
    return (chance.randrange(256), chance.randrange(256), chance.randrange(256))


# t.me/s-like pages


def channel_page(
    channel: str,
    posts: Mapping[int, Sequence[tuple[str, ...]]],
    *,
    avatar: str | None = None,
) -> str:
    """A web-preview page of ``channel`` with ``posts`` (number: media), oldest first, no
    "load older" link.  Each medium is ``("photo", url)``, ``("video", url)``,
    ``("video", url, poster_url)``, ``("round_video", url)``, ``("round_video", url,
    poster_url)`` or ``("link_preview", image_url)``.
    """
    photo = (
        f'<i class="tgme_page_photo_image"><img src="{html.escape(avatar)}"></i>' if avatar else ""
    )
    body = "".join(_message(channel, number, posts[number]) for number in sorted(posts))
    return (
        f"<!DOCTYPE html><html><head><title>{channel}</title></head><body>"
        f'<div class="tgme_channel_info"><div class="tgme_channel_info_header">{photo}'
        f'<div class="tgme_channel_info_header_title"><span>{channel.title()}</span></div>'
        f'<div class="tgme_channel_info_header_username"><a>@{channel}</a></div></div></div>'
        f'<main class="tgme_main"><section class="tgme_channel_history">{body}</section>'
        f"</main></body></html>\n"
    )


def _message(channel: str, number: int, media: Sequence[tuple[str, ...]]) -> str:
    parts = "".join(_medium(channel, number, medium) for medium in media)
    return (
        f'<div class="tgme_widget_message_wrap"><div class="tgme_widget_message" '
        f'data-post="{channel}/{number}"><div class="tgme_widget_message_bubble">{parts}'
        f'<div class="tgme_widget_message_text js-message_text">Post {number}</div>'
        f'<div class="tgme_widget_message_footer"><span class="tgme_widget_message_meta">'
        f'<a class="tgme_widget_message_date" href="https://t.me/{channel}/{number}">'
        f'<time datetime="2024-03-01T{number // 60 % 24:02d}:{number % 60:02d}:00+00:00">'
        f"</time></a></span></div></div></div></div>"
    )


def _medium(channel: str, number: int, medium: tuple[str, ...]) -> str:
    kind, url, *rest = medium
    url = html.escape(url)
    link = f"https://t.me/{channel}/{number}"
    if kind == "photo":
        return (
            f'<a class="tgme_widget_message_photo_wrap" href="{link}" '
            f"style=\"width:800px;background-image:url('{url}')\"></a>"
        )
    if kind == "video":
        poster = f" style=\"background-image:url('{html.escape(rest[0])}')\"" if rest else ""
        return (
            f'<a class="tgme_widget_message_video_player js-message_video_player" href="{link}">'
            f'<i class="tgme_widget_message_video_thumb"{poster}></i>'
            f'<div class="tgme_widget_message_video_wrap"><video src="{url}" '
            f'class="tgme_widget_message_video js-message_video"></video></div>'
            f'<time class="message_video_duration js-message_video_duration">0:05</time></a>'
        )
    if kind == "round_video":
        poster = f" style=\"background-image:url('{html.escape(rest[0])}')\"" if rest else ""
        return (
            f'<div class="tgme_widget_message_roundvideo_player js-message_roundvideo_player">'
            f'<i class="tgme_widget_message_roundvideo_thumb"{poster}></i>'
            f'<video class="tgme_widget_message_roundvideo" src="{url}"></video>'
            f'<time class="tgme_widget_message_roundvideo_duration">0:07</time></div>'
        )
    if kind == "link_preview":
        return (
            f'<a class="tgme_widget_message_link_preview" href="https://example.org/{number}">'
            f'<i class="link_preview_image" style="background-image:url(\'{url}\')"></i>'
            f'<div class="link_preview_site_name">example.org</div>'
            f'<div class="link_preview_title">Article {number}</div></a>'
        )
    raise ValueError(f"unknown kind of medium {kind!r}")
