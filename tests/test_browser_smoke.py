"""The browser setup itself: Chromium starts, runs script files, draws, reports errors, and the
vendored ECharts draws under a strict Content-Security-Policy.

The pages come from a loopback http.server, not from the app, so a failure here is the browser's.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from .browser import free_port, launch_browser, page_errors, save_screenshot, serve_process
from .conftest import ROOT

VENDOR = ROOT / "src" / "tgscope" / "web" / "static" / "vendor"
# what the app's pages may do: scripts and styles from files only, nothing inline
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:"

SITE = {
    # the icon link keeps Chromium from asking for /favicon.ico, whose 404 is a console error
    "draw.html": '<!doctype html><html><head><meta charset="utf-8"><title>draw</title>'
    '<link rel="icon" href="data:,"><link rel="stylesheet" href="site.css"></head>'
    '<body><h1>Проверка 🚀</h1><canvas id="plain" width="200" height="100"></canvas>'
    '<script src="draw.js"></script></body></html>',
    "draw.js": 'const c = document.getElementById("plain").getContext("2d");\n'
    'c.fillStyle = "#2a6"; c.fillRect(20, 20, 120, 60);\n',
    "error.html": '<!doctype html><html><head><link rel="icon" href="data:,"></head><body>'
    '<script src="error.js"></script></body></html>',
    "error.js": 'console.error("deliberate console error");\n'
    'console.log("an ordinary message");\n'
    'setTimeout(() => { throw new Error("deliberate uncaught error"); }, 0);\n',
    "inline.html": '<!doctype html><html><head><link rel="icon" href="data:,"></head><body>'
    '<script>document.title = "inline ran"</script></body></html>',
    "chart.html": '<!doctype html><html><head><meta charset="utf-8"><title>chart</title>'
    '<link rel="icon" href="data:,"><link rel="stylesheet" href="site.css"></head>'
    '<body><div id="chart"></div><div id="chart-svg"></div>'
    '<script src="echarts.min.js"></script><script src="chart.js"></script></body></html>',
    # richText tooltips draw on the canvas; the default HTML ones set inline styles that
    # style-src 'self' refuses (a console error each time the mouse moves over the chart)
    "chart.js": 'for (const [id, renderer] of [["chart", "canvas"], ["chart-svg", "svg"]]) {\n'
    "  const chart = echarts.init(document.getElementById(id), null, {renderer});\n"
    "  chart.setOption({\n"
    '    tooltip: {trigger: "axis", renderMode: "richText"},\n'
    '    xAxis: {type: "category", data: ["Пн", "Вт", "Ср"]},\n'
    '    yAxis: {type: "value"},\n'
    '    series: [{name: "посты 🚀", type: "bar", data: [5, 20, 36]}],\n'
    "  });\n"
    "}\n",
    "site.css": "#chart, #chart-svg { width: 480px; height: 240px; }\n",
}

CANVAS_INK = """selector => {
    const canvas = document.querySelector(selector);
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let ink = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) ink += 1;
    return ink;
}"""


class _Handler(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        super().end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("site")
    for name, text in SITE.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "echarts.min.js").write_bytes((VENDOR / "echarts.min.js").read_bytes())
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_browser() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = browser.new_page()
    yield page
    page.close()


@pytest.mark.slow
def test_a_script_file_draws_on_a_canvas(
    site: str, page: Page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors = page_errors(page)
    page.goto(f"{site}/draw.html")
    assert page.evaluate(CANVAS_INK, "#plain") == 120 * 60
    assert page.inner_text("h1") == "Проверка 🚀"
    assert errors == []
    monkeypatch.setenv("TGSCOPE_SCREENSHOTS", str(tmp_path / "shots"))
    shot = save_screenshot(page, "draw")
    assert shot == tmp_path / "shots" / "draw.png"
    assert shot.read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_screenshots_are_skipped_without_a_folder(
    site: str, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TGSCOPE_SCREENSHOTS", raising=False)
    page.goto(f"{site}/draw.html")
    assert save_screenshot(page, "draw") is None


@pytest.mark.slow
def test_page_errors_catches_console_errors_and_uncaught_exceptions(site: str, page: Page) -> None:
    errors = page_errors(page)
    with page.expect_event("pageerror"):  # thrown from a timer, after the load
        page.goto(f"{site}/error.html")
    assert len(errors) == 2, errors
    assert errors[0].startswith("console.error: deliberate console error")
    assert errors[1] == "uncaught: deliberate uncaught error"


@pytest.mark.slow
def test_inline_scripts_are_refused_and_reported(site: str, page: Page) -> None:
    errors = page_errors(page)
    page.goto(f"{site}/inline.html")
    assert page.title() == ""
    assert len(errors) == 1
    assert "Content Security Policy" in errors[0]


@pytest.mark.slow
def test_vendored_echarts_draws_under_a_strict_csp(site: str, page: Page) -> None:
    errors = page_errors(page)
    page.goto(f"{site}/chart.html")
    page.wait_for_function("() => document.querySelector('#chart-svg svg path') !== null")
    assert page.evaluate(CANVAS_INK, "#chart canvas") > 1000
    assert page.locator("#chart-svg svg path").count() > 3
    page.mouse.move(240, 120)  # over the canvas chart: the tooltip must not break the policy
    page.mouse.move(240, 360)  # over the SVG one
    page.wait_for_timeout(300)
    assert errors == []


def test_vendored_files_match_their_readme() -> None:
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    listed = dict(
        (name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M)
    )
    files = {path.name for path in VENDOR.iterdir()} - {"README.md"}
    assert set(listed) == files
    for name, digest in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_without_chromium_browser_tests_skip(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TGSCOPE_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("TGSCOPE_REQUIRE_BROWSER", raising=False)
    with (
        pytest.raises(pytest.skip.Exception, match=r"no Chromium at .*no-chromium"),
        launch_browser(),
    ):
        pass


def test_without_chromium_browser_tests_fail_when_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TGSCOPE_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("TGSCOPE_REQUIRE_BROWSER", "1")
    with (
        pytest.raises(pytest.fail.Exception, match="run scripts/install-browser"),
        launch_browser(),
    ):
        pass


@pytest.mark.slow
def test_serve_process_waits_for_the_server_and_stops_it(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("up", encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    command += ["--directory", str(tmp_path)]
    with serve_process(command, f"http://127.0.0.1:{port}") as base_url:
        assert httpx.get(base_url + "/", trust_env=False).text == "up"
    with pytest.raises(httpx.ConnectError):
        httpx.get(base_url + "/", trust_env=False)


@pytest.mark.slow
def test_serve_process_fails_with_the_output_of_a_server_that_exits() -> None:
    command = [sys.executable, "-c", "import sys; sys.exit('no archive at x.db')"]
    with (
        pytest.raises(pytest.fail.Exception, match=r"exited with 1; its output:\nno archive at"),
        serve_process(command, f"http://127.0.0.1:{free_port()}"),
    ):
        pass


@pytest.mark.slow
def test_serve_process_gives_up_on_a_server_that_never_answers() -> None:
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    started = time.monotonic()
    with (
        pytest.raises(pytest.fail.Exception, match="did not answer GET / within 1 s"),
        serve_process(command, f"http://127.0.0.1:{free_port()}", timeout=1),
    ):
        pass
    assert time.monotonic() - started < 5
