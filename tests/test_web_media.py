"""The media in the web app: ``/media/<sha256>`` (a stored file, safely), the post cards'
pictures and posters, a channel's gallery, an image's page and their JSON twins."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tgscope.media.files import MediaStore
from tgscope.web import create_app

from .web_archives import Page, assert_safe_page, get_html, get_json
from .web_media_archive import (
    CDN,
    FETCHED_AT,
    HOSTILE,
    HTML,
    PICTURE_A,
    SVG,
    VIDEO,
    Built,
    build,
    media_queries,
)

TELEGRAM_HOST = "telesco.pe"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("web-media") / "media.db")


@pytest.fixture(scope="module")
def client(built: Built) -> Iterator[TestClient]:
    yield TestClient(create_app(built.path))


def media(built: Built, name: str) -> str:
    return f"/media/{built.sha[name]}"


def images_of(html: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in Page(html).tags if tag == "img"]


# --- /media/<sha256> ----------------------------------------------------------------------


def test_a_stored_jpeg_is_served_inline_with_its_type_and_cached_for_good(client, built):
    response = client.get(media(built, "A"))
    assert response.status_code == 200
    assert response.content == PICTURE_A
    assert hashlib.sha256(response.content).hexdigest() == built.sha["A"]
    headers = response.headers
    assert headers["content-type"] == "image/jpeg"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["etag"] == f'"{built.sha["A"]}"'
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["content-disposition"] == f'inline; filename="{built.sha["A"]}.jpg"'
    assert headers["content-length"] == str(len(PICTURE_A))


def test_the_type_comes_from_the_files_row_not_from_a_name(client, built):
    response = client.get(media(built, "B"))  # a PNG fetched from a URL ending in .jpg
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"].startswith("inline;")


def test_a_browser_that_has_the_file_is_told_so(client, built):
    etag = f'"{built.sha["A"]}"'
    response = client.get(media(built, "A"), headers={"if-none-match": etag})
    assert (response.status_code, response.content) == (304, b"")
    assert response.headers["etag"] == etag
    other = client.get(media(built, "A"), headers={"if-none-match": '"0000"'})
    assert other.status_code == 200 and other.content == PICTURE_A


def test_a_video_is_served_by_ranges(client, built):
    response = client.get(media(built, "video"), headers={"range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.content == VIDEO[100:200]
    assert response.headers["content-range"] == f"bytes 100-199/{len(VIDEO)}"
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["content-disposition"].startswith("inline;")
    assert client.head(media(built, "video")).headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize(
    ("name", "body", "mime"),
    [("svg", SVG, "image/svg+xml"), ("html", HTML, "text/html; charset=utf-8")],
)
def test_an_svg_or_html_file_is_only_ever_a_download(client, built, name, body, mime):
    response = client.get(media(built, name))
    assert response.status_code == 200 and response.content == body
    assert response.headers["content-type"] == mime
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/media/" + "0" * 64,  # a hash the archive does not keep
        "/media/abc",
        "/media/" + "0" * 65,
        "/media/" + "G" * 64,
        "/media/..%2F..%2Fmedia.db",
        "/media/%2e%2e",
        "/media/%2E%2E%2F%2E%2E%2Fmedia.db",  # (a client resolves a plain ../ itself)
        "/media/tmp",
        "/media/",
    ],
)
def test_anything_but_a_kept_files_hash_is_a_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "etag" not in response.headers


def test_an_upper_case_hash_is_not_another_name_for_a_file(client, built):
    assert client.get(media(built, "A").upper().replace("/MEDIA/", "/media/")).status_code == 404


def test_a_file_on_disk_without_its_row_or_a_row_without_its_file_is_a_404(tmp_path):
    built = build(tmp_path / "gaps.db")
    store = MediaStore.beside(built.path)
    store.path_of(built.sha["B"]).unlink()  # the row stays, the file is gone
    stray = tmp_path / "stray.bin"
    stray.write_bytes(b"not recorded")
    unrecorded = store.put_file(stray)  # in the folder, never recorded in the archive
    client = TestClient(create_app(built.path))
    assert client.get(media(built, "B")).status_code == 404
    assert client.get(f"/media/{unrecorded.sha256}").status_code == 404
    assert client.get(media(built, "A")).status_code == 200


# --- the post cards -----------------------------------------------------------------------


def test_a_post_shows_its_stored_picture_and_never_telegrams_link(client, built):
    html = get_html(client, "/posts/news/1")
    assert_safe_page(html)
    assert TELEGRAM_HOST not in html
    shown = [attrs for attrs in images_of(html) if (attrs["src"] or "").startswith("/media/")]
    assert shown == [
        {"src": media(built, "A"), "loading": "lazy", "width": "320", "height": "240",
         "alt": "photo"}
    ]  # fmt: skip
    assert f'href="/images/{built.sha["A"]}"' in html


def test_a_video_shows_its_poster_and_plays_its_stored_file(client, built):
    html = get_html(client, "/posts/news/2")
    assert_safe_page(html)
    (video,) = [attrs for tag, attrs in Page(html).tags if tag == "video"]
    assert video == {
        "class": "media-shown", "controls": None, "preload": "none",
        "src": media(built, "video"), "poster": media(built, "poster"),
        "width": "160", "height": "90",
    }  # fmt: skip
    assert TELEGRAM_HOST not in html


def test_media_not_stored_say_why(client):
    expired = get_html(client, "/posts/news/3")
    assert '<span class="media-status status-expired" title="HTTP 403">expired link</span>' in (
        expired
    )
    never = get_html(client, "/posts/news/4")
    assert '<span class="media-status status-unfetched">not fetched</span>' in never
    for html in (expired, never):
        assert TELEGRAM_HOST not in html
        assert not [attrs for attrs in images_of(html) if not attrs.get("src", "").startswith("/")]


def test_a_link_previews_stored_image_is_shown(client, built):
    html = get_html(client, "/posts/news/5")
    assert [attrs["src"] for attrs in images_of(html)] == [media(built, "preview")]
    assert TELEGRAM_HOST not in html


def test_documents_are_offered_as_stored_files(client, built):
    html = get_html(client, "/posts/news/7")
    assert (
        f'<a class="media-download" href="{media(built, "html")}">stored file (text/html)</a>'
        in (html)
    )


def test_hostile_captions_and_reasons_stay_text(client):
    html = get_html(client, "/posts/news/8")
    assert_safe_page(html)
    assert HOSTILE not in html and "<script>window.__xss" not in html
    assert 'title="&#34;&gt;&lt;script&gt;window.__xss=1&lt;/script&gt;' in html


def test_the_posts_twin_lists_each_medium_with_its_hash_path_and_status(client, built):
    data = get_json(client, "/posts/news/2.json")
    fields = ("part", "status", "sha256", "path", "image", "mime")
    assert [tuple(m[name] for name in fields) for m in data["media"]] == [
        ("file", "stored", built.sha["video"], media(built, "video"), None, "video/mp4"),
        ("thumb", "stored", built.sha["poster"], media(built, "poster"),
         f"/images/{built.sha['poster']}", "image/jpeg"),
    ]  # fmt: skip
    expired = get_json(client, "/posts/news/3.json")["media"]
    assert [
        (m["status"], m["label"], m["sha256"], m["path"], m["http_status"]) for m in expired
    ] == [("expired", "expired link", None, None, 403)]
    assert get_json(client, "/posts/news/4.json")["media"] == []


def test_the_channel_page_shows_its_posts_pictures_and_links_its_gallery(client, built):
    html = get_html(client, "/channels/news")
    assert_safe_page(html)
    assert TELEGRAM_HOST not in html
    sources = [attrs["src"] for attrs in images_of(html)]
    assert sources == [media(built, name) for name in ("B", "svg", "preview", "A")]
    posters = [attrs["poster"] for tag, attrs in Page(html).tags if tag == "video"]
    assert posters == [media(built, "poster")]
    assert 'href="/channels/news/images"' in html
    data = get_json(client, "/channels/news.json")
    assert data["images"] == "/channels/news/images"
    assert sorted(data["media"]) == ["news/1", "news/2", "news/3", "news/5", "news/6", "news/7",
                                     "news/8"]  # fmt: skip
    assert [m["path"] for m in data["media"]["news/1"]] == [media(built, "A")]


# --- the gallery --------------------------------------------------------------------------

NEWS_IMAGES = ["B", "svg", "preview", "poster", "A"]  # newest post first


def test_the_gallery_lists_the_channels_stored_images_newest_first_by_pages(client, built):
    first = get_json(client, "/channels/news/images.json?limit=2")
    assert [i["sha256"] for i in first["images"]] == [built.sha[n] for n in NEWS_IMAGES[:2]]
    assert first["next"] == "/channels/news/images.json?limit=2&offset=2"
    second = get_json(client, first["next"])
    assert [i["sha256"] for i in second["images"]] == [built.sha[n] for n in NEWS_IMAGES[2:4]]
    third = get_json(client, second["next"])
    assert [i["sha256"] for i in third["images"]] == [built.sha["A"]]
    assert third["next"] is None
    assert [(i["post"], i["part"], i["image"]) for i in third["images"]] == [
        ("news/1", "file", f"/images/{built.sha['A']}")
    ]
    whole = get_json(client, "/channels/news/images.json")
    assert [i["sha256"] for i in whole["images"]] == [built.sha[n] for n in NEWS_IMAGES]


def test_the_gallery_page_links_each_image_to_its_page(client, built):
    html = get_html(client, "/channels/news/images?limit=2&offset=2")
    page = assert_safe_page(html)
    assert TELEGRAM_HOST not in html
    assert [attrs["src"] for attrs in images_of(html)] == [
        media(built, "preview"),
        media(built, "poster"),
    ]
    links = page.links()
    assert f"/images/{built.sha['preview']}" in links and "/posts/news/5" in links
    assert "/channels/news/images?limit=2&offset=4" in links


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/channels/nobody/images", 404),
        ("/channels/nobody/images.json", 404),
        ("/channels/news/images.json?limit=0", 400),
        ("/channels/news/images.json?offset=-1", 400),
        ("/channels/news/images.json?offset=x", 400),
    ],
)
def test_the_gallery_refuses_what_it_cannot_show(client, path, status):
    response = client.get(path)
    assert response.status_code == status


# --- an image's page ------------------------------------------------------------------------


def test_an_images_page_lists_every_post_that_carried_it_across_channels(client, built):
    data = get_json(client, f"/images/{built.sha['A']}.json")
    assert data["image"] == {
        "sha256": built.sha["A"], "path": media(built, "A"), "page": f"/images/{built.sha['A']}",
        "size": len(PICTURE_A), "mime": "image/jpeg", "width": 320, "height": 240,
        "duration": None,
    }  # fmt: skip
    assert data["channels"] == ["news", "other"]
    assert [
        (p["post"], p["channel"], p["date"], p["link"], p["excerpt"]) for p in data["posts"]
    ] == [
        ("news/1", "news", "2023-01-01T10:00:00+00:00", "/posts/news/1", "A picture"),
        ("other/1", "other", "2023-01-02T12:00:00+00:00", "/posts/other/1", "Reposted"),
    ]
    assert data["first"]["post"] == "news/1"
    assert [(p["source"], p["fetched_at"]) for p in data["posts"]] == [
        (f"{CDN}/a.jpg", FETCHED_AT),
        (f"{CDN}/a-again.jpg", FETCHED_AT),
    ]  # where each copy was fetched from, and when: the provenance of the evidence
    html = get_html(client, f"/images/{built.sha['A']}")
    assert f"<code>{CDN}/a.jpg</code>" in html


def test_an_images_page_lists_its_look_alikes_and_where_the_picture_travelled(client, built):
    data = get_json(client, f"/images/{built.sha['A']}.json")
    assert [(s["sha256"], [p["post"] for p in s["posts"]]) for s in data["similar"]] == [
        (built.sha["A2"], ["other/2"])
    ]  # A3 is not hashed yet: the page says so
    assert data["similar"][0]["width"] == 200 and data["similar"][0]["distance"] <= 24
    assert data["hashes_behind"] is True and data["hashed"] is True
    assert data["travel"]["channels"] == ["news", "other"]
    assert data["travel"]["posts"] == 3 and data["travel"]["first"]["post"] == "news/1"
    html = get_html(client, f"/images/{built.sha['A']}")
    assert_safe_page(html)
    assert [attrs["src"] for attrs in images_of(html)] == [media(built, "A"), media(built, "A2")]
    for link in ("/posts/news/1", "/posts/other/1", "/posts/other/2", "/channels/other"):
        assert f'href="{link}"' in html
    assert "no perceptual hash yet" in html


def test_an_image_not_hashed_yet_still_finds_the_pictures_it_copies(client, built):
    data = get_json(client, f"/images/{built.sha['A3']}.json")
    assert [p["post"] for p in data["posts"]] == ["other/3"]
    assert {s["sha256"] for s in data["similar"]} == {built.sha["A"], built.sha["A2"]}
    assert data["travel"]["first"]["post"] == "news/1"
    assert data["travel"]["channels"] == ["news", "other"]


def test_an_unrelated_image_has_no_look_alike(client, built):
    data = get_json(client, f"/images/{built.sha['B']}.json")
    assert data["similar"] == [] and [p["post"] for p in data["posts"]] == ["news/8"]
    assert "No other image of the archive looks like this one." in get_html(
        client, f"/images/{built.sha['B']}"
    )


@pytest.mark.parametrize("name", ["video", "html", "nothing", "short"])
def test_only_a_stored_image_has_a_page(client, built, name):
    sha = {"nothing": "0" * 64, "short": "abc"}.get(name) or built.sha[name]
    assert client.get(f"/images/{sha}").status_code == 404
    assert get_json(client, f"/images/{sha}.json", status=404)["ok"] is False


def test_the_media_pages_twins_are_announced(client, built):
    for path in (f"/images/{built.sha['A']}", "/channels/news/images"):
        html = get_html(client, path)
        assert f'<link rel="alternate" type="application/json" href="{path}.json">' in html


def test_the_policy_lets_pictures_and_videos_come_from_the_app_only(client):
    policy = client.get("/").headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["media-src"] == "'self'"
    assert directives["img-src"] == "'self'"  # never a picture from elsewhere


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/channels/news", 1), ("/posts/news/2", 1), ("/channels/news/images", 1)],
)
def test_a_page_reads_its_posts_media_in_one_query(built, monkeypatch, path, expected):
    assert media_queries(built, monkeypatch, path) == expected


def test_a_channel_s_stored_picture_heads_its_page(tmp_path):
    from tgscope.archive import Archive
    from tgscope.media.files import MediaStore
    from tgscope.record import Channel
    from tgscope.store.media import Wanted

    from .helpers import post, source
    from .web_media_archive import CDN, _keep, jpeg, picture

    path = tmp_path / "pictured.db"
    with Archive.open(path) as archive:
        archive.ingest(
            [Channel("news", title="News Daily"), post("news/1", "hi", channel="news")], source()
        )
        avatar = Wanted("@news", 0, "avatar", "photo", f"{CDN}/avatar.jpg")
        sha = _keep(
            archive,
            MediaStore.beside(path),
            tmp_path / "a.jpg",
            avatar,
            jpeg(picture(seed=5)),
            None,
        )
    client = TestClient(create_app(path))
    html = get_html(client, "/channels/news")
    assert f'<img class="avatar" src="/media/{sha}" alt="" width="64" height="64">' in html
    assert get_json(client, "/channels/news.json")["picture"] == f"/media/{sha}"
    assert "@news" not in get_json(client, "/channels/news.json")["media"]


def test_a_stored_file_gone_from_the_folder_is_said_gone_not_shown(tmp_path):
    from tgscope.archive import Archive
    from tgscope.media.files import MediaStore
    from tgscope.record import Channel
    from tgscope.store.media import Wanted

    from .helpers import post, source
    from .web_media_archive import CDN, _keep, jpeg, picture

    path = tmp_path / "gone.db"
    with Archive.open(path) as archive:
        item = {"type": "photo", "url": f"{CDN}/p.jpg"}
        archive.ingest([Channel("news"), post("news/1", "hi", channel="news", media=[item])],
                       source())  # fmt: skip
        photo = Wanted("news/1", 0, "file", "photo", f"{CDN}/p.jpg")
        store = MediaStore.beside(path)
        sha = _keep(archive, store, tmp_path / "p.jpg", photo, jpeg(picture(seed=6)), None)
    store.path_of(sha).unlink()
    client = TestClient(create_app(path))
    html = get_html(client, "/posts/news/1")
    assert f"/media/{sha}" not in html and "its file is gone from the archive" in html
    (medium,) = get_json(client, "/posts/news/1.json")["media"]
    assert (medium["status"], medium["path"]) == ("file_missing", None)
