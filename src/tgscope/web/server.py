"""Running the web app: the archive made ready, then uvicorn on a loopback address."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

from ..errors import OptionError, StoreError, TgscopeError
from ..store.pgdb import is_url, redacted


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (``localhost``, 127.x, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def prepare(db: str | os.PathLike, say: Callable[[str], None]) -> None:
    """Bring the archive's schema, search index, near-copy index (once built), events
    table and stored pictures' hashes up to date before serving it (the app itself only
    reads).  An archive that cannot be written to is served as it is."""
    from ..archive import Archive

    target = os.fspath(db)
    if not is_url(target) and not Path(target).is_file():
        raise StoreError(f"{target}: no archive here (create one with tgscope import)")
    if is_url(target):  # a database that cannot be reached or holds no archive: say so now
        Archive.open(target, create=False).close()
    try:
        with Archive.open(target, create=False) as archive:
            archive.flush_index()
            archive.update_near_copies()
            archive.update_events()
            if archive.path is not None or os.environ.get("TGSCOPE_MEDIA"):
                archive.media.update_hashes()
    except TgscopeError as error:
        say(f"warning: {error}; serving the archive as it is")


def serve(
    db: str | os.PathLike,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    open_browser: bool = False,
    workers: int = 1,
    say: Callable[[str], None] = print,
) -> None:
    """Serve the archive at ``db`` read-only on ``host``:``port`` until interrupted."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from .app import DB_VARIABLE, create_app

    if not 1 <= workers <= 64:
        raise OptionError(f"workers: {workers} is out of range (1 to 64)")
    prepare(db, say)
    app = create_app(db)  # fails here, with one line, if the archive cannot be read
    if not is_loopback(host):
        say(
            f"warning: serving on {host}: anyone who can reach this machine can read the"
            " archive (use --host 127.0.0.1 to keep it to yourself)"
        )
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    shown_db = redacted(os.fspath(db)) if is_url(os.fspath(db)) else db
    say(f"Serving {shown_db} at {url} (read-only; Ctrl+C stops)")
    if open_browser:
        threading.Timer(1.0, lambda: _open(url)).start()
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        return
    os.environ[DB_VARIABLE] = os.fspath(db) if is_url(os.fspath(db)) else str(Path(db).resolve())
    config = uvicorn.Config(
        "tgscope.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[listening_socket(host, port)]).run()


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket worker processes share, made so that their connections send at once.

    uvicorn's own makes a socket whose protocol number is 0, and asyncio only turns Nagle's
    algorithm off (TCP_NODELAY) on connections whose protocol says TCP: every answer then
    waited ~40 ms for the client's delayed ACK.  Linux passes TCP_NODELAY on from the
    listening socket to the connections it accepts, so it is set here too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise OptionError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.set_inheritable(True)
    return sock


def _open(url: str) -> None:
    with contextlib.suppress(webbrowser.Error):
        webbrowser.open(url)
