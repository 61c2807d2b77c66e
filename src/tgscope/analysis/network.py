"""Who spreads whom: the forwards, mentions and links networks between channels.

An edge ``source → target`` means that channel *target* spread *source*:

- ``forwards``: target's posts forwarded from source (the forward names the original's
  channel, or only its title for a hidden user or a channel without a username; a forward
  naming neither is left out);
- ``mentions``: target's posts name ``@source``;
- ``links``: target's posts link to ``t.me/source`` or a post of it (``t.me/source/123``,
  ``t.me/s/source/123``, ``telegram.me/...``; usernames in any case).  Links to invitations,
  sticker sets and other service paths (``t.me/joinchat/...``, ``t.me/+...``) are not
  channels and are left out.

``count`` is the number of target's posts that do it (a post naming a channel twice counts
once); ``first`` and ``last`` are the dates of the first and last of them;
``median_delay_s`` is, for forwards whose original the archive holds, the median number of
seconds between the original and the forward (``None`` when it holds none of them).  A
channel spreading itself (a forward of its own post, its own ``@name`` as a signature) is not
an edge.  The date filters select the spreading posts; ``channel`` keeps the edges with that
channel at either end.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..errors import OptionError
from ..store import PostFilter
from ..store.reader import filter_sql

if TYPE_CHECKING:
    import networkx as nx
    import pyarrow as pa

    from ..store.networks import NetworkQueries

KINDS = ("forwards", "mentions", "links")
FORMATS = ("table", "csv", "gexf", "graphml", "json")
CSV_COLUMNS = ("source", "target", "count", "first", "last", "median_delay_s")

#: t.me paths that are not channels: invitations, sticker and emoji sets, share buttons...
_SERVICE_PATHS = frozenset(
    [
        "joinchat",
        "addstickers",
        "addemoji",
        "addtheme",
        "addlist",
        "share",
        "proxy",
        "socks",
        "setlanguage",
        "login",
        "confirmphone",
        "invoice",
        "boost",
        "contact",
        "giftcode",
        "nft",
        "iv",
    ]
)
_TELEGRAM_LINK = re.compile(
    r"(?:https?://)?(?:www\.)?(?:t|telegram)\.me/(?:s/)?([a-z][a-z0-9_]{3,31})(?=[/?#]|$)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Edge:
    """``target`` spread ``source`` ``count`` times, from ``first`` to ``last`` (dates)."""

    source: str
    target: str
    count: int
    first: str | None
    last: str | None
    median_delay_s: float | None  # forwards whose original the archive holds; else None


@dataclass(frozen=True, slots=True)
class Node:
    """A channel at either end of an edge: its username (or title, when it has no known
    username), its title, its posts in the archive (0: not archived) in the date range,
    and the forwards of its posts by other archived channels (``forwards_out``) and of
    other channels' posts by it (``forwards_in``), in the date range."""

    name: str
    title: str | None
    archived: bool
    posts: int
    forwards_out: int
    forwards_in: int


@dataclass(frozen=True, slots=True)
class Ranked:
    """A channel in the table's top lists: its spreading posts and how many partners."""

    name: str
    title: str | None
    total: int
    partners: int


@dataclass(slots=True)
class Network:
    """The result of :func:`network`: edges (most spreading first) and their nodes."""

    kind: str
    nodes: list[Node]
    edges: list[Edge]

    def to_records(self) -> dict[str, list[dict[str, Any]]]:
        """``{"nodes": [...], "edges": [...]}``: the JSON output."""
        return {
            "nodes": [asdict(node) for node in self.nodes],
            "edges": [asdict(edge) for edge in self.edges],
        }

    def to_arrow(self, table: str = "edges") -> pa.Table:
        """The edges (or, with ``table="nodes"``, the nodes) as a pyarrow Table."""
        import pyarrow as pa

        if table not in ("edges", "nodes"):
            raise OptionError(f"table: {table!r} is not edges or nodes")
        return pa.Table.from_pylist(self.to_records()[table], schema=_SCHEMAS[table]())

    def to_networkx(self) -> nx.DiGraph:
        """A directed graph: nodes by name with ``label``, ``title``, ``archived``, ``posts``,
        ``forwards_out``, ``forwards_in``; edges with ``weight`` (= ``count``), ``count``,
        ``first``, ``last``, ``median_delay_s`` when known, and ``start``/``end`` (the days
        of the first and last, which make a GEXF file dynamic for Gephi's timeline)."""
        import networkx as nx

        graph = nx.DiGraph(kind=self.kind)
        for node in self.nodes:
            attributes = _present(asdict(node), skip="name")
            graph.add_node(node.name, label=node.title or node.name, **attributes)
        for edge in self.edges:
            attributes = _present(asdict(edge), skip=("source", "target"))
            if edge.first and edge.last:
                attributes |= {"start": edge.first[:10], "end": edge.last[:10]}
            graph.add_edge(edge.source, edge.target, weight=edge.count, **attributes)
        return graph

    def top_sources(self, limit: int = 20) -> list[Ranked]:
        """The channels most spread: posts spreading them, and by how many channels."""
        return self._ranked(lambda edge: (edge.source, edge.target), limit)

    def top_amplifiers(self, limit: int = 20) -> list[Ranked]:
        """The channels spreading most: their spreading posts, and of how many channels."""
        return self._ranked(lambda edge: (edge.target, edge.source), limit)

    def _ranked(self, ends: Callable[[Edge], tuple[str, str]], limit: int) -> list[Ranked]:
        totals: Counter[str] = Counter()
        partners: Counter[str] = Counter()
        for edge in self.edges:
            name, _ = ends(edge)
            totals[name] += edge.count
            partners[name] += 1
        titles = {node.name: node.title for node in self.nodes}
        ranked = sorted(totals, key=lambda name: (-totals[name], name))[:limit]
        return [Ranked(name, titles.get(name), totals[name], partners[name]) for name in ranked]

    def write(self, format: str, output: Path | BinaryIO) -> None:
        """Write the network as ``csv``, ``json``, ``gexf`` or ``graphml`` to a file or a
        binary stream."""
        import networkx as nx

        if format == "gexf":
            nx.write_gexf(_xml_safe(self.to_networkx()), output)
        elif format == "graphml":
            nx.write_graphml(_xml_safe(self.to_networkx()), output)
        elif format in ("csv", "json"):
            text = self.csv_text() if format == "csv" else self.json_text()
            if isinstance(output, Path):
                output.write_bytes(text.encode("utf-8"))
            else:
                output.write(text.encode("utf-8"))
        else:
            raise OptionError(f"format: {format!r} is not one of csv, json, gexf, graphml")

    def csv_text(self) -> str:
        """``source,target,count,first,last,median_delay_s``, one edge a row."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for edge in self.edges:
            delay = _number(edge.median_delay_s)
            writer.writerow(
                (edge.source, edge.target, edge.count, edge.first or "", edge.last or "", delay)
            )
        return out.getvalue()

    def json_text(self) -> str:
        return json.dumps(self.to_records(), ensure_ascii=False, indent=1) + "\n"


def network(
    queries: NetworkQueries, filters: PostFilter | None = None, *, kind: str = "forwards"
) -> Network:
    """The ``kind`` network of the archive (see the module's docstring); ``filters``: the
    channel whose edges to keep, and which spreading posts count (dates; a hashtag or media
    filter applies to them too)."""
    if kind not in KINDS:
        raise OptionError(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    filters = filters or PostFilter()
    where, params = filter_sql(replace(filters, channel=None))
    channels = queries.channels()
    if kind == "forwards":  # one pass over the forwards gives the edges and the totals
        rows = queries.forwards(where, params)
        forwards = _totals(rows)
        spreads = _forward_spreads(rows, channels)
    else:
        forwards = queries.forward_totals(where, params)
        spreads = _SPREADS[kind](queries, where, params, channels)
    titles = _forward_titles(forwards)
    edges = _edges(spreads)
    if filters.channel:
        edges = [e for e in edges if filters.channel in (e.source, e.target)]
    nodes = _nodes(edges, channels, queries.posts_per_channel(where, params), forwards, titles)
    return Network(kind, nodes, edges)


#: one spreading post: (source name, target username, date, delay in seconds or None)
Spread = tuple[str, str, str | None, int | None]
Channels = dict[int, tuple[str, str | None]]


def _totals(rows: list[tuple]) -> list[tuple]:
    """The rows of :meth:`NetworkQueries.forward_totals` from those of ``forwards``."""
    counts = Counter((username, title, target) for username, title, target, _, _ in rows)
    return [(*group, count) for group, count in counts.items()]


def _forward_spreads(rows: list[tuple], channels: Channels) -> list[Spread]:
    return [
        (name, channels[target][0], date, delay)
        for username, title, target, date, delay in rows
        if (name := username or title)
    ]


def _mention_spreads(queries: NetworkQueries, where: str, params: list, channels: Channels):
    return [
        (username, channels[target][0], date, None)
        for _, username, target, date in queries.mentions(where, params)
    ]


def _link_spreads(queries: NetworkQueries, where: str, params: list, channels: Channels):
    found: dict[tuple[int, str], Spread] = {}
    for pk, url, target, date in queries.telegram_links(where, params):
        name = linked_channel(url)
        if name is not None:
            found.setdefault((pk, name), (name, channels[target][0], date, None))
    return list(found.values())


_SPREADS: dict[str, Callable[..., list[Spread]]] = {
    "mentions": _mention_spreads,
    "links": _link_spreads,
}


def linked_channel(url: str) -> str | None:
    """The channel a t.me (or telegram.me) URL points to, lower case; None for other URLs
    and t.me's service paths."""
    match = _TELEGRAM_LINK.match(url.strip())
    if match is None:
        return None
    name = match.group(1).lower()
    return None if name in _SERVICE_PATHS else name


def _edges(spreads: list[Spread]) -> list[Edge]:
    """Spreading posts grouped into edges, most spreading first."""
    groups: dict[tuple[str, str], list[Spread]] = defaultdict(list)
    for spread in spreads:
        if spread[0] != spread[1]:  # a channel spreading itself is no edge
            groups[spread[0], spread[1]].append(spread)
    return sorted(
        (_edge(source, target, group) for (source, target), group in groups.items()),
        key=lambda edge: (-edge.count, edge.source, edge.target),
    )


def _edge(source: str, target: str, group: list[Spread]) -> Edge:
    dates = [date for _, _, date, _ in group if date]
    delays = [delay for *_, delay in group if delay is not None]
    return Edge(
        source,
        target,
        len(group),
        min(dates, default=None),
        max(dates, default=None),
        float(statistics.median(delays)) if delays else None,
    )


def _nodes(
    edges: list[Edge],
    channels: Channels,
    posts: dict[int, int],
    forwards: list[tuple],
    titles: dict[str, str],
) -> list[Node]:
    """The channels at the ends of the edges, by name."""
    archived = {username: (pk, title) for pk, (username, title) in channels.items()}
    out, into = forward_totals(forwards, channels)
    title_only = {title for username, title, _, _ in forwards if username is None and title}
    names = sorted({name for edge in edges for name in (edge.source, edge.target)})
    nodes = []
    for name in names:
        pk, title = archived.get(name, (None, None))
        if pk is None and name not in titles and name in title_only:
            title = name  # known by its title only
        nodes.append(
            Node(
                name,
                title or titles.get(name),
                pk is not None,
                posts.get(pk, 0) if pk is not None else 0,
                out[name],
                into[name],
            )
        )
    return nodes


def forward_totals(forwards: list[tuple], channels: Channels) -> tuple[Counter, Counter]:
    """Forwards of each channel's posts by others (out) and by each channel (in)."""
    out: Counter[str] = Counter()
    into: Counter[str] = Counter()
    for username, title, target, count in forwards:
        source, forwarder = username or title, channels[target][0]
        if source and source != forwarder:
            out[source] += count
            into[forwarder] += count
    return out, into


def _forward_titles(forwards: list[tuple]) -> dict[str, str]:
    """The title forwards give each username (the most frequent one)."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for username, title, _, count in forwards:
        if username and title:
            seen[username][title] += count
    return {name: counts.most_common(1)[0][0] for name, counts in seen.items()}


def _present(record: dict[str, Any], skip: str | tuple[str, ...]) -> dict[str, Any]:
    """The record's fields but ``skip`` and those without a value (GEXF and GraphML have no
    null)."""
    skipped = (skip,) if isinstance(skip, str) else skip
    return {k: v for k, v in record.items() if k not in skipped and v is not None}


#: what XML 1.0 cannot hold (C0 controls but tab and line breaks, lone surrogates, U+FFFE/F)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(graph: nx.DiGraph) -> nx.DiGraph:
    """The graph with every character XML cannot hold, in names and text attributes, as
    U+FFFD: a title with a control character would make GraphML fail and GEXF unreadable."""
    import networkx as nx

    def clean(value: Any) -> Any:
        return _NOT_XML.sub("\ufffd", value) if isinstance(value, str) else value

    def cleaned(attributes: dict[str, Any]) -> dict[str, Any]:
        return {name: clean(value) for name, value in attributes.items()}

    safe = nx.DiGraph(**cleaned(graph.graph))
    safe.add_nodes_from((clean(node), cleaned(data)) for node, data in graph.nodes(data=True))
    safe.add_edges_from(
        (clean(source), clean(target), cleaned(data))
        for source, target, data in graph.edges(data=True)
    )
    return safe


def _number(value: float | None) -> str:
    """``3600`` for 3600.0, ``3600.5``; empty for None."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _edge_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            ("source", pa.string()),
            ("target", pa.string()),
            ("count", pa.int64()),
            ("first", pa.string()),
            ("last", pa.string()),
            ("median_delay_s", pa.float64()),
        ]
    )


def _node_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            ("name", pa.string()),
            ("title", pa.string()),
            ("archived", pa.bool_()),
            ("posts", pa.int64()),
            ("forwards_out", pa.int64()),
            ("forwards_in", pa.int64()),
        ]
    )


_SCHEMAS: dict[str, Callable[[], pa.Schema]] = {"edges": _edge_schema, "nodes": _node_schema}
