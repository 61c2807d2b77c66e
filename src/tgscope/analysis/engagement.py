"""How far posts reach and when channels post: per channel, over its dated posts.

- ``posts_per_day``: the mean over the calendar days (in the time zone) from the channel's
  first to its last post in the range, days without posts counting as 0;
  ``posts_per_week`` is that mean times 7.
- ``heatmap``: posts by weekday (rows, Monday first) and hour (columns, 0-23) in the time
  zone (its UTC offset taken at the start of each UTC hour).
- ``views_median`` and ``views_p90``: over the posts with a view count (the 90th percentile
  interpolated linearly between the two nearest posts, as NumPy's default).
- ``reactions_per_1000_views``: all reactions of the posts with a view count, per 1,000 of
  their views (a ratio of sums, so big posts weigh more).
- ``forwards_received``: times other archived channels forwarded its posts (the forwards
  network, in the date range).
- ``views_1h``, ``views_24h``, ``views_7d``: the median over the channel's posts of the views a
  post had 1 hour, 24 hours and 7 days after it was posted; a post counts at an age when one
  of its observations was made at exactly that age or two bracket it, the views then
  interpolated linearly in time between those two (never extrapolated).  ``curve_posts``
  says how many posts each median is over.
- ``outliers``: posts far above the channel's usual reach for their age.  Each post is taken
  at its latest observation with views, its age then put in a band (under 6 hours, 6-24
  hours, 1-7 days, 7-30 days, 30 days and more); within each channel and band of at least
  :data:`MIN_GROUP` posts, the modified z-score of log(1 + views) (Iglewicz and Hoaglin:
  0.6745 × (x − median) / MAD, the median absolute deviation; when the MAD is 0, the mean
  absolute deviation × 1.2533 instead) marks those above :data:`THRESHOLD`.  Logarithms and
  medians make it robust to the skew of view counts: a few viral posts do not hide others.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

import numpy as np

from ..dates import time_zone
from ..store import PostFilter
from ..store.reader import filter_sql
from .network import forward_totals

if TYPE_CHECKING:
    import pyarrow as pa

    from ..store.engagement import EngagementQueries
    from ..store.networks import NetworkQueries

FORMATS = ("table", "csv", "json")
#: the ages of the views curve, in seconds, by name
AGES = {"1h": 3600, "24h": 86400, "7d": 7 * 86400}
#: the age bands outliers are compared within (their lower bounds, seconds)
AGE_BANDS = (6 * 3600, 86400, 7 * 86400, 30 * 86400)
MIN_GROUP = 5
THRESHOLD = 3.5
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CSV_COLUMNS = (
    "channel",
    "title",
    "posts",
    "first",
    "last",
    "days",
    "posts_per_day",
    "posts_per_week",
    "views_median",
    "views_p90",
    "reactions_per_1000_views",
    "forwards_received",
    "views_1h",
    "views_24h",
    "views_7d",
    "outliers",
    "heatmap",
)


@dataclass(frozen=True, slots=True)
class Outlier:
    """A post far above its channel's reach for its age: views and age at its latest
    observation, and its modified z-score."""

    key: str
    views: int
    age_s: int
    score: float


@dataclass(slots=True)
class ChannelEngagement:
    """One channel's rhythm and reach (field meanings: the module's docstring)."""

    channel: str
    title: str | None
    posts: int
    first: str
    last: str
    days: int
    posts_per_day: float
    posts_per_week: float
    heatmap: list[list[int]]
    views_median: float | None
    views_p90: float | None
    reactions_per_1000_views: float | None
    forwards_received: int
    views_1h: float | None
    views_24h: float | None
    views_7d: float | None
    curve_posts: dict[str, int] = field(default_factory=dict)
    outliers: list[Outlier] = field(default_factory=list)


@dataclass(slots=True)
class Engagement:
    """The result of :func:`engagement`: one record per channel, most posts first."""

    timezone: str
    channels: list[ChannelEngagement]

    def to_records(self) -> list[dict[str, Any]]:
        return [asdict(channel) for channel in self.channels]

    def to_arrow(self) -> pa.Table:
        """One row per channel; ``heatmap`` a list of lists, ``outliers`` a list of structs."""
        import pyarrow as pa

        return pa.Table.from_pylist(self.to_records(), schema=_schema())

    def json_text(self) -> str:
        data = {"timezone": self.timezone, "channels": self.to_records()}
        return json.dumps(data, ensure_ascii=False) + "\n"

    def csv_text(self) -> str:
        """One row per channel (:data:`CSV_COLUMNS`); ``outliers`` as ``key views score``
        separated by ``; ``, ``heatmap`` as JSON (7 rows of 24 hours)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in self.channels:
            record = asdict(row)
            record["outliers"] = "; ".join(f"{o.key} {o.views} {o.score:.2f}" for o in row.outliers)
            record["heatmap"] = json.dumps(row.heatmap, separators=(",", ":"))
            writer.writerow(_cell(record[name]) for name in CSV_COLUMNS)
        return out.getvalue()


def engagement(
    queries: EngagementQueries,
    networks: NetworkQueries,
    filters: PostFilter | None = None,
    *,
    timezone: str = "UTC",
) -> Engagement:
    """Each channel's rhythm and reach over the posts ``filters`` keep (a channel, dates)."""
    zone = time_zone(timezone) or UTC
    filters = filters or PostFilter()
    where, params = filter_sql(filters)
    channels = networks.channels()
    rows = queries.posts(where, params)
    if not rows:
        return Engagement(timezone, [])
    posts = np.array(rows, dtype=np.int64)
    ranges = queries.date_range(where, params)
    curves = _curves(queries.observed_views(where, params))
    outliers = _outliers(queries, curves.pop("latest"))
    received = _received(networks, where, params, channels, filters)
    local = posts[:, 1] + _offsets(posts[:, 1], zone)
    results = []
    for pk in np.unique(posts[:, 0]).tolist():
        mine = posts[:, 0] == pk
        name, title = channels[pk]
        counts = _counts(posts[mine], local[mine])
        results.append(
            ChannelEngagement(
                name,
                title,
                first=ranges[pk][0],
                last=ranges[pk][1],
                forwards_received=received.get(name, 0),
                **counts,
                **{f"views_{age}": curves[age][0].get(pk) for age in AGES},
                curve_posts={age: curves[age][1].get(pk, 0) for age in AGES},
                outliers=outliers.get(pk, []),
            )
        )
    results.sort(key=lambda channel: (-channel.posts, channel.channel))
    return Engagement(timezone, results)


def _counts(posts: np.ndarray, local: np.ndarray) -> dict[str, Any]:
    """Rhythm and reach of one channel's posts: (channel, epoch, views, reactions) rows and
    their local times as epoch seconds."""
    days = int(local.max() // 86400 - local.min() // 86400) + 1
    weekday = (local // 86400 + 3) % 7  # 1970-01-01 was a Thursday
    hour = local % 86400 // 3600
    heatmap = np.bincount(weekday * 24 + hour, minlength=168).reshape(7, 24)
    viewed = posts[posts[:, 2] >= 0]
    views, reactions = viewed[:, 2], viewed[:, 3]
    total_views = int(views.sum())
    return {
        "posts": len(posts),
        "days": days,
        "posts_per_day": len(posts) / days,
        "posts_per_week": 7 * len(posts) / days,
        "heatmap": heatmap.tolist(),
        "views_median": float(np.median(views)) if len(views) else None,
        "views_p90": float(np.percentile(views, 90)) if len(views) else None,
        "reactions_per_1000_views": (
            1000 * int(reactions.sum()) / total_views if total_views else None
        ),
    }


def _offsets(epochs: np.ndarray, zone: tzinfo) -> np.ndarray:
    """The zone's UTC offset, in seconds, at each moment (taken at the start of its hour:
    each distinct hour is converted once)."""
    hours, inverse = np.unique(epochs // 3600, return_inverse=True)
    offsets = np.array([_offset(zone, int(hour) * 3600) for hour in hours.tolist()], dtype=np.int64)
    return offsets[inverse.reshape(-1)]


def _offset(zone: tzinfo, epoch: int) -> int:
    delta = datetime.fromtimestamp(epoch, UTC).astimezone(zone).utcoffset()
    return int(delta.total_seconds()) if delta else 0


def _received(
    networks: NetworkQueries,
    where: str,
    params: list[Any],
    channels: dict[int, tuple[str, str | None]],
    filters: PostFilter,
) -> dict[str, int]:
    """Forwards of each channel's posts by other channels, among the forwarding posts in
    the date range (whichever their channel)."""
    if filters.channel:  # the forwarding posts are any channel's, not the one kept
        from dataclasses import replace

        where, params = filter_sql(replace(filters, channel=None))
    out, _ = forward_totals(networks.forward_totals(where, params), channels)
    return dict(out)


def _curves(rows: list[tuple]) -> dict[str, Any]:
    """Per age: ({channel pk: median views}, {channel pk: posts counted}); under
    ``latest``, each post's latest observation as (post pk, channel pk, age, views) rows."""
    if not rows:
        empty = np.zeros((0, 4), dtype=np.float64)
        return {age: ({}, {}) for age in AGES} | {"latest": empty}
    table = np.array(rows, dtype=np.float64)
    post, channel, age, views = table.T
    found: dict[str, Any] = {
        name: _curve(post, channel, age, views, at) for name, at in AGES.items()
    }
    last = np.append(post[1:] != post[:-1], True)
    found["latest"] = table[last]
    return found


def _curve(post, channel, age, views, at: int) -> tuple[dict[int, float], dict[int, int]]:
    """The median views per channel at age ``at``, and over how many posts."""
    exact = age == at
    pair = (post[:-1] == post[1:]) & (age[:-1] < at) & (at < age[1:])
    low = np.flatnonzero(pair)
    share = (at - age[low]) / (age[low + 1] - age[low])
    value = np.concatenate([views[exact], views[low] + (views[low + 1] - views[low]) * share])
    owner = np.concatenate([post[exact], post[low]])
    where = np.concatenate([channel[exact], channel[low]])
    _, first = np.unique(owner, return_index=True)  # a post observed twice at that age: once
    value, where = value[first], where[first]
    medians, counts = {}, {}
    for pk in np.unique(where).tolist():
        mine = value[where == pk]
        medians[int(pk)] = float(np.median(mine))
        counts[int(pk)] = len(mine)
    return medians, counts


def _outliers(queries: EngagementQueries, latest: np.ndarray) -> dict[int, list[Outlier]]:
    """Each channel's outliers (see the module's docstring), highest score first."""
    if not len(latest):
        return {}
    post, channel, age, views = latest.T
    band = np.searchsorted(AGE_BANDS, age, side="right")
    logs = np.log1p(np.maximum(views, 0))
    marked: list[tuple[int, int, int, int, float]] = []
    for pk in np.unique(channel).tolist():
        for each in np.unique(band[channel == pk]).tolist():
            group = np.flatnonzero((channel == pk) & (band == each))
            if len(group) < MIN_GROUP:
                continue
            scores = _modified_z(logs[group])
            for index in np.flatnonzero(scores > THRESHOLD).tolist():
                at = group[index]
                marked.append((int(pk), int(post[at]), int(views[at]), int(age[at]), scores[index]))
    keys = queries.keys([row[1] for row in marked])
    found: dict[int, list[Outlier]] = {}
    for pk, post_pk, seen, old, score in sorted(marked, key=lambda row: -row[4]):
        found.setdefault(pk, []).append(Outlier(keys[post_pk], seen, old, round(float(score), 3)))
    return found


def _modified_z(values: np.ndarray) -> np.ndarray:
    """Iglewicz and Hoaglin's modified z-scores; zeros when the values hardly vary."""
    median = np.median(values)
    deviations = np.abs(values - median)
    mad = np.median(deviations)
    if mad > 0:
        return 0.6745 * (values - median) / mad
    mean = deviations.mean()
    if mean > 0:
        return (values - median) / (1.253314 * mean)
    return np.zeros_like(values)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.3f}".rstrip("0").rstrip(".")
    return value


def _schema() -> pa.Schema:
    import pyarrow as pa

    optional = pa.float64()
    return pa.schema(
        [
            ("channel", pa.string()),
            ("title", pa.string()),
            ("posts", pa.int64()),
            ("first", pa.string()),
            ("last", pa.string()),
            ("days", pa.int64()),
            ("posts_per_day", pa.float64()),
            ("posts_per_week", pa.float64()),
            ("heatmap", pa.list_(pa.list_(pa.int64()))),
            ("views_median", optional),
            ("views_p90", optional),
            ("reactions_per_1000_views", optional),
            ("forwards_received", pa.int64()),
            ("views_1h", optional),
            ("views_24h", optional),
            ("views_7d", optional),
            ("curve_posts", pa.struct([(age, pa.int64()) for age in AGES])),
            (
                "outliers",
                pa.list_(
                    pa.struct(
                        [
                            ("key", pa.string()),
                            ("views", pa.int64()),
                            ("age_s", pa.int64()),
                            ("score", pa.float64()),
                        ]
                    )
                ),
            ),
        ]
    )
