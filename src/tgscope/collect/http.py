"""The one HTTP client tgscope uses, and a polite, persistent, bounded way to fetch with it.

Everything about being a good citizen lives here: timeouts, the user agent, a delay with jitter
between requests, retries with exponential backoff on timeouts, dropped connections and 5xx,
and honouring ``Retry-After`` on 429.  Sources receive the client; they never build one.

And everything about surviving a hostile server: a whole-request deadline (httpx's timeouts
restart with every byte read), a cap on the body after decompression (a gzip bomb stops at the
cap), no wait longer than ``max_wait``, and no retries for what will not pass (a host name
that does not resolve, a refused connection).
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import NamedTuple

import httpx

from .. import __version__
from ..errors import FetchError, OptionError

DEFAULT_BASE_URL = "https://t.me"
USER_AGENT = f"tgscope/{__version__} (archiving public Telegram channels)"
ANNOUNCED_WAIT = 2.0  # seconds: waits at least this long are passed to ``on_wait``
_DROPPED_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """How hard and how politely to try.  Delays are in seconds.

    ``timeout`` bounds each connect and each read; ``deadline`` bounds a whole request, body
    included, so a server dripping its answer cannot hold a sync.  ``max_bytes`` caps a body
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
                "Accept-Encoding": "gzip, deflate",  # decoded chunk by chunk, under the cap
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
) -> httpx.Response:
    """GET ``path``, retrying what can pass (timeouts, resets, 429, 5xx, an incomplete body).

    Raises :class:`FetchError` naming the URL once the retries are spent, and at once for what
    no retry helps (no such host, a refused connection, a body over the cap, a ``Retry-After``
    longer than ``policy.max_wait``).  Other 4xx answers are returned to the caller, who knows
    what they mean.  Waits of :data:`ANNOUNCED_WAIT` seconds or more are passed to ``on_wait``
    before they start.
    """
    problem, asked = "", None
    for attempt in range(policy.retries + 1):
        if attempt:
            wait = _wait(_url(client, path), attempt, problem, asked, policy)
            if on_wait is not None and wait.seconds >= ANNOUNCED_WAIT:
                on_wait(wait)
            sleep(wait.seconds)
        asked = None
        try:
            response = _get(client, path, policy)
        except _Transient as error:
            problem = str(error)
            continue
        if response.status_code == 429:
            problem, asked = "429 Too Many Requests", _retry_after(response)
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
        if policy.delay:
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


def _url(client: httpx.Client, path: str) -> str:
    """The address of ``path``, for messages (made only when needed: it is not cheap)."""
    return str(client.base_url.join(path))


def _get(client: httpx.Client, path: str, policy: FetchPolicy) -> httpx.Response:
    """One GET within the deadline and the size cap; the body is read only for answers
    that are used (a 429 or 5xx is answered by its status alone)."""
    end = time.monotonic() + policy.deadline
    try:
        with client.stream("GET", path, timeout=min(policy.timeout, policy.deadline)) as response:
            if response.status_code == 429 or response.status_code >= 500:
                return response
            body = _read_body(response, policy, end)
    except httpx.UnsupportedProtocol as error:  # no scheme, or not http(s): no retry helps
        raise FetchError(f"{_url(client, path)}: {error}") from error
    except httpx.ConnectError as error:
        reason = _lasting_reason(error)
        if reason:
            raise FetchError(f"{_url(client, path)}: {reason}") from error
        raise _Transient(_describe(error)) from error
    except (httpx.TimeoutException, httpx.TransportError) as error:
        raise _Transient(_describe(error)) from error
    except (httpx.HTTPError, httpx.InvalidURL) as error:  # endless redirects, a bad URL, bad gzip
        raise FetchError(f"{_url(client, path)}: {error}") from error
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in _DROPPED_HEADERS]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=response.request,
        history=response.history,
    )


def _read_body(response: httpx.Response, policy: FetchPolicy, end: float) -> bytes:
    """The decompressed body, stopping at the cap or the deadline."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > policy.max_bytes:
            raise FetchError(
                f"{response.request.url}: the answer is larger than {policy.max_bytes:,} bytes"
                " (decompressed); stopped reading it"
            )
        if time.monotonic() > end:
            raise _Transient(f"no whole answer within {policy.deadline:g} s")
        chunks.append(chunk)
    return b"".join(chunks)


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
