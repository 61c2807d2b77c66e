"""``/duplicates`` and ``/duplicates/<cluster>``: copy-paste clusters, the copies side by side.

The app reads the near-copy index as it is (``tgscope duplicates`` builds it, ``serve``
catches it up before serving); the pages say when it is not built or is behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode

from ..errors import QueryError
from ..store.views import ArchiveViews
from .data import Reader, WebArchive
from .media import media_of
from .params import (
    MAX_OFFSET,
    Page,
    bad,
    date_param,
    float_param,
    int_param,
    not_found,
    text_param,
)
from .render import diff_html

PAGE_SIZE = 50
SHOWN = 100  # posts of one cluster shown side by side; the twin lists them all


def duplicates_page(archive: WebArchive, params: Mapping[str, str]) -> Page:
    options = _options(params)
    offset = int_param(params, "offset", 0, 0, MAX_OFFSET) or 0
    with archive.read() as reader:
        index = _index_state(reader)
        clusters = _clusters(archive, reader, options, index)
        page = clusters[offset : offset + PAGE_SIZE]
        texts = reader.views.excerpts([cluster.first for cluster in page], length=200)
    following = offset + PAGE_SIZE
    query = _asked(options)
    data = {
        "query": query,
        "index": _shown(index),
        "total": len(clusters),
        "clusters": [{**c.to_dict(), "text": texts.get(c.first, "")} for c in page],
        "links": {c.cluster: _url(f"/duplicates/{c.cluster}", query) for c in page},
        "next": _url("/duplicates", {**query, "offset": following})
        if following < len(clusters)
        else None,
    }
    return Page("duplicates.html", data, title="Copy-paste clusters")


def cluster_page(archive: WebArchive, number: str, params: Mapping[str, str]) -> Page:
    options = _options(params)
    if not number.isdigit():
        raise not_found(f"no cluster {number!r}: clusters are numbered 1, 2, 3...")
    with archive.read() as reader:
        index = _index_state(reader)
        clusters = _clusters(archive, reader, options, index)
        if not 1 <= int(number) <= len(clusters):
            raise not_found(f"no cluster {number} with these options ({len(clusters)} clusters)")
        cluster = clusters[int(number) - 1]
        keys = [post.key for post in cluster.posts[:SHOWN]]
        pks = [pk for key in keys if (pk := reader.posts.pk(key)) is not None]
        posts = archive.load(reader, pks)
        media = media_of(reader, [post.key for post in posts])
    first = posts[0].text if posts else ""
    data = {
        "query": _asked(options),
        "index": _shown(index),
        "cluster": cluster.to_dict(),
        "members": [asdict(post) for post in cluster.posts],
        "posts": [post.to_dict() for post in posts],
        "media": media,  # the stored files of the posts (web.media.medium_record), by key
        "diffs": {  # empty: the same text as the first post's
            post.key: str(diff_html(first, post.text)) if post.text != first else ""
            for post in posts[1:]
        },
    }
    return Page("cluster.html", data, title=f"Cluster {number}")


_DEFAULTS: dict[str, Any] = {"threshold": 0.8, "min_size": 2}  # as tgscope duplicates


def _options(params: Mapping[str, str]) -> dict[str, Any]:
    return {
        "threshold": round(float_param(params, "threshold", _DEFAULTS["threshold"], 0.0, 1.0), 3),
        "min_size": int_param(params, "min_size", _DEFAULTS["min_size"], 2, 100_000),
        "channel": text_param(params, "channel", longest=64),
        "since": date_param(params, "since"),
        "until": date_param(params, "until"),
    }


def _asked(options: dict[str, Any]) -> dict[str, Any]:
    """The options given and not the defaults: the page's URL parameters."""
    return {k: v for k, v in options.items() if v is not None and v != _DEFAULTS.get(k)}


def _index_state(reader: Reader) -> dict[str, Any]:
    from ..analysis.duplicates import IndexParams
    from ..store.nearcopies import NearCopyTables

    state = NearCopyTables(reader.db).state()
    held = IndexParams.read(state)
    if held is None or "seq" not in state:
        return {"built": False, "floor": None, "behind": None, "held": None}
    behind = reader.views.last_seq() - int(state["seq"])
    return {"built": True, "floor": held.floor, "behind": max(behind, 0), "held": state["seq"]}


def _shown(index: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in index.items() if name != "held"}


def _clusters(
    archive: WebArchive, reader: Reader, options: dict[str, Any], index: dict[str, Any]
) -> list:
    if not index["built"]:
        return []
    if options["threshold"] < index["floor"]:
        raise bad(
            f"threshold: {options['threshold']:g} is below the {index['floor']:g} the near-copy"
            f" index was built for (tgscope duplicates --rebuild --threshold"
            f" {options['threshold']:g} builds it for less)"
        )
    # the near-copy index moves on without the archive's writes: it is part of the key
    key = ("duplicates", index["floor"], index["held"], *options.values())
    try:
        return archive.cached(key, reader, lambda views: _find(views, options))
    except QueryError as error:
        raise bad(f"since, until: {error}") from None


def _find(views: ArchiveViews, options: dict[str, Any]) -> list:
    from ..analysis.duplicates import find_clusters
    from ..store.nearcopies import NearCopyTables

    return find_clusters(
        NearCopyTables(views.db),
        threshold=options["threshold"],
        min_size=options["min_size"],
        channels=[options["channel"]] if options["channel"] else [],
        since=options["since"],
        until=options["until"],
    )


def _url(path: str, params: Mapping[str, object]) -> str:
    return f"{path}?{urlencode(params)}" if params else path
