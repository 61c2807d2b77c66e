"""``/posts/<key>``: one post whole, with its sources, its edits, its counts over time and
its diplomatic events (their evidence highlighted in the text)."""

from __future__ import annotations

from dataclasses import asdict

from ..record import Post
from ..store.events import EventTables
from .data import Reader, WebArchive
from .events import evidence_marks, index_state, post_events, public
from .media import media_of
from .params import Page, not_found
from .render import diff_html, safe_url

SPREAD_THRESHOLD = 0.8  # near-copies: Jaccard of word pairs, as tgscope spread
SPREAD_SHOWN = 100  # posts of a cascade listed (tgscope spread KEY --json lists them all)


def post_page(archive: WebArchive, key: str) -> Page:
    with archive.read() as reader:
        pk = reader.posts.pk(key)
        if pk is None:
            raise not_found(f"no post {key!r} in this archive")
        post = reader.posts.load([pk])[pk]
        sources = reader.versions.report(key)
        history = reader.posts.history(key)
        versions = reader.views.versions(key)
        deleted_at = reader.views.deleted_at(key)
        quotes = archive.reply_quotes(reader, [post])
        spread, copies = _spread(reader, post)
        events = post_events(reader, key)
        events_index = index_state(reader, EventTables(reader.db))
        media = media_of(reader, [key]).get(key, [])
    texts = [version.text for version in versions] + [post.text]
    edits = [
        {**asdict(version), "diff": str(diff_html(version.text, newer))}
        for version, newer in zip(versions, texts[1:], strict=True)
    ]
    data = {
        "post": post.to_dict(),
        "telegram_url": telegram_url(post.channel, post.id),
        "media": media,  # what was fetched of post.media (web.media.medium_record), in order
        "deleted_at": deleted_at,
        "reply_quotes": quotes,
        "sources": sources,
        "history": [asdict(observation) for observation in history],
        "versions": edits,
        "spread": spread,
        "copies_index": copies,
        "events": events,  # #event-N: the Nth of these
        "evidence_marks": evidence_marks(post.text, events),
        "events_index": public(events_index),
    }
    return Page("post.html", data, title=post.key)


def _spread(reader: Reader, post: Post) -> tuple[dict, dict]:
    """The post's cascade (:func:`tgscope.analysis.spread.trace`) from what the near-copy
    index holds (the app does not write it: ``tgscope duplicates`` or ``serve`` brings it up
    to date), and how far that index is: built or not, writes behind."""
    from ..analysis.spread import trace
    from ..store.nearcopies import NearCopyTables

    tables = NearCopyTables(reader.db)
    state = tables.state()
    held = int(state["seq"]) if "seq" in state else None
    behind = reader.views.last_seq() - held if held is not None else None
    found = trace(tables, reader.posts.load, post, threshold=SPREAD_THRESHOLD).to_dict()
    total = len(found["posts"])
    found["posts"] = found["posts"][:SPREAD_SHOWN]  # a bot's 10,000 copies: the first ones
    found["total"] = total
    return found, {"built": held is not None, "behind": behind}


def telegram_url(channel: str | None, message_id: int | None) -> str | None:
    """The post on t.me, when it has a channel and an id."""
    if not channel or message_id is None:
        return None
    return safe_url(f"https://t.me/{channel}/{message_id}")
