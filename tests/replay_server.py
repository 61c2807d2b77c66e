"""A real HTTP server on 127.0.0.1 that serves generated t.me/s pages, with injected faults.

The pages follow the web preview's markup (see samples/rusembchina_page.html): twenty posts
a page, oldest first, a "load older" link at the top.  Faults come from a seeded random source,
so a test run is repeatable: 429 with Retry-After, 500, a connection reset, a page cut short,
a slow answer.
"""

from __future__ import annotations

import html
import random
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PAGE_SIZE = 20


class Channel:
    def __init__(self, name: str, count: int, *, deleted: set[int] = frozenset()):
        self.name = name
        self.posts = {
            n: f"Post {n} about the meeting in Beijing #RussiaChina" for n in range(1, count + 1)
        }
        for number in deleted:
            del self.posts[number]
        self.views = {n: 100 + n for n in self.posts}
        self.no_link_before: set[int] = set()  # pages (by cursor) that lack the "older" link

    def add(self, count: int) -> None:
        top = max(self.posts)
        for n in range(top + 1, top + count + 1):
            self.posts[n] = f"Post {n}, a later statement"
            self.views[n] = 100 + n

    def page(self, before: int | None) -> str:
        ids = sorted(n for n in self.posts if before is None or n < before)[-PAGE_SIZE:]
        more = ""
        if ids and min(ids) > min(self.posts) and before not in self.no_link_before:
            more = (
                '<div class="tgme_widget_message_centered js-messages_more_wrap">'
                f'<a href="/s/{self.name}?before={ids[0]}" class="tme_messages_more'
                f' js-messages_more" data-before="{ids[0]}"></a></div>'
            )
        body = "".join(self._message(n) for n in ids)
        return (
            f"<!DOCTYPE html><html><head><title>{self.name}</title></head><body>"
            f'<div class="tgme_channel_info"><div class="tgme_channel_info_header_title">'
            f"<span>{self.name.title()}</span></div>"
            f'<div class="tgme_channel_info_header_username"><a>@{self.name}</a></div></div>'
            f'<main class="tgme_main"><section class="tgme_channel_history">{more}{body}</section>'
            f"</main></body></html>\n"
        )

    def _message(self, number: int) -> str:
        minute = number % 60
        return (
            f'<div class="tgme_widget_message_wrap"><div class="tgme_widget_message" '
            f'data-post="{self.name}/{number}"><div class="tgme_widget_message_bubble">'
            '<div class="tgme_widget_message_text js-message_text">'
            f"{_hashtag_links(html.escape(self.posts[number]))}</div>"
            f'<div class="tgme_widget_message_footer"><span class="tgme_widget_message_views">'
            f'{self.views[number]}</span><span class="tgme_widget_message_meta">'
            f'<a class="tgme_widget_message_date" href="https://t.me/{self.name}/{number}">'
            f'<time datetime="2023-01-{1 + number // 1440 % 28:02d}'
            f'T{number // 60 % 24:02d}:{minute:02d}:00+00:00">'
            f"</time></a></span></div></div></div></div>"
        )


def _hashtag_links(text: str) -> str:
    """Hashtags as the web preview marks them up: links to an in-channel search."""
    return re.sub(r"#(\w+)", r'<a href="?q=%23\1">#\1</a>', text)


class ReplayServer:
    """``with ReplayServer(channels, fault_rate=0.1) as server: server.url``"""

    def __init__(
        self,
        channels: list[Channel],
        *,
        fault_rate: float = 0.0,
        seed: int = 1,
        latency: float = 0.0,
        fault_kinds: tuple[str, ...] = ("429", "500", "reset", "truncated", "slow"),
        retry_after: str = "0",
        fault_limit: int | None = None,
    ):
        self.channels = {channel.name: channel for channel in channels}
        self.latency = latency  # seconds every answer takes
        self.in_flight = self.peak_in_flight = 0  # requests being answered at once
        self.fault_rate = fault_rate
        self.fault_kinds = fault_kinds
        self.retry_after = retry_after  # what a 429 asks for
        self.fault_limit = fault_limit  # at most this many faults in all
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.times: list[float] = []  # when each request came (time.monotonic)
        self.faults: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ReplayServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _fault(self) -> str | None:
        with self.lock:
            if self.random.random() >= self.fault_rate:
                return None
            if self.fault_limit is not None and len(self.faults) >= self.fault_limit:
                return None
            return self.random.choice(self.fault_kinds)

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                with outer.lock:
                    outer.in_flight += 1
                    outer.peak_in_flight = max(outer.peak_in_flight, outer.in_flight)
                try:
                    time.sleep(outer.latency)
                    self._answer()
                finally:
                    with outer.lock:
                        outer.in_flight -= 1

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                outer.requests.append(self.path)
                outer.times.append(time.monotonic())
                name = parts.path.removeprefix("/s/")
                if not parts.path.startswith("/s/"):
                    return self._send(200, "<html><body>Channel without a preview</body></html>")
                if name == "private_chan":
                    self.send_response(302)
                    self.send_header("Location", "/private_chan")
                    self.end_headers()
                    return None
                channel = outer.channels.get(name)
                if channel is None:
                    return self._send(404, "<html><body>Not found</body></html>")
                fault = outer._fault()
                if fault:
                    outer.faults.append(fault)
                before = parse_qs(parts.query).get("before", [None])[0]
                page = channel.page(int(before) if before else None)
                if fault == "429":
                    self.send_response(429)
                    self.send_header("Retry-After", outer.retry_after)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif fault == "500":
                    self._send(500, "<html>oops</html>")
                elif fault == "reset":
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
                    self.connection.close()
                elif fault == "truncated":
                    data = page.encode()[: len(page) // 2]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                else:
                    if fault == "slow":
                        time.sleep(0.05)
                    self._send(200, page)
                return None

            def _send(self, status: int, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
