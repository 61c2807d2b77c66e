"""The web app: Starlette routes over :class:`WebArchive`, Jinja templates, JSON twins.

Every page answers at its path and, as JSON, at the same path plus ``.json`` (Datasette's
convention): the twin is exactly the data the template renders.  Pages are read-only and
safe to serve while the archive is being written to.  Every response carries a strict
Content-Security-Policy: scripts only from ``/static``, never inline; chart data comes from
the twins or from inert ``application/json`` blocks.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..record import reaction_label
from .channels import channel_charts, channel_page
from .data import WebArchive
from .duplicates import cluster_page, duplicates_page
from .events import events_page, timeline_page
from .hashtags import hashtag_page, hashtags_page
from .media import file_response, gallery_page, image_page
from .network import network_page
from .overview import overview
from .params import HTTPProblem, Page
from .posts import post_page
from .render import compact, duration, human_size, link, render_text, safe_url
from .search import export_chunks, search_page

log = logging.getLogger("tgscope.web")
STATIC = Path(__file__).parent / "static"
DB_VARIABLE = "TGSCOPE_SERVE_DB"  # the archive a worker process serves (uvicorn --workers)

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline';"
        " img-src 'self'; media-src 'self'; connect-src 'self'; font-src 'self';"
        " base-uri 'none';"
        " form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


def create_app(db: str | os.PathLike) -> Starlette:
    """The app serving the archive at ``db`` (read-only); raises StoreError if unreadable."""
    archive = WebArchive(db)
    templates = _templates()

    def respond(request: Request, make: Callable[[], Page], twin: bool) -> Response:
        try:
            page = make()
        except HTTPProblem as problem:
            return _problem(templates, request, problem.status, problem.message, twin)
        if twin:
            return JSONResponse(_for_scripts(page.data))
        html = templates.get_template(page.template).render(
            data=page.data, title=page.title, **_context(request, archive)
        )
        return HTMLResponse(html)

    def listing(page: Callable[[WebArchive, Mapping[str, str]], Page]) -> Callable:
        """The endpoint of a page without a path parameter; its twin ends in ``.json``."""

        def endpoint(request: Request) -> Response:
            twin = request.url.path.endswith(".json")
            return respond(request, lambda: page(archive, request.query_params), twin)

        return endpoint

    def named(page: Callable[[WebArchive, str, Mapping[str, str]], Page], param: str) -> Callable:
        """The endpoint of a page about one thing (``/channels/<channel>``); the twin adds
        ``.json`` to the name."""

        def endpoint(request: Request) -> Response:
            name, twin = _twin(request.path_params[param])
            return respond(request, lambda: page(archive, name, request.query_params), twin)

        return endpoint

    def charts(request: Request) -> Response:
        name = request.path_params["channel"]
        return respond(request, lambda: channel_charts(archive, name, request.query_params), True)

    def gallery(request: Request) -> Response:
        name, twin = request.path_params["channel"], request.url.path.endswith(".json")
        return respond(request, lambda: gallery_page(archive, name, request.query_params), twin)

    def media_file(request: Request) -> Response:
        try:
            return file_response(archive, request.path_params["sha256"], request.headers)
        except HTTPProblem as problem:
            return _problem(templates, request, problem.status, problem.message, False)

    def export(request: Request) -> Response:
        kind = request.url.path.rsplit(".", 1)[1]
        try:
            chunks = export_chunks(archive, request.query_params, kind)
        except HTTPProblem as problem:
            return _problem(templates, request, problem.status, problem.message, True)
        media = "text/csv; charset=utf-8" if kind == "csv" else "application/x-ndjson"
        headers = {"content-disposition": f'attachment; filename="tgscope-search.{kind}"'}
        return StreamingResponse(chunks, media_type=media, headers=headers)

    async def http_error(request: Request, error: Exception) -> Response:
        status = error.status_code if isinstance(error, HTTPException) else 500
        message = error.detail if isinstance(error, HTTPException) else "internal error"
        if status == 404:
            message = f"nothing at {request.url.path}"
        return _problem(templates, request, status, message, request.url.path.endswith(".json"))

    async def server_error(request: Request, error: Exception) -> Response:
        log.exception("error serving %s", request.url.path, exc_info=error)
        message = "internal error (the server's log has the details)"
        return _problem(templates, request, 500, message, request.url.path.endswith(".json"))

    home = listing(lambda archive, _: overview(archive))
    search, network, duplicates, hashtags = map(
        listing, (search_page, network_page, duplicates_page, hashtags_page)
    )
    events, timeline = listing(events_page), listing(timeline_page)
    routes = [
        Route("/", home),
        Route("/.json", home),
        Route("/index.json", home),
        Route("/channels/{channel}/charts.json", charts),
        Route("/channels/{channel}", named(channel_page, "channel")),
        Route("/channels/{channel}/images", gallery),
        Route("/channels/{channel}/images.json", gallery),
        Route("/images/{sha256}", named(image_page, "sha256")),
        Route("/media/{sha256}", media_file),
        Route("/posts/{key:path}", named(lambda archive, key, _: post_page(archive, key), "key")),
        Route("/search", search),
        Route("/search.json", search),
        Route("/search.csv", export),
        Route("/search.jsonl", export),
        Route("/network", network),
        Route("/network.json", network),
        Route("/duplicates", duplicates),
        Route("/duplicates.json", duplicates),
        Route("/duplicates/{cluster}", named(cluster_page, "cluster")),
        Route("/hashtags", hashtags),
        Route("/hashtags.json", hashtags),
        Route("/hashtags/{tag}", named(hashtag_page, "tag")),
        Route("/events", events),
        Route("/events.json", events),
        Route("/events/timeline", timeline),
        Route("/events/timeline.json", timeline),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        archive.warm_up()
        yield
        archive.close()

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.add_middleware(SecurityHeaders)
    return app


def app_from_environment() -> Starlette:
    """The app for a uvicorn worker process: the archive named by ``$TGSCOPE_SERVE_DB``."""
    return create_app(os.environ[DB_VARIABLE])


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response (a plain ASGI middleware: streamed
    responses pass through untouched)."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _for_scripts(data: dict) -> dict:
    """A JSON twin's data: its ``next`` page is the next page's twin."""
    following = data.get("next")
    if not isinstance(following, str):
        return data
    path, mark, query = following.partition("?")
    return {**data, "next": f"{path}.json{mark}{query}"}


def _twin(name: str) -> tuple[str, bool]:
    """A path parameter without its ``.json`` and whether the JSON twin was asked for."""
    if name.endswith(".json"):
        return name[: -len(".json")], True
    return name, False


def _problem(
    templates: Environment, request: Request, status: int, message: str, twin: bool
) -> Response:
    message = " ".join(str(message).split())[:300]
    if twin:
        return JSONResponse({"ok": False, "status": status, "error": message}, status_code=status)
    html = templates.get_template("error.html").render(
        status=status, message=message, title=f"{status}", path=request.url.path, twin=None
    )
    return HTMLResponse(html, status_code=status)


def _context(request: Request, archive: WebArchive) -> dict[str, Any]:
    path = request.url.path
    twin = ("/.json" if path == "/" else f"{path}.json") + (
        f"?{request.url.query}" if request.url.query else ""
    )
    return {"path": path, "twin": twin, "archive_name": archive.name}


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("tgscope.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # the templates ship with the code: never re-read while serving
    )
    env.filters.update(
        rich=render_text,
        compact=compact,
        human_size=human_size,
        duration=duration,
        reaction=reaction_label,
        safe_url=safe_url,
        urlpart=lambda value: quote(str(value), safe=""),
        keypath=lambda value: quote(str(value), safe="/"),
        when=_when,
        delay=_delay,
    )
    env.globals["link"] = link
    return env


def _delay(seconds: object) -> str:
    """``3 h 20 min`` for a number of seconds (empty when None)."""
    if not isinstance(seconds, int | float):
        return ""
    minutes = int(seconds) // 60
    if minutes < 60:
        return f"{minutes} min" if minutes else f"{int(seconds)} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def _when(value: object) -> str:
    """A stored date as people read it: ``2023-01-09 10:00 UTC``."""
    if not isinstance(value, str) or len(value) < 16:
        return "" if value is None else str(value)
    suffix = " UTC" if value.endswith(("+00:00", "Z")) else ""
    return f"{value[:10]} {value[11:16]}{suffix}"
