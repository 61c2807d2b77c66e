"""``tgscope media fetch``: download the media the archive knows a URL for, as evidence.

Each file goes through the one HTTP seam (:func:`tgscope.collect.http.fetch`: politeness,
retries, the size cap, the deadline), is streamed to a temporary file, checked against what
the post says it carries (an expired link may answer with an HTML page), and moved into the
content-addressed store under its SHA-256.  Its row is committed at once, so a killed fetch
loses nothing and a rerun fetches nothing it already has.  Links that answered 403, 404 or
410 are recorded as expired or missing and not asked again unless a later sync gives the
post a new link; other failures are tried again on later runs, :data:`MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from threading import Event, Lock

import httpx

from ..archive import Archive
from ..dates import day_bounds
from ..errors import FetchError, OptionError, TooLarge
from ..media.files import MediaStore
from ..media.probe import describe_start, file_row, refusal
from ..media.report import MediaReport
from ..store.media import Fetched, FileRow, MediaTables, Wanted
from .http import FetchPolicy, Wait, fetch

#: what ``--types`` may name (the types a post's media can have that are files)
FETCHED_TYPES = ("photo", "video", "gif", "round_video", "voice", "audio", "document", "sticker")
DEFAULT_MAX_SIZE = 50 * 1024 * 1024
MAX_ATTEMPTS = 3  # tries of one link that failed for a reason that may pass
_EXPIRED = {401, 403, 410}  # Telegram's CDN answers 403 for a link past its time
_MISSING = {404}
_BATCH = 200


def fetch_media(
    archive: Archive,
    *,
    client: httpx.Client,
    policy: FetchPolicy | None = None,
    channel: str | None = None,
    since: str | None = None,
    until: str | None = None,
    types: Iterable[str] | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
    on_item: Callable[[MediaReport], None] | None = None,
    on_wait: Callable[[Wait], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    stop: Event | None = None,
    lock: Lock | None = None,
) -> MediaReport:
    """Download the chosen posts' media into the archive's media store; resumable.

    ``types`` narrows to media types (:data:`FETCHED_TYPES`; a video's poster comes with
    its video, a link preview's image and a channel's picture with ``photo``); files over
    ``max_size`` bytes are recorded as too large, unread when the server says their size.
    ``on_item`` is called after each medium, ``stop`` ends the run after the one in hand,
    ``lock`` serialises the use of the archive with other threads (sync's).
    """
    chosen = checked_types(types)
    low, high = day_bounds(since, until)
    policy = _media_policy(policy or FetchPolicy(), max_size)
    store = archive.media_files()
    tables: MediaTables = archive.store.media  # type: ignore[attr-defined]
    if channel is not None and not tables.has_channel(channel):
        raise OptionError(f"{archive.location}: no channel {channel!r} in the archive")
    with store.fetching():
        store.clean()
        known = _chosen(tables.known(channel=channel, since=low, until=high), chosen)
        return _fetch_known(
            known,
            tables,
            store,
            max_size,
            lock or Lock(),
            stop,
            on_item,
            lambda wanted: _fetch_one(client, policy, store, wanted, sleep, on_wait),
        )


def _fetch_known(
    known: Iterator[Wanted],
    tables: MediaTables,
    store: MediaStore,
    max_size: int,
    guard: Lock,
    stop: Event | None,
    on_item: Callable[[MediaReport], None] | None,
    fetch_one: Callable[[Wanted], tuple[Fetched, FileRow | None]],
) -> MediaReport:
    """Fetch what is due of ``known``, a page at a time; each outcome committed at once."""
    report, started = MediaReport(), time.monotonic()
    while not (stop is not None and stop.is_set()):
        with guard:  # the archive is read a page at a time, between the writes
            batch = list(itertools.islice(known, _BATCH))
            tried = tables.tried((w.post, w.position, w.part) for w in batch)
        if not batch:
            break
        for wanted in batch:
            if stop is not None and stop.is_set():
                break
            previous = tried.get((wanted.post, wanted.position, wanted.part))
            if not due(previous, wanted, max_size, store.has):
                report.done_before += 1
                continue
            fetched, file = fetch_one(wanted)
            with guard, tables.saving():
                now = _now()
                is_new = file is not None and tables.add_file(file, now)
                tables.record(wanted, fetched, now)
            report.count(wanted, fetched, is_new)
            if on_item is not None:
                on_item(report)
    report.seconds = time.monotonic() - started
    return report


def _fetch_one(
    client: httpx.Client,
    policy: FetchPolicy,
    store: MediaStore,
    wanted: Wanted,
    sleep: Callable[[float], None],
    on_wait: Callable[[Wait], None] | None,
) -> tuple[Fetched, FileRow | None]:
    """One medium: downloaded, checked and stored, or the reason it was not."""
    with store.download() as part:
        try:
            response = fetch(
                client, wanted.url, policy=policy, into=part, sleep=sleep, on_wait=on_wait
            )
        except TooLarge as error:  # its size, or "more than the cap" when it said none
            size = error.size if error.size is not None else policy.max_bytes + 1
            return Fetched("too_large", size=size, reason=_reason(error, wanted)), None
        except FetchError as error:
            return Fetched("failed", reason=_reason(error, wanted)), None
        code = response.status_code
        if code >= 400:
            status = "expired" if code in _EXPIRED else "missing" if code in _MISSING else "failed"
            return Fetched(status, http_status=code, reason=f"HTTP {code}"), None
        facts = describe_start(part.head)
        why = refusal("photo" if wanted.part != "file" else wanted.type, facts)
        if why is not None:
            return Fetched("refused", http_status=code, reason=why), None
        stored = store.keep(part)
    return (
        Fetched("stored", stored.sha256, code, stored.size),
        file_row(stored, facts, wanted),
    )


def due(
    previous: tuple | None,
    wanted: Wanted,
    max_size: int,
    has_file: Callable[[str], bool] = lambda sha256: True,
) -> bool:
    """Whether a medium is to be fetched, given its last try ``(status, url, attempts, size,
    sha256)``: never tried; stored, but its file is gone from the store; given a new link by
    a later sync; failed fewer than :data:`MAX_ATTEMPTS` times; or too large for a smaller
    cap than this one."""
    if previous is None:
        return True
    status, url, attempts, size, sha256 = previous
    if status == "stored":
        return not has_file(sha256)
    if url != wanted.url:  # a fresh link, from a later sync
        return True
    if status == "failed":
        return attempts < MAX_ATTEMPTS
    if status == "too_large":
        return size is not None and size <= max_size  # the cap was raised since
    return False


def _reason(error: FetchError, wanted: Wanted) -> str:
    """The error's message without the URL it starts with (the row has the URL)."""
    message = str(error)
    prefix = f"{wanted.url}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _media_policy(policy: FetchPolicy, max_size: int) -> FetchPolicy:
    """The policy with the media cap, a deadline long enough for a file of that size at 200
    kB/s (5 minutes at least), and 3 retries at most: a dead link is asked again by later
    runs (:data:`MAX_ATTEMPTS`), not for minutes by this one."""
    deadline = max(policy.deadline, 300.0, max_size / 200_000)
    return replace(policy, max_bytes=max_size, deadline=deadline, retries=min(policy.retries, 3))


def checked_types(types: Iterable[str] | None) -> frozenset[str]:
    if types is None:
        return frozenset(FETCHED_TYPES)
    chosen = frozenset(name.strip().lower() for name in types if name.strip())
    unknown = sorted(chosen - set(FETCHED_TYPES))
    if unknown:
        raise OptionError(
            f"media types: {', '.join(unknown)} unknown (use {', '.join(FETCHED_TYPES)})"
        )
    return chosen


def _chosen(known: Iterator[Wanted], types: frozenset[str]) -> Iterator[Wanted]:
    return (wanted for wanted in known if wanted.type in types)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
