"""``tgscope images reposts`` and ``images similar``: the same picture across channels, on an
archive whose media were fetched from a loopback server."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from tgscope.archive import Archive
from tgscope.cli import cli
from tgscope.collect.http import FetchPolicy, make_client
from tgscope.collect.media import fetch_media
from tgscope.errors import OptionError
from tgscope.store.pgdb import is_url

from .engines import ENGINES, engine_archive
from .helpers import post, source
from .media_server import MediaServer
from .web_media_archive import jpeg, picture, png

POLICY = FetchPolicy(delay=0, retries=0)
ORIGINAL = jpeg(picture(seed=11))
RESIZED = jpeg(picture(seed=11).resize((200, 150)), quality=40)
MARKED = picture(seed=11)
ImageDraw.Draw(MARKED).text((10, 10), "@some_channel", fill=(255, 255, 255))
WATERMARKED = jpeg(MARKED, quality=80)
OTHER = png(picture(seed=12))
BLUE, GREY = (
    jpeg(Image.new("RGB", (64, 48), (20, 40, 200))),
    jpeg(Image.new("RGB", (64, 48), (90,) * 3)),
)
#: channel/post: the pictures it carried
CARRIED = {
    "mfarussia/1": [("2024-03-01", ORIGINAL), ("2024-03-01", BLUE)],
    "rusembchina/7": [("2024-03-02", RESIZED)],
    "embassy_china/3": [("2024-03-04", WATERMARKED), ("2024-03-04", GREY)],
    "mfarussia/2": [("2024-03-05", OTHER)],
    "rusembchina/8": [("2024-03-06", OTHER)],  # the very same bytes again
    "embassy_china/4": [("2024-03-07", ORIGINAL)],
}


def sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@pytest.fixture(scope="module", params=ENGINES)
def db(request, tmp_path_factory) -> Iterator[str]:
    """The archive, once per module on each engine (on PostgreSQL its media files go to the
    folder ``$TGSCOPE_MEDIA`` names)."""
    folder = tmp_path_factory.mktemp("kept")
    with engine_archive(request, folder) as path, pytest.MonkeyPatch.context() as patch:
        if is_url(path):
            patch.setenv("TGSCOPE_MEDIA", str(folder / "media"))
        yield fetched_into(path)


def fetched_into(path: str) -> str:
    with MediaServer() as server, Archive.open(path) as archive:
        posts = []
        for key, carried in CARRIED.items():
            media = []
            for position, (_, body) in enumerate(carried):
                url = server.add(f"/{key}/{position}", body)
                media.append({"type": "photo", "url": url})
            channel, date = key.split("/")[0], carried[0][0]
            posts.append(
                post(key, key, channel=channel, date=f"{date}T09:00:00+00:00", media=media)
            )
        archive.ingest(posts, source())
        with make_client(policy=POLICY) as client:
            assert fetch_media(archive, client=client, policy=POLICY).stored == 6
    return path


def test_reposts_group_the_copies_across_channels_and_leave_blank_pictures_out(db):
    with Archive.open(db) as archive:
        groups = [group.to_dict() for group in archive.media.reposts()]
        assert archive.media.reposts(min_channels=3)[0].files == groups[0]["files"]
        assert [g.files for g in archive.media.reposts(channel="mfarussia")] == [
            g["files"] for g in groups
        ]
        assert archive.media.reposts(min_channels=4) == []
    assert groups == [
        {
            "files": sorted([sha(ORIGINAL), sha(RESIZED), sha(WATERMARKED)]),
            "channels": ["embassy_china", "mfarussia", "rusembchina"],
            "first": "mfarussia/1",
            "first_date": "2024-03-01T09:00:00+00:00",
            "distance": 0,
            "posts": [
                {"post": "mfarussia/1", "channel": "mfarussia",
                 "date": "2024-03-01T09:00:00+00:00", "sha256": sha(ORIGINAL)},
                {"post": "rusembchina/7", "channel": "rusembchina",
                 "date": "2024-03-02T09:00:00+00:00", "sha256": sha(RESIZED)},
                {"post": "embassy_china/3", "channel": "embassy_china",
                 "date": "2024-03-04T09:00:00+00:00", "sha256": sha(WATERMARKED)},
                {"post": "embassy_china/4", "channel": "embassy_china",
                 "date": "2024-03-07T09:00:00+00:00", "sha256": sha(ORIGINAL)},
            ],
        },
        {
            "files": [sha(OTHER)],
            "channels": ["mfarussia", "rusembchina"],
            "first": "mfarussia/2",
            "first_date": "2024-03-05T09:00:00+00:00",
            "distance": 0,
            "posts": [
                {"post": "mfarussia/2", "channel": "mfarussia",
                 "date": "2024-03-05T09:00:00+00:00", "sha256": sha(OTHER)},
                {"post": "rusembchina/8", "channel": "rusembchina",
                 "date": "2024-03-06T09:00:00+00:00", "sha256": sha(OTHER)},
            ],
        },
    ]  # fmt: skip


def test_similar_finds_the_copies_of_a_post_s_picture_a_hash_s_or_a_file_s(db, tmp_path):
    with Archive.open(db) as archive:
        by_post = archive.media.similar("rusembchina/7")
        by_hash = archive.media.similar(sha(RESIZED))
        by_prefix = archive.media.similar(sha(RESIZED)[:12])
        outside = tmp_path / "screenshot.png"
        picture(seed=11).resize((500, 375)).save(outside)
        by_file = archive.media.similar(str(outside))
        exact = tmp_path / "same.jpg"
        exact.write_bytes(OTHER)
        by_same_bytes = archive.media.similar(str(exact))
    assert [g.files for g in by_post] == [[sha(RESIZED)], [sha(ORIGINAL)], [sha(WATERMARKED)]]
    assert by_post[0].distance == 0  # its own file first
    assert by_post[1].distance <= by_post[2].distance
    assert [c.post for c in by_post[1].carriers] == ["mfarussia/1", "embassy_china/4"]
    for other in (by_hash, by_prefix):
        assert [(g.files, g.distance) for g in other] == [(g.files, g.distance) for g in by_post]
    assert {tuple(g.files) for g in by_file} == {
        (sha(ORIGINAL),),
        (sha(RESIZED),),
        (sha(WATERMARKED),),
    }
    assert by_same_bytes[0].files == [sha(OTHER)] and by_same_bytes[0].distance == 0
    assert [c.post for c in by_same_bytes[0].carriers] == ["mfarussia/2", "rusembchina/8"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nope/1", "nope/1: no stored image"),
        ("0" * 64, "the archive keeps no image with that hash"),
        ("no-such-file.png", "no such file, post key"),
        ("./nosuch.jpg", "no such file, post key"),
        ("fd26", "give at least 8 characters of a SHA-256"),
    ],
)
def test_similar_says_what_it_cannot_find(db, target, message):
    with Archive.open(db) as archive, pytest.raises(OptionError, match=message):
        archive.media.similar(target)


def test_the_images_commands_print_tables_and_json_lines(db, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    runner = CliRunner()
    result = runner.invoke(cli, ["images", "reposts", "--db", str(db)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "2 picture(s) in 2+ channels"
    assert (
        "│ 2024-03-01 │ mfarussia/1 │     4 │     3 │ embassy_china, mfarussia, rusembchina │"
        in lines
    )
    assert (
        "│ 2024-03-05 │ mfarussia/2 │     2 │     1 │ mfarussia, rusembchina                │"
        in lines
    )
    result = runner.invoke(cli, ["images", "reposts", "--db", str(db), "--format", "jsonl"])
    assert [json.loads(line)["first"] for line in result.stdout.splitlines()] == [
        "mfarussia/1",
        "mfarussia/2",
    ]
    result = runner.invoke(cli, ["images", "similar", "--db", str(db), "rusembchina/7"])
    assert result.exit_code == 0 and "3 similar image(s)" in result.stdout
    assert sha(ORIGINAL)[:12] in result.stdout
    result = runner.invoke(cli, ["images", "similar", "--db", str(db), "nope/1"])
    assert result.exit_code == 1 and "nope/1: no stored image" in result.output


def test_an_unknown_channel_is_an_error_not_an_empty_answer(db):
    with Archive.open(db) as archive, pytest.raises(OptionError, match="no channel 'nosuch'"):
        archive.media.reposts(channel="nosuch")
