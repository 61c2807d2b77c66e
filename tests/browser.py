"""Headless Chromium for the end-to-end tests, and the server it talks to.

The browser is Debian's ``chromium`` package (``scripts/install-browser``, run by ``make test``)
driven by Playwright for Python with ``executable_path``: Playwright's own browser download is not
available here. Without Chromium the browser tests skip, unless ``TGSCOPE_REQUIRE_BROWSER=1``
(set by ``.ci/run``) makes them fail. ``TGSCOPE_CHROMIUM`` names another Chromium to use, and
``TGSCOPE_SCREENSHOTS`` a folder where :func:`save_screenshot` keeps its PNGs.

A module-scoped fixture in a test file::

    @pytest.fixture(scope="module")
    def browser() -> Iterator[Browser]:
        with launch_browser() as browser:
            yield browser
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

# Debian's /usr/bin/chromium is a shell wrapper that adds flags of its own (extensions, GPU
# rasterization) from /etc/chromium.d; the binary behind it starts the same browser without them.
CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")

# Headless, as root, in a container, with nothing reaching the network on its own.
CHROMIUM_FLAGS = (
    "--no-sandbox",  # the sandbox cannot run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",  # a container's /dev/shm may be 64 MB
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--mute-audio",
    "--lang=en-US",
)

SERVE_TIMEOUT = 15.0  # seconds `tgscope serve` may take to answer its first request


def chromium_path() -> str | None:
    """The Chromium executable to drive, or None when there is none."""
    chosen = os.environ.get("TGSCOPE_CHROMIUM")
    for candidate in (chosen,) if chosen else CANDIDATES:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_chromium() -> str:
    """The Chromium executable; skips the test without one (fails it under CI)."""
    path = chromium_path()
    if path is not None:
        return path
    where = os.environ.get("TGSCOPE_CHROMIUM") or " or ".join(CANDIDATES)
    message = f"no Chromium at {where}: run scripts/install-browser"
    if os.environ.get("TGSCOPE_REQUIRE_BROWSER") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@contextmanager
def launch_browser() -> Iterator[Browser]:
    """A headless Chromium for the duration of the block; each test opens its own page."""
    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=list(CHROMIUM_FLAGS)
        )
        try:
            yield browser
        finally:
            browser.close()


def page_errors(page: Page) -> list[str]:
    """A list that fills with the page's console errors and uncaught exceptions.

    Chromium reports failed loads (a 404 script) and Content-Security-Policy violations as console
    errors too, so an empty list means the page ran clean.
    """
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            errors.append(f"console.error: {message.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    return errors


def save_screenshot(page: Page, name: str) -> Path | None:
    """A full-page PNG named `name` in $TGSCOPE_SCREENSHOTS, when that is set."""
    folder = os.environ.get("TGSCOPE_SCREENSHOTS")
    if not folder:
        return None
    path = Path(folder) / (name if name.endswith(".png") else f"{name}.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header is painted where it stands
    page.screenshot(path=path, full_page=True)
    return path


def free_port() -> int:
    """A loopback port nobody listens on (it could be taken again before it is used)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_archive(db_path: Path | str) -> Iterator[str]:
    """Runs `tgscope serve` on the archive and yields its base URL, http://127.0.0.1:PORT."""
    port = free_port()
    command = [sys.executable, "-m", "tgscope", "serve", "--db", str(db_path)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with serve_process(command, f"http://127.0.0.1:{port}") as base_url:
        yield base_url


@contextmanager
def serve_process(
    command: list[str], base_url: str, *, timeout: float = SERVE_TIMEOUT
) -> Iterator[str]:
    """Starts a server, waits until GET / answers, yields `base_url`, stops the server.

    Fails the test, with the server's output, when it exits or does not answer in `timeout` s.
    """
    # a file, not a pipe: a chatty server never blocks on a full pipe nobody reads
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        try:
            trouble = _wait_until_up(process, base_url, timeout)
            if trouble:
                _stop(process)
                output.seek(0)
                text = output.read().decode("utf-8", "replace")[-4000:]
                pytest.fail(f"{shlex.join(command)} {trouble}; its output:\n{text}", pytrace=False)
            yield base_url
        finally:
            _stop(process)


def _wait_until_up(process: subprocess.Popen[bytes], base_url: str, timeout: float) -> str | None:
    """None once GET / answers, else what went wrong."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"exited with {process.returncode}"
        try:
            httpx.get(base_url + "/", timeout=1.0, trust_env=False)  # no proxy for loopback
            return None
        except httpx.TransportError:
            time.sleep(0.05)
    return f"did not answer GET / within {timeout:g} s"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
