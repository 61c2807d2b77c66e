"""Engagement and rhythm: figures checked against hand computation on a planted archive."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence

import pytest
from click.testing import CliRunner

from tgscope.archive import Archive
from tgscope.cli import cli
from tgscope.errors import OptionError, QueryError

from .analysis_archives import AGRO, build_engagement_archive
from .engines import ENGINES, engine_archive


@pytest.fixture(scope="module", params=ENGINES)
def archive_path(request, tmp_path_factory) -> Iterator[str]:
    """The planted archive, once per module on each engine."""
    with engine_archive(request, tmp_path_factory.mktemp("engagement"), "e.db") as target:
        yield str(build_engagement_archive(target))


@pytest.fixture
def archive(archive_path):
    with Archive.open(archive_path, create=False) as opened:
        yield opened


def run(archive_path: str, *args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(cli, ["engagement", "--db", str(archive_path), *args])
    assert result.exit_code == expect, result.output
    return result.output


def cells(*marks: tuple[int, int]) -> list[list[int]]:
    grid = [[0] * 24 for _ in range(7)]
    for day, hour in marks:
        grid[day][hour] += 1
    return grid


def modified_z(values: Sequence[float], at: int) -> float:
    logs = [math.log1p(v) for v in values]
    ordered = sorted(logs)
    median = (ordered[4] + ordered[5]) / 2
    deviations = sorted(abs(x - median) for x in logs)
    mad = (deviations[4] + deviations[5]) / 2
    return 0.6745 * (logs[at] - median) / mad


def test_rhythm_and_reach_of_each_channel(archive):
    agro, market = archive.engagement().channels
    assert (agro.channel, agro.title, agro.posts, agro.days) == ("agro", "Агроновости", 10, 8)
    assert (agro.first, agro.last) == ("2023-05-01T08:00:00+00:00", "2023-05-08T12:00:00+00:00")
    assert (agro.posts_per_day, agro.posts_per_week) == (1.25, 8.75)
    # Mon 08:00 ... in UTC: Mon 7, 8, 12; Tue 9; Wed 12, 18; Thu 6; Fri 10; Sat 23; Sun 10
    assert agro.heatmap == cells(
        (0, 8), (1, 9), (2, 12), (2, 18), (3, 6), (4, 10), (5, 23), (6, 10), (0, 7), (0, 12)
    )
    views = sorted(views for _, _, views in AGRO)  # 90 95 98 100 105 | 110 115 120 125 5000
    assert agro.views_median == (105 + 110) / 2
    assert agro.views_p90 == pytest.approx(125 + 0.1 * (5000 - 125), rel=1e-12)
    assert agro.reactions_per_1000_views == pytest.approx(1000 * 10 / sum(views), rel=1e-12)
    assert agro.forwards_received == 2  # market/1 and market/2
    assert (market.posts, market.days, market.posts_per_day) == (3, 3, 1.0)
    assert market.heatmap == cells((4, 22), (5, 22), (6, 1))
    assert (market.views_median, market.views_p90) == (15.0, 19.0)  # one post without views
    assert market.reactions_per_1000_views == 0.0
    assert market.forwards_received == 0
    assert (market.views_1h, market.views_24h, market.views_7d) == (None, None, None)


def test_views_curve_interpolates_between_observations(archive):
    agro = archive.engagement(channel="agro").channels[0]
    # agro/1 (08:00): 40 at 08:30, 100 at 10:00 -> 60 at 1 h; 110 on day 3 at 08:00 -> at
    # 24 h 22 of those 46 hours; 125 at 2023-07-01 -> at 7 d 120 of those 1408 hours.
    # agro/2: observed at exactly 1 h (50), 24 h (90) and 7 d (100).
    assert agro.views_1h == (60 + 50) / 2
    assert agro.views_24h == pytest.approx((100 + 10 * 22 / 46 + 90) / 2, rel=1e-12)
    assert agro.views_7d == pytest.approx((110 + 15 * 120 / 1408 + 100) / 2, rel=1e-12)
    assert agro.curve_posts == {"1h": 2, "24h": 2, "7d": 2}  # the others: seen once, late


def test_planted_outlier_found_and_normal_posts_not(archive):
    agro = archive.engagement(channel="agro").channels[0]
    assert [(o.key, o.views, o.age_s) for o in agro.outliers] == [
        ("agro/10", 5000, (53 * 24 + 12) * 3600)  # 2023-05-08 12:00 to 2023-07-01
    ]
    views = [views for _, _, views in AGRO]
    assert agro.outliers[0].score == round(modified_z(views, 9), 3)
    assert max(modified_z(views, at) for at in range(9)) < 3.5


def test_time_zone_moves_the_heatmap_and_the_days(archive):
    agro, market = archive.engagement(timezone="Europe/Moscow").channels
    assert agro.heatmap == cells(
        (0, 11), (1, 12), (2, 15), (2, 21), (3, 9), (4, 13), (6, 2), (6, 13), (0, 10), (0, 15)
    )
    # market: Fri 22:00 UTC is Sat 01:00 in Moscow: two days instead of three
    assert (market.days, market.posts_per_day) == (2, 1.5)
    assert market.heatmap == cells((5, 1), (6, 1), (6, 4))


def test_filters(archive):
    assert [c.channel for c in archive.engagement(channel="@Market").channels] == ["market"]
    agro = archive.engagement(since="2023-05-03", until="2023-05-04").channels[0]
    assert (agro.posts, agro.days, agro.views_median) == (3, 2, 95.0)  # 120, 90, 95
    assert agro.forwards_received == 0  # market's forwards are dated later
    assert archive.engagement(since="2024-01-01").channels == []


def test_bad_options(archive, archive_path):
    with pytest.raises(OptionError, match="timezone: unknown time zone 'Mars/Base'"):
        archive.engagement(timezone="Mars/Base")
    with pytest.raises(QueryError):
        archive.engagement(until="soon")
    output = run(archive_path, "--timezone", "Mars/Base", expect=1)
    assert output.strip().splitlines() == ["Error: timezone: unknown time zone 'Mars/Base'"]
    assert "Invalid value for '--format'" in run(archive_path, "--format", "xml", expect=2)


def test_csv_header_and_rows(archive_path):
    lines = run(archive_path, "--format", "csv").splitlines()
    assert lines[0] == (
        "channel,title,posts,first,last,days,posts_per_day,posts_per_week,views_median,"
        "views_p90,reactions_per_1000_views,forwards_received,views_1h,views_24h,views_7d,"
        "outliers,heatmap"
    )
    agro = lines[1].split(",")
    assert agro[:15] == [
        "agro", "Агроновости", "10", "2023-05-01T08:00:00+00:00", "2023-05-08T12:00:00+00:00",
        "8", "1.25", "8.75", "107.5", "612.5", "1.678", "2", "55", "97.391", "105.639",
    ]  # fmt: skip
    assert agro[15].startswith("agro/10 5000 ")
    assert lines[2].split(",")[:15] == [
        "market", "Рынок", "3", "2023-05-05T22:00:00+00:00", "2023-05-07T01:00:00+00:00",
        "3", "1", "7", "15", "19", "0", "0", "", "", "",
    ]  # fmt: skip


def test_json_and_arrow(archive, archive_path):
    data = json.loads(run(archive_path, "--format", "json", "--channel", "agro"))
    assert data["timezone"] == "UTC"
    (agro,) = data["channels"]
    assert agro["outliers"][0]["key"] == "agro/10"
    assert len(agro["heatmap"]) == 7 and sum(map(sum, agro["heatmap"])) == 10
    table = archive.engagement().to_arrow()
    assert table.column("channel").to_pylist() == ["agro", "market"]
    assert table.column("views_median").to_pylist() == [107.5, 15.0]
    assert table.column("curve_posts").to_pylist()[0] == {"1h": 2, "24h": 2, "7d": 2}
    assert table.column("outliers").to_pylist()[1] == []


def test_table_output(archive_path):
    output = run(archive_path, "--channel", "agro")
    assert "rhythm (days in UTC; per day and per week: means over the days)" in output
    assert any(
        line.startswith("│ agro") and "1.2" in line and "8.8" in line
        for line in output.splitlines()
    )
    assert "Mon   .  .  .  .  .  .  .  1  1  .  .  .  1" in output  # the heatmap
    assert "agro/10" in output
    everything = run(archive_path)
    assert "market" in everything and "Mon   ." not in everything  # heatmap: one channel only
