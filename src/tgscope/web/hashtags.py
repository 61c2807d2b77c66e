"""``/hashtags`` and ``/hashtags/<tag>``: the most used hashtags; one hashtag over time."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode

from ..store import PostFilter
from .data import WebArchive
from .media import media_of
from .params import MAX_OFFSET, Page, int_param, not_found
from .search import search_index

PAGE_SIZE = 20


def hashtags_page(archive: WebArchive, params: Mapping[str, str]) -> Page:
    limit = int_param(params, "limit", 100, 1, 1000) or 100
    with archive.read() as reader:
        rows = archive.cached(("hashtags", limit), reader, lambda views: views.hashtags(limit))
    data = {
        "hashtags": [
            {"tag": tag, "folded": folded, "posts": posts, "channels": channels}
            for tag, folded, posts, channels in rows
        ]
    }
    return Page("hashtags.html", data, title="Hashtags")


def hashtag_page(archive: WebArchive, tag: str, params: Mapping[str, str]) -> Page:
    folded = PostFilter(hashtag=tag).hashtag or ""
    offset = int_param(params, "offset", 0, 0, MAX_OFFSET) or 0
    filters = PostFilter(hashtag=folded)
    with archive.read() as reader:
        channels = reader.views.hashtag_channels(folded)
        spelling = reader.views.hashtag_spelling(folded)
        if not channels:
            raise not_found(f"no post with the hashtag #{tag} in this archive")
        weekly = archive.cached(
            ("tag-weeks", folded), reader, lambda views: views.weekly_posts(filters)
        )
        hits = search_index(archive).search(
            "", filters, limit=PAGE_SIZE, order="newest", offset=offset
        )
        posts = archive.load(reader, [hit.pk for hit in hits.hits])
        quotes = archive.reply_quotes(reader, posts)
        media = media_of(reader, [post.key for post in posts])
    weeks = list(weekly)
    names = [name for name, _, _ in channels if name]
    following = offset + PAGE_SIZE
    data = {
        "hashtag": folded,
        "spelling": spelling,
        "total": sum(posts for _, _, posts in channels),
        "channels": [
            {"username": name, "title": title, "posts": count} for name, title, count in channels
        ],
        "timeline": {
            "weeks": weeks,
            "series": {name: [weekly[week].get(name, 0) for week in weeks] for name in names},
        },
        "posts": [post.to_dict() for post in posts],
        "reply_quotes": quotes,
        "media": media,  # the stored files of the posts (web.media.medium_record), by key
        "next": f"/hashtags/{quote(folded, safe='')}?{urlencode({'offset': following})}"
        if following < hits.total and following <= MAX_OFFSET
        else None,
    }
    return Page("hashtag.html", data, title=f"#{folded}")
