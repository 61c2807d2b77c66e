"""Normalising what sources give: compact counts, hashtags, mentions, links."""

from __future__ import annotations

import re
from operator import is_
from typing import Any

_COUNT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([KkMmBb]?)\s*$")
_GROUPED = re.compile(r"^\s*\d{1,3}(?:[,\u00a0\u202f ]\d{3})+\s*$")
_MULTIPLIER = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}

# Telegram hashtags: '#' then word characters, not all digits, not inside a word or URL.
# The '#' and '@' come first so the engine looks behind only where one is found.
_HASHTAG = re.compile(r"#(?<![\w/#&]#)(\w*[^\W\d]\w*)")
# Public usernames are 5-32 characters; older and bot names can be shorter, so accept 4+.
_MENTION = re.compile(r"@(?<![\w@./]@)([A-Za-z][A-Za-z0-9_]{3,31})\b")
_URL = re.compile(r"(?:https?://|www\.|\bt\.me/)[^\s<>\"'«»]+", re.IGNORECASE)
_USERNAME = re.compile(r"^[a-z][a-z0-9_]{3,31}$")
_URL_TRAILING = ".,;:!?)]}’”…"


def parse_count(text: str) -> int:
    """``'937'`` → 937, ``'12.3K'`` → 12300, ``'1,2M'`` → 1200000.

    Raises ValueError for anything that is not a count.
    """
    if text.isdigit():
        return int(text)
    if _GROUPED.match(text):  # "1,234" or "1 234": digits in groups of three
        return int(re.sub(r"\D", "", text))
    match = _COUNT.match(text)
    if not match or (not match.group(2) and not match.group(1).isdigit()):
        raise ValueError(f"not a count: {text!r}")
    number, suffix = match.groups()
    # compact counts carry at most a few significant digits: float rounding cannot bite
    return round(float(number.replace(",", ".")) * _MULTIPLIER[suffix.lower()])


_INT64_LIMIT = 2**63  # what SQLite's integers hold
_SIZE = re.compile(r"^(\d+(?:[.,]\d+)?)\s*([KMGT]?)B$", re.IGNORECASE)


def parse_size(text: str) -> int | None:
    """``"2.1 MB"`` -> 2202010 bytes (Telegram counts in 1024s); None for what is not a size."""
    match = _SIZE.match(text.strip())
    if not match:
        return None
    number, unit = match.groups()
    size = float(number.replace(",", ".")) * 1024 ** " KMGT".index(unit.upper() or " ")
    return round(size) if size < _INT64_LIMIT else None  # a hostile "9…9 MB": not a size


def normalize_channel(channel: str | None) -> str | None:
    """``@MID_Russia`` → ``mid_russia``; ValueError for what cannot be a username.

    Links to the channel are read for its name: ``t.me/name``, ``https://t.me/s/name``,
    ``https://t.me/name/123`` (a post), ``telegram.me/name``, with or without the scheme.
    """
    if channel is None:
        return None
    name = channel.strip().removeprefix("@").lower()
    link = re.match(
        r"(?:https?://)?(?:www\.)?(?:t|telegram)\.me/(?:s/)?([^/?#]*)(?:/\d+)?/?(?:[?#].*)?$",
        name,
    )
    if link:
        name = link.group(1)
    if not _USERNAME.match(name):
        raise ValueError(
            f"not a channel username: {channel!r} (4-32 letters, digits or _, starting"
            " with a letter)"
        )
    return name


def extract_hashtags(text: str) -> list[str]:
    """Hashtags without '#', in order of first appearance, each once."""
    if "#" not in text:
        return []
    return _unique(_HASHTAG.findall(text))


def extract_mentions(text: str) -> list[str]:
    """Mentioned usernames without '@', lower case, each once."""
    if "@" not in text:
        return []
    return _unique(name.lower() for name in _MENTION.findall(text))


def extract_links(text: str) -> list[str]:
    """URLs written out in the text, each once, trailing punctuation removed."""
    if "http" not in text and "www." not in text and "t.me/" not in text:
        return []
    found = []
    for url in _URL.findall(text):
        url = url.rstrip(_URL_TRAILING)
        if not url.lower().startswith(("http://", "https://")):
            url = "https://" + url
        found.append(url)
    return _unique(found)


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


_NUL = "\x00"


def without_nul(value: Any) -> Any:
    """``value`` with each NUL (U+0000) in its strings, in lists and dicts too, replaced by
    U+FFFD.  JSON can carry a NUL (``\\u0000``) that no text needs; PostgreSQL refuses it in
    text, and SQLite's ``length`` and C readers stop at it.  What holds none is returned as
    it is (the same object)."""
    if isinstance(value, str):
        return value.replace(_NUL, "\ufffd") if _NUL in value else value
    if isinstance(value, list):
        cleaned = [without_nul(item) for item in value]
        return value if all(map(is_, cleaned, value)) else cleaned
    if isinstance(value, dict):
        keys = [without_nul(key) for key in value]
        items = [without_nul(item) for item in value.values()]
        same = all(map(is_, keys, value)) and all(map(is_, items, value.values()))
        return value if same else dict(zip(keys, items, strict=True))
    return value


def strip_keeping_entities(text: str, entities: list) -> tuple[str, list]:
    """``text`` without surrounding whitespace, and its entities moved and clamped to match
    (an entity over nothing but that whitespace is dropped)."""
    stripped = text.strip()
    shift = len(text) - len(text.lstrip())
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, len(stripped))
        if end > start:
            entity["offset"], entity["length"] = start, end - start
            kept.append(entity)
    return stripped, kept


def parse_duration(text: str | None) -> int | None:
    """``"1:35"`` -> 95 seconds (``h:mm:ss`` too); None for what is not a duration."""
    if not text or not text.strip():
        return None
    seconds = 0
    for part in text.strip().split(":"):
        part = part.strip()
        # ASCII digits only ("²".isdigit() is true), and few of them: a duration, not a bomb
        if not (part.isascii() and part.isdigit()) or len(part) > 12:
            return None
        seconds = seconds * 60 + int(part)
    return seconds if seconds < _INT64_LIMIT else None


def entity_marks(text: str, entities: list, *, fallback: bool = True) -> tuple[list, list, list]:
    """Hashtags (without ``#``), mentions (without ``@``, lower case) and links, each once in
    order, as the source's entities mark them.  A source that marked no entity at all gets
    them read from the text instead (``fallback``)."""
    if not entities and fallback:
        return extract_hashtags(text), extract_mentions(text), extract_links(text)
    hashtags: dict[str, None] = {}
    mentions: dict[str, None] = {}
    links: dict[str, None] = {}
    for entity in entities:
        kind = entity["type"]
        marked = text[entity["offset"] : entity["offset"] + entity["length"]]
        if kind == "hashtag":
            hashtags[marked[1:]] = None
        elif kind == "mention":
            mentions[marked[1:].lower()] = None
        elif entity.get("url") or kind == "url":
            links[entity.get("url") or marked] = None
    return [*filter(None, hashtags)], [*filter(None, mentions)], [*filter(None, links)]
