"""The Telegram API collector: ``tgscope sync --api CHANNEL`` through Telethon (optional).

It brings what the web preview cannot: exact view counts, forward and comment counts, album
ids, the forward's source channel and post.  It walks from the newest message down like the
web collector and saves each batch in one transaction with its cursor, so an interrupted
sync resumes; it is incremental by default.  On FloodWait it sleeps when the wait is short
and stops with a clear message when it is long (the next run resumes).

Credentials (an API id and hash from my.telegram.org, and the login session) live outside
the archive, in ``$TGSCOPE_CONFIG`` or ``~/.config/tgscope``, readable by the user only;
``TGSCOPE_API_ID`` and ``TGSCOPE_API_HASH`` override the stored ones.  Nothing here prints
them.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..archive import Archive, FileReport
from ..clean import normalize_channel
from ..errors import ChannelUnavailable, FetchError, OptionError, StoreError, TgscopeError
from ..record import Channel, Post
from ..sources.telegram_api import Names, iso_date, message_to_post
from ..store import SourceInfo, Store, SyncState
from .http import Wait
from .report import SyncReport

BATCH = 100
FLOOD_SLEEP_LIMIT = 60.0  # seconds: longer FloodWaits stop the sync instead


@dataclass(frozen=True)
class Credentials:
    api_id: int
    api_hash: str

    def __repr__(self) -> str:  # never shown, not even in a traceback
        return "Credentials(api_id=…, api_hash=…)"


def config_dir() -> Path:
    return Path(os.environ.get("TGSCOPE_CONFIG") or Path.home() / ".config" / "tgscope")


def session_path() -> Path:
    return config_dir() / "telegram.session"


def save_credentials(credentials: Credentials) -> Path:
    """Store the API id and hash for later syncs, readable by the user only."""
    path = private_folder() / "credentials.json"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump({"api_id": credentials.api_id, "api_hash": credentials.api_hash}, out)
    os.chmod(path, 0o600)
    return path


def load_credentials() -> Credentials:
    """The environment's credentials, else the stored ones; a clear error when there are none."""
    api_id, api_hash = os.environ.get("TGSCOPE_API_ID"), os.environ.get("TGSCOPE_API_HASH")
    stored = config_dir() / "credentials.json"
    if not (api_id and api_hash) and stored.exists():
        try:
            saved = json.loads(stored.read_text(encoding="utf-8"))
            api_id, api_hash = api_id or saved["api_id"], api_hash or saved["api_hash"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise OptionError(
                f"{stored}: unreadable credentials; run tgscope auth again"
            ) from error
    if not (api_id and api_hash):
        raise OptionError(
            "no Telegram API credentials: run tgscope auth, or set TGSCOPE_API_ID and"
            " TGSCOPE_API_HASH"
        )
    try:
        return Credentials(int(api_id), str(api_hash))
    except ValueError as error:
        raise OptionError("TGSCOPE_API_ID: not a number") from error


def make_client(credentials: Credentials) -> Any:
    """A Telethon client (synchronous interface) on the stored session."""
    try:
        from telethon.sync import TelegramClient
    except ImportError as error:
        raise OptionError(
            "the Telegram API needs Telethon: pip install 'tgscope[telegram]'"
        ) from error
    private_folder()
    client = TelegramClient(str(session_path()), credentials.api_id, credentials.api_hash)
    keep_private(session_path())
    return client


def private_folder() -> Path:
    """The config folder, readable by the user only (the session grants account access)."""
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    return folder


def keep_private(path: Path) -> None:
    if path.exists():
        os.chmod(path, 0o600)


@contextmanager
def api_session(credentials: Credentials | None = None) -> Iterator[Any]:
    """A connected Telethon client on the stored session, which must be logged in already
    (:func:`login`); disconnected at the end.  Credentials: given, else :func:`load_credentials`."""
    client = make_client(credentials or load_credentials())
    client.connect()  # not start(): that would ask for a phone number here
    try:
        if not client.is_user_authorized():
            raise OptionError("not logged in to the Telegram API: log in first (tgscope auth)")
        yield client
    finally:
        client.disconnect()
        keep_private(session_path())


def login(
    credentials: Credentials,
    phone: str,
    *,
    code_callback: Callable[[], str] | None = None,
    password: Callable[[], str] | str | None = None,
    client: Any = None,
) -> Path:
    """Log in to the Telegram API once and keep the session and credentials (readable by the
    user only) for later syncs; return the credentials file.

    ``code_callback`` returns the code Telegram sends (default: Telethon asks on the
    terminal), ``password`` the two-step password if one is set.  ``client`` stands in for
    Telethon's (tests).
    """
    client = client if client is not None else make_client(credentials)
    options: dict[str, Any] = {"phone": phone}
    if code_callback is not None:
        options["code_callback"] = code_callback
    if password is not None:
        options["password"] = password
    try:
        client.start(**options)
    finally:
        client.disconnect()
        keep_private(session_path())
    return save_credentials(credentials)


def sync_api(
    archive: Archive,
    channels: Iterable[str],
    *,
    client: Any,
    all_pages: bool = False,
    max_wait: float = FLOOD_SLEEP_LIMIT,
    on_batch: Callable[[SyncReport], None] | None = None,
    on_wait: Callable[[Wait], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Generator[tuple[str, SyncReport | TgscopeError]]:
    """Sync channels one after another through a connected client (:func:`api_session`).

    Yields ``(channel, report)`` as each ends, or ``(channel, error)`` for one that failed
    (the others go on).  FloodWaits up to ``max_wait`` seconds are waited out (announced to
    ``on_wait``); a longer one stops that channel, to be resumed by the next sync.
    """
    for channel in channels:
        try:
            yield (
                channel,
                sync_api_channel(
                    archive,
                    channel,
                    client=client,
                    all_pages=all_pages,
                    on_batch=on_batch,
                    flood_limit=max_wait,
                    on_wait=on_wait,
                    sleep=sleep,
                ),
            )
        except TgscopeError as error:
            yield channel, error


def sync_api_channel(
    archive: Archive,
    channel: str,
    *,
    client: Any,
    all_pages: bool = False,
    on_batch: Callable[[SyncReport], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    flood_limit: float = FLOOD_SLEEP_LIMIT,
    on_wait: Callable[[Wait], None] | None = None,
) -> SyncReport:
    """Archive a channel's messages through the API; resumable and incremental.

    Each batch is committed to the store with its cursor; the search index is committed at
    the end (after a crash it catches up from the store when the archive is next opened).
    """
    try:
        name = normalize_channel(channel)
    except ValueError as error:
        raise OptionError(str(error)) from error
    assert name is not None
    report = SyncReport(name)
    entity = _entity(client, name)
    header = Channel(
        username=name, title=getattr(entity, "title", None), telegram_id=getattr(entity, "id", None)
    )
    state = archive.store.sync_state(name, kind="api")
    if all_pages:
        state = SyncState(state.newest_id, None, None, ())
    cursor, target = state.cursor, state.target
    if cursor is None:  # a new walk from the newest message down to the newest archived
        target = None if all_pages else state.newest_id
    newest = state.newest_id
    with _indexed_at_end(archive):
        while True:
            try:
                batch = _fetch(client, entity, cursor, target)
            except TgscopeError:
                raise
            except Exception as error:  # Telethon's errors: FloodWait above all
                seconds = getattr(error, "seconds", None)
                if seconds is None:
                    raise FetchError(f"{name}: the Telegram API failed: {error}") from error
                if seconds > flood_limit:
                    raise FetchError(
                        f"{name}: Telegram asks to wait {seconds} s (FloodWait); stopped at message"
                        f" {cursor or 'the newest'}: run the sync again later to continue"
                    ) from error
                if on_wait is not None:
                    on_wait(Wait(f"telegram-api:{name}", seconds, "FloodWait", "Telegram asks"))
                sleep(seconds)
                continue
            if not batch:
                report.stopped = (
                    f"reached message {target}, archived before"
                    if target
                    else "reached the first message"
                )
                _save(archive, report, header, [], SyncState(newest, None, None, ()))
                return report
            names = _names(batch)
            posts = [_post(m, name, header.title, names, report) for m in batch]
            lowest = min(m.id for m in batch)
            newest = max([newest or 0, *(m.id for m in batch)])
            report.ids_seen.update(m.id for m in batch)
            report.pages += 1
            report.page_posts = len(batch)
            _save(archive, report, header, posts, SyncState(newest, lowest, target, ()))
            if on_batch:
                on_batch(report)
            cursor = lowest


@contextmanager
def _indexed_at_end(archive: Archive) -> Iterator[None]:
    """Batches are saved with the index deferred; it is committed once, also on an error."""
    try:
        yield
    except BaseException:
        archive.flush_index()
        raise  # the events of what was saved wait for the next sync or tgscope events
    archive.flush_index()
    with contextlib.suppress(StoreError):  # another process writes: a later run catches up
        archive.update_events()


def _post(message: Any, channel: str, title: str | None, names: Names, report: SyncReport):
    """The message as a post; one this version cannot read is kept with what is certain
    (id, date, text) and a warning, so the sync goes past it."""
    try:
        return message_to_post(message, channel, title, names)
    except (AttributeError, TypeError, ValueError) as error:
        report.warnings.append(
            f"{channel}/{message.id}: partly unreadable ({error}); kept its text"
        )
        return Post(
            key=f"{channel}/{message.id}",
            channel=channel,
            channel_title=title,
            id=message.id,
            date=iso_date(getattr(message, "date", None)),
            text=getattr(message, "message", None) or "",
        )


def _entity(client: Any, name: str) -> Any:
    try:
        return client.get_entity(name)
    except Exception as error:  # Telethon raises ValueError / RPC errors for unknown names
        raise ChannelUnavailable(f"{name}: the Telegram API does not know this channel") from error


def _fetch(client: Any, entity: Any, cursor: int | None, target: int | None) -> list[Any]:
    """The next batch below ``cursor`` (newest first), down to and not including ``target``."""
    return list(
        client.iter_messages(entity, limit=BATCH, offset_id=cursor or 0, min_id=target or 0)
    )


def _names(batch: Iterable[Any]) -> Names:
    """Usernames and titles of the channels and bots these messages refer to by id."""
    names: dict[int, tuple[str | None, str | None]] = {}
    for message in batch:
        forward = getattr(message, "forward", None)
        for entity in (getattr(forward, "chat", None), getattr(message, "via_bot", None)):
            if entity is not None and getattr(entity, "id", None) is not None:
                title = getattr(entity, "title", None) or getattr(entity, "first_name", None)
                names[entity.id] = (getattr(entity, "username", None), title)
    return names


def _save(archive, report: SyncReport, header: Channel, posts, state: SyncState) -> None:
    now = datetime.now(UTC).isoformat()

    def also(store: Store) -> None:
        store.save_sync_state(report.channel, state, kind="api")

    saved = archive.ingest(
        [header, *posts],
        SourceInfo("api", f"telegram-api:{report.channel}", "", now),
        FileReport(f"telegram-api:{report.channel}", "api"),
        before_commit=also,
        defer_index=True,
    )
    report.added += saved.added
    report.updated += saved.updated
    report.unchanged += saved.unchanged
    report.page_added = saved.added
