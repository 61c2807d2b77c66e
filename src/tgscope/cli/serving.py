"""``tgscope serve``: the archive in a browser."""

from __future__ import annotations

import click

from .base import cli, db_option, err_console, reports_errors, safe_text


@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--open", "open_browser", is_flag=True, help="Open the overview in a browser.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (one per core serves the most pages).",
)
@reports_errors
def serve(db, host, port, open_browser, workers):
    """Browse and search the archive in a web browser (read-only); every page also as JSON."""
    from ..web.server import serve as run

    run(
        db,
        host=host,
        port=port,
        open_browser=open_browser,
        workers=workers,
        say=lambda line: err_console.print(safe_text(line)),
    )
