"""The content-addressed media folder and what a file is (tgscope.media.files, .probe)."""

from __future__ import annotations

import hashlib
import io
import os
import stat

import pytest
from PIL import Image

from tgscope.media.files import MediaStore, file_sha256
from tgscope.media.probe import Facts, describe, refusal


def _jpeg(colour=(200, 30, 40), size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def test_a_download_is_kept_under_its_hash_once(tmp_path):
    store = MediaStore.beside(tmp_path / "a.db")
    body = _jpeg()
    sha = hashlib.sha256(body).hexdigest()
    for _ in range(2):
        with store.download() as part:
            part.write(body)
            stored = store.keep(part)
        assert not os.path.exists(part.name)  # the temporary file is gone either way
    assert stored.sha256 == sha and stored.size == len(body)
    assert stored.path == tmp_path / "a.db.media" / sha[:2] / sha[2:4] / sha
    assert stored.path.read_bytes() == body
    assert list((tmp_path / "a.db.media" / "tmp").iterdir()) == []


def test_a_download_not_kept_leaves_nothing(tmp_path):
    store = MediaStore(tmp_path / "media")
    with store.download() as part:
        part.write(b"half a file")
    assert list((tmp_path / "media" / "tmp").iterdir()) == []


def test_what_a_killed_download_left_is_cleaned(tmp_path):
    store = MediaStore(tmp_path / "media")
    (tmp_path / "media" / "tmp").mkdir(parents=True)
    (tmp_path / "media" / "tmp" / "part-abc").write_bytes(b"x" * 10)
    assert store.clean() == 1
    assert store.clean() == 0


def test_a_file_taken_in_is_a_read_only_copy_and_the_original_kept(tmp_path):
    original = tmp_path / "photo.jpg"
    original.write_bytes(_jpeg())
    store = MediaStore(tmp_path / "media")
    stored = store.put_file(original)
    assert stored.path.read_bytes() == original.read_bytes()
    assert os.stat(stored.path).st_ino != os.stat(original).st_ino
    assert stat.S_IMODE(os.stat(stored.path).st_mode) == 0o444
    assert original.exists()
    assert store.put_file(original) == stored  # again: the same file, nothing new


def test_an_altered_stored_file_is_repaired_by_the_same_bytes_again(tmp_path):
    store = MediaStore(tmp_path / "media")
    body = _jpeg()
    with store.download() as part:
        part.write(body)
        stored = store.keep(part)
    os.chmod(stored.path, 0o644)
    stored.path.write_bytes(body[:-1] + b"\x00")  # a bit flipped on disk
    assert store.check(stored.sha256, stored.size) == "altered"
    with store.download() as part:
        part.write(body)
        assert store.keep(part) == stored
    assert store.check(stored.sha256, stored.size) == "ok"


def test_copy_out_checks_what_it_hands_over(tmp_path):
    store = MediaStore(tmp_path / "media")
    source = tmp_path / "f.bin"
    source.write_bytes(b"evidence")
    stored = store.put_file(source)
    out = tmp_path / "out"
    out.mkdir()
    assert store.copy_out(stored.sha256, out) == out / stored.sha256
    assert (out / stored.sha256).read_bytes() == b"evidence"
    assert store.copy_out("0" * 64, out) is None  # not stored
    os.chmod(stored.path, 0o644)
    stored.path.write_bytes(b"evidencf")
    (out / stored.sha256).unlink()
    assert store.copy_out(stored.sha256, out) is None  # altered: not handed over
    assert sorted(os.listdir(out)) == []


def test_check_tells_ok_missing_and_altered(tmp_path):
    store = MediaStore(tmp_path / "media")
    source = tmp_path / "f.bin"
    source.write_bytes(b"evidence")
    stored = store.put_file(source)
    assert store.check(stored.sha256, stored.size) == "ok"
    stored.path.unlink()
    assert store.check(stored.sha256, stored.size) == "missing"
    store.put_file(source)
    os.chmod(stored.path, 0o644)
    stored.path.write_bytes(b"evidencf")
    assert store.check(stored.sha256, stored.size) == "altered"


def test_file_sha256_reads_in_pieces(tmp_path):
    path = tmp_path / "big"
    data = os.urandom(3 * (1 << 20) + 5)
    path.write_bytes(data)
    assert file_sha256(path) == (hashlib.sha256(data).hexdigest(), len(data))


@pytest.mark.parametrize(
    ("body", "facts"),
    [
        (_jpeg(size=(64, 48)), Facts("image/jpeg", 64, 48)),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40, Facts("video/mp4")),
        (b"OggS" + b"\x00" * 60, Facts("audio/ogg")),
        (b"  <!DOCTYPE html><html><body>Not found</body></html>", Facts("text/html")),
        (b"\x01\x02\x03 not anything", Facts(None)),
    ],
)
def test_describe_reads_the_bytes_not_the_name(tmp_path, body, facts):
    path = tmp_path / "file.jpg"  # the name says JPEG whatever it holds
    path.write_bytes(body)
    assert describe(path) == facts


def test_a_cut_image_has_its_size_when_its_header_arrived(tmp_path):
    path = tmp_path / "cut.jpg"
    body = _jpeg(size=(80, 60))
    path.write_bytes(body[:-100])  # the pixels cut short, the header whole
    assert describe(path) == Facts("image/jpeg", 80, 60)
    path.write_bytes(body[:300])  # the header cut short: a JPEG of unknown size
    assert describe(path) == Facts("image/jpeg")


@pytest.mark.parametrize(
    ("media_type", "facts", "reason"),
    [
        ("photo", Facts("image/jpeg", 1, 1), None),
        ("photo", Facts("text/html"), "an HTML page, not the file (an expired or blocked link)"),
        ("photo", Facts("video/mp4"), "not an image (video/mp4)"),
        ("photo", Facts(None), "not an image (unknown)"),
        ("video", Facts("video/mp4"), None),
        ("voice", Facts("audio/ogg"), None),
        ("video", Facts("application/pdf"), "not audio or video (application/pdf)"),
        ("document", Facts("application/pdf"), None),
        ("document", Facts(None), None),
        ("document", Facts("text/html"), "an HTML page, not the file (an expired or blocked link)"),
        ("sticker", Facts("application/gzip"), None),
    ],
)
def test_refusal_says_when_a_file_cannot_be_the_medium(media_type, facts, reason):
    assert refusal(media_type, facts) == reason


def test_cleaning_spares_downloads_under_way(tmp_path):
    store = MediaStore(tmp_path / "media")
    other = MediaStore(tmp_path / "media")
    with store.download() as part:
        part.write(b"half")
        assert other.clean() == 0  # this process's download, in another thread say
        assert os.path.exists(part.name)
    running = tmp_path / "media" / "tmp" / f"part-{os.getppid()}-ab12-0"
    running.write_bytes(b"another process's download")
    assert store.clean() == 0 and running.exists()
