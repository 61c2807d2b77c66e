"""Web-preview parsing benchmark: pages per second, tgscope beside snscrape and a bare parse.

    python bench/bench_web_parse.py [--repeat 200]

Feeds the same saved pages (the shared corpus's whole pages when present, and the project's
own fixture page) to: the bare Lexbor parse with no extraction (the floor), tgscope's
``parse_page`` (every field), and snscrape's Telegram page-to-items function (BeautifulSoup +
lxml; skipped when snscrape is not installed: ``pip install 'snscrape>=0.7,<0.8'``).
No network: the pages are read from disk.  Targets: ≥ 10× snscrape, ≤ 2× the bare parse.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from tgscope.sources.web import parse_page

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    ROOT.parent / "shared/corpus/tme_html/topwar_and_milbloggers/full.html",
    ROOT.parent / "shared/corpus/tme_html/anonymized_with_reactions/telegram-test-channel.html",
    ROOT / "tests/fixtures/embassy_page.html",
]


def rate(function, pages: list[str], repeat: int, rounds: int = 7) -> float:
    """Pages per second, best of ``rounds`` runs of ``repeat`` passes over the pages.

    The best run is the one least disturbed by other work on a shared machine.
    """
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            for html in pages:
                function(html)
        best = min(best, time.perf_counter() - start)
    return repeat * len(pages) / best


def snscrape_parser():
    try:
        import bs4
        from snscrape.modules.telegram import TelegramChannelScraper
    except ImportError:
        return None
    scraper = TelegramChannelScraper("bench")
    return lambda html: list(
        scraper._soup_to_items(bs4.BeautifulSoup(html, "lxml"), "https://t.me/s/bench")
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    pages = [path.read_text(encoding="utf-8") for path in PAGES if path.exists()]
    posts = sum(len(parse_page(html, "").posts) for html in pages)
    print(f"{len(pages)} pages, {posts} posts, {sum(map(len, pages)) / 1000:.0f} kB")
    bare = rate(LexborHTMLParser, pages, args.repeat)
    ours = rate(lambda html: parse_page(html, ""), pages, args.repeat)
    print(f"bare Lexbor parse      {bare:8.0f} pages/s")
    print(
        f"tgscope parse_page     {ours:8.0f} pages/s   {bare / ours:.2f}× the bare parse's time"
        " (target ≤ 2×)"
    )
    snscrape = snscrape_parser()
    if snscrape is None:
        print("snscrape               not installed")
        return
    theirs = rate(snscrape, pages, max(1, args.repeat // 10))
    print(
        f"snscrape               {theirs:8.0f} pages/s   tgscope is {ours / theirs:.1f}× faster"
        " (target ≥ 10×)"
    )


if __name__ == "__main__":
    main()
