"""The one HTTP client tgscope uses, and a polite, persistent way to fetch with it.

Everything about being a good citizen lives here: timeouts, the user agent, a delay with jitter
between requests, retries with exponential backoff on timeouts, dropped connections and 5xx,
and honouring ``Retry-After`` on 429.  Sources receive the client; they never build one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx

from .. import __version__
from ..errors import FetchError, OptionError

DEFAULT_BASE_URL = "https://t.me"
USER_AGENT = f"tgscope/{__version__} (archiving public Telegram channels)"


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """How hard and how politely to try.  Delays are in seconds."""

    timeout: float = 20.0
    retries: int = 6
    backoff: float = 1.0  # first retry waits this long, then twice as long each time
    max_wait: float = 120.0  # longest single wait, Retry-After included
    delay: float = 1.0  # between two requests that succeeded
    jitter: float = 0.5  # up to this fraction of the delay, added at random


def make_client(
    base_url: str = DEFAULT_BASE_URL, *, policy: FetchPolicy | None = None
) -> httpx.Client:
    policy = policy or FetchPolicy()
    if not base_url.startswith(("http://", "https://")):
        raise OptionError(f"--base-url: not an http(s) address: {base_url!r}")
    try:
        return httpx.Client(
            base_url=base_url,
            timeout=policy.timeout,
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT, "Accept-Language": "en"},
        )
    except httpx.InvalidURL as error:
        raise OptionError(f"--base-url: {error}") from error


def fetch(
    client: httpx.Client,
    path: str,
    *,
    policy: FetchPolicy,
    complete: Callable[[httpx.Response], bool] = lambda response: True,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """GET ``path``, retrying what can pass (timeouts, resets, 429, 5xx, an incomplete body).

    Raises :class:`FetchError` naming the URL once the retries are spent.  Other 4xx answers
    are returned to the caller, who knows what they mean.
    """
    url = str(client.base_url.join(path))
    problem, wait = "", 0.0
    for attempt in range(policy.retries + 1):
        if attempt:
            sleep(min(policy.max_wait, wait or policy.backoff * 2 ** (attempt - 1)))
        wait = 0.0
        try:
            response = client.get(path)
        except httpx.UnsupportedProtocol as error:  # no scheme, or not http(s): no retry helps
            raise FetchError(f"{url}: {error}") from error
        except (httpx.TimeoutException, httpx.TransportError) as error:
            problem = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            continue
        except (httpx.HTTPError, httpx.InvalidURL) as error:  # endless redirects, a bad URL
            raise FetchError(f"{url}: {error}") from error
        if response.status_code == 429:
            problem = "429 Too Many Requests"
            wait = _retry_after(response) or 0.0
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
    raise FetchError(f"{url}: gave up after {policy.retries + 1} attempts ({problem})")


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
