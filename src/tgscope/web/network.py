"""``/network``: who spreads whom (forwards, mentions, links), drawn as a graph."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import OptionError, QueryError
from ..store import PostFilter
from .data import WebArchive
from .params import Page, bad, choice_param, date_param, text_param

KINDS = ("forwards", "mentions", "links")
MAX_EDGES = 400  # drawn in the browser; the JSON twin has them all


def network_page(archive: WebArchive, params: Mapping[str, str]) -> Page:
    from ..analysis.network import network
    from ..store.networks import NetworkQueries

    kind = choice_param(params, "kind", KINDS, "forwards") or "forwards"
    filters = PostFilter(
        channel=text_param(params, "channel", longest=64),
        since=date_param(params, "since"),
        until=date_param(params, "until"),
    )
    key = ("network", kind, filters)
    with archive.read() as reader:
        try:
            found = archive.cached(
                key, reader, lambda views: network(NetworkQueries(views.db), filters, kind=kind)
            )
        except (OptionError, QueryError) as error:
            raise bad(str(error)) from None
    records = found.to_records()
    drawn = records["edges"][:MAX_EDGES]
    names = {edge["source"] for edge in drawn} | {edge["target"] for edge in drawn}
    data = {
        "kind": kind,
        "query": {
            name: value
            for name, value in (
                ("kind", kind),
                ("channel", filters.channel),
                ("since", filters.since),
                ("until", filters.until),
            )
            if value
        },
        "nodes": records["nodes"],
        "edges": records["edges"],
        "graph": {
            "nodes": [node for node in records["nodes"] if node["name"] in names],
            "edges": drawn,
        },
        "kinds": list(KINDS),
    }
    return Page("network.html", data, title=f"Network of {kind}")
