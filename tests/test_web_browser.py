"""`tgscope serve` in a real headless Chromium: every page loads, its charts draw, its links lead
where they should, the console stays clean, and a post whose every field is an XSS payload never
runs a line of script.

Two archives, built in :mod:`tests.web_showcase`: a showcase one (three diplomatic channels over
four months, the pages that ``TGSCOPE_SCREENSHOTS=docs/screenshots`` photographs for the README)
and the same archive plus a channel whose one post is hostile in every field (kept apart so the
screenshots stay readable).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Dialog, Locator, Page, Response, ViewportSize

from .browser import launch_browser, page_errors, save_screenshot, serve_archive
from .web_showcase import (
    EMBASSY,
    FEATURED,
    HOSTILE,
    HOSTILE_KEY,
    HOURS,
    MID,
    OBSERVATIONS,
    ODD,
    PDF_NAME,
    RANDOM_POSTS,
    TITLES,
    WATCHED,
    XSS,
    XSS_ALERT,
    build_hostile,
    build_showcase,
)

pytestmark = pytest.mark.slow

VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
WAIT = 10_000  # ms a page or a chart may take, on a loaded 2-core machine

# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def showcase_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("showcase") / "russia-china.db"
    build_showcase(path)
    return path


@pytest.fixture(scope="session")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    build_hostile(path)
    return path


@pytest.fixture(scope="module")
def site(showcase_db: Path) -> Iterator[str]:
    with serve_archive(showcase_db) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def hostile_site(hostile_db: Path) -> Iterator[str]:
    with serve_archive(hostile_db) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_browser() as browser:
        yield browser


@dataclass
class Tab:
    """A page with what it reported: console errors, dialogs, and every HTML response."""

    page: Page
    errors: list[str]
    dialogs: list[str] = field(default_factory=list)
    documents: list[Response] = field(default_factory=list)

    def visit(self, url: str) -> Response:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, url
        return response

    def wait_for_charts(self, count: int) -> None:
        """Waits until ``count`` charts say they drew; fails at once on one that did not."""
        self.page.wait_for_function(
            "n => document.querySelectorAll('.chart[data-drawn]').length >= n",
            arg=count,
            timeout=WAIT,
        )
        drawn = self.page.eval_on_selector_all(
            ".chart[data-chart]", "charts => charts.map(c => [c.id, c.dataset.drawn])"
        )
        assert drawn == [[name, "yes"] for name, _ in drawn]
        assert len(drawn) == count


@pytest.fixture
def tab(browser: Browser) -> Iterator[Tab]:
    context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(WAIT)
    found = Tab(page, page_errors(page))

    def on_dialog(dialog: Dialog) -> None:
        found.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_response(response: Response) -> None:
        if response.request.resource_type == "document":
            found.documents.append(response)

    page.on("dialog", on_dialog)
    page.on("response", on_response)
    yield found
    context.close()


# --- what a drawn chart and a safe page look like -------------------------------------------

CHART_STATE = """element => {
    const chart = echarts.getInstanceByDom(element);
    const canvases = [...element.querySelectorAll("canvas")];  // a heatmap draws on layers
    let ink = 0, colour = 0;  // colour: the data's saturated pixels, not grey axes and labels
    for (const canvas of canvases) {
        const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < pixels.length; i += 4) {
            if (pixels[i + 3] === 0) continue;
            ink += 1;
            const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
            if (Math.max(r, g, b) - Math.min(r, g, b) > 60) colour += 1;
        }
    }
    const series = chart.getOption().series.map(s => s.data.filter(d => d !== null).length);
    const area = canvases[0].width * canvases[0].height;
    return {ink: ink, colour: colour, area: area, points: series};
}"""

SAFETY = """() => {
    const scripts = [...document.scripts].filter(s =>
        s.type !== "application/json"
        && !(s.src && new URL(s.src).pathname.startsWith("/static/")));
    const handlers = [...document.querySelectorAll("*")].filter(e =>
        [...e.attributes].some(a => a.name.startsWith("on")));
    const links = [...document.querySelectorAll("[href], [src], [action]")]
        .map(e => e.getAttribute("href") ?? e.getAttribute("src") ?? e.getAttribute("action"))
        .filter(u => !/^(https?:\\/\\/|tg:|\\/|\\?|#|data:,$)/i.test(u.trim()));
    return {
        xss: typeof window.__xss,
        scripts: scripts.map(s => s.outerHTML),
        handlers: handlers.map(e => e.outerHTML.slice(0, 80)),
        links: links,
        images: document.querySelectorAll("img, iframe, object, embed").length,
        svgOutsideCharts: [...document.querySelectorAll("svg")]
            .filter(s => !s.closest(".chart")).length,
    };
}"""

SAFE = {"xss": "undefined", "scripts": [], "handlers": [], "links": [], "images": 0}
SAFE["svgOutsideCharts"] = 0


def chart_state(tab: Tab, selector: str) -> dict[str, Any]:
    return tab.page.eval_on_selector(selector, CHART_STATE)


def assert_drawn(tab: Tab, selector: str, *, series: int = 1, least_points: int = 1) -> None:
    """The chart has ``series`` series with data, and the data's colours cover a fair share of
    its canvas (grey axes, grid lines and labels alone do not count)."""
    state = chart_state(tab, selector)
    assert len(state["points"]) >= series, state
    assert all(n >= least_points for n in state["points"][:series]), state
    assert state["colour"] > state["area"] // 100, state


def assert_headers(response: Response) -> None:
    headers = response.headers
    policy = headers.get("content-security-policy", "")
    script_src = re.search(r"script-src ([^;]*)", policy)
    assert script_src is not None, policy
    assert "'unsafe-inline'" not in script_src.group(1)
    assert "'unsafe-eval'" not in script_src.group(1)
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy")


def attribute(locator: Locator, name: str) -> str:
    value = locator.get_attribute(name)
    assert value is not None, f"no {name} on {locator}"
    return value


def screenshot(tab: Tab, name: str) -> None:
    """The whole page from its top: the header is sticky, so a page scrolled down (a click
    further down scrolls) would have it painted over the middle of a full-page shot."""
    tab.page.evaluate("window.scrollTo(0, 0)")
    save_screenshot(tab.page, name)


def assert_clean(tab: Tab) -> None:
    """No console error on any page the tab opened, every one with the security headers."""
    assert tab.errors == []
    assert tab.dialogs == []
    assert tab.documents
    for response in tab.documents:
        assert_headers(response)


# --- the pages -------------------------------------------------------------------------------


def test_overview_draws_posts_per_week_for_each_channel(tab: Tab, site: str) -> None:
    tab.visit(f"{site}/")
    tab.wait_for_charts(1)
    assert_drawn(tab, "#chart-weekly", series=3)
    assert chart_state(tab, "#chart-weekly")["points"] == [16, 16, 16]  # weeks 2 to 17 of 2023
    rows = tab.page.locator("table.channels tbody tr")
    assert rows.count() == 3
    first = rows.first.locator("td").all_inner_texts()
    assert first[:3] == [f"@{MID}", TITLES[MID], str(RANDOM_POSTS[MID] + 5)]
    assert tab.page.locator(".totals > div").first.inner_text() == "170 posts"  # 164 + 5 + 1
    assert_clean(tab)
    screenshot(tab, "overview.png")


def test_a_channel_shows_its_charts_and_posts_as_telegram_does(tab: Tab, site: str) -> None:
    tab.visit(f"{site}/")
    tab.page.click(f"a[href='/channels/{MID}']")
    tab.page.wait_for_url(f"{site}/channels/{MID}")
    tab.wait_for_charts(5)
    for chart in ("#chart-days", "#chart-views", "#chart-reactions"):
        assert_drawn(tab, chart, least_points=40)
    assert_drawn(tab, "#chart-heatmap", least_points=20)
    assert_drawn(tab, "#chart-growth", least_points=4)  # views at 1 h, 24 h, 7 days, now
    tab.page.wait_for_selector("[data-facts][data-drawn=yes]", timeout=WAIT)
    facts = tab.page.locator("[data-facts] dt").all_inner_texts()
    assert facts == [
        "posts per day / week",
        "views: median / p90",
        "reactions per 1,000 views",
        "forwarded by other channels",
    ]
    page = tab.page
    assert page.locator("h1").inner_text() == f"{TITLES[MID]} ✔"
    assert page.locator(".post").count() == 20
    assert page.locator(".post").first.get_attribute("data-key") == f"{MID}/28637"

    featured = page.locator(f"#post-{FEATURED}")
    assert featured.locator(".text b").inner_text() == "Совместное заявление"
    assert featured.locator(".text i").count() == 1
    assert "военно-политическим" in featured.locator(".text blockquote").inner_text()
    mid_link = featured.locator(".text a", has_text="mid.ru")
    assert mid_link.get_attribute("href") == "https://mid.ru/ru/foreign_policy/news/1860253/"
    assert set(attribute(mid_link, "rel").split()) >= {"noopener", "noreferrer", "nofollow"}
    assert featured.locator(".text a", has_text="#РоссияКитай").get_attribute("href") == (
        "/hashtags/" + quote("россиякитай")
    )
    assert featured.locator(".text a", has_text="@rusembchina").get_attribute("href") == (
        f"/channels/{EMBASSY}"
    )
    assert featured.locator(".media-document .media-file").inner_text() == PDF_NAME
    assert featured.locator(".media-document .media-size").inner_text() == "2.1 MB"
    assert featured.locator(".signature").inner_text() == "Пресс-служба"

    spoiler = featured.locator(".spoiler")
    assert spoiler.evaluate("e => getComputedStyle(e).color") == "rgba(0, 0, 0, 0)"
    spoiler.click()
    assert "revealed" in attribute(spoiler, "class").split()
    assert spoiler.evaluate("e => getComputedStyle(e).color") != "rgba(0, 0, 0, 0)"

    forward = page.locator("#post-28635 .forwarded")
    assert forward.inner_text() == f"Forwarded from {TITLES[EMBASSY]} #6251"
    reply = page.locator("#post-28636 .reply-quote")
    assert reply.get_attribute("href") == f"/posts/{MID}/{FEATURED}"
    assert page.locator("#post-28636 .media-video .media-duration").inner_text() == "1:35"
    preview = page.locator("#post-28637 .preview")
    assert preview.locator(".preview-site").inner_text() == "МИД России"
    assert "noopener" in attribute(preview.locator("a"), "rel")
    watched = page.locator(f"#post-{WATCHED}")
    assert watched.locator(".views").inner_text() == "👁 81.3K"
    assert watched.locator(".edited").inner_text() == "edited"
    assert watched.locator(".reaction").all_inner_texts() == ["👍 1.9K", "🤝 530", "🔥 240"]
    assert_clean(tab)
    screenshot(tab, "channel.png")


HEATMAP_HOURS = """element => [...new Set(
    echarts.getInstanceByDom(element).getOption().series[0].data.map(cell => cell[0]))].sort(
    (a, b) => a - b)"""


def test_the_heatmap_follows_the_chosen_time_zone(tab: Tab, site: str) -> None:
    tab.visit(f"{site}/channels/{EMBASSY}")
    tab.wait_for_charts(5)
    utc_hours = tab.page.eval_on_selector("#chart-heatmap", HEATMAP_HOURS)
    assert utc_hours == sorted({*HOURS[EMBASSY], 9})  # 9: the forwarded statement
    tab.page.fill("form.tz input[name=tz]", "Asia/Shanghai")
    tab.page.click("form.tz button[type=submit]")
    tab.page.wait_for_url(f"{site}/channels/{EMBASSY}?tz=Asia%2FShanghai")
    tab.wait_for_charts(5)
    assert tab.page.locator("h3", has_text="When it posts").inner_text() == (
        "When it posts (Asia/Shanghai)"
    )
    shanghai = tab.page.eval_on_selector("#chart-heatmap", HEATMAP_HOURS)
    assert shanghai == [hour + 8 for hour in utc_hours]
    assert_clean(tab)


def test_older_posts_pages_back_through_the_whole_channel(tab: Tab, site: str) -> None:
    tab.visit(f"{site}/channels/{MID}")
    keys: list[str] = []
    for _ in range(10):
        keys += tab.page.eval_on_selector_all(".post", "posts => posts.map(p => p.dataset.key)")
        older = tab.page.locator("a.next")
        if older.count() == 0:
            break
        assert older.inner_text() == "Older posts →"
        older.click()
        tab.page.wait_for_url(re.compile(r"\?before=\d+$"))
    ids = [int(key.rsplit("/", 1)[1]) for key in keys]
    assert len(ids) == RANDOM_POSTS[MID] + 5
    assert ids == sorted(set(ids), reverse=True)
    assert len(tab.documents) == 4  # 20 + 20 + 20 + 19
    assert_clean(tab)


def test_search_highlights_counts_per_channel_and_leads_to_the_post(tab: Tab, site: str) -> None:
    tab.visit(f"{site}/search")
    page = tab.page
    page.fill("form.search input[name=q]", "Лавров")
    page.click("form.search button[type=submit]")
    page.wait_for_url(re.compile(r"/search\?q=%D0%9B"))
    total = int(page.locator(".count b").inner_text().replace(",", ""))
    assert total > 20
    marks = page.locator(".results .snippet b").all_inner_texts()
    assert marks and all(mark.lower().startswith("лавров") for mark in marks), marks
    facets = dict(
        (item.locator("a").inner_text(), int(item.locator(".num").inner_text()))
        for item in page.locator(".facets li").all()
    )
    assert set(facets) == {MID, EMBASSY}
    assert sum(facets.values()) == total
    assert page.locator(".results .post").count() == 20
    screenshot(tab, "search.png")

    first = page.locator(".results .post").first
    key = attribute(first, "data-key")
    first.locator("a.post-date").click()
    page.wait_for_url(f"{site}/posts/{key}")
    assert page.locator(".crumbs").inner_text().endswith(key)
    tab.wait_for_charts(1)
    assert_clean(tab)


def test_words_typed_into_the_search_page_are_sorted_by_relevance(tab: Tab, site: str) -> None:
    """Words are sorted by relevance unless asked otherwise (the quick search in the header
    does that); the search page's own form must not send the "newest" it shows for no words."""
    tab.visit(f"{site}/search")
    page = tab.page
    page.fill("form.search input[name=q]", "Лавров")
    page.click("form.search button[type=submit]")
    page.wait_for_url(re.compile(r"/search\?q="))
    assert "sort=newest" not in page.url
    assert page.locator("form.search select[name=sort]").input_value() in ("", "relevance")
    assert_clean(tab)


def test_a_post_shows_its_views_and_reactions_over_time_and_its_edit(tab: Tab, site: str) -> None:
    tab.visit(f"{site}/posts/{MID}/{WATCHED}")
    tab.wait_for_charts(1)
    assert_drawn(tab, "#chart-history", series=3, least_points=4)
    page = tab.page
    rows = page.locator("table.history tbody tr")
    assert rows.count() == len(OBSERVATIONS)
    assert rows.last.locator("td").all_inner_texts()[:3] == [
        "2023-04-29 08:00 UTC",
        "desktop-json",
        "81300",
    ]
    assert page.locator(".diff del").inner_text() == "госудрственного"
    assert page.locator(".diff ins").inner_text() == "государственного"
    original = page.locator(".original a")
    assert original.get_attribute("href") == f"https://t.me/{MID}/{WATCHED}"
    assert "noopener" in attribute(original, "rel")
    assert_clean(tab)
    screenshot(tab, "post.png")


def test_hashtags_lead_to_a_hashtag_timeline(tab: Tab, site: str) -> None:
    tab.visit(f"{site}/hashtags")
    page = tab.page
    tags = page.locator("table.hashtags tbody tr td:first-child").all_inner_texts()
    assert {"#РоссияКитай", "#RussiaChina", "#SCO"} <= set(tags)
    page.click("table.hashtags a:text-is('#RussiaChina')")
    page.wait_for_url(f"{site}/hashtags/russiachina")
    tab.wait_for_charts(1)
    assert_drawn(tab, "#chart-hashtag", series=2)
    assert page.locator("h1").inner_text() == "#RussiaChina"  # as the posts write it
    assert page.locator(".tag-channels li").count() == 2
    assert page.locator(".feed .post").count() == 20
    assert_clean(tab)
    screenshot(tab, "hashtag.png")


# --- the hostile post ------------------------------------------------------------------------


def hostile_pages(base: str) -> list[str]:
    return [
        f"{base}/",
        f"{base}/channels/{HOSTILE}",
        f"{base}/channels/{quote(XSS_ALERT, safe='')}",
        f"{base}/posts/{HOSTILE_KEY}",
        f"{base}/search?q=window",
        f"{base}/search?q=xsstag&channel={HOSTILE}",
        f"{base}/hashtags",
        f"{base}/hashtags/xsstag",
        f"{base}/hashtags/{quote(XSS_ALERT.casefold(), safe='')}",
    ]


def test_xss_payloads_in_every_field_never_run(tab: Tab, hostile_site: str) -> None:
    page = tab.page
    for url in hostile_pages(hostile_site):
        tab.visit(url)
        page.wait_for_load_state("load")
        charts = page.locator(".chart[data-chart]")
        if charts.count():
            tab.wait_for_charts(charts.count())
        for chart in charts.all():  # tooltips show series names: the payload username
            box = chart.bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_timeout(100)
        assert page.evaluate(SAFETY) == SAFE, url
        shown = page.inner_text("body")
        assert XSS in shown or XSS_ALERT in shown, url  # shown, as text
    assert_clean(tab)


def test_xss_search_typed_into_the_form_finds_the_post_and_runs_nothing(
    tab: Tab, hostile_site: str
) -> None:
    tab.visit(f"{hostile_site}/")
    page = tab.page
    page.fill("header .quick-search input", "window")
    page.press("header .quick-search input", "Enter")
    page.wait_for_url(re.compile(r"/search\?q=window"))
    assert page.locator(".results .post").first.get_attribute("data-key") == HOSTILE_KEY
    page.locator(".results .post a.post-date").first.click()
    page.wait_for_url(f"{hostile_site}/posts/{HOSTILE_KEY}")
    tab.wait_for_charts(1)
    page.locator(".spoiler").first.click()
    for button in page.locator(".button, .preview-title, .media").all():
        button.click()  # nothing here is a javascript: link, so nothing may happen
    assert page.url == f"{hostile_site}/posts/{HOSTILE_KEY}"
    assert page.evaluate(SAFETY) == SAFE
    assert_clean(tab)


def test_a_channel_whose_name_must_be_quoted_draws_its_charts(tab: Tab, hostile_site: str) -> None:
    tab.visit(f"{hostile_site}/")
    tab.page.click(f"a[href='/channels/{quote(ODD, safe='')}']")
    tab.page.wait_for_url(f"{hostile_site}/channels/{quote(ODD, safe='')}")
    assert tab.page.locator(".post").count() == 3
    tab.wait_for_charts(5)
    assert_drawn(tab, "#chart-days", least_points=3)
    assert_clean(tab)


def test_the_network_draws_its_graph_and_a_node_opens_its_channel(tab: Tab, site: str) -> None:
    tab.visit(f"{site}/network")
    tab.wait_for_charts(1)
    state = chart_state(tab, "#chart-network")  # a few nodes and lines: little of the canvas
    assert state["points"][0] >= 2 and state["colour"] > 1000, state
    rows = tab.page.locator("table.edges tbody tr").count()
    assert rows >= 2
    screenshot(tab, "network")
    target = tab.page.locator("table.edges tbody tr td:nth-child(2) a").first
    name = target.inner_text()
    target.click()
    tab.page.wait_for_url(f"{site}/channels/{name}")
    assert_clean(tab)


def test_copy_paste_clusters_lead_to_the_copies_side_by_side(
    tab: Tab, site: str, showcase_db: Path
) -> None:
    from tgscope.archive import Archive

    with Archive.open(showcase_db) as archive:  # builds the near-copy index the app reads
        clusters = archive.duplicates()
    assert clusters
    tab.visit(f"{site}/duplicates")
    rows = tab.page.locator("table.clusters tbody tr")
    assert rows.count() == min(len(clusters), 50)
    screenshot(tab, "duplicates")
    tab.page.click("table.clusters tbody tr:first-child td:first-child a")
    tab.page.wait_for_url(f"{site}/duplicates/1")
    assert tab.page.locator(".copies .copy").count() == min(clusters[0].size, 100)
    screenshot(tab, "cluster")
    assert_clean(tab)
