"""The web-preview collector: ``tgscope sync CHANNEL`` walks ``t.me/s/<channel>`` into the archive.

It walks from the newest page back through ``?before=`` cursors.  Each page is saved in its own
transaction together with the cursor of the next one, so a crash or Ctrl-C loses nothing and the
next run continues where the last one stopped.  By default a walk ends at the newest post a
finished walk already archived (incremental); ``all_pages`` walks the whole history again.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from threading import Event, Lock

import httpx

from ..archive import Archive, FileReport
from ..clean import normalize_channel
from ..dates import day_bounds
from ..errors import ChannelUnavailable, OptionError, ParseError, StoreError, TgscopeError
from ..sources.web import parse_page
from ..store import SourceInfo, Store, SyncState
from .http import FetchPolicy, Wait, fetch
from .report import DELETED, NEVER_SHOWN, SyncReport

__all__ = ["DELETED", "NEVER_SHOWN", "SyncReport", "sync_channel", "sync_channels"]

_PAGE_END = re.compile(rb"</(?:html|body)\s*>", re.IGNORECASE)
INDEX_EVERY_PAGES = 50  # the search index is committed after this many pages ...
INDEX_EVERY_SECONDS = 30.0  # ... or this long, whichever comes first, and at the end


def sync_channel(
    archive: Archive,
    channel: str,
    *,
    client: httpx.Client,
    policy: FetchPolicy | None = None,
    all_pages: bool = False,
    since: str | None = None,
    until: str | None = None,
    keep_raw: bool = False,
    on_page: Callable[[SyncReport], None] | None = None,
    on_wait: Callable[[Wait], None] | None = None,
    lock: Lock | None = None,
    stop: Event | None = None,
    on_save: Callable[[Store], None] | None = None,
) -> SyncReport:
    """Archive a channel's public posts from its web preview; resumable and incremental.

    With ``until`` the walk first seeks the page holding that date by a binary search over
    post ids (a few requests instead of walking down from the newest page), then archives
    posts from there back to ``since`` (or the first post).  Channels may sync side by side
    in threads sharing one archive: ``lock`` serializes their use of it, and setting ``stop``
    ends the walk after the page in hand is saved.  ``on_page`` is called after each page is
    saved, ``on_wait`` before each long wait (see :func:`tgscope.collect.http.fetch`), and
    ``on_save`` inside each transaction that saves a page or the walk's state, before it
    commits (a worker renews its lease there: raising rolls the page back).

    Each page is committed to the store with its cursor; the search index is committed every
    :data:`INDEX_EVERY_PAGES` pages or :data:`INDEX_EVERY_SECONDS` and at the end (after a
    crash it catches up from the store when the archive is next opened).
    """
    try:
        name = normalize_channel(channel)
    except ValueError as error:
        raise OptionError(str(error)) from error
    assert name is not None
    policy = policy or FetchPolicy()
    low, high = day_bounds(since, until)
    report = SyncReport(name)
    walk = _Walk(
        archive,
        client,
        policy,
        report,
        since=low,
        until=high,
        keep_raw=keep_raw,
        on_page=on_page,
        on_wait=on_wait,
        lock=lock or Lock(),
        stop=stop,
        on_save=on_save,
    )
    try:
        _walk_all(walk, all_pages)
    except BaseException:  # an error or Ctrl-C: what the saved pages hold becomes searchable
        with walk.lock:
            archive.flush_index()
        raise  # (their events wait for the next sync or tgscope events)
    with walk.lock:
        archive.flush_index()
        with contextlib.suppress(StoreError):  # another process writes: a later run catches up
            archive.update_events()
    with walk.lock:
        report.gone_since = _deletion_dates(archive.store, report)
    return report


def _walk_all(walk: _Walk, all_pages: bool) -> None:
    """Held parts first, then from the top (or from the page ``until`` seeks)."""
    low, high, report = walk.since, walk.until, walk.report
    state = walk.state()
    if all_pages and high is None:  # start over: nothing left for later matters now
        walk.save_state(state._replace(cursor=None, target=None, held=()))
    elif state.cursor is not None:  # an interrupted walk: held, and continued like the others
        walk.save_state(walk.hold(state, state.cursor, state.target, None))
    if high is None:  # a date-limited sync leaves what was held for a sync that is not
        walk.continue_held(low)
    if high is not None:
        cursor = walk.seek(high)
        if cursor is None or cursor > 1:  # 1: no post is older than --until
            walk.run(cursor, None)
        else:
            report.stopped = "no post before the until date"
    else:
        walk.run(None, None if all_pages else walk.state().newest_id)


def _deletion_dates(store: Store, report: SyncReport) -> dict[int, str]:
    """Which missing ids are archived posts marked deleted, and since when (asked by range:
    a page jumping from id 1 to a billion costs what the archive holds there, no more)."""
    missing = list(report.missing)
    return store.deletion_dates(report.channel, missing) if missing else {}


def sync_channels(
    archive: Archive,
    channels: list[str],
    *,
    client: httpx.Client,
    jobs: int = 2,
    on_page: Callable[[SyncReport], None] | None = None,
    on_wait: Callable[[Wait], None] | None = None,
    **options,
) -> Generator[tuple[str, SyncReport | TgscopeError]]:
    """Sync several channels side by side, at most ``jobs`` at a time, through one client.

    Yields ``(channel, report)`` as each channel ends, or ``(channel, error)`` for a channel
    that failed (the others go on).  Each worker keeps the policy's delay between its own
    requests, so at most ``jobs`` requests are in flight.  An interruption (Ctrl-C) stops every
    walk after the page in hand is saved; the next sync continues each from its cursor.
    """
    day_bounds(options.get("since"), options.get("until"))  # a bad date: one error, up front
    names: dict[str, str] = {}  # normalized -> as given: two spellings are one channel
    for given in channels:
        try:
            names.setdefault(normalize_channel(given) or given, given)
        except ValueError as error:
            yield given, OptionError(str(error))
    lock, stop = Lock(), Event()
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="sync")
    futures = {
        pool.submit(
            sync_channel,
            archive,
            name,
            client=client,
            on_page=on_page,
            on_wait=on_wait,
            lock=lock,
            stop=stop,
            **options,
        ): name
        for name in names
    }
    try:
        for future in as_completed(futures):
            try:
                yield futures[future], future.result()
            except TgscopeError as error:
                yield futures[future], error
    finally:  # also on Ctrl-C, or when the caller stops reading
        stop.set()
        _shut_down(pool)


def _shut_down(pool: ThreadPoolExecutor) -> None:
    """Wait for every worker to save its page and stop, even through another Ctrl-C: the
    archive must not close under a worker that is still writing."""
    while True:
        try:
            pool.shutdown(wait=True, cancel_futures=True)
            return
        except KeyboardInterrupt:
            continue


@dataclass
class _Walk:
    """One channel's walk through its pages; :meth:`run` goes from a cursor down to a target."""

    archive: Archive
    client: httpx.Client
    policy: FetchPolicy
    report: SyncReport
    since: str | None
    until: str | None  # exclusive upper bound (stored-date string)
    keep_raw: bool
    on_page: Callable[[SyncReport], None] | None
    on_wait: Callable[[Wait], None] | None
    lock: Lock
    stop: Event | None = None
    on_save: Callable[[Store], None] | None = None
    unindexed: int = 0  # pages saved since the index was last committed
    indexed_at: float = field(default_factory=time.monotonic)

    def _sleep(self, seconds: float) -> None:
        """Waits between requests end early, as an interruption, once ``stop`` is set."""
        if self.stop is None:
            time.sleep(seconds)
        elif self.stop.wait(seconds):
            raise KeyboardInterrupt

    def hold(
        self, state: SyncState, cursor: int | None, target: int | None, date: str | None
    ) -> SyncState:
        """``state`` with the walk from ``cursor`` down to ``target`` left for later."""
        if cursor is None:
            return state
        entries = {entry[:2]: entry for entry in state.held}
        entries[(cursor, target)] = (cursor, target, date)
        held = tuple(sorted(entries.values(), key=lambda entry: -entry[0]))
        return state._replace(cursor=None, target=None, held=held)

    def continue_held(self, since: str | None) -> None:
        """Walk what earlier syncs left for later, each part once, newest first; a part whose
        posts are all older than ``since`` stays held."""
        for entry in self.state().held:
            cursor, target, date = entry
            if since is not None and date is not None and date <= since:
                continue
            state = self.state()
            rest = tuple(other for other in state.held if other != entry)
            self.save_state(state._replace(cursor=cursor, target=target, held=rest))
            self.run(cursor, target)

    def state(self) -> SyncState:
        with self.lock:
            return self.archive.store.sync_state(self.report.channel)

    def save_state(self, state: SyncState) -> None:
        with self.lock, self.archive.store.transaction():
            self.archive.store.save_sync_state(self.report.channel, state)
            if self.on_save is not None:
                self.on_save(self.archive.store)

    def run(self, cursor: int | None, target: int | None) -> None:
        """Pages from ``?before=cursor`` (or the newest page) down to post ``target``.

        The state keeps ``newest_id`` (the newest post any walk archived) up to date page by
        page; ``cursor`` and ``target`` say where an unfinished walk continues, and to where.
        """
        channel = self.report.channel
        newest = self.state().newest_id
        while True:
            if self.stop is not None and self.stop.is_set():
                raise KeyboardInterrupt
            path = f"/s/{channel}" + (f"?before={cursor}" if cursor else "")
            page, body = self._fetch_page(path)
            url = str(self.client.base_url.join(path))
            _only_this_channel(page, channel, url)
            ids = sorted(page.shown)
            if not ids and cursor is None and page.channel is None:
                raise ChannelUnavailable(f"{url}: no channel preview here")
            self.report.pages += 1
            self.report.warnings += page.warnings
            self.report.ids_seen.update(ids)
            span = (min(ids), cursor - 1 if cursor else max(ids)) if ids else None
            if span:  # the page shows every post from its oldest up to the cursor
                self.report.covered.add(*span)
            kept = [post for post in page.posts if self._wanted(post)]
            # only what is archived moves the mark an incremental sync stops at
            newest = max([newest or 0, *(post.id for post in kept if post.id)]) or None
            next_cursor = _next_cursor(page.before, ids, cursor)
            done, reason = _walk_ends(page, ids, next_cursor, target, self.since)
            state = SyncState(newest, next_cursor, target, self.state().held)
            if done:
                state = state._replace(cursor=None, target=None)
            if done and reason == _SINCE:  # held for a later sync to continue downwards
                state = self.hold(state, next_cursor, target, _oldest_date(page))
            self._save(page, kept, body, url, span, state)
            if self.on_page:
                self.on_page(self.report)
            if done:
                self.report.stopped = reason
                return
            cursor = next_cursor

    def seek(self, until: str) -> int | None:
        """The largest ``before=`` cursor whose page holds only posts older than ``until``
        (``None``: the newest page already does)."""
        page, _ = self._fetch_page(f"/s/{self.report.channel}")
        self.report.pages += 1
        ids = [post.id for post in page.posts if post.id is not None]
        if not ids or _newest_date(page) < until:
            return None  # the newest page already qualifies: walk from the top
        low, high = 1, max(ids)  # the answer: the largest cursor whose page is all older
        while low < high:
            middle = (low + high + 1) // 2
            probe, _ = self._fetch_page(f"/s/{self.report.channel}?before={middle}")
            self.report.pages += 1
            if probe.posts and _newest_date(probe) >= until:
                high = middle - 1
            else:
                low = middle
        return low

    def _fetch_page(self, path: str):
        return _fetch_page(self.client, path, self.policy, self._sleep, self.on_wait)

    def _wanted(self, post) -> bool:
        return self.until is None or (post.date is not None and post.date < self.until)

    def _save(self, page, posts, body: bytes, url: str, span, state: SyncState) -> None:
        """The page's posts, its evidence and the walk's cursor, in one transaction."""
        channel, now = self.report.channel, datetime.now(UTC).isoformat()  # each fetch apart
        digest = hashlib.sha256(body).hexdigest()

        def also(store: Store) -> None:
            store.save_sync_state(channel, state)
            if span:
                gone = store.mark_missing(channel, span[0], span[1], page.shown, now)
                self.report.deleted += gone
            if self.keep_raw:
                store.save_raw_page(url, now, digest, body)
            if self.on_save is not None:
                self.on_save(store)

        items = [page.channel] if page.channel is not None and page.channel.username else []
        with self.lock:
            saved = self.archive.ingest(
                [*items, *posts],
                SourceInfo("web", url, digest, now),
                FileReport(url, "web"),
                before_commit=also,
                defer_index=True,
            )
            self._index_now_and_then()
        self.report.added += saved.added
        self.report.updated += saved.updated
        self.report.unchanged += saved.unchanged
        self.report.page_posts, self.report.page_added = len(page.posts), saved.added

    def _index_now_and_then(self) -> None:
        """Commit the search index every so many pages or seconds (one commit per page
        would cost more than the rest of the sync together)."""
        self.unindexed += 1
        late = time.monotonic() - self.indexed_at >= INDEX_EVERY_SECONDS
        if self.unindexed >= INDEX_EVERY_PAGES or late:
            self.archive.flush_index()
            self.unindexed, self.indexed_at = 0, time.monotonic()


def _oldest_date(page) -> str | None:
    return min((post.date for post in page.posts if post.date), default=None)


def _newest_date(page) -> str:
    return max((post.date for post in page.posts if post.date), default="")


def _fetch_page(
    client: httpx.Client,
    path: str,
    policy: FetchPolicy,
    sleep: Callable[[float], None] = time.sleep,
    on_wait: Callable[[Wait], None] | None = None,
):
    response = fetch(
        client, path, policy=policy, complete=_is_whole_page, sleep=sleep, on_wait=on_wait
    )
    url = str(response.url)
    if response.status_code == 404 or "/s/" not in url:
        raise ChannelUnavailable(
            f"{client.base_url.join(path)}: no public preview (answered {url})"
        )
    if response.status_code >= 400:
        raise ChannelUnavailable(f"{url}: HTTP {response.status_code}")
    try:
        return parse_page(response.content, url), response.content
    except ValueError as error:
        raise ParseError(str(error), path=url) from error


def _is_whole_page(response: httpx.Response) -> bool:
    """A page cut short (a dropped connection the server did not report) is fetched again."""
    return "/s/" not in str(response.url) or bool(_PAGE_END.search(response.content[-1024:]))


def _next_cursor(before: int | None, ids: list[int], cursor: int | None) -> int | None:
    """The page's "older" link, or the smallest id shown when the link is missing or would
    loop; ``None`` when nothing older can be asked for."""
    for candidate in (before, min(ids) if ids else None):
        if candidate is not None and (cursor is None or candidate < cursor):
            return candidate
    return None


def _only_this_channel(page, channel: str, url: str) -> None:
    """A page of another channel (a renamed or redirected channel) must not be taken for it."""
    named = page.channel.username if page.channel else None
    others = {post.channel for post in page.posts} - {channel}
    if (named and named != channel) or others:
        shown = named or ", ".join(sorted(others))
        raise ChannelUnavailable(f"{url}: the page is of another channel ({shown})")


def _walk_ends(page, ids: list[int], cursor: int | None, target: int | None, since: str | None):
    if cursor is None or cursor <= 1:
        return True, "reached the channel's first post"
    if target is not None and ids and min(ids) <= target:
        return True, f"reached post {target}, archived before"
    dates = [post.date for post in page.posts if post.date]
    if since and dates and min(dates) < since:
        return True, _SINCE
    return False, ""


_SINCE = "reached the since date"
