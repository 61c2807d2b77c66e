"""The media files of a Telegram Desktop export, taken into the archive's store on import."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from tgscope.archive import Archive
from tgscope.media import intake
from tgscope.media.files import MediaStore
from tgscope.sources.desktop_json import FILE_NOT_INCLUDED, message_to_post

from .conftest import FIXTURES, SHARED
from .media_rows import fetches, files, jpeg, sha

CORPUS = SHARED / "corpus" / "desktop_export"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(200))


def message(number: int, **fields) -> dict:
    return {
        "id": number,
        "type": "message",
        "date": "2023-01-09T10:00:00",
        "date_unixtime": str(1673258400 + number),
        "from": "Посольство",
        "from_id": "channel1234567890",
        "text": f"post {number}",
        "text_entities": [{"type": "plain", "text": f"post {number}"}],
        **fields,
    }


VIDEO_FIELDS = {
    "file": "video_files/video_2@09-01-2023_10-00-00.mp4",
    "file_name": "clip.mp4",
    "file_size": len(MP4),
    "thumbnail": "video_files/video_2@09-01-2023_10-00-00.mp4_thumb.jpg",
    "thumbnail_file_size": 1000,
    "media_type": "video_file",
    "mime_type": "video/mp4",
    "duration_seconds": 5,
    "width": 320,
    "height": 240,
}


def write_export(folder: Path, messages: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    export = {"name": "Посольство", "type": "public_channel", "id": 1234567890}
    path = folder / "result.json"
    path.write_text(json.dumps({**export, "messages": messages}, ensure_ascii=False), "utf-8")
    return path


def put(folder: Path, relative: str, data: bytes) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def times(archive: Archive) -> list[tuple]:
    db = archive.store.media.db  # type: ignore[attr-defined]
    rows = db.execute("SELECT fetched_at FROM media_fetches ORDER BY post, position, part")
    stored = db.execute("SELECT stored_at FROM media_files ORDER BY sha256")
    return [*rows.fetchall(), *stored.fetchall()]


# -- the record ---------------------------------------------------------------------------


def test_a_video_keeps_its_exported_thumbnail_in_the_record():
    post = message_to_post(message(2, **VIDEO_FIELDS), "rusembchina", "T", True, None, print)
    assert post.media == [
        {
            "type": "video",
            "url": "video_files/video_2@09-01-2023_10-00-00.mp4",
            "thumb": "video_files/video_2@09-01-2023_10-00-00.mp4_thumb.jpg",
            "width": 320,
            "height": 240,
            "mime_type": "video/mp4",
            "duration": 5,
            "size": len(MP4),
            "file_name": "clip.mp4",
        }
    ]


def test_a_thumbnail_left_out_of_the_export_is_no_thumb():
    fields = {**VIDEO_FIELDS, "file": FILE_NOT_INCLUDED, "thumbnail": FILE_NOT_INCLUDED}
    post = message_to_post(message(2, **fields), "rusembchina", "T", True, None, print)
    assert "thumb" not in post.media[0]
    assert (post.media[0]["url"], post.media[0]["reason"]) == (
        None,
        "file not included in the export",
    )


# -- taking the files in ------------------------------------------------------------------


@pytest.fixture
def export(tmp_path: Path) -> dict:
    """An export folder: a photo, a video with its poster, a photo that is absent, paths
    leading out of the folder, a photo not included, and the same photo in a second post."""
    folder = tmp_path / "ChatExport_2023-01-09"
    outside = put(tmp_path, "secret.jpg", jpeg(8, 8, (0, 0, 0)))
    photo, poster = jpeg(64, 48, (200, 30, 30)), jpeg(32, 24, (30, 30, 200))
    put(folder, "photos/photo_1@09-01-2023_10-00-00.jpg", photo)
    put(folder, "video_files/video_2@09-01-2023_10-00-00.mp4", MP4)
    put(folder, "video_files/video_2@09-01-2023_10-00-00.mp4_thumb.jpg", poster)
    put(folder, "photos/photo_7@09-01-2023_10-00-00.jpg", photo)
    path = write_export(
        folder,
        [
            message(1, photo="photos/photo_1@09-01-2023_10-00-00.jpg", width=64, height=48),
            message(2, **VIDEO_FIELDS),
            message(3, photo="photos/photo_3@09-01-2023_10-00-00.jpg", width=10, height=10),
            message(4, photo="../secret.jpg"),
            message(5, photo=str(outside)),
            message(6, photo=FILE_NOT_INCLUDED),
            message(7, photo="photos/photo_7@09-01-2023_10-00-00.jpg"),
        ],
    )
    return {"path": path, "folder": folder, "photo": photo, "poster": poster}


def expected_rows(export: dict) -> list[tuple]:
    photo, poster = sha(export["photo"]), sha(export["poster"])
    video = sha(MP4)
    outside = intake.OUTSIDE
    return [
        ("rusembchina/1", 0, "file", "photo", "photos/photo_1@09-01-2023_10-00-00.jpg",
         "stored", photo, None, len(export["photo"]), None, 1),
        ("rusembchina/2", 0, "file", "video", "video_files/video_2@09-01-2023_10-00-00.mp4",
         "stored", video, None, len(MP4), None, 1),
        ("rusembchina/2", 0, "thumb", "video",
         "video_files/video_2@09-01-2023_10-00-00.mp4_thumb.jpg",
         "stored", poster, None, len(export["poster"]), None, 1),
        ("rusembchina/3", 0, "file", "photo", "photos/photo_3@09-01-2023_10-00-00.jpg",
         "missing", None, None, None, "not in the export folder", 1),
        ("rusembchina/4", 0, "file", "photo", "../secret.jpg",
         "refused", None, None, None, outside, 1),
        ("rusembchina/5", 0, "file", "photo", str(export["folder"].parent / "secret.jpg"),
         "refused", None, None, None, outside, 1),
        ("rusembchina/7", 0, "file", "photo", "photos/photo_7@09-01-2023_10-00-00.jpg",
         "stored", photo, None, len(export["photo"]), None, 1),
    ]  # fmt: skip


def test_an_exports_files_are_stored_and_recorded_exactly(db_path, export):
    with Archive.open(db_path) as archive:
        report = archive.import_file(export["path"], channel="rusembchina")
        rows, kept = fetches(archive), files(archive)
    assert rows == expected_rows(export)
    assert kept == sorted(
        [
            (sha(export["photo"]), len(export["photo"]), "image/jpeg", 64, 48, None),
            (sha(MP4), len(MP4), "video/mp4", 320, 240, 5),  # sizes from the record
            (sha(export["poster"]), len(export["poster"]), "image/jpeg", 32, 24, None),
        ]
    )
    store = MediaStore.beside(db_path)
    for data in (export["photo"], export["poster"], MP4):
        assert store.path_of(sha(data)).read_bytes() == data
    assert report.media == 4  # the photo twice (one file), the video and its poster
    folder = export["folder"]
    assert report.warnings == [  # the photo not in the folder is only recorded
        f"{folder}: 2 media file(s) not taken in (first: ../secret.jpg: {intake.OUTSIDE})",
    ]
    assert report.summary().endswith("; 4 media file(s) stored")
    assert list((store.root / "tmp").glob("part-*")) == []  # nothing left half-copied


def test_a_stored_file_is_a_read_only_copy_that_edits_of_the_export_never_reach(db_path, export):
    with Archive.open(db_path) as archive:
        archive.import_file(export["path"], channel="rusembchina")
        original = export["folder"] / "photos/photo_1@09-01-2023_10-00-00.jpg"
        kept = MediaStore.beside(db_path).path_of(sha(export["photo"]))
        assert os.stat(kept).st_ino != os.stat(original).st_ino
        assert stat.S_IMODE(os.stat(kept).st_mode) == 0o444
        original.write_bytes(b"edited afterwards")
        assert archive.media.verify().ok
    assert kept.read_bytes() == export["photo"]


def test_importing_the_same_export_again_changes_nothing(db_path, export):
    with Archive.open(db_path) as archive:
        archive.import_file(export["path"], channel="rusembchina")
        rows, kept, when = fetches(archive), files(archive), times(archive)
        store = MediaStore.beside(db_path)
        links = {s: os.stat(store.path_of(s)).st_nlink for s, *_ in kept}
        again = archive.import_file(export["path"], channel="rusembchina")
        assert (fetches(archive), files(archive), times(archive)) == (rows, kept, when)
    assert {s: os.stat(store.path_of(s)).st_nlink for s, *_ in kept} == links
    assert again.media == 0
    assert again.summary().endswith("0 added, 0 updated, 7 unchanged")


def test_a_file_added_to_the_folder_later_is_taken_in_by_the_next_import(db_path, export):
    late = jpeg(10, 10, (0, 200, 0))
    with Archive.open(db_path) as archive:
        archive.import_file(export["path"], channel="rusembchina")
        put(export["folder"], "photos/photo_3@09-01-2023_10-00-00.jpg", late)
        report = archive.import_file(export["path"], channel="rusembchina")
        rows = fetches(archive)
    assert report.media == 1
    assert rows[3] == (
        "rusembchina/3",
        0,
        "file",
        "photo",
        "photos/photo_3@09-01-2023_10-00-00.jpg",
        "stored",
        sha(late),
        None,
        len(late),
        None,
        2,
    )  # fmt: skip (the second try of the same path)


def test_a_link_inside_the_folder_to_a_file_outside_is_not_read(db_path, tmp_path):
    folder = tmp_path / "export"
    put(tmp_path, "private.jpg", jpeg(4, 4, (1, 2, 3)))
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "photo_1.jpg").symlink_to(tmp_path / "private.jpg")
    path = write_export(folder, [message(1, photo="photos/photo_1.jpg")])
    with Archive.open(db_path) as archive:
        report = archive.import_file(path, channel="rusembchina")
        rows, kept = fetches(archive), files(archive)
    assert rows == [
        ("rusembchina/1", 0, "file", "photo", "photos/photo_1.jpg",
         "refused", None, None, None, intake.OUTSIDE, 1),
    ]  # fmt: skip
    assert (kept, report.media, report.added) == ([], 0, 1)


def test_a_file_that_is_not_what_the_post_says_is_refused(db_path, tmp_path):
    folder = tmp_path / "export"
    put(folder, "photos/photo_1.jpg", b"<!DOCTYPE html><html>not a photo</html>")
    path = write_export(folder, [message(1, photo="photos/photo_1.jpg")])
    with Archive.open(db_path) as archive:
        archive.import_file(path, channel="rusembchina")
        rows = fetches(archive)
    assert rows == [
        ("rusembchina/1", 0, "file", "photo", "photos/photo_1.jpg", "refused", None, None,
         None, "an HTML page, not the file (an expired or blocked link)", 1),
    ]  # fmt: skip


def test_a_failure_taking_files_in_is_a_warning_and_the_posts_stay(db_path, export, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(intake, "take_in_export", broken)
    with Archive.open(db_path) as archive:
        report = archive.import_file(export["path"], channel="rusembchina")
        count = len(list(archive.posts()))
        rows = fetches(archive)
    assert (report.error, report.added, count, rows, report.media) == (None, 7, 7, [], 0)
    assert report.warnings == [
        f"{export['folder']}: the export's media files not taken in: disk full"
    ]


def test_an_html_exports_photo_is_taken_in(db_path, tmp_path):
    folder = tmp_path / "html_export"
    folder.mkdir()
    shutil.copy(FIXTURES / "desktop" / "messages.html", folder / "messages.html")
    photo = jpeg(20, 10, (9, 9, 9))
    put(folder, "photos/photo_1@15-11-2022_12-12-00.jpg", photo)
    with Archive.open(db_path) as archive:
        report = archive.import_file(folder / "messages.html", channel="rusembchina")
        rows = fetches(archive)
    assert rows == [
        ("rusembchina/500", 0, "file", "photo", "photos/photo_1@15-11-2022_12-12-00.jpg",
         "stored", sha(photo), None, len(photo), None, 1),
    ]  # fmt: skip
    assert report.media == 1


def test_other_formats_take_nothing_in(db_path, tmp_path):
    dump = tmp_path / "dump.txt"
    dump.write_text("Посольство\nПост 1\n👁 10\n", encoding="utf-8")
    with Archive.open(db_path) as archive:
        report = archive.import_file(dump, channel="rusembchina", format="textdump")
        assert (fetches(archive), report.media) == ([], 0)


@pytest.mark.parametrize(
    "given",
    ["../x.jpg", "photos/../../x.jpg", "/etc/passwd", "C:\\x.jpg", "..\\x.jpg", "%2e%2e/x.jpg"],
)
def test_paths_leading_out_of_the_folder_are_refused_unread(tmp_path, given):
    assert intake._inside(tmp_path.resolve(), given) is None


def test_an_html_exports_encoded_path_is_found(tmp_path):
    put(tmp_path, "files/my report.pdf", b"%PDF-1.4")
    found = intake._inside(tmp_path.resolve(), "files/my%20report.pdf")
    assert found == tmp_path.resolve() / "files" / "my report.pdf"


# -- real exports -------------------------------------------------------------------------


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not here")
@pytest.mark.parametrize(
    "name", ["help_ukrainians_germany/result.json", "html_export_small_group/messages.html"]
)
def test_every_file_a_real_export_names_that_exists_is_stored_with_its_hash(db_path, name):
    path = CORPUS / name
    with Archive.open(db_path) as archive:
        report = archive.import_file(path, channel="corpus")
        named = [
            (post.key, position, item)
            for post in archive.posts()
            for position, item in enumerate(post.media)
            if item.get("url")
        ]
        rows = {(r[0], r[1], r[2]): r for r in fetches(archive)}
    assert report.error is None
    for key, position, item in named:
        file = path.parent / item["url"]
        row = rows[key, position, "file"]
        if file.is_file():
            assert (row[5], row[6]) == ("stored", sha(file.read_bytes()))
        else:
            assert (row[5], row[9]) == ("missing", "not in the export folder")
    assert len(rows) == sum(1 + ("thumb" in item) for *_, item in named)


def test_importing_the_export_s_folder_takes_the_export_not_its_files(db_path, export, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "notes.txt").write_text("Forwarded from X\nOnly post\n👍1\n", "utf-8")
    export["folder"].rename(inbox / "ChatExport")  # an export among other inputs
    (inbox / "ChatExport" / "later").mkdir()  # a folder of the user's own, kept
    (inbox / "ChatExport" / "later" / "more.txt").write_text("Another\n👍2\n", "utf-8")
    with Archive.open(db_path) as archive:
        report = archive.import_paths([inbox], channel="rusembchina")
        rows = fetches(archive)
    assert [f.path for f in report.files] == [
        str(inbox / "ChatExport" / "later" / "more.txt"),
        str(inbox / "ChatExport" / "result.json"),
        str(inbox / "notes.txt"),
    ]
    assert report.failures == []
    assert [row[5] for row in rows] == [row[5] for row in expected_rows(export)]
    assert "4 media file(s) stored" in report.summary()


def test_a_file_gone_from_the_store_is_taken_in_again_by_the_next_import(db_path, export):
    with Archive.open(db_path) as archive:
        archive.import_file(export["path"], channel="rusembchina")
        kept = MediaStore.beside(db_path).path_of(sha(export["photo"]))
        kept.unlink()
        assert not archive.media.verify().ok
        archive.import_file(export["path"], channel="rusembchina")
        assert archive.media.verify().ok
    assert kept.read_bytes() == export["photo"]
