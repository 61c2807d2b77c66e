"""``/search``: the archive's full-text search with filters, facets and exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from ..dates import day_bounds
from ..errors import QueryError, StoreError
from ..exports import CSV_COLUMNS, csv_row, guard_formula
from ..search import SearchIndex
from ..snippets import snippet
from ..store import MEDIA_FILTERS, PostFilter, TextSearch
from ..store.views import ArchiveViews
from .data import WebArchive
from .media import media_of
from .params import (
    MAX_OFFSET,
    MAX_QUERY,
    HTTPProblem,
    Page,
    bad,
    choice_param,
    date_param,
    int_param,
    text_param,
)

SORTS = ("relevance", "newest", "oldest")
PAGE_SIZE = 20
_EXPORT_ROWS = 200  # rows per chunk of a streamed export


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A search as the URL gives it, checked."""

    query: str
    filters: PostFilter
    sort: str
    offset: int
    limit: int

    def params(self, **changes: object) -> dict[str, object]:
        """The URL parameters of this search (with ``changes``), defaults left out."""
        values: dict[str, object] = {
            "q": self.query,
            "channel": self.filters.channel,
            "since": self.filters.since,
            "until": self.filters.until,
            "hashtag": self.filters.hashtag,
            "media": self.filters.media,
            "forwarded": _yes_no(self.filters.forwarded),
            "sort": self.sort if self.sort != default_sort(self.query) else None,
            "offset": self.offset or None,
            "limit": self.limit if self.limit != PAGE_SIZE else None,
            **changes,
        }
        return {name: value for name, value in values.items() if value not in (None, "")}


def default_sort(query: str) -> str:
    """Relevance for words to match; newest first for a listing by filters alone."""
    return "relevance" if query.strip() else "newest"


def read_search(params: Mapping[str, str]) -> SearchRequest:
    query = text_param(params, "q", longest=MAX_QUERY) or ""
    forwarded = choice_param(params, "forwarded", ("yes", "no"))
    try:
        filters = PostFilter(
            channel=text_param(params, "channel", longest=64),
            since=date_param(params, "since"),
            until=date_param(params, "until"),
            hashtag=text_param(params, "hashtag", longest=256),
            media=choice_param(params, "media", MEDIA_FILTERS),
            forwarded=None if forwarded is None else forwarded == "yes",
        )
    except ValueError as error:
        raise bad(str(error)) from None
    try:
        day_bounds(filters.since, filters.until)
    except QueryError as error:
        raise bad(f"since, until: {error}") from None
    return SearchRequest(
        query=query,
        filters=filters,
        sort=choice_param(params, "sort", SORTS, default_sort(query)) or "relevance",
        offset=int_param(params, "offset", 0, 0, MAX_OFFSET) or 0,
        limit=int_param(params, "limit", PAGE_SIZE, 1, 100) or PAGE_SIZE,
    )


def search_page(archive: WebArchive, params: Mapping[str, str]) -> Page:
    request = read_search(params)
    index = search_index(archive)
    try:
        hits = index.search(
            request.query,
            request.filters,
            limit=request.limit,
            order=request.sort,
            offset=request.offset,
        )
        facets = index.channel_counts(request.query, request.filters)
    except QueryError as error:
        raise bad(f"q: {error}") from None
    with archive.read() as reader:
        posts = reader.posts.load([hit.pk for hit in hits.hits])
        undated = 0
        if request.filters.since or request.filters.until:
            undated = reader.posts.count_undated(request.filters)
        # the store's own search is written with the posts: never behind
        held = index.written_up_to() if isinstance(index, SearchIndex) else None
        behind = reader.views.last_seq() - held if held is not None else 0
        channels = archive.cached("names", reader, ArchiveViews.channel_names)
        quotes = archive.reply_quotes(reader, posts.values())
        media = media_of(reader, [post.key for post in posts.values()])
    results = [
        {"post": post.to_dict(), "score": hit.score, "snippet": snippet(post.text, hits.terms)}
        for hit in hits.hits
        if (post := posts.get(hit.pk)) is not None
    ]
    following = request.offset + request.limit
    more = following < hits.total and following <= MAX_OFFSET
    data = {
        "query": request.params(offset=None),
        "total": hits.total,
        "undated_left_out": undated,
        "index_behind": max(behind, 0),
        "facets": {"channels": facets},
        "results": results,
        "reply_quotes": quotes,
        "media": media,  # the stored files of the posts (web.media.medium_record), by key
        "next": _url("/search", request.params(offset=following)) if more else None,
        "exports": {
            kind: _url(f"/search.{kind}", request.params(offset=None, limit=None))
            for kind in ("csv", "jsonl")
        },
        "facet_urls": {
            name: _url("/search", request.params(channel=name, offset=None)) for name in facets
        },
        "channels": channels,
        "sorts": list(SORTS),
        "media_filters": list(MEDIA_FILTERS),
    }
    return Page(
        "search.html", data, title=f"Search: {request.query}" if request.query else "Search"
    )


def export_chunks(archive: WebArchive, params: Mapping[str, str], kind: str) -> Iterator[str]:
    """Every post the search matches, in archive order, as CSV or JSON Lines text chunks
    (the columns and records of ``tgscope export``).  The parameters are checked before
    the first chunk, so a bad one is still a 400."""
    request = read_search(params)
    index = search_index(archive)
    try:
        only = index.matching_pks(request.query, request.filters) if request.query else None
    except QueryError as error:
        raise bad(f"q: {error}") from None
    return _chunks(archive, request.filters, only, kind)


def _chunks(
    archive: WebArchive, filters: PostFilter, only: set[int] | None, kind: str
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if kind == "csv":
        writer.writerow(CSV_COLUMNS)
    with archive.streaming() as reader:
        for count, post in enumerate(reader.posts.iter_posts(filters, only), 1):
            if kind == "csv":
                writer.writerow([guard_formula(cell) for cell in csv_row(post)])
            else:
                buffer.write(post.to_json() + "\n")
            if count % _EXPORT_ROWS == 0:
                yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def search_index(archive: WebArchive) -> SearchIndex | TextSearch:
    """The archive's search index, or a 503 saying why there is none."""
    try:
        return archive.index
    except StoreError as error:
        raise HTTPProblem(503, f"search is not available: {error}") from None


def _url(path: str, params: Mapping[str, object]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")
