"""Reading the archive: ``search``, ``show``, ``export``, ``stats``, ``reindex`` and
``migrate``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .base import (
    cli,
    console,
    db_option,
    err_console,
    filter_options,
    json_text,
    reports_errors,
    safe_text,
)

if TYPE_CHECKING:
    from ..store import Stats

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
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON record per line, with score and snippet."
)
@reports_errors
def search(db, query, channel, since, until, hashtag, limit, sort, as_json):
    """Full-text search in any word form (English and Russian).

    QUERY is words (all must match), "a phrase", OR, -excluded; empty ("") lists all.
    """
    from ..archive import Archive
    from .display import print_hit

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
            record = result.post.to_dict() | {"score": result.score, "snippet": result.snippet}
            click.echo(json_text(record))
        return
    console.print(f"{found.total} match(es), showing {len(found.results)}")
    for result in found.results:
        print_hit(result.post, result.snippet)
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
@click.option(
    "--history",
    "with_history",
    is_flag=True,
    help="Views, forwards, replies and reactions each time a source saw the post.",
)
@reports_errors
def show(db, key, as_json, with_sources, with_history):
    """Show one post by its key (as printed by search): every field, then the text."""
    from dataclasses import asdict

    from ..archive import Archive
    from .display import print_history, print_post, print_provenance

    with Archive.open(db, create=False) as archive:
        post = archive.get(key)
        if post is None:
            raise click.ClickException(f"{archive.location}: no post with key {key!r}")
        provenance = archive.provenance(key) if with_sources else []
        history = archive.history(key) if with_history else []
        (record,) = archive.media.annotated([post], check=True)
    if as_json:
        if with_sources:
            record["provenance"] = provenance
        if with_history:
            record["history"] = [asdict(seen) for seen in history]
        click.echo(json_text(record, indent=2))
        return
    print_post(post, record)
    if with_sources:
        print_provenance(provenance)
    if with_history:
        print_history(history)


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
@click.option(
    "--formula-guard/--no-formula-guard",
    default=True,
    show_default=True,
    help="CSV: put ' before text cells starting with = + - @ (a spreadsheet would run them"
    " as formulas); --no-formula-guard writes the exact text.",
)
@click.option("--query", "-q", help="Only posts matching this search (as in tgscope search).")
@click.option(
    "--with-media",
    "media_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="JSON Lines: also write the posts' stored media files into DIR, named by SHA-256,"
    " with a SHA256SUMS list; each medium's sha256 and path are in its record.",
)
@reports_errors
def export(
    db, channel, since, until, hashtag, format_, output, bom, formula_guard, query, media_dir
):
    """Export posts as JSON Lines (the full record, lossless), CSV (one flat row per post)
    or Parquet (typed columns, for pandas, DuckDB, R)."""
    from ..archive import Archive
    from ..exports import export_posts

    if format_ == "parquet" and output is None:
        raise click.UsageError("--format parquet writes a file: give it with --output FILE")
    if media_dir is not None and format_ != "jsonl":
        raise click.UsageError("--with-media goes with --format jsonl")
    handed_over = _media_export(media_dir, output)
    with Archive.open(db, create=False) as archive:
        posts = archive.posts(
            query=query, channel=channel, since=since, until=until, hashtag=hashtag
        )
        count = export_posts(
            posts,
            format_,
            output,
            bom=bom,
            formula_guard=formula_guard,
            annotate=_media_copier(archive, handed_over),
        )
    if output:
        err_console.print(safe_text(f"{count} post(s) written to {output}"))
    if handed_over is not None:
        _say_media_written(handed_over)


def _media_export(media_dir: Path | None, output: Path | None):
    """Where ``--with-media`` copies the files (paths relative to the export file's folder;
    as given when it goes to standard output or a device)."""
    if media_dir is None:
        return None
    from ..media.kept import MediaExport

    if output is not None and (output.is_file() or not output.exists()):
        return MediaExport(media_dir, relative_to=output.parent)
    return MediaExport(media_dir)


def _media_copier(archive, handed_over):
    """Records with the stored media copied over (None: plain records)."""
    if handed_over is None:
        return None
    media = archive.media
    return lambda posts: media.annotated(posts, handed_over)


def _say_media_written(handed_over) -> None:
    files = handed_over.write_checksums()
    folder = handed_over.folder
    err_console.print(safe_text(f"{files} media file(s) in {folder}, listed in SHA256SUMS"))
    for sha in handed_over.unreadable:
        err_console.print(
            safe_text(f"left out: {sha}: the stored file is missing or altered (media verify)")
        )


@cli.command()
@db_option
@filter_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@reports_errors
def stats(db, channel, since, until, hashtag, as_json):
    """Posts per channel, date range, top hashtags and reaction totals."""
    from ..archive import Archive
    from .display import print_table

    with Archive.open(db, create=False) as archive:
        summary = archive.stats(channel=channel, since=since, until=until, hashtag=hashtag)
    if as_json:
        click.echo(json_text(stats_record(summary)))
        return
    dated = (
        f"dated {summary.first_date} .. {summary.last_date}" if summary.first_date else "none dated"
    )
    undated = summary.undated if summary.first_date else 0
    without = f", {undated} without a date" if undated else ""
    console.print(
        safe_text(
            f"{summary.posts} post(s) from {summary.sources} source file(s); {dated}{without}"
        )
    )
    print_table(
        "posts per channel",
        ("channel", "title", "posts"),
        [(c or "(unknown)", t or "", n) for c, t, n in summary.channels],
    )
    print_table(
        "top hashtags", ("hashtag", "posts"), [(f"#{t}", n) for t, n in summary.top_hashtags]
    )
    print_table("reactions", ("reaction", "total"), summary.reactions)


@cli.command()
@db_option
@reports_errors
def reindex(db):
    """Rebuild the search index from the archive (after a crash or an upgrade)."""
    from ..archive import Archive

    with Archive.open(db, create=False) as archive:
        count = archive.reindex()
    console.print(f"{count} post(s) indexed")


@cli.command()
@db_option
@reports_errors
def migrate(db):
    """Create the archive, or bring its tables up to this version of tgscope.

    Every command does it when it opens an archive; run it once on a new PostgreSQL
    database before starting workers on several machines.
    """
    from ..archive import Archive

    with Archive.open(db) as archive:
        was, now = archive.schema_versions()
        where = archive.location
    if was == now:
        console.print(safe_text(f"{where}: schema version {now}, up to date"))
    elif was == 0:
        console.print(safe_text(f"{where}: archive created (schema version {now})"))
    else:
        console.print(safe_text(f"{where}: schema version {was} → {now}"))


def stats_record(summary: Stats) -> dict[str, Any]:
    """``stats --json``: the summary with named fields."""
    return {
        "posts": summary.posts,
        "sources": summary.sources,
        "first_date": summary.first_date,
        "last_date": summary.last_date,
        "undated": summary.undated,
        "channels": [
            {"channel": channel, "title": title, "posts": posts}
            for channel, title, posts in summary.channels
        ],
        "top_hashtags": [{"hashtag": tag, "posts": posts} for tag, posts in summary.top_hashtags],
        "reactions": [{"reaction": label, "total": total} for label, total in summary.reactions],
    }
