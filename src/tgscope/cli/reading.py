"""Reading the archive: ``search``, ``show``, ``export``, ``stats`` and ``reindex``."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .base import cli, console, db_option, err_console, filter_options, reports_errors

if TYPE_CHECKING:
    from rich.text import Text

    from ..record import Post

#: the names of ``tgscope.exports.EXPORTERS`` (a test keeps them equal)
EXPORT_FORMATS = ("csv", "jsonl", "parquet")


@cli.command()
@db_option
@click.argument("query")
@filter_options
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--sort",
    type=click.Choice(["relevance", "newest", "oldest"]),
    default="relevance",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="One JSON record per line, with snippet.")
@reports_errors
def search(db, query, channel, since, until, hashtag, limit, sort, as_json):
    """Full-text search in any word form (English and Russian).

    QUERY is words (all must match), "a phrase", OR, -excluded; empty ("") lists all.
    """
    from ..archive import Archive

    with Archive.open(db, create=False) as archive:
        found = archive.search(
            query,
            channel=channel,
            since=since,
            until=until,
            hashtag=hashtag,
            limit=limit,
            order=sort,
        )
    if as_json:
        for result in found.results:
            record = result.post.to_dict()
            record["search"] = {"score": result.score, "snippet": result.snippet}
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    console.print(f"{found.total} match(es), showing {len(found.results)}")
    for result in found.results:
        _print_hit(result.post, result.snippet)
    if (since or until) and found.undated_left_out:
        err_console.print(
            f"note: {found.undated_left_out} post(s) here have no date (text dumps carry none)"
            " and never match --since/--until"
        )


@cli.command()
@db_option
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="The whole record as JSON.")
@click.option(
    "--sources", "with_sources", is_flag=True, help="Who said what: each source's version."
)
@reports_errors
def show(db, key, as_json, with_sources):
    """Show one post by its key (as printed by search)."""
    from ..archive import Archive

    with Archive.open(db, create=False) as archive:
        post = archive.get(key)
        provenance = archive.provenance(key) if with_sources else []
    if post is None:
        raise click.ClickException(f"{archive.path}: no post with key {key!r}")
    if as_json:
        record = post.to_dict() | ({"provenance": provenance} if with_sources else {})
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    _print_post(post)
    if with_sources:
        _print_provenance(provenance)


@cli.command()
@db_option
@filter_options
@click.option(
    "--format", "format_", type=click.Choice(EXPORT_FORMATS), default="jsonl", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of standard output.",
)
@click.option("--bom", is_flag=True, help="CSV: start with a UTF-8 byte order mark (for Excel).")
@click.option("--query", "-q", help="Only posts matching this search (as in tgscope search).")
@reports_errors
def export(db, channel, since, until, hashtag, format_, output, bom, query):
    """Export posts as JSON Lines (the full record, lossless), CSV (one flat row per post)
    or Parquet (typed columns, for pandas, DuckDB, R)."""
    from ..archive import Archive
    from ..exports import export_posts
    from ..store import PostFilter

    filters = PostFilter(channel=channel, since=since, until=until, hashtag=hashtag)
    with Archive.open(db, create=False) as archive:
        count = export_posts(archive.posts(filters, query=query), format_, output, bom=bom)
    if output:
        err_console.print(f"{count} post(s) written to {output}")


@cli.command()
@db_option
@filter_options
@reports_errors
def stats(db, channel, since, until, hashtag):
    """Posts per channel, date range, top hashtags and reaction totals."""
    from ..archive import Archive
    from ..store import PostFilter

    with Archive.open(db, create=False) as archive:
        summary = archive.stats(
            PostFilter(channel=channel, since=since, until=until, hashtag=hashtag)
        )
    dated = (
        f"dated {summary.first_date} .. {summary.last_date}" if summary.first_date else "none dated"
    )
    undated = summary.undated if summary.first_date else 0
    undated = f", {undated} without a date" if undated else ""
    console.print(
        f"{summary.posts} post(s) from {summary.sources} source file(s); {dated}{undated}"
    )
    _print_table(
        "posts per channel",
        ("channel", "title", "posts"),
        [(c or "(unknown)", t or "", n) for c, t, n in summary.channels],
    )
    _print_table(
        "top hashtags", ("hashtag", "posts"), [(f"#{t}", n) for t, n in summary.top_hashtags]
    )
    _print_table("reactions", ("reaction", "total"), summary.reactions)


@cli.command()
@db_option
@reports_errors
def reindex(db):
    """Rebuild the search index from the archive (after a crash or an upgrade)."""
    from ..archive import Archive

    with Archive.open(db, create=False) as archive:
        count = archive.reindex()
    console.print(f"{count} post(s) indexed")


def _print_table(title: str, columns: tuple[str, ...], rows) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name, justify="right" if name in ("posts", "total") else "left")
    for row in rows:
        table.add_row(*(str(value) for value in row))
    console.print(table)


def _print_post(post: Post) -> None:
    from rich.text import Text

    forward = post.forwarded_from or {}
    console.print(Text(post.key, style="bold"))
    details = {
        "channel": post.channel
        and f"{post.channel} ({post.channel_title or ''})".replace(" ()", ""),
        "id": post.id,
        "date": post.date,
        "forwarded from": forward.get("title") or forward.get("channel"),
        "views": post.views,
        "reactions": _reactions(post),
        "hashtags": " ".join(f"#{t}" for t in post.hashtags),
        "media": ", ".join(
            m["type"] + (" (not shown by the source)" if m.get("unsupported") else "")
            for m in post.media
        ),
        "sources": "; ".join(f"{s['kind']} {s['ref']} at {s['observed_at']}" for s in post.sources),
    }
    for name, value in details.items():
        if value not in (None, ""):
            console.print(Text(f"{name}: ", style="dim") + Text(str(value)))
    console.print()
    console.print(Text(post.text))


def _print_provenance(provenance: list[dict]) -> None:
    """Each kind of source: when it last saw the post, its observations, what it gave."""
    from rich.text import Text

    console.print()
    console.print("Sources:")
    for source in provenance:
        console.print(f"  {source['kind']}, last seen {source['latest'] or '-'}")
        for seen in source["observations"]:
            console.print(Text(f"    {seen['ref']} at {seen['observed_at']}", style="dim"))
        given = ", ".join(source["fields"]) or "nothing the others did not"
        console.print(f"    gave: {given}")


def _print_hit(post: Post, snippet: str) -> None:
    from rich.text import Text

    forward = (post.forwarded_from or {}).get("title")
    about = [post.date, forward and f"forwarded from {forward}", _reactions(post)]
    console.print()
    console.print(
        Text(post.key, style="bold cyan") + Text("  " + "  ·  ".join(filter(None, about)))
    )
    if post.text.strip():
        console.print(Text("  ") + _snippet(snippet))
    else:
        console.print(f"  (no text; media: {', '.join(m['type'] for m in post.media) or 'none'})")


def _reactions(post: Post) -> str:
    parts = []
    for reaction in post.reactions:
        label = reaction.get("emoji") or ("⭐" if reaction.get("paid") else "custom")
        parts.append(f"{label}{reaction['count']}")
    return " ".join(parts)


_BOLD = re.compile(r"<b>(.*?)</b>", re.S)


def _snippet(snippet_html: str) -> Text:
    from rich.text import Text

    snippet_html = " ".join(snippet_html.split())
    text = Text()
    position = 0
    for match in _BOLD.finditer(snippet_html):
        text.append(html.unescape(snippet_html[position : match.start()]))
        word = html.unescape(match.group(1))
        text.append(word if console.is_terminal else f"[{word}]", style="bold yellow")
        position = match.end()
    text.append(html.unescape(snippet_html[position:]))
    return text
