"""The analysis commands: network, spread, duplicates, engagement."""

from __future__ import annotations

import click

from .base import (
    cli,
    console,
    db_option,
    err_console,
    json_text,
    reports_errors,
    safe_text,
)

# -- network ----------------------------------------------------------------------------------


@cli.command()
@db_option
@click.option(
    "--kind",
    type=click.Choice(["forwards", "mentions", "links"]),
    default="forwards",
    show_default=True,
    help="forwards: B forwarded A's posts; mentions: B named @A; links: B linked to t.me/A.",
)
@click.option("--channel", help="Only edges with this channel at either end.")
@click.option("--since", metavar="DATE", help="Only spreading posts on or after DATE.")
@click.option("--until", metavar="DATE", help="Only spreading posts on or before DATE.")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["table", "csv", "gexf", "graphml", "json"]),
    default="table",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write to FILE instead of standard output.",
)
@reports_errors
def network(db, kind, channel, since, until, format_, output):
    """Who spreads whom: an edge A -> B when channel B forwarded, mentioned or linked to A.

    CSV columns: source,target,count,first,last,median_delay_s; GEXF and GraphML open in
    Gephi; JSON is {"nodes": [...], "edges": [...]}."""
    from ..archive import Archive

    if format_ == "table" and output is not None:
        raise click.UsageError("--format table prints to the terminal: choose another format")
    with Archive.open(db, create=False) as archive:
        found = archive.network(kind=kind, channel=channel, since=since, until=until)
    if format_ == "table":
        _print_network(found)
        if channel and not found.edges:
            err_console.print(safe_text(f"note: no edge touches {channel} in this range"))
        return
    if output is None:
        import sys

        found.write(format_, sys.stdout.buffer)
        return
    from pathlib import Path

    try:
        found.write(format_, Path(output))
    except OSError as error:
        raise click.ClickException(f"{output}: cannot write: {error.strerror or error}") from None
    err_console.print(
        safe_text(f"{len(found.edges)} edge(s), {len(found.nodes)} channel(s) written to {output}")
    )


def _print_network(found) -> None:
    from .display import print_table

    total = sum(edge.count for edge in found.edges)
    console.print(
        safe_text(
            f"{found.kind}: {len(found.edges)} edge(s) between {len(found.nodes)} channel(s),"
            f" {total} spreading post(s)"
        )
    )
    spread_by = {"forwards": "forwarded by", "mentions": "mentioned by", "links": "linked by"}
    print_table(
        "top sources",
        ("channel", "title", "total", spread_by[found.kind]),
        [(r.name, r.title or "", r.total, f"{r.partners} channel(s)") for r in found.top_sources()],
    )
    print_table(
        "top amplifiers",
        ("channel", "title", "total", "of"),
        [
            (r.name, r.title or "", r.total, f"{r.partners} channel(s)")
            for r in found.top_amplifiers()
        ],
    )


# -- spread -----------------------------------------------------------------------------------


@cli.command()
@db_option
@click.argument("key")
@click.option(
    "--threshold",
    type=float,
    default=0.8,
    show_default=True,
    help="Near-copies: Jaccard of word shingles with the original's text at least this.",
)
@click.option("--json", "as_json", is_flag=True, help="The cascade as one JSON record.")
@reports_errors
def spread(db, key, threshold, as_json):
    """How one post spread: the original, its forwards and near-copies, in time order.

    A forward KEY is traced from the post it names.  Delays are from the original."""
    from ..analysis.duplicates import ThresholdBelowIndex
    from ..archive import Archive

    with Archive.open(db, create=False) as archive:
        try:
            found = archive.spread(key, threshold=threshold)
        except ThresholdBelowIndex as error:
            raise click.ClickException(
                f"--threshold {error.threshold:g} is below the {error.floor:g} the near-copy"
                f" index was built for: build it for that with tgscope duplicates --rebuild"
                f" --threshold {error.threshold:g}"
            ) from error
    if as_json:
        click.echo(json_text(found.to_dict(), indent=2))
        return
    _print_spread(found)


def _print_spread(found) -> None:
    from .display import print_table

    if found.original_in_archive:
        head = f"original {found.original}"
    elif found.original:
        head = f"original {found.original} (not in the archive)"
    else:
        head = "original not named (forwarded from a hidden or unnamed author)"
    console.print(safe_text(f"{head}: {len(found.posts)} post(s)"))
    print_table(
        "",
        ("delay", "relation", "post", "date (UTC)", "views", "similarity"),
        [
            (
                _duration(p.delay_s, signed=True),
                p.relation,
                p.key,
                _short_date(p.date),
                "" if p.views is None else p.views,
                "" if p.similarity is None else f"{p.similarity:.2f}",
            )
            for p in found.posts
        ],
    )
    err_console.print(safe_text(f"note: {found.caveat}"))


def _duration(seconds: int | None, *, signed: bool = False) -> str:
    """``+2 h 05 min``, ``3 d 4 h``, ``45 s``; empty when unknown."""
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else "+" if signed else ""
    left = abs(seconds)
    days, left = divmod(left, 86400)
    hours, left = divmod(left, 3600)
    minutes, secs = divmod(left, 60)
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {minutes:02d} min"
    if minutes:
        return f"{sign}{minutes} min {secs:02d} s"
    return f"{sign}{secs} s"


# -- duplicates -------------------------------------------------------------------------------


@cli.command()
@db_option
@click.option(
    "--threshold",
    type=float,
    default=0.8,
    show_default=True,
    help="Jaccard of word shingles, after normalising, at least this (0.7 up; lower: --rebuild).",
)
@click.option(
    "--min-size",
    type=int,
    default=2,
    show_default=True,
    help="Only clusters of at least this many posts.",
)
@click.option(
    "--channel", "channels", multiple=True, help="Only clusters with a post here (repeatable)."
)
@click.option("--since", metavar="DATE", help="Only posts on or after DATE.")
@click.option("--until", metavar="DATE", help="Only posts on or before DATE.")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["table", "jsonl", "csv"]),
    default="table",
    show_default=True,
)
@click.option(
    "--rebuild", is_flag=True, help="Build the near-copy index again (for a lower --threshold)."
)
@click.option(
    "--dask",
    metavar="SPEC",
    help="Build the index from scratch on a Dask cluster: local:N (N worker processes) or"
    " tcp://scheduler:8786 (an archive in PostgreSQL).",
)
@reports_errors
def duplicates(db, threshold, min_size, channels, since, until, format_, rebuild, dask):
    """Copy-paste clusters: posts whose texts are the same or nearly, in any channels.

    Texts are compared after normalising case, punctuation, emoji and a trailing subscribe
    line; texts of fewer than 5 words are left out.  Forwards are marked, not hidden.
    JSONL: one cluster a line; CSV: one post a row."""
    from ..analysis.duplicates import ThresholdBelowIndex
    from ..archive import Archive

    with Archive.open(db, create=False) as archive:
        try:
            found = archive.duplicates(
                threshold=threshold,
                min_size=min_size,
                channel=list(channels),
                since=since,
                until=until,
                rebuild=rebuild,
                dask=dask,
            )
        except ThresholdBelowIndex as error:
            raise click.ClickException(
                f"--threshold {error.threshold:g} is below the {error.floor:g} the near-copy"
                " index was built for: run again with --rebuild to build it for that"
            ) from error
        if format_ == "jsonl":
            for cluster in found:
                click.echo(json_text(cluster.to_dict()))
        elif format_ == "csv":
            _write_clusters_csv(found)
        else:
            _print_clusters(archive, found)


def _write_clusters_csv(found) -> None:
    import csv
    import sys

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(("cluster", "size", "similarity", "key", "channel", "date", "forwarded"))
    for cluster in found:
        for post in cluster.posts:
            out.writerow(
                (
                    cluster.cluster,
                    cluster.size,
                    cluster.similarity,
                    post.key,
                    post.channel or "",
                    post.date or "",
                    int(post.forwarded),
                )
            )


def _print_clusters(archive, found) -> None:
    posts = sum(cluster.size for cluster in found)
    console.print(f"{len(found)} cluster(s), {posts} post(s)")
    for cluster in found:
        first = archive.get(cluster.first)
        text = " ".join((first.text if first else "").split())
        console.print()
        console.print(
            safe_text(
                f"#{cluster.cluster}: {cluster.size} posts in {len(cluster.channels)}"
                f" channel(s), similarity {cluster.similarity:.2f},"
                f" over {_duration(cluster.spread_s) or '?'}"
            )
        )
        console.print(safe_text(f"  {text[:100]}{'…' if len(text) > 100 else ''}", "dim"))
        for post in cluster.posts:
            mark = "  (forward)" if post.forwarded else ""
            console.print(safe_text(f"  {_short_date(post.date):16}  {post.key}{mark}"))


def _short_date(date: str | None) -> str:
    """``2024-03-01 09:12`` (UTC, as stored) or ``undated``."""
    return date[:16].replace("T", " ") if date else "undated"


# -- engagement -------------------------------------------------------------------------------


@cli.command()
@db_option
@click.option("--channel", help="Only this channel (username).")
@click.option("--since", metavar="DATE", help="Only posts on or after DATE.")
@click.option("--until", metavar="DATE", help="Only posts on or before DATE.")
@click.option(
    "--timezone",
    metavar="ZONE",
    default="UTC",
    show_default=True,
    help="Time zone of the heatmap and of days (IANA name, e.g. Europe/Moscow).",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@reports_errors
def engagement(db, channel, since, until, timezone, format_):
    """Per channel: posts per day and week, weekday x hour heatmap, median and p90 views,
    reactions per 1,000 views, forwards received, views at 1 h / 24 h / 7 days (median over
    observed posts) and outliers (modified z-score of log views among posts of similar age)."""
    from ..archive import Archive

    with Archive.open(db, create=False) as archive:
        found = archive.engagement(channel=channel, since=since, until=until, timezone=timezone)
    if format_ == "csv":
        click.echo(found.csv_text(), nl=False)
    elif format_ == "json":
        click.echo(json_text({"timezone": found.timezone, "channels": found.to_records()}))
    else:
        _print_engagement(found)


def _print_engagement(found) -> None:
    from .display import print_table

    if not found.channels:
        console.print("no dated posts in channels here")
        return
    print_table(
        f"rhythm (days in {found.timezone}; per day and per week: means over the days)",
        ("channel", "posts", "days", "per day", "per week", "forwards"),
        [
            (c.channel, c.posts, c.days, _short(c.posts_per_day), _short(c.posts_per_week),
             c.forwards_received)
            for c in found.channels
        ],
    )  # fmt: skip
    print_table(
        "reach (views: median and p90; at 1 h, 24 h, 7 d: median of observed posts)",
        ("channel", "views", "p90", "reactions/1k", "1 h", "24 h", "7 d"),
        [
            (c.channel, _short(c.views_median), _short(c.views_p90),
             _short(c.reactions_per_1000_views), _short(c.views_1h), _short(c.views_24h),
             _short(c.views_7d))
            for c in found.channels
        ],
    )  # fmt: skip
    if len(found.channels) == 1:
        _print_heatmap(found.channels[0], found.timezone)
    outliers = sorted(
        ((c.channel, o) for c in found.channels for o in c.outliers), key=lambda x: -x[1].score
    )
    if not outliers:
        console.print("no outliers: no post far above its channel's reach for its age")
        return
    print_table(
        "outliers (modified z-score of log views among posts of similar age)",
        ("channel", "post", "views", "age", "score"),
        [(c, o.key, o.views, _age(o.age_s), f"{o.score:.1f}") for c, o in outliers[:20]],
    )


def _print_heatmap(channel, timezone: str) -> None:
    """Posts by weekday and hour as a grid of numbers (``.`` for none)."""
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    console.print(safe_text(f"{channel.channel}: posts by weekday and hour ({timezone})"))
    console.print("    " + "".join(f"{hour:>3}" for hour in range(24)))
    for day, row in zip(days, channel.heatmap, strict=True):
        console.print(day + " " + "".join(f"{n or '.':>3}" for n in row))


def _short(value: float | None) -> str:
    """A figure for the table: whole above 100, one decimal below (two digits below 1)."""
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2g}" if abs(value) < 1 else f"{value:.1f}"


def _age(seconds: int) -> str:
    if seconds < 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"
