"""The media kept beside an archive, in a real headless Chromium under the app's
Content-Security-Policy: the pictures draw (their pixels decoded, not just an <img> in the
markup), a video's poster too, and the console stays clean.  The archive is
:mod:`tests.web_media_archive`'s."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize
from playwright.sync_api import Error as PlaywrightError

from .browser import launch_browser, page_errors, save_screenshot, serve_archive
from .web_media_archive import Built, build

pytestmark = pytest.mark.slow

VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
WAIT = 10_000  # ms a page or a picture may take, on a loaded 2-core machine

#: every <img> of the page, once each has loaded or failed: its source and decoded size
DRAWN = """() => Promise.all([...document.images].map(img => img.decode().catch(() => null)))
    .then(() => [...document.images].map(img => [
        new URL(img.src).pathname, img.complete, img.naturalWidth, img.naturalHeight]))"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("web-media-browser") / "media.db")


@pytest.fixture(scope="module")
def site(built: Built) -> Iterator[str]:
    with serve_archive(built.path) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_browser() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(WAIT)
    yield page
    context.close()


def visit(page: Page, url: str) -> list[str]:
    """Opens ``url``; returns the list that fills with the page's console errors."""
    errors = page_errors(page)
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    assert "img-src 'self'" in response.headers["content-security-policy"]
    return errors


def test_a_posts_picture_draws_under_the_policy(page: Page, site: str, built: Built) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    errors = visit(page, f"{site}/posts/news/1")
    drawn = page.evaluate(DRAWN)
    assert drawn == [[f"/media/{built.sha['A']}", True, 320, 240]]
    assert all(url.startswith(site) or url.startswith("data:") for url in requests), requests
    assert errors == []
    save_screenshot(page, "media-post.png")


def test_a_videos_poster_draws_and_its_file_is_ready_to_play(
    page: Page, site: str, built: Built
) -> None:
    errors = visit(page, f"{site}/posts/news/2")
    video = page.locator("video.media-shown")
    assert video.get_attribute("poster") == f"/media/{built.sha['poster']}"
    poster = page.evaluate(
        """src => new Promise(done => { const img = new Image();
            img.onload = () => done([img.naturalWidth, img.naturalHeight]);
            img.onerror = () => done(null); img.src = src; })""",
        f"/media/{built.sha['poster']}",
    )
    assert poster == [160, 90]
    assert video.evaluate("v => v.currentSrc || v.src").endswith(f"/media/{built.sha['video']}")
    assert errors == []


def test_the_gallery_and_an_images_page_draw_every_picture(
    page: Page, site: str, built: Built
) -> None:
    errors = visit(page, f"{site}/channels/news/images")
    drawn = page.evaluate(DRAWN)
    assert [path for path, *_ in drawn] == [
        f"/media/{built.sha[name]}" for name in ("B", "svg", "preview", "poster", "A")
    ]
    assert all(complete and width > 0 for _, complete, width, _ in drawn), drawn
    page.click(f"a.gallery-image[href='/images/{built.sha['A']}']")
    page.wait_for_url(f"{site}/images/{built.sha['A']}")
    drawn = page.evaluate(DRAWN)
    assert [(path, width) for path, _, width, _ in drawn] == [
        (f"/media/{built.sha['A']}", 320),
        (f"/media/{built.sha['A2']}", 200),
        (f"/media/{built.sha['A3']}", 304),  # hashed when serve started: a look-alike too
    ]
    assert errors == []
    save_screenshot(page, "media-image.png")


def test_an_svg_opened_on_its_own_is_downloaded_not_run(
    page: Page, site: str, built: Built
) -> None:
    errors = page_errors(page)
    with page.expect_download() as download:
        try:
            page.goto(f"{site}/media/{built.sha['svg']}")
        except PlaywrightError as error:  # a download is no page: the navigation stops
            assert "Download is starting" in str(error)
    assert download.value.suggested_filename == f"{built.sha['svg']}.svg"
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert errors == []
