"""``/channels/<channel>``: a channel as Telegram shows it, newest first, and its charts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from ..store import PostFilter
from ..store.views import ArchiveViews
from .data import Reader, WebArchive
from .media import media_of
from .params import Page, int_param, not_found, zone_param

PAGE_SIZE = 20
_BIGGEST_ID = 2**63 - 1


def channel_page(archive: WebArchive, name: str, params: Mapping[str, str]) -> Page:
    before = int_param(params, "before", None, 1, _BIGGEST_ID)
    copies_before = int_param(params, "copies_before", None, 1, _BIGGEST_ID)
    limit = int_param(params, "limit", PAGE_SIZE, 1, 100) or PAGE_SIZE
    tz = zone_param(params)
    with archive.read() as reader:
        header = _header(archive, reader, name)
        username = header["username"]
        page = reader.views.channel_page(
            header["pk"], before=before, copies_before=copies_before, limit=limit
        )
        posts = archive.load(reader, page.pks)
        quotes = archive.reply_quotes(reader, posts)
        media = media_of(reader, [*(post.key for post in posts), f"@{username}"])
    picture = _picture(media.pop(f"@{username}", []))
    cursor = {"before": page.next_before} if page.next_before else {}
    if page.next_copies_before:
        cursor = {"copies_before": page.next_copies_before}
    extra = {"limit": limit} if limit != PAGE_SIZE else {}
    path = f"/channels/{quote(username, safe='')}"
    data = {
        "channel": {k: v for k, v in header.items() if k != "pk"},
        "posts": [post.to_dict() for post in posts],
        "reply_quotes": quotes,
        "media": media,  # the stored files of the posts (web.media.medium_record), by key
        "next": f"{path}?{urlencode({**cursor, **extra})}" if cursor else None,
        "charts": f"{path}/charts.json?{urlencode({'tz': tz})}",
        "images": f"{path}/images",
        "picture": picture,  # the channel's own picture, when the archive keeps it
        "tz": tz,
    }
    return Page("channel.html", data, title=header["title"] or username)


def channel_charts(archive: WebArchive, name: str, params: Mapping[str, str]) -> Page:
    """Posts per day, views and reactions per post over time, and the posting heatmap."""
    tz = zone_param(params)
    with archive.read() as reader:
        header = _header(archive, reader, name)
        username, pk = header["username"], header["pk"]
        days = archive.cached(("days", pk), reader, lambda views: views.channel_days(pk))
        cells = archive.cached(
            ("heatmap", pk, tz), reader, lambda views: heatmap(views.channel_hours(pk), tz)
        )
        every = archive.cached(
            ("engagement", tz), reader, lambda views: reach_by_channel(views, tz)
        )
    data = {
        "channel": username,
        "days": [day for day, *_ in days],
        "posts": [posts for _, posts, _, _ in days],
        "views": [_rounded(views) for *_, views, _ in days],
        "reactions": [_rounded(reactions) for *_, reactions in days],
        "heatmap": {"tz": tz, "cells": cells},
        "engagement": every.get(username),
    }
    return Page("", data)


def _header(archive: WebArchive, reader: Reader, name: str) -> dict:
    """The channel's header (cached), or a 404."""
    username = PostFilter(channel=name).channel or ""
    header = archive.cached(("channel", username), reader, lambda views: views.channel(username))
    if header is None:
        raise not_found(f"no channel {name!r} in this archive")
    return header


def reach_by_channel(views: ArchiveViews, tz: str) -> dict[str, dict]:
    """Every channel's reach (:func:`tgscope.analysis.engagement.engagement`) as records, by
    channel: one pass over the archive serves every channel's page."""
    from ..analysis.engagement import engagement
    from ..store.engagement import EngagementQueries
    from ..store.networks import NetworkQueries

    found = engagement(EngagementQueries(views.db), NetworkQueries(views.db), timezone=tz)
    records = {}
    for record in found.to_records():
        del record["heatmap"]  # the page draws its own, by quarter hour
        records[record["channel"]] = record
    return records


def heatmap(hours: list[tuple[str, int]], tz: str) -> list[list[int]]:
    """``[weekday (0 = Monday), hour, posts]`` in time zone ``tz`` from posts per UTC hour."""
    zone = ZoneInfo(tz)
    cells: Counter[tuple[int, int]] = Counter()
    for hour, count in hours:
        try:
            moment = datetime.fromisoformat(hour).replace(tzinfo=UTC).astimezone(zone)
        except ValueError:
            continue  # a date the archive keeps in another shape: not on the heatmap
        cells[moment.weekday(), moment.hour] += count
    return [[day, hour, count] for (day, hour), count in sorted(cells.items())]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _picture(kept: list[dict]) -> str | None:
    """The path of the channel's stored picture (``tgscope media fetch`` keeps it)."""
    return next(
        (m["path"] for m in kept if m["path"] and (m["mime"] or "").startswith("image/")), None
    )
