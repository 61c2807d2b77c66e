"""The one HTTP client tgscope uses, and a polite, persistent, bounded way to fetch with it.

Everything about being a good citizen lives here: timeouts, the user agent, a delay with jitter
between requests, retries with exponential backoff on timeouts, dropped connections and 5xx,
and honouring ``Retry-After`` on 429.  Sources receive the client; they never build one.

And everything about surviving a hostile server: a whole-request deadline, headers included
(httpx's timeouts restart with every byte read), retried once at most; a cap on the body after
decompression, which never inflates more than the cap allows (a gzip bomb stops at the cap;
stacked or unknown encodings are refused); redirects followed here, their bodies never read; no
wait longer than ``max_wait``; and no retries for what will not pass (a host name that does not
resolve, a refused connection).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import random
import socket
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple, Protocol

import httpx

from .. import __version__
from ..errors import FetchError, OptionError, TooLarge

DEFAULT_BASE_URL = "https://t.me"
USER_AGENT = f"tgscope/{__version__} (archiving public Telegram channels)"
ANNOUNCED_WAIT = 2.0  # seconds: waits at least this long are passed to ``on_wait``
LONGEST_HOLD = 3600.0  # seconds: the most a 429 holds every collector off a host
_DROPPED_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}
_WBITS = {  # the content codings tgscope asks for and decodes itself, under the cap
    "identity": None,
    "gzip": 16 + zlib.MAX_WBITS,
    "x-gzip": 16 + zlib.MAX_WBITS,
    "deflate": zlib.MAX_WBITS,  # zlib-wrapped as the RFC says; raw deflate is tried as well
}
_PIECE = 1 << 20  # the most inflated at once
_CONNECTED = {"connection.connect_tcp.complete", "connection.start_tls.complete"}


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """How hard and how politely to try.  Delays are in seconds.

    ``timeout`` bounds each connect and each read; ``deadline`` bounds a whole request, headers
    and body, so a server dripping its answer cannot hold a sync (a request that runs out of it
    is tried once more, not more).  ``max_bytes`` caps a body
    after decompression (a t.me/s page is about 100 kB).  No wait is longer than ``max_wait``:
    a server asking (``Retry-After``) for longer makes the fetch fail at once, saying so, rather
    than ask again before it said it would answer.
    """

    timeout: float = 20.0
    deadline: float = 60.0
    max_bytes: int = 20 * 1024 * 1024
    retries: int = 6
    backoff: float = 1.0  # first retry waits this long, then twice as long each time
    max_wait: float = 60.0  # longest single wait, Retry-After included
    delay: float = 1.0  # between two requests that succeeded
    jitter: float = 0.5  # up to this fraction of the delay, added at random
    #: shared with other collectors: spaces every request to a host (the delay is then its)
    pacer: Pacer | None = None


class Pacer(Protocol):
    """A politeness budget several collectors share (see :mod:`tgscope.collect.worker`)."""

    def ahead(self, host: str) -> float:
        """The seconds until ``host``'s next free slot, without taking it."""

    def wait(self, host: str) -> float:
        """Take the next slot for a request to ``host``: the seconds to wait for it."""

    def hold_off(self, host: str, seconds: float) -> None:
        """Nobody asks ``host`` for ``seconds`` (it said so with a 429)."""


class Sink(Protocol):
    """Where a body can be written as it arrives (a file open for writing, say)."""

    def write(self, data: bytes, /) -> int: ...

    def seek(self, offset: int, whence: int = ..., /) -> int: ...

    def truncate(self, size: int | None = ..., /) -> int: ...


class Wait(NamedTuple):
    """A wait before a retry, as announced to ``on_wait``."""

    url: str
    seconds: float
    problem: str  # what went wrong: "429 Too Many Requests", "HTTP 503", "ReadTimeout"
    cause: str  # why this long: "Retry-After", "retry 3 of 6"

    def __str__(self) -> str:
        return f"{self.url}: {self.problem}, waiting {self.seconds:.0f} s ({self.cause})"


class _Transient(Exception):
    """A failure that may pass: retried."""


class _Overrun(_Transient):
    """No whole answer within the deadline: retried once, as a server this slow once will
    likely be as slow again."""


def make_client(
    base_url: str = DEFAULT_BASE_URL, *, policy: FetchPolicy | None = None
) -> httpx.Client:
    """The client every collector uses; ``base_url`` serves the t.me/s pages."""
    policy = policy or FetchPolicy()
    if not base_url.startswith(("http://", "https://")):
        raise OptionError(f"not an http(s) address: {base_url!r}")
    try:
        return httpx.Client(
            base_url=base_url,
            timeout=min(policy.timeout, policy.deadline),
            follow_redirects=True,
            headers={
                "User-Agent": USER_AGENT,
                "Accept-Language": "en",
                "Accept-Encoding": "gzip, deflate",  # decoded here, never past the cap
            },
        )
    except httpx.InvalidURL as error:
        raise OptionError(f"not a usable address: {base_url!r} ({error})") from error


def fetch(
    client: httpx.Client,
    path: str,
    *,
    policy: FetchPolicy,
    complete: Callable[[httpx.Response], bool] = lambda response: True,
    sleep: Callable[[float], None] = time.sleep,
    on_wait: Callable[[Wait], None] | None = None,
    into: Sink | None = None,
) -> httpx.Response:
    """GET ``path``, retrying what can pass (timeouts, resets, 429, 5xx, an incomplete body).

    With ``into`` (a file open for writing) the body is written there as it arrives, never
    held in memory, and the response's own content is empty; each attempt starts the file
    afresh.  An answer whose ``Content-Length`` passes the cap is refused before its body
    is read (:class:`TooLarge`, as when the body passes it).

    Raises :class:`FetchError` naming the URL once the retries are spent, and at once for what
    no retry helps (no such host, a refused connection, a body over the cap, a ``Retry-After``
    longer than ``policy.max_wait``).  Other 4xx answers are returned to the caller, who knows
    what they mean.  Waits of :data:`ANNOUNCED_WAIT` seconds or more are passed to ``on_wait``
    before they start.  A request that ran out its deadline is tried once more, not more.
    """
    problem, asked, overran = "", None, False
    for attempt in range(policy.retries + 1):
        if attempt:
            wait = _wait(_url(client, path), attempt, problem, asked, policy)
            if on_wait is not None and wait.seconds >= ANNOUNCED_WAIT:
                on_wait(wait)
            sleep(wait.seconds)
        asked = None
        if policy.pacer is not None:
            sleep(_paced(client, path, policy, policy.pacer))
        try:
            response = _get(client, path, policy, into)
        except _Overrun as error:
            if overran:
                raise FetchError(f"{_url(client, path)}: {error}, twice") from error
            problem, overran = str(error), True
            continue
        except _Transient as error:
            problem = str(error)
            continue
        if response.status_code == 429:
            problem, asked = "429 Too Many Requests", _retry_after(response)
            if policy.pacer is not None:  # every collector holds off, not just this one
                held = min(asked if asked is not None else policy.backoff, LONGEST_HOLD)
                policy.pacer.hold_off(_host(client, path), held)
            if asked is not None and asked > policy.max_wait:
                raise FetchError(
                    f"{_url(client, path)}: 429 Too Many Requests: the server asks to wait"
                    f" {asked:.0f} s (Retry-After), longer than the {policy.max_wait:.0f} s"
                    " allowed; try again later"
                )
            continue
        if response.status_code >= 500:
            problem = f"HTTP {response.status_code}"
            continue
        if response.status_code < 400 and not complete(response):
            problem = "the page arrived incomplete"
            continue
        if policy.delay and policy.pacer is None:  # a pacer spaces the next request itself
            sleep(policy.delay * (1 + random.random() * policy.jitter))
        return response
    raise FetchError(
        f"{_url(client, path)}: gave up after {policy.retries + 1} attempts ({problem})"
    )


def _wait(url: str, attempt: int, problem: str, asked: float | None, policy: FetchPolicy) -> Wait:
    if asked is not None:
        return Wait(url, asked, problem, "Retry-After")
    backoff = min(policy.max_wait, policy.backoff * 2 ** (attempt - 1))
    return Wait(url, backoff, problem, f"retry {attempt} of {policy.retries}")


class HeldOff(FetchError):
    """Every collector is held off the host for longer than one may wait (it answered 429):
    the request was not made, and no slot of the budget was taken."""

    def __init__(self, message: str, seconds: float):
        super().__init__(message)
        self.seconds = seconds


def _paced(client: httpx.Client, path: str, policy: FetchPolicy, pacer: Pacer) -> float:
    """The wait for this request's slot; when the next free slot lies past ``max_wait`` (a
    host holding every collector off after a 429) :class:`HeldOff`, at once, taking none."""
    host = _host(client, path)
    ahead = pacer.ahead(host)
    if ahead > policy.max_wait:
        raise HeldOff(
            f"{_url(client, path)}: every collector is held off this host for {ahead:.0f} s"
            f" more (it answered 429), longer than the {policy.max_wait:.0f} s allowed;"
            " try again later",
            ahead,
        )
    return pacer.wait(host)


def _host(client: httpx.Client, path: str) -> str:
    """The host ``path`` is asked of (its own, when it is a whole URL)."""
    return httpx.URL(path).host or client.base_url.host


def _url(client: httpx.Client, path: str) -> str:
    """The address of ``path``, for messages (made only when needed: it is not cheap)."""
    return str(client.base_url.join(path))


def _get(
    client: httpx.Client, path: str, policy: FetchPolicy, into: Sink | None = None
) -> httpx.Response:
    """One GET within the deadline, headers included, and the size cap."""
    end = time.monotonic() + policy.deadline
    with _Watch(client, policy.deadline) as watch:
        try:
            response = _send(client, path, policy, watch, end, into)
        except _Transient as error:
            if watch.expired and not isinstance(error, _Overrun):  # the watch broke it
                raise _Overrun(_overrun(policy)) from error
            raise
    if watch.expired:  # cut short: a body that ends with the connection may look whole
        raise _Overrun(_overrun(policy))
    return response


def _send(
    client: httpx.Client,
    path: str,
    policy: FetchPolicy,
    watch: _Watch,
    end: float,
    into: Sink | None = None,
) -> httpx.Response:
    """The GET, its redirects followed here so that no redirect's body is read; the body is
    read only for answers that are used (a 429 or 5xx is answered by its status alone)."""
    timeout = min(policy.timeout, policy.deadline)
    history: list[httpx.Response] = []
    try:
        request = client.build_request(
            "GET", path, timeout=timeout, extensions={"trace": watch.trace}
        )
        for _ in range(client.max_redirects + 1):
            response = client.send(request, stream=True, follow_redirects=False)
            try:
                watch.claim(response.extensions.get("network_stream"))
                if response.status_code == 429 or response.status_code >= 500:
                    return response
                if response.next_request is None or not client.follow_redirects:
                    return _whole(response, _read_body(response, policy, end, into), history)
                request = response.next_request
                history.append(response)
            finally:
                response.close()
    except httpx.UnsupportedProtocol as error:  # no scheme, or not http(s): no retry helps
        raise FetchError(f"{_url(client, path)}: {error}") from error
    except httpx.ConnectError as error:
        reason = _lasting_reason(error)
        if reason:
            raise FetchError(f"{_url(client, path)}: {reason}") from error
        raise _Transient(_describe(error)) from error
    except (httpx.TimeoutException, httpx.TransportError) as error:
        raise _Transient(_describe(error)) from error
    except (httpx.HTTPError, httpx.InvalidURL) as error:  # a bad URL, a bad redirect
        raise FetchError(f"{_url(client, path)}: {error}") from error
    raise FetchError(  # worded as httpx words it, as it was before redirects were followed here
        f"{_url(client, path)}: Exceeded maximum allowed redirects ({client.max_redirects})"
    )


def _whole(response: httpx.Response, body: bytes, history: list[httpx.Response]) -> httpx.Response:
    """The answer with its decoded body, as if it had never been encoded."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in _DROPPED_HEADERS]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=response.request,
        history=history,
    )


def _overrun(policy: FetchPolicy) -> str:
    return f"no whole answer within {policy.deadline:g} s"


def _read_body(
    response: httpx.Response, policy: FetchPolicy, end: float, into: Sink | None = None
) -> bytes:
    """The decompressed body, stopping at the cap or the deadline; written to ``into``
    instead when given (and then b"" returned)."""
    raw: Iterable[bytes]
    if response.is_stream_consumed:  # made in memory (a mock transport), decoded already
        coding, raw = "identity", [response.content]
    else:
        coding, raw = response.headers.get("Content-Encoding", ""), response.iter_raw()
        _refuse_announced_excess(response, coding, policy.max_bytes)
    chunks = []
    if into is not None:
        into.seek(0)
        into.truncate()
    for chunk in _Inflater(response.request.url, coding, policy.max_bytes).chunks(raw):
        if time.monotonic() > end:
            raise _Overrun(_overrun(policy))
        if into is None:
            chunks.append(chunk)
        else:
            into.write(chunk)
    return b"".join(chunks)


def _refuse_announced_excess(response: httpx.Response, coding: str, limit: int) -> None:
    """A plain answer whose ``Content-Length`` passes the cap is refused unread."""
    if coding.strip().lower() not in ("", "identity"):
        return  # the length is the encoded one
    try:
        size = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return
    if size > limit:
        raise TooLarge(
            f"{response.request.url}: the answer is {size:,} bytes, larger than the"
            f" {limit:,} allowed; not read",
            size=size,
        )


class _Inflater:
    """Undoes the answer's one content coding, never producing more than the cap allows: each
    raw chunk is inflated to at most what is left of the cap and one byte more, so a bomb
    stops at the cap instead of inflating a whole network chunk (about 1000 times its size)."""

    def __init__(self, url: httpx.URL, coding: str, limit: int) -> None:
        self._url = url
        coding = coding.strip().lower() or "identity"
        if coding not in _WBITS:  # stacked ("gzip, gzip") or unknown
            raise FetchError(
                f"{self._url}: cannot decode Content-Encoding {coding!r}"
                " (only gzip or deflate, applied once)"
            )
        self._coding, self._wbits, self._left = coding, _WBITS[coding], limit
        self._limit = limit
        self._zlib = None if self._wbits is None else zlib.decompressobj(self._wbits)
        self._fed = False

    def chunks(self, raw: Iterable[bytes]) -> Iterator[bytes]:
        """The decoded chunks of ``raw``; :class:`FetchError` once past the cap."""
        for data in raw:
            yield from self._pieces(data)
        if self._zlib is not None and not self._zlib.eof:  # all input taken: what zlib holds
            yield self._take(self._zlib.flush())
            if self._fed and not self._zlib.eof:  # the connection ended mid-stream
                raise _Transient(f"the {self._coding} answer was cut short")

    def _pieces(self, data: bytes) -> Iterator[bytes]:
        """``data`` decoded, in pieces of at most :data:`_PIECE` bytes, none past the cap."""
        if self._zlib is None:
            yield self._take(data)
            return
        while not self._zlib.eof:  # what follows the end of the stream is not the body's
            size = min(self._left + 1, _PIECE)
            piece = self._take(self._decompress(data, size))
            yield piece
            if len(piece) < size:  # the input is used up
                return
            data = self._zlib.unconsumed_tail

    def _take(self, chunk: bytes) -> bytes:
        self._left -= len(chunk)
        if self._left < 0:
            raise TooLarge(
                f"{self._url}: the answer is larger than {self._limit:,} bytes"
                " (decompressed); stopped reading it"
            )
        return chunk

    def _decompress(self, data: bytes, size: int) -> bytes:
        assert self._zlib is not None
        first, self._fed = not self._fed, True
        try:
            try:
                return self._zlib.decompress(data, size)
            except zlib.error:
                if not first or self._wbits != zlib.MAX_WBITS:
                    raise
            self._wbits = -zlib.MAX_WBITS  # raw deflate, without the zlib wrapper: some servers
            self._zlib = zlib.decompressobj(self._wbits)
            return self._zlib.decompress(data, size)
        except zlib.error as error:
            raise FetchError(
                f"{self._url}: the answer is not valid {self._coding} ({error})"
            ) from error


class _Sockets:
    """The sockets of one client's connections, and the requests under way on them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open: set[socket.socket] = set()
        self.watches: set[_Watch] = set()


_CLIENT_SOCKETS: weakref.WeakKeyDictionary[httpx.Client, _Sockets] = weakref.WeakKeyDictionary()
_CLIENT_SOCKETS_LOCK = threading.Lock()


def _fresh_socket_lock() -> None:
    """A forked child's own lock (one held by another thread at the fork would never be
    released there)."""
    global _CLIENT_SOCKETS_LOCK
    _CLIENT_SOCKETS_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_fresh_socket_lock)


class _Watchdog:
    """One thread that ends the requests that run out their deadlines: a timer thread per
    request would cost a thread's start for each (a fifth of a small download on loopback).
    Finished requests are dropped lazily, the heap compacted when they pile up."""

    def __init__(self) -> None:
        self._start_afresh()
        os.register_at_fork(after_in_child=self._start_afresh)  # a child has no such thread

    def _start_afresh(self) -> None:
        self._wake = threading.Condition()
        self._heap: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._running = False
        self._live = 0

    def watch(self, watch: _Watch, seconds: float) -> None:
        with self._wake:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._order), watch))
            self._live += 1
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="tgscope-deadlines", daemon=True).start()
            elif self._heap[0][2] is watch:
                self._wake.notify()  # an earlier deadline than the one waited for

    def forget(self, watch: _Watch) -> None:
        with self._wake:
            watch.finished = True
            self._live -= 1
            if len(self._heap) > 64 and len(self._heap) > 4 * self._live:
                self._heap = [entry for entry in self._heap if not entry[2].finished]
                heapq.heapify(self._heap)

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._heap and self._heap[0][2].finished:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait(30.0)
                    if not self._heap:
                        self._running = False
                        return
                    continue
                left = self._heap[0][0] - time.monotonic()
                if left > 0:
                    self._wake.wait(left)
                    continue
                _, _, due = heapq.heappop(self._heap)
            with contextlib.suppress(Exception):  # one request's trouble ends no other's watch
                due._cut()  # outside the lock: it takes the client's


_WATCHDOG = _Watchdog()


class _Watch:
    """Holds one request to its deadline, headers included: when the deadline passes, the
    connections the request may be using are shut down, which ends a read blocked on them at
    once (httpx's own timeouts restart with every byte, so a dripping server never trips them).

    A request that opened its connection (httpcore's trace events say so) or has its headers
    knows its socket.  One waiting for headers on a reused keep-alive connection does not
    (httpcore reports no event for it): then every socket of the client that no other request
    is known to use is cut; an idle one lost that way is merely reopened later.
    """

    def __init__(self, client: httpx.Client, seconds: float) -> None:
        with _CLIENT_SOCKETS_LOCK:
            self._sockets = _CLIENT_SOCKETS.setdefault(client, _Sockets())
        self._own: set[socket.socket] = set()
        self._seconds = seconds
        self._done = False
        self.finished = False  # the watchdog's flag (under its lock)
        self.expired = False

    def __enter__(self) -> _Watch:
        with self._sockets.lock:
            self._sockets.watches.add(self)
        _WATCHDOG.watch(self, self._seconds)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _WATCHDOG.forget(self)
        with self._sockets.lock:
            self._done = True
            self._sockets.watches.discard(self)

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's ``trace`` hook: note the connections this request opens."""
        if event in _CONNECTED:
            self.claim(info.get("return_value"))

    def claim(self, stream: Any) -> None:
        """Note that this request uses the connection of ``stream`` (an httpcore stream)."""
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._sockets.lock:
            self._own.add(sock)
            shared = self._sockets
            shared.open = {known for known in shared.open if known.fileno() != -1}
            shared.open.add(sock)

    def _cut(self) -> None:
        with self._sockets.lock:
            if self._done:
                return
            self.expired = True
            others = [watch._own for watch in self._sockets.watches if watch is not self]
            targets = set(self._own) or self._sockets.open.difference(*others)
        for sock in targets:
            with contextlib.suppress(OSError):  # closed meanwhile: nothing to cut
                # the plain socket's shutdown, also under TLS: SSLSocket's own would drop its
                # SSL object under the reading thread's feet
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _lasting_reason(error: httpx.ConnectError) -> str | None:
    """Why connecting cannot work on a retry a few seconds later, if it cannot."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return f"the host name does not resolve ({cause.strerror or cause})"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    return None


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number, or an HTTP date (UTC)."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - time.time())
