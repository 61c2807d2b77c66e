"""Flattened text dumps: text copied out of the web preview (``t.me/s/<channel>``).

A dump has one field per line and no ids, dates or URLs.  ``Forwarded from
<title>`` opens a post, a line of emoji+count pairs (``👍12❤2🔥1👏1``) closes it,
and each body appears twice (the second copy lacks the first line, or is exact).
Web-preview chrome ("VIEW IN TELEGRAM", channel headers with counters) is mixed in.

:func:`parse_textdump` streams: it holds only the current post in memory, so a dump
of any size parses in bounded memory.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import cast

from ..clean import (
    extract_hashtags,
    extract_links,
    extract_mentions,
    normalize_channel,
)
from ..errors import ParseError
from ..record import Channel, ForwardedFrom, Media, Post, Reaction
from .validate import count_of

FORMAT = "textdump"
MERGE_RANK = {"fields": 8, "date": 8, "text_last": True}  # store.merge: lower wins

_COUNT = r"\d+(?:[.,]\d+)?[KkMm]?"
_COUNT_SPLIT = re.compile(rf"({_COUNT})")
_MAX_REACTIONS_LINE = 400
#: the most text one post of a dump may hold (a Telegram text is at most 4,096 characters;
#: a dump with no post boundaries in 77 MB would otherwise be held whole, 15 times over)
MAX_POST = 4 << 20
_COUNT_ENDINGS = frozenset("0123456789KkMm")
# The footer under a post: views (the word is copy-only text), "edited", the time or date.
_FOOTER = re.compile(
    r"^(\d+(?:[.,]\d+)?[KkMm]?) ?views?\s*(edited)?\s*"
    r"((?:[A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?(?: at)? )?\d{1,2}:\d{2}(?: ?[AaPp][Mm])?)?$"
)
_COUNTER = re.compile(rf"^({_COUNT})\s+(subscribers?|members?|photos?|videos?|links?|files?)$")
_USERNAME = re.compile(r"^@([A-Za-z]\w{3,31})$")

# Chrome lines the web preview puts in place of media, and what each one meant.
_MEDIA_CHROME: dict[str, Media] = {
    "this media is not supported in your browser": {
        "type": "unsupported",
        "unsupported": True,
        "reason": "not_supported_in_browser",
    },
    "please open telegram to view this post": {
        "type": "unsupported",
        "unsupported": True,
        "reason": "open_in_telegram",
    },
    "media is too big": {"type": "video", "unsupported": True, "reason": "too_big"},
}
_DROPPED_CHROME = {"view in telegram", "download telegram"}
_ALL_CHROME = _DROPPED_CHROME | set(_MEDIA_CHROME)
_LONGEST_CHROME = max(map(len, _ALL_CHROME)) + 8  # room for stray spaces
_CHROME_INITIALS = frozenset(" \t" + "".join(c[0] + c[0].upper() for c in _ALL_CHROME))
_PAID_STAR = "⭐"
_ZWJ, _VARIATION_SELECTORS, _SKIN_TONES = "\u200d", "\ufe0e\ufe0f", range(0x1F3FB, 0x1F400)
_REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)
_MARKERS = ("Forwarded from", "VIEW IN TELEGRAM", "Download Telegram", "subscribers")

Warn = Callable[[str], None]


def parse_reactions_line(line: str) -> list[Reaction] | None:
    """``'👍12❤2🔥1'`` → three reactions; ``None`` when the line is not a reactions line.

    Each emoji must be a single emoji (with its variation selector, skin tone or
    ZWJ sequence), so body lines such as ``'🇷🇺🇨🇳 2022'`` are never taken for reactions.
    """
    line = line.strip()
    # cheap rejections first: reactions lines are short, start with an emoji, end with a count
    if not line or len(line) > _MAX_REACTIONS_LINE or line[-1] not in _COUNT_ENDINGS:
        return None
    if unicodedata.category(line[0]) != "So":
        return None
    parts = _COUNT_SPLIT.split(line)  # emoji, count, emoji, count, …, ''
    if len(parts) < 3 or parts[-1].strip():
        return None
    reactions: list[Reaction] = []
    for emoji, count_text in zip(parts[0::2], parts[1::2]):  # noqa: B905 - the last part is ''
        emoji = emoji.strip()
        try:
            count = count_of(count_text)
        except ValueError:  # beyond 64 bits: not a count Telegram shows
            return None
        if emoji == _PAID_STAR:
            reactions.append({"paid": True, "count": count})
        elif _is_single_emoji(emoji):
            # Telegram names reactions without the emoji variation selector: '❤', not '❤️'
            reactions.append({"emoji": emoji.replace("\ufe0f", ""), "count": count})
        else:
            return None
    return reactions


@functools.lru_cache(maxsize=4096)
def _is_single_emoji(text: str) -> bool:
    for piece in text.split(_ZWJ):
        piece = piece.strip(_VARIATION_SELECTORS)
        if not piece or unicodedata.category(piece[0]) != "So":
            return False
        if ord(piece[0]) in _REGIONAL_INDICATORS:
            return False
        if any(ord(ch) not in _SKIN_TONES and ch not in "\u20e3" for ch in piece[1:]):
            return False
    return True


def looks_like_textdump(head: str) -> bool:
    """True when the start of a text file has the marks of a web-preview dump."""
    if any(marker in head for marker in _MARKERS):
        return True
    return any(parse_reactions_line(line) for line in head.splitlines()[:200])


@dataclass
class _Block:
    """The lines of one stretch of the dump between post boundaries."""

    first_line: int
    forwarded_from: str | None = None
    lines: list[str] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    views: int | None = None
    edited: bool = False
    has_chrome: bool = False  # a web-preview chrome line is among ``lines``
    size: int = 0  # characters in ``lines``


def parse_textdump(
    text: Iterable[str],
    *,
    channel: str | None = None,
    channel_title: str | None = None,
    warn: Warn | None = None,
) -> Iterator[Post | Channel]:
    """Parse a text dump into posts (and the channel headers it contains), in file order.

    ``text`` is the dump as an iterable of strings: its lines (an open file) or chunks
    cut anywhere (faster for big files).

    ``channel`` names the channel the dump was copied from (the dump does not say);
    without it posts keep ``channel`` null.  Keys are derived from each post's content
    (and its occurrence count among identical posts), so re-importing the same dump,
    or an overlapping one, gives the same keys.
    """
    channel = normalize_channel(channel)
    keys = _Keys(channel)
    for block in _blocks(text):
        header, posts = _block_to_posts(block, channel, keys, warn)
        if header is not None:
            _check_header_channel(header, channel, block.first_line, warn)
            if header.username is None or header.username == channel:
                channel_title = channel_title or header.title  # of the page copied
            if header.username is not None:
                yield header
        for post in posts:
            post.channel_title = channel_title if channel else None
            yield post


def _check_header_channel(header: Channel, channel: str | None, line: int, warn: Warn | None):
    named = header.username if header.username != channel else None
    if warn and named:
        if channel is None:
            warn(f"line {line}: the header names @{named}; name channel {named} to record it")
        else:
            warn(f"line {line}: the header names @{named}, not the channel named ({channel})")


def _blocks(pieces: Iterable[str]) -> Iterator[_Block]:
    """Cut the dump at post boundaries: before ``Forwarded from``, after a reactions line
    and the footer (``12.3K views 14:05``) that may follow it.

    ``pieces`` may be lines or large chunks cut anywhere (a big file is best read in chunks).
    """
    block = _Block(first_line=1)
    closed: _Block | None = None  # ended by its reactions; its footer may still come
    number = 0
    for line in _lines(pieces):
        number += 1
        line = line.rstrip()
        if closed is not None:
            if not line or line.strip().lower() in _DROPPED_CHROME:
                continue
            footer = _footer(line)
            if footer:
                _set_footer(closed, footer)
                block.first_line = number + 1
            yield closed
            closed = None
            if footer:
                continue
        if line.startswith("Forwarded from "):
            if block.lines or block.forwarded_from:
                yield block
            block = _Block(first_line=number, forwarded_from=line[15:].strip())
            continue
        # the cheap tests first: most lines are neither reactions nor footers
        if line and line[-1] in _COUNT_ENDINGS and not line[0].isascii():
            reactions = _reactions_line(line)
            if reactions:
                block.reactions = reactions
                closed, block = block, _Block(first_line=number + 1)
                continue
        footer = _FOOTER.match(line) if line[:1].isdigit() else None  # inlined: every line
        if footer:
            _set_footer(block, footer)
            yield block
            block = _Block(first_line=number + 1)
            continue
        if len(line) < _LONGEST_CHROME and line[:1] in _CHROME_INITIALS:
            block.has_chrome = block.has_chrome or line.strip().lower() in _ALL_CHROME
        block.lines.append(line)
        block.size += len(line) + 1
        if block.size > MAX_POST:
            raise ParseError(
                f"a post of more than {MAX_POST >> 20} MB of text from this line on (no post"
                " is that long: is this a text dump of posts?)",
                line=block.first_line,
            )
    if closed is not None:
        yield closed
    if any(block.lines) or block.forwarded_from:
        yield block


def _reactions_line(line: str) -> list[Reaction] | None:
    """A reactions line that closes a post.  A single spaced pair (``🎉 100``, ``🏆 2024``) is
    body text: the web preview glues emoji and counts (``👍16❤3``)."""
    reactions = parse_reactions_line(line)
    if reactions and len(reactions) == 1 and " " in line.strip():
        return None
    return reactions


def _footer(line: str) -> re.Match | None:
    return _FOOTER.match(line) if line[:1].isdigit() else None


def _set_footer(block: _Block, footer: re.Match) -> None:
    try:
        block.views = count_of(footer.group(1))
    except ValueError:  # beyond 64 bits: not a count Telegram shows
        block.views = None
    block.edited = footer.group(2) is not None


def _lines(pieces: Iterable[str]) -> Iterator[str]:
    """Whole lines (without their line break) from pieces of text cut anywhere."""
    carry = ""
    for piece in pieces:
        lines = (carry + piece).split("\n")
        carry = lines.pop()
        yield from lines
    if carry:
        yield carry


def _block_to_posts(
    block: _Block,
    channel: str | None,
    keys: _Keys,
    warn: Warn | None,
) -> tuple[Channel | None, list[Post]]:
    header, lines = _split_header(block, channel)
    media_at: list[tuple[int, Media]] = []
    body: list[str] = lines
    if block.has_chrome:
        body = []
        for line in lines:
            chrome = line.strip().lower()
            if chrome in _MEDIA_CHROME:
                media_at.append((len(body), cast(Media, dict(_MEDIA_CHROME[chrome]))))
            elif chrome not in _DROPPED_CHROME:
                body.append(line)
    body = _trim_blank(body)
    if not (body or media_at or block.forwarded_from or block.reactions or block.views):
        return header, []
    segments = _segment(body)
    if segments is None:
        if warn and len(body) > 1:
            warn(
                f"line {block.first_line}: body not repeated as web-preview dumps do; "
                "kept as it is (truncated file?)"
            )
        segments = [(0, len(body))]
    posts = []
    for index, (start, length) in enumerate(segments):
        text = "\n".join(body[start : start + length])
        post = _make_post(
            text,
            forwarded_from=block.forwarded_from if index == 0 else None,
            media=[m for at, m in media_at if _segment_owns(segments, index, at)],
            channel=channel,
            keys=keys,
        )
        posts.append(post)
    # what closes the block (reactions, footer) belongs to its last post
    posts[-1].reactions, posts[-1].views, posts[-1].edited = (
        block.reactions,
        block.views,
        block.edited,
    )
    return header, posts


def _segment_owns(segments: list[tuple[int, int]], index: int, at: int) -> bool:
    start = segments[index][0]
    end = segments[index + 1][0] if index + 1 < len(segments) else float("inf")
    return (index == 0 or start <= at) and at < end


def _split_header(block: _Block, channel: str | None) -> tuple[Channel | None, list[str]]:
    """Take a channel header (title, @username, counters, description) off the block's top."""
    lines = block.lines
    if block.forwarded_from or not any(line[:1].isdigit() for line in lines[:4]):
        return None, lines  # the usual case: a post, not a page header
    first_counter = _first_counter_line(lines)
    if first_counter is None:
        return None, lines
    end = first_counter
    while end + 1 < len(lines) and _COUNTER.match(lines[end + 1]):
        end += 1
    download = next(
        (
            i
            for i in range(end + 1, min(len(lines), end + 21))
            if lines[i].strip() == "Download Telegram"
        ),
        None,
    )
    top = lines[:first_counter]
    has_username = any(_USERNAME.match(line) for line in top)
    if not (has_username or download is not None or end > first_counter):
        return None, lines  # one counter-like line ("12 members") in a post is its text
    counters = {}
    for line in lines[first_counter : end + 1]:
        value, name = _COUNTER.match(line).groups()  # type: ignore[union-attr]
        with contextlib.suppress(ValueError):  # beyond 64 bits: left out
            counters[name.rstrip("s") + "s"] = count_of(value)
    username = next((m.group(1).lower() for m in map(_USERNAME.match, top) if m), None) or channel
    title = next((line.strip() for line in top if line.strip() and not _USERNAME.match(line)), None)
    description = None
    if download is not None:
        description = "\n".join(_trim_blank(lines[end + 1 : download])) or None
        end = download
    header = Channel(username=username, title=title, description=description, counters=counters)
    return header, lines[end + 1 :]


def _first_counter_line(lines: list[str]) -> int | None:
    """Where header counters (``53.5K subscribers``) start among a block's first lines."""
    for number, line in enumerate(lines[:4]):
        if line[:1].isdigit() and _COUNTER.match(line):
            return number
    return None


def _segment(body: list[str]) -> list[tuple[int, int]] | None:
    """Find the posts in ``body`` from the repeated-copy pattern.

    Returns ``(start, length)`` for each post: its text is ``body[start:start+length]``, and
    its copy follows it.  ``None`` when the lines do not follow the pattern: then nothing is
    removed, because text that is merely similar must never be deleted.
    """
    count = len(body)
    if count <= 1:
        return [(0, count)]
    whole = _copy_length(body)
    if whole is not None:
        return [(0, whole)]
    segments, start = [], 0
    while start < count:
        length, consumed = _longest_post_at(body, start)
        if length is None:
            return None
        segments.append((start, length))
        start += consumed
    return segments


def _copy_length(body: list[str]) -> int | None:
    """The post length if ``body`` is exactly one post followed by its copy."""
    span = len(body)
    if span % 2:  # second copy lacks the first line: n + (n - 1) lines
        n = (span + 1) // 2
        if body[n:] == body[1:n]:
            return n
    else:  # exact copy: n + n lines
        n = span // 2
        if body[n:] == body[:n]:
            return n
    return None


def _longest_post_at(body: list[str], start: int) -> tuple[int | None, int]:
    """The longest post (two lines or more) starting at ``start`` that is followed by its copy."""
    remaining = len(body) - start
    for n in range(remaining // 2 + 1, 1, -1):
        if (
            2 * n - 1 <= remaining
            and body[start + n : start + 2 * n - 1] == body[start + 1 : start + n]
        ):
            return n, 2 * n - 1
        if 2 * n <= remaining and body[start + n : start + 2 * n] == body[start : start + n]:
            return n, 2 * n
    if remaining >= 2 and body[start] == body[start + 1]:
        return 1, 2
    return None, 0


def _trim_blank(lines: list[str]) -> list[str]:
    if lines and lines[0] and lines[-1]:  # the usual case; lines are already right-stripped
        return lines
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _make_post(
    text: str,
    *,
    forwarded_from: str | None,
    media: list[Media],
    channel: str | None,
    keys: _Keys,
) -> Post:
    forward: ForwardedFrom | None = (
        {"title": forwarded_from, "channel": None, "id": None} if forwarded_from else None
    )
    return Post(
        key=keys.make(forwarded_from, text, media),
        channel=channel,
        text=text,
        forwarded_from=forward,
        media=media,
        hashtags=extract_hashtags(text),
        mentions=extract_mentions(text),
        links=extract_links(text),
    )


class _Keys:
    """Stable keys for posts that have no id: ``<channel>/dump-<hash of what the post says>``.

    Identical posts in one file are numbered (``.2``, ``.3``).  A post without text (media the
    preview could not show) says too little to tell it apart, so its hash also covers the
    post before it: two such posts in overlapping dumps are never merged into one.
    """

    def __init__(self, channel: str | None):
        self.prefix = f"{channel or 'dump'}/dump-"
        self.seen: dict[str, int] = {}
        self.previous = ""

    def make(self, forwarded_from: str | None, text: str, media: list[Media]) -> str:
        media_types = ",".join([item["type"] for item in media]) if media else ""
        content = "\x1f".join([forwarded_from or "", text, media_types])
        if not text.strip():
            content += "\x1f" + self.previous
        digest = hashlib.blake2b(content.encode(), digest_size=8).hexdigest()
        self.seen[digest] = occurrence = self.seen.get(digest, 0) + 1
        self.previous = digest
        return self.prefix + digest if occurrence == 1 else f"{self.prefix}{digest}.{occurrence}"
