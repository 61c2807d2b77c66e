"""A post's text as HTML, the way Telegram shows it, with every part of it treated as hostile.

Every character of the text is escaped; the markup comes only from the entities, and a link
only from a URL whose scheme is ``http``, ``https`` or ``tg`` (anything else is shown as
text).  Entities may nest and even cross: the renderer closes and reopens tags so that the
HTML is always well formed.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

from markupsafe import Markup, escape

SAFE_SCHEMES = ("http", "https", "tg")
LINK_REL = "noopener noreferrer nofollow"

# entity type -> (tag, class); links are made apart
_TAGS: dict[str, tuple[str, str | None]] = {
    "bold": ("b", None),
    "italic": ("i", None),
    "underline": ("u", None),
    "strikethrough": ("s", None),
    "code": ("code", None),
    "pre": ("pre", None),
    "spoiler": ("span", "spoiler"),
    "blockquote": ("blockquote", None),
    "expandable_blockquote": ("blockquote", "expandable"),
    "custom_emoji": ("span", "custom-emoji"),
    "bank_card": ("span", "bank-card"),
}
_LINKED = {"url", "text_link", "mention", "hashtag", "cashtag", "email", "phone", "mention_name"}
_MARK = "evidence"  # a highlighted range the app adds (never an entity of the post's)


def safe_url(url: object) -> str | None:
    """``url`` when it is an absolute http, https or tg URL, else None (javascript:,
    data:, relative paths and anything unparsable are never links)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or any(ord(c) < 32 or c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES:
        return None
    if parts.scheme.lower() in ("http", "https") and not parts.netloc:
        return None
    return url


def link(url: object, label: object, *, css: str | None = None) -> Markup:
    """An ``<a>`` to ``url`` when it is safe, else the label as text."""
    target = safe_url(url)
    if target is None:
        return escape(label)
    extra = f' class="{css}"' if css else ""
    return Markup('<a href="{}" rel="{}"{}>{}</a>').format(target, LINK_REL, Markup(extra), label)


def entity_href(entity: Mapping[str, Any], text: str) -> str | None:
    """Where a linked entity leads: its URL, the mentioned channel, a hashtag's search."""
    kind = entity.get("type")
    if kind == "text_link":
        return safe_url(entity.get("url"))
    if kind == "url":
        target = text if "://" in text else f"https://{text}"
        return safe_url(target)
    if kind == "mention" and text.startswith("@") and re.fullmatch(r"@\w{1,64}", text):
        return f"/channels/{quote(text[1:].lower())}"
    if kind == "hashtag" and text.startswith("#"):
        return f"/hashtags/{quote(text[1:].casefold())}"
    if kind == "cashtag" and text.startswith("$"):
        return f"/search?q={quote(text)}"
    return None


class _Span(NamedTuple):
    start: int
    end: int
    kind: str
    href: str | None  # a linked entity's target (None: shown as text)


def render_text(
    text: str, entities: Iterable[Any] | None = None, marks: Iterable[Any] = ()
) -> Markup:
    """The text as HTML with its entities (offsets in code points, as the record keeps them);
    entities that are malformed or point outside the text are left out.  ``marks``:
    ``(start, end)`` ranges, in code points too, shown in ``<mark class="evidence">`` (an
    event's evidence), across the entities' tags like any other span."""
    spans = _spans(text, entities or ()) + _marks(text, marks)
    if not spans:
        return escape(text)
    bounds = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    starts: dict[int, list[_Span]] = {}
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):  # the longest outside
        starts.setdefault(span.start, []).append(span)
    out: list[str] = []
    opened: list[_Span] = []
    for here, following in itertools.pairwise(bounds):
        ending = [i for i, span in enumerate(opened) if span.end <= here]
        if ending:  # close down to the outermost span ending here, reopen those going on
            inner = opened[ending[0] :]
            out.extend(_close(span) for span in reversed(inner))
            going_on = [span for span in inner if span.end > here]
            out.extend(_open(span) for span in going_on)
            opened = opened[: ending[0]] + going_on
        for span in starts.get(here, ()):
            out.append(_open(span))
            opened.append(span)
        out.append(str(escape(text[here:following])))
    out.extend(_close(span) for span in reversed(opened))
    return Markup("".join(out))


def _spans(text: str, entities: Iterable[Any]) -> list[_Span]:
    found = []
    for entity in entities:
        if not isinstance(entity, Mapping):
            continue
        try:
            start, length = int(entity["offset"]), int(entity["length"])
        except (KeyError, TypeError, ValueError, OverflowError):
            continue
        end = min(start + length, len(text))
        kind = entity.get("type")
        if not (0 <= start < end) or not isinstance(kind, str):
            continue
        if kind in _LINKED:
            found.append(_Span(start, end, kind, entity_href(entity, text[start:end])))
        elif kind in _TAGS:
            found.append(_Span(start, end, kind, None))
    return _no_link_in_a_link(found)


def _marks(text: str, marks: Iterable[Any]) -> list[_Span]:
    """The ranges within the text, overlapping or touching ones joined into one."""
    ranges = []
    for mark in marks:
        try:
            start, end = int(mark[0]), min(int(mark[1]), len(text))
        except (IndexError, TypeError, ValueError, OverflowError):
            continue
        if 0 <= start < end:
            ranges.append((start, end))
    joined: list[_Span] = []
    for start, end in sorted(ranges):
        if joined and start <= joined[-1].end:
            last = joined.pop()
            start, end = last.start, max(end, last.end)
        joined.append(_Span(start, end, _MARK, None))
    return joined


def _no_link_in_a_link(spans: list[_Span]) -> list[_Span]:
    """A linked span starting inside another link is shown as text: HTML has no <a> in <a>."""
    order = sorted(range(len(spans)), key=lambda i: (spans[i].start, -spans[i].end))
    covered_to = -1
    for i in order:
        span = spans[i]
        if span.href is None:
            continue
        if span.start < covered_to:
            spans[i] = span._replace(href=None)
        else:
            covered_to = span.end
    return spans


def _open(span: _Span) -> str:
    if span.kind == _MARK:
        return f'<mark class="{_MARK}">'
    if span.kind in _LINKED:
        if span.href is None:
            return f'<span class="entity-{span.kind}">'
        external = "" if span.href.startswith("/") else f' rel="{LINK_REL}"'
        return f'<a href="{escape(span.href)}"{external}>'
    tag, css = _TAGS[span.kind]
    return f'<{tag} class="{css}">' if css else f"<{tag}>"


def _close(span: _Span) -> str:
    if span.kind == _MARK:
        return "</mark>"
    if span.kind in _LINKED:
        return "</span>" if span.href is None else "</a>"
    return f"</{_TAGS[span.kind][0]}>"


def diff_html(old: str, new: str) -> Markup:
    """Word by word, what an edit changed: removed words in ``<del>``, added in ``<ins>``."""
    before, after = re.split(r"(\s+)", old), re.split(r"(\s+)", new)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(str(escape("".join(before[a1:a2]))))
            continue
        if a2 > a1:
            out.append(f"<del>{escape(''.join(before[a1:a2]))}</del>")
        if b2 > b1:
            out.append(f"<ins>{escape(''.join(after[b1:b2]))}</ins>")
    return Markup("".join(out))


def human_size(size: object) -> str:
    """``1.4 MB`` for a byte count."""
    if not isinstance(size, int | float) or size < 0:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""


def duration(seconds: object) -> str:
    """``1:05`` or ``1:02:03`` for a number of seconds."""
    if not isinstance(seconds, int | float) or seconds < 0:
        return ""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def compact(number: object) -> str:
    """Counts as Telegram shows them: ``950``, ``12.3K``, ``4.1M``."""
    if not isinstance(number, int | float):
        return ""
    if number < 1000:
        return f"{number:g}"
    if round(number / 1000, 1) < 1000:
        return f"{number / 1000:.1f}K".replace(".0K", "K")
    return f"{number / 1_000_000:.1f}M".replace(".0M", "M")
