"""``/``: the archive at a glance: its channels, totals and posts per week."""

from __future__ import annotations

from dataclasses import asdict

from .data import OVERVIEW, WebArchive
from .params import Page


def overview(archive: WebArchive) -> Page:
    with archive.read() as reader:
        channels = archive.cached("channels", reader, OVERVIEW["channels"])
        totals = archive.cached("totals", reader, OVERVIEW["totals"])
        weekly = archive.cached("weekly", reader, OVERVIEW["weekly"])
    names = [row.username for row in channels]
    weeks = list(weekly)
    data = {
        "archive": archive.name,
        "totals": totals,
        "channels": [asdict(row) for row in channels],
        "weekly": {
            "weeks": weeks,
            "series": {name: [weekly[week].get(name, 0) for week in weeks] for name in names},
        },
    }
    return Page("overview.html", data, title=archive.name)
