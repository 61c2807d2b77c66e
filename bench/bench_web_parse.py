"""Web-preview parsing benchmark: pages per second, tgscope beside snscrape and a bare parse.

    python bench/bench_web_parse.py [--repeat 100]

Feeds the same saved pages (the shared corpus's whole pages when present, and the project's
own sample page) to: the bare Lexbor parse with no extraction (the floor), tgscope's
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
    ROOT / "samples/rusembchina_page.html",
]


def rates(parsers: dict, pages: list[str], repeat: int, rounds: int = 9) -> dict[str, float]:
    """Pages per second of each parser: CPU time, best of ``rounds`` interleaved runs.

    Running the parsers in turn within each round, and counting the process's CPU time
    rather than the wall clock, keeps a busy shared machine from favouring one of them.
    """
    best = dict.fromkeys(parsers, float("inf"))
    for _ in range(rounds):
        for name, (function, passes) in parsers.items():
            start = time.process_time()
            for _ in range(passes):
                for html in pages:
                    function(html)
            best[name] = min(best[name], (time.process_time() - start) / passes)
    return {name: len(pages) / seconds for name, seconds in best.items()}


def four_fields(html: str) -> list[tuple]:
    """A reference, not a parser: key, plain text, views and date of each post, nothing else.

    It shows what the least useful extraction costs over the bare parse in Python.
    """
    posts = []
    for message in LexborHTMLParser(html).css("div.tgme_widget_message[data-post]"):
        text = message.css_first(".tgme_widget_message_text")
        views = message.css_first(".tgme_widget_message_views")
        date = message.css_first("time[datetime]")
        posts.append(
            (
                message.attributes.get("data-post"),
                text.text() if text is not None else "",
                views.text() if views is not None else "",
                date.attributes.get("datetime") if date is not None else None,
            )
        )
    return posts


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
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()
    pages = [path.read_text(encoding="utf-8") for path in PAGES if path.exists()]
    posts = sum(len(parse_page(html, "").posts) for html in pages)
    print(f"{len(pages)} pages, {posts} posts, {sum(map(len, pages)) / 1000:.0f} kB")
    parsers = {
        "bare": (LexborHTMLParser, args.repeat),
        "four": (four_fields, args.repeat),
        "ours": (lambda html: parse_page(html, ""), args.repeat),
    }
    snscrape = snscrape_parser()
    if snscrape is not None:
        parsers["snscrape"] = (snscrape, max(1, args.repeat // 10))
    rate = rates(parsers, pages, args.repeat)
    bare, ours = rate["bare"], rate["ours"]
    print(f"bare Lexbor parse      {bare:8.0f} pages/s")
    print(
        f"4 fields (reference)   {rate['four']:8.0f} pages/s   {bare / rate['four']:.2f}× the bare"
        " parse's time (key, text, views, date only)"
    )
    print(
        f"tgscope parse_page     {ours:8.0f} pages/s   {bare / ours:.2f}× the bare parse's time"
        " (target ≤ 2×)"
    )
    if snscrape is None:
        print("snscrape               not installed")
        return
    theirs = rate["snscrape"]
    print(
        f"snscrape               {theirs:8.0f} pages/s   tgscope is {ours / theirs:.1f}× faster"
        " (target ≥ 10×)"
    )


if __name__ == "__main__":
    main()
