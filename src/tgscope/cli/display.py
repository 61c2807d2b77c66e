"""How ``show``, ``search`` and ``stats`` print what the archive holds, for people.

Every value from the archive goes through :func:`safe_text`: never read as rich markup, and
its control characters are written as escapes, so that a post cannot colour the terminal,
move its cursor or write to its clipboard.  ``--json`` prints the exact text instead.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..record import reaction_label
from .base import console, safe_text

if TYPE_CHECKING:
    from rich.text import Text

    from ..record import Media, Post, Reaction
    from ..store import Observation

#: media fields shown first, in this order (sizes and durations in human units); any other
#: field follows as ``name value``, then the URL and why the source could not show it
_MEDIA_FIRST = ("file_name", "performer", "title", "mime_type", "size", "duration")
_MEDIA_APART = ("type", "width", "height", "poll", "url", "thumb", "unsupported", "reason")
#: what the archive's media store adds to a medium (tgscope media fetch): shown last
_MEDIA_STORED = (
    "sha256",
    "path",
    "fetch_status",
    "thumb_sha256",
    "thumb_path",
    "thumb_fetch_status",
)


def print_post(post: Post, record: Mapping[str, Any] | None = None) -> None:
    """The key, one line per field the record holds, a blank line and the text.  With
    ``record`` (the post's record with its stored media marked), its media are shown."""
    from rich.text import Text

    console.print(safe_text(post.key, "bold"))
    for name, value in post_details(post, record):
        console.print(Text(f"{name}: ", style="dim") + safe_text(value))
    console.print()
    console.print(safe_text(post.text, multiline=True))


def post_details(post: Post, record: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """(label, value) for each field the post has, media and links one line each
    (``record``: the post's record with what the media store holds of its media)."""
    media = record["media"] if record else post.media
    preview = record["link_preview"] if record else post.link_preview
    forward: Mapping[str, Any] = post.forwarded_from or {}
    reply: Mapping[str, Any] = post.reply_to or {}
    fields: list[tuple[str, Any]] = [
        (
            "channel",
            post.channel and _join(post.channel, post.channel_title and f"({post.channel_title})"),
        ),
        ("id", post.id),
        ("date", post.date),
        ("edited", "yes" if post.edited else None),
        ("author", post.author),
        ("via bot", post.via_bot and f"@{post.via_bot}"),
        ("service", post.service),
        ("forwarded from", _join(forward.get("title"), _post_ref(forward))),
        ("reply to", _post_ref(reply)),
        ("album", post.album_id),
        ("views", post.views),
        ("forwards", post.forwards),
        ("replies", post.replies),
        ("reactions", reactions_label(post.reactions)),
        ("hashtags", " ".join(f"#{tag}" for tag in post.hashtags)),
        ("mentions", " ".join(f"@{name}" for name in post.mentions)),
        *(("link", link) for link in post.links),
        ("link preview", preview and _preview_label(preview)),
        *(("button", _join(b["text"], b.get("url") and f"<{b['url']}>")) for b in post.buttons),
        *(("media", media_label(item)) for item in media),
        *(("source", f"{s['kind']} {s['ref']} at {s['observed_at']}") for s in post.sources),
    ]
    return [(name, str(value)) for name, value in fields if value not in (None, "")]


def reactions_label(reactions: Iterable[Reaction]) -> str:
    """``👍 16; ❤ 3; custom:5368… 2; ⭐ 5``: the spelling of ``stats`` and CSV exports."""
    return "; ".join(f"{reaction_label(r)} {r['count']}" for r in reactions)


def media_label(item: Media) -> str:
    """One attachment on one line: its type, then every detail the source gave."""
    fields: dict[str, Any] = {k: v for k, v in item.items() if v not in (None, "", [], {})}
    details = [_media_detail(name, fields[name]) for name in _MEDIA_FIRST if name in fields]
    if "width" in fields or "height" in fields:
        details.append(f"{fields.get('width', '?')}×{fields.get('height', '?')}")
    details += [
        _media_detail(name, value)
        for name, value in fields.items()
        if name not in _MEDIA_FIRST and name not in _MEDIA_APART and name not in _MEDIA_STORED
    ]
    if "poll" in fields:
        details.insert(0, _poll_label(fields["poll"]))
    if "url" in fields:
        details.append(str(fields["url"]))
    if "thumb" in fields:
        details.append(f"poster {fields['thumb']}")
    label = str(item.get("type"))
    if item.get("unsupported"):
        label += " (not shown by the source)"
    label = _join(label, ", ".join(details))
    if "reason" in fields:
        label += f": {fields['reason']}" if item.get("unsupported") else f" ({fields['reason']})"
    return label + _stored_label(fields, "") + _stored_label(fields, "thumb_")


def _stored_label(fields: Mapping[str, Any], prefix: str) -> str:
    """``; stored as <path> (sha256 …)`` or ``; not stored: expired`` for a file or poster."""
    what = "poster" if prefix else "file"
    if f"{prefix}sha256" in fields:
        return f"; {what} stored: {fields[f'{prefix}path']} (sha256 {fields[f'{prefix}sha256']})"
    if f"{prefix}fetch_status" in fields:
        return f"; {what} not stored: {fields[f'{prefix}fetch_status'].replace('_', ' ')}"
    return ""


def _media_detail(name: str, value: Any) -> str:
    if name == "size" and isinstance(value, int):
        return human_size(value)
    if name == "duration" and isinstance(value, int):
        return duration_label(value)
    if name in ("file_name", "mime_type", "performer", "title"):
        return str(value)
    if name in ("latitude", "longitude"):
        return f"{name} {value}"
    return f"{name.replace('_', ' ')} {value}"


def _poll_label(poll: Any) -> str:
    """``“Question?” (10 voters): Yes 7, No 3`` (or the percentages a page shows)."""
    if not isinstance(poll, Mapping):
        return f"poll {poll}"
    options = []
    for option in poll.get("options") or []:
        if isinstance(option, Mapping):
            percent = option.get("percent")
            shown = f"{percent}%" if percent is not None else None
            options.append(_join(option.get("text"), option.get("voters"), shown))
    voters = poll.get("total_voters")
    about = f" ({voters} voters)" if voters is not None else ""
    return f"“{poll.get('question')}”{about}: {', '.join(options)}"


def human_size(size: int) -> str:
    """A byte count as Telegram shows it: 2202009 → ``2.1 MB`` (1 KB = 1024 bytes)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError  # unreachable: the loop returns at GB


def duration_label(seconds: int) -> str:
    """95 → ``1:35``, 3723 → ``1:02:03``."""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


def _preview_label(preview: Mapping[str, Any]) -> str:
    parts = (preview.get("site_name"), preview.get("title"), preview.get("description"))
    label = " · ".join(str(part) for part in (*parts, preview.get("url")) if part)
    if preview.get("image_sha256"):
        return f"{label}; image stored: {preview['image_path']} (sha256 {preview['image_sha256']})"
    if preview.get("image_fetch_status"):
        return f"{label}; image not stored: {preview['image_fetch_status'].replace('_', ' ')}"
    return label


def _post_ref(ref: Mapping[str, Any]) -> str | None:
    channel, number = ref.get("channel"), ref.get("id")
    if channel and number is not None:
        return f"{channel}/{number}"
    return channel or (f"post {number}" if number is not None else None)


def _join(*parts: Any) -> str:
    return " ".join(str(part) for part in parts if part not in (None, ""))


def print_provenance(provenance: list[dict]) -> None:
    """Each kind of source: when it last saw the post, its observations, what it gave."""
    from rich.text import Text

    console.print()
    console.print("Sources:")
    for source in provenance:
        console.print(safe_text(f"  {source['kind']}, last seen {source['latest'] or '-'}"))
        for seen in source["observations"]:
            console.print(
                Text("    ") + safe_text(f"{seen['ref']} at {seen['observed_at']}", "dim")
            )
        given = ", ".join(source["fields"]) or "nothing the others did not"
        console.print(safe_text(f"    gave: {given}"))


def print_history(history: Sequence[Observation]) -> None:
    """Each observation, oldest first: when, which source, and the counts it showed."""
    from rich.text import Text

    console.print()
    console.print("History:")
    for seen in history:
        console.print(safe_text(f"  {seen.observed_at}  {seen.kind} {seen.ref}"))
        counts = [
            f"{name} {value}"
            for name, value in (
                ("views", seen.views),
                ("forwards", seen.forwards),
                ("replies", seen.replies),
                ("reactions", reactions_label(seen.reactions)),
            )
            if value not in (None, "")
        ]
        console.print(Text("    ") + safe_text(", ".join(counts) or "no counts", "dim"))


def print_hit(post: Post, snippet: str) -> None:
    """A search result: its key, date, forward and reactions, then the snippet."""
    from rich.text import Text

    forward = post.forwarded_from and post.forwarded_from.get("title")
    about = [post.date, forward and f"forwarded from {forward}", reactions_label(post.reactions)]
    console.print()
    console.print(
        safe_text(post.key, "bold cyan") + safe_text("  " + "  ·  ".join(filter(None, about)))
    )
    if post.text.strip():
        console.print(Text("  ") + snippet_text(snippet))
    else:
        media = ", ".join(str(m.get("type")) for m in post.media) or "none"
        console.print(safe_text(f"  (no text; media: {media})"))


_BOLD = re.compile(r"<b>(.*?)</b>", re.S)


def snippet_text(snippet_html: str) -> Text:
    """The search engine's HTML snippet as text: matched words bold on a terminal,
    ``[bracketed]`` elsewhere."""
    from rich.text import Text

    snippet_html = " ".join(snippet_html.split())
    text = Text()
    position = 0
    for match in _BOLD.finditer(snippet_html):
        text.append_text(safe_text(html.unescape(snippet_html[position : match.start()])))
        word = safe_text(html.unescape(match.group(1)), "bold yellow")
        text.append_text(word if console.is_terminal else Text("[") + word + Text("]"))
        position = match.end()
    text.append_text(safe_text(html.unescape(snippet_html[position:])))
    return text


_NEVER_CUT = frozenset({"post", "key", "channel", "first", "date", "event"})


def print_table(title: str, columns: tuple[str, ...], rows: Iterable[Sequence[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for name in columns:
        numeric = name in ("posts", "total", "views", "forwards", "replies", "files", "distance")
        whole = name in _NEVER_CUT  # a key must stay copyable: folded onto the next line
        table.add_column(
            name,
            justify="right" if numeric else "left",
            overflow="fold" if whole else "ellipsis",
            min_width=10 if name == "date" else None,  # a day whole: 2023-01-09
        )
    for row in rows:
        table.add_row(*(safe_text(value) for value in row))
    console.print(table)
