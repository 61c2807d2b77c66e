"""``tgscope media fetch --api``: the files of posts archived from the Telegram API.

Posts read through the API carry no links to their files; the files come from Telegram
itself.  The messages are asked for again by id, a batch at a time (``get_messages``), and
each medium is downloaded by Telethon into a temporary file of the media store, checked
against what the post says it carries, and moved into place under its SHA-256, as
:mod:`tgscope.collect.media` does with files fetched over HTTP (and with the same rules for
what is fetched again).  A video's poster (its largest thumbnail) comes as part ``thumb``.
A file over the size cap is told by the document's size and recorded as too large without a
byte downloaded; a message gone from Telegram is recorded as missing.  Each row is committed
at once: a killed run loses nothing, and a rerun downloads nothing it has.  A fetch row's
URL is ``telegram-api:<post key>``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from threading import Event
from typing import Any

from ..archive import Archive
from ..errors import FetchError
from ..media.files import Download, MediaStore
from ..media.probe import describe, refusal
from ..media.report import MediaReport
from ..record import Media, Post
from ..store.media import Fetched, FileRow, MediaTables, Wanted
from .api_sync import FLOOD_SLEEP_LIMIT
from .http import Wait
from .media import DEFAULT_MAX_SIZE, checked_types, due, file_row

BATCH = 100  # messages asked for at once (the API's most)
URL_PREFIX = "telegram-api:"
POSTER_TYPES = frozenset({"video", "gif", "round_video"})  # media with a poster (thumb)
GONE = "the message is no longer on Telegram"
NO_LONGER = "the message no longer carries this medium"


@dataclass(frozen=True, slots=True)
class _Medium:
    channel: str
    message_id: int
    wanted: Wanted


def fetch_api_media(
    archive: Archive,
    *,
    client: Any,
    channel: str | None = None,
    since: str | None = None,
    until: str | None = None,
    types: Iterable[str] | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
    on_item: Callable[[MediaReport], None] | None = None,
    on_wait: Callable[[Wait], None] | None = None,
    max_wait: float = FLOOD_SLEEP_LIMIT,
    sleep: Callable[[float], None] = time.sleep,
    stop: Event | None = None,
) -> MediaReport:
    """Download the media of the chosen posts archived from the API, through a connected
    Telethon client (:func:`tgscope.collect.api_sync.api_session`); resumable.

    ``channel``, ``since``, ``until`` choose the posts (as :meth:`Archive.posts` does),
    ``types`` the media types, as for :func:`tgscope.collect.media.fetch_media`.
    FloodWaits up to ``max_wait`` seconds are waited out (announced to ``on_wait``); a
    longer one stops the run with a :class:`FetchError` (what was stored stays stored).
    """
    chosen = checked_types(types)
    store = archive.media_files()
    run = _Run(
        client,
        store,
        archive.store.media,  # type: ignore[attr-defined]
        max_size,
        _Calls(max_wait, sleep, on_wait),
        on_item,
        stop,
    )
    with store.fetching():
        store.clean()
        return _fetch_all(run, archive, channel, since, until, chosen)


def _fetch_all(
    run: _Run,
    archive: Archive,
    channel: str | None,
    since: str | None,
    until: str | None,
    chosen: frozenset[str],
) -> MediaReport:
    started = time.monotonic()
    media = api_media(archive, channel=channel, since=since, until=until, types=chosen)
    max_size = run.max_size
    for name, group in itertools.groupby(media, key=lambda medium: medium.channel):
        if run.stopped():
            break
        entity = _entity(run.client, name, run.calls, run.report)
        for batch in _batches(group, BATCH):
            if run.stopped():
                break
            batch.sort(key=lambda m: (m.message_id, m.wanted.position, m.wanted.part))
            due = _due_of(run, batch, max_size)
            if due and entity is not None:
                run.batch(name, entity, due)
    run.report.seconds = time.monotonic() - started
    return run.report


@dataclass
class _Run:
    """One fetch: where files go, what it found so far, and when to stop."""

    client: Any
    store: MediaStore
    tables: MediaTables
    max_size: int
    calls: _Calls
    on_item: Callable[[MediaReport], None] | None
    stop: Event | None
    report: MediaReport = field(default_factory=MediaReport)

    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def batch(self, channel: str, entity: Any, due: list[_Medium]) -> None:
        """Ask for the messages again, then download, store and record each medium."""
        messages = self.calls.run(channel, lambda: _messages(self.client, entity, due, channel))
        for medium in due:
            if self.stopped():
                break
            message = messages.get(medium.message_id)
            fetched, row = _download(
                self.client, self.store, message, medium.wanted, self.max_size, self.calls
            )
            with self.tables.writing():
                is_new = row is not None and not self.tables.has_file(row.sha256)
                if row is not None:
                    self.tables.add_file(row, _now())
                self.tables.record(medium.wanted, fetched, _now())
            self.report.count(medium.wanted, fetched, is_new)
            if self.on_item is not None:
                self.on_item(self.report)


def api_media(
    archive: Archive,
    *,
    channel: str | None = None,
    since: str | None = None,
    until: str | None = None,
    types: Iterable[str],
) -> Iterator[_Medium]:
    """The media of the posts an API sync archived, a channel's together, oldest first:
    the first file of each post (a message carries one) and a video's poster.  Read a
    channel at a time, as the archive gives its posts: nothing is gathered beforehand."""
    chosen = frozenset(types)
    tables: MediaTables = archive.store.media  # type: ignore[attr-defined]
    for name in [channel] if channel else tables.channel_names():
        for post in archive.posts(channel=name, since=since, until=until, media="any"):
            if post.id is None or post.channel is None:
                continue
            if not any(source.get("kind") == "api" for source in post.sources):
                continue
            yield from _media_of(post, chosen)


def _media_of(post: Post, chosen: frozenset[str]) -> Iterator[_Medium]:
    assert post.channel is not None and post.id is not None
    for position, item in enumerate(post.media):
        kind = item.get("type") or "document"
        if kind not in _FILE_TYPES:
            continue
        if kind in chosen:
            for wanted in _wanted(post.key, position, kind, item):
                yield _Medium(post.channel, post.id, wanted)
        return  # an API message carries one medium


_FILE_TYPES = frozenset(
    {"photo", "video", "gif", "round_video", "voice", "audio", "document", "sticker"}
)


def _wanted(key: str, position: int, kind: str, item: Media) -> Iterator[Wanted]:
    url = f"{URL_PREFIX}{key}"
    numbers = {name: _int(item.get(name)) for name in ("duration", "width", "height")}
    yield Wanted(key, position, "file", kind, url, **numbers)
    if kind in POSTER_TYPES:
        yield Wanted(key, position, "thumb", kind, url)


def _due_of(run: _Run, batch: list[_Medium], max_size: int) -> list[_Medium]:
    keys = [(m.wanted.post, m.wanted.position, m.wanted.part) for m in batch]
    tried, store, report = run.tables.tried(keys), run.store, run.report
    chosen = [
        m
        for m, key in zip(batch, keys, strict=True)
        if due(tried.get(key), m.wanted, max_size, store.has)
    ]
    report.done_before += len(batch) - len(chosen)
    return chosen


def _messages(client: Any, entity: Any, due: list[_Medium], channel: str) -> dict[int, Any]:
    """The messages by id (None: no longer there), in one request."""
    ids = sorted({medium.message_id for medium in due})
    try:
        messages = client.get_messages(entity, ids=ids)
    except Exception as error:
        if isinstance(getattr(error, "seconds", None), int | float):
            raise  # a FloodWait: waited out, or the run stops
        detail = " ".join(str(error).split())[:200] or type(error).__name__
        raise FetchError(f"{channel}: the Telegram API failed: {detail}") from error
    return dict(zip(ids, messages or [], strict=False))


def _download(
    client: Any,
    store: MediaStore,
    message: Any,
    wanted: Wanted,
    max_size: int,
    calls: _Calls,
) -> tuple[Fetched, FileRow | None]:
    """One medium of a message: downloaded, checked and stored, or why not."""
    if message is None or type(message).__name__ == "MessageEmpty":
        return Fetched("missing", reason=GONE), None
    thing = _file_of(getattr(message, "media", None), wanted.type)
    if thing is None:
        return Fetched("missing", reason=NO_LONGER), None
    poster = wanted.part == "thumb"
    if poster and not getattr(thing, "thumbs", None):
        return Fetched("missing", reason="Telegram has no poster for it"), None
    size = _size(thing)
    if not poster and size is not None and size > max_size:
        return Fetched("too_large", size=size, reason=f"{size:,} bytes, over the cap"), None
    with store.download() as part:
        try:
            got = calls.run(
                wanted.url,
                lambda: _get(client, message, part, poster),
            )
        except FetchError:
            raise  # a long FloodWait: the run stops, the next one goes on
        except Exception as error:  # Telethon's errors: an expired file reference, ...
            detail = " ".join(str(error).split())[:200] or type(error).__name__
            return Fetched("failed", reason=f"the Telegram API failed: {detail}"), None
        if got is None:
            return Fetched("missing", reason=NO_LONGER), None
        part.flush()
        facts = describe(part.name)
        why = refusal("photo" if poster else wanted.type, facts)
        if why is not None:
            return Fetched("refused", reason=why), None
        stored = store.keep(part)
    return Fetched("stored", stored.sha256, None, stored.size), file_row(stored, facts, wanted)


def _get(client: Any, message: Any, part: Download, poster: bool) -> Any:
    part.seek(0)
    part.truncate()  # a retry after a FloodWait starts again
    if poster:
        return client.download_media(message, file=part, thumb=-1)
    return client.download_media(message, file=part)


def _file_of(media: Any, kind: str) -> Any:
    """The message's photo or document, if it is the medium the post says (else None)."""
    name = type(media).__name__
    if name == "MessageMediaPhoto" and kind == "photo":
        photo = getattr(media, "photo", None)
        return photo if type(photo).__name__ == "Photo" else None
    if name == "MessageMediaDocument" and kind != "photo":
        document = getattr(media, "document", None)
        return document if type(document).__name__ == "Document" else None
    return None


def _size(thing: Any) -> int | None:
    """A document's size, or a photo's largest size's, in bytes (None when not said)."""
    if isinstance(getattr(thing, "size", None), int):
        return thing.size
    sizes = []
    for size in getattr(thing, "sizes", None) or []:
        if isinstance(getattr(size, "size", None), int):
            sizes.append(size.size)
        elif isinstance(getattr(size, "sizes", None), list):  # progressive: the largest
            sizes.extend(s for s in size.sizes if isinstance(s, int))
        elif isinstance(getattr(size, "bytes", None), bytes):
            sizes.append(len(size.bytes))
    return max(sizes) if sizes else None


def _entity(client: Any, name: str, calls: _Calls, report: MediaReport) -> Any:
    """The channel as Telethon knows it; None (and a problem said) when it does not."""
    try:
        return calls.run(name, lambda: client.get_entity(name))
    except FetchError:
        raise
    except Exception:  # Telethon raises ValueError / RPC errors for unknown names
        report.problems.append(f"{name}: the Telegram API does not know this channel")
        return None


class _Calls:
    """Calls to the API that wait out short FloodWaits and stop on long ones."""

    def __init__(
        self,
        max_wait: float,
        sleep: Callable[[float], None],
        on_wait: Callable[[Wait], None] | None,
    ):
        self.max_wait, self.sleep, self.on_wait = max_wait, sleep, on_wait

    def run(self, what: str, call: Callable[[], Any]) -> Any:
        while True:
            try:
                return call()
            except Exception as error:
                seconds = getattr(error, "seconds", None)
                if not isinstance(seconds, int | float):
                    raise
                if seconds > self.max_wait:
                    raise FetchError(
                        f"{what}: Telegram asks to wait {seconds} s (FloodWait); run the"
                        " fetch again later to go on"
                    ) from error
                if self.on_wait is not None:
                    self.on_wait(Wait(what, seconds, "FloodWait", "Telegram asks"))
                self.sleep(seconds)


def _batches(items: Iterable[_Medium], size: int) -> Iterator[list[_Medium]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
