"""The media URLs a web-preview page gives besides the files: video posters (``thumb``) and
link preview pictures (``image``), so that ``media fetch`` can keep them.

The fixtures are the project's own, written after the markup of ``t.me/s`` pages.
"""

from __future__ import annotations

import re

import pytest

from tgscope.record import Post
from tgscope.sources.web import parse_page

from .conftest import SHARED

CDN = "https://cdn.example/file"


def one_post(bubble: str) -> Post:
    """The post of a one-message page whose bubble holds ``bubble``."""
    html = (
        '<div class="tgme_widget_message js-widget_message" data-post="chan/7">'
        f'<div class="tgme_widget_message_bubble">{bubble}</div></div>'
    )
    page = parse_page(html, "")
    assert page.warnings == []
    return page.posts[0]


def background(name: str, url: str, tag: str = "i") -> str:
    return f'<{tag} class="{name}" style="background-image:url(\'{url}\')"></{tag}>'


def video_player(inner: str, classes: str = "", href: str = "https://t.me/chan/7") -> str:
    return (
        f'<a class="tgme_widget_message_video_player {classes} js-message_video_player"'
        f' href="{href}">{inner}'
        '<div class="message_media_not_supported_wrap"><div class="message_media_not_supported">'
        '<div class="message_media_not_supported_label">This media is not supported in your'
        " browser</div></div></div></a>"
    )


VIDEO = (
    '<div class="tgme_widget_message_video_wrap"><video src="https://cdn.example/v.mp4?t=1"'
    ' class="tgme_widget_message_video js-message_video"></video></div>'
    '<time class="message_video_duration js-message_video_duration">1:35</time>'
)


def test_a_video_keeps_its_poster():
    post = one_post(
        video_player(background("tgme_widget_message_video_thumb", f"{CDN}/p.jpg") + VIDEO)
    )
    assert post.media == [
        {
            "type": "video",
            "url": "https://cdn.example/v.mp4?t=1",
            "duration": 95,
            "thumb": "https://cdn.example/file/p.jpg",
        }
    ]


def test_a_gif_keeps_its_poster():
    gif = (
        '<div class="tgme_widget_message_video_wrap"><video src="https://cdn.example/g.mp4"'
        ' class="tgme_widget_message_video" muted autoplay loop playsinline></video></div>'
    )
    post = one_post(
        video_player(background("tgme_widget_message_video_thumb", f"{CDN}/g.jpg") + gif)
    )
    assert post.media == [
        {
            "type": "gif",
            "url": "https://cdn.example/g.mp4",
            "duration": None,
            "thumb": f"{CDN}/g.jpg",
        }
    ]


def test_a_video_too_big_to_show_still_keeps_its_poster():
    inner = background("tgme_widget_message_video_thumb", f"{CDN}/big.jpg") + (
        '<div class="tgme_widget_message_video_wrap"></div>'
        '<time class="message_video_duration js-message_video_duration">2:57</time>'
    )
    post = one_post(
        video_player(inner, "not_supported").replace(
            "This media is not supported in your browser", "Media is too big"
        )
    )
    assert post.media == [
        {
            "type": "video",
            "url": None,
            "duration": 177,
            "thumb": f"{CDN}/big.jpg",
            "unsupported": True,
            "reason": "too_big",
        }
    ]


def test_a_video_without_a_poster_has_no_thumb_key():
    post = one_post(video_player(VIDEO))
    assert post.media == [{"type": "video", "url": "https://cdn.example/v.mp4?t=1", "duration": 95}]


def test_a_round_video_keeps_its_poster_and_is_one_medium():
    """The "not supported in your browser" note inside a round video's player is shown only
    when the browser cannot play it: it is not a second attachment."""
    post = one_post(
        '<div class="tgme_widget_message_roundvideo_player js-message_roundvideo_player">'
        '<div class="tgme_widget_message_roundvideo_wrap">'
        + background("tgme_widget_message_roundvideo_thumb", f"{CDN}/r.jpg")
        + '<video class="tgme_widget_message_roundvideo" src="https://cdn.example/r.mp4"'
        " muted autoplay loop playsinline></video></div>"
        '<div class="message_media_not_supported_wrap js-message_roundvideo_not_supported">'
        '<div class="message_media_not_supported"><div class="message_media_not_supported_label">'
        "This media is not supported in your browser</div>"
        '<a href="https://t.me/chan/7" class="message_media_view_in_telegram">VIEW IN TELEGRAM'
        "</a></div></div>"
        '<time class="tgme_widget_message_roundvideo_duration">0:44</time></div>'
    )
    assert post.media == [
        {
            "type": "round_video",
            "url": "https://cdn.example/r.mp4",
            "duration": 44,
            "thumb": f"{CDN}/r.jpg",
        }
    ]


def test_album_items_keep_their_own_files_and_posters():
    album = (
        '<div class="tgme_widget_message_grouped_wrap js-message_grouped_wrap">'
        '<div class="tgme_widget_message_grouped js-message_grouped">'
        '<div class="tgme_widget_message_grouped_layer js-message_grouped_layer">'
        + background(
            "tgme_widget_message_photo_wrap grouped_media_wrap blured js-message_photo",
            f"{CDN}/a1.jpg",
            tag="a",
        ).replace("<a ", '<a href="https://t.me/chan/7?single" ')
        + video_player(
            background("tgme_widget_message_video_thumb", f"{CDN}/a2.jpg")
            + VIDEO.replace("v.mp4?t=1", "a2.mp4"),
            "grouped_media_wrap blured",
            href="https://t.me/chan/8?single",
        )
        + background(
            "tgme_widget_message_photo_wrap grouped_media_wrap blured js-message_photo",
            f"{CDN}/a3.jpg",
            tag="a",
        ).replace("<a ", '<a href="https://t.me/chan/9?single" ')
        + "</div></div></div>"
    )
    post = one_post(album)
    assert post.media == [  # in the album's order, not photos first
        {"type": "photo", "url": f"{CDN}/a1.jpg"},
        {
            "type": "video",
            "url": "https://cdn.example/a2.mp4",
            "duration": 95,
            "thumb": f"{CDN}/a2.jpg",
        },
        {"type": "photo", "url": f"{CDN}/a3.jpg"},
    ]


def test_a_document_gives_no_file_url():
    """The page links a file only to its post: nothing to download."""
    post = one_post(
        '<a class="tgme_widget_message_document_wrap" href="https://t.me/chan/7">'
        '<div class="tgme_widget_message_document_icon accent_bg"></div>'
        '<div class="tgme_widget_message_document">'
        '<div class="tgme_widget_message_document_title">report.pdf</div>'
        '<div class="tgme_widget_message_document_extra">1.5 MB</div></div></a>'
    )
    assert post.media == [{"type": "document", "file_name": "report.pdf", "size": 1572864}]


def link_preview(picture: str) -> str:
    return (
        '<a class="tgme_widget_message_link_preview" href="https://example.org/news/1">'
        '<div class="link_preview_site_name accent_color">Example</div>'
        f'{picture}<div class="link_preview_title">News</div>'
        '<div class="link_preview_description">What happened</div></a>'
    )


PREVIEW = {
    "url": "https://example.org/news/1",
    "site_name": "Example",
    "title": "News",
    "description": "What happened",
}


@pytest.mark.parametrize("name", ["link_preview_image", "link_preview_right_image"])
def test_a_link_preview_keeps_its_image(name):
    post = one_post(link_preview(background(name, f"{CDN}/lp.jpg")))
    assert post.link_preview == {**PREVIEW, "image": f"{CDN}/lp.jpg"}
    assert post.media == []


def test_a_link_preview_of_a_video_keeps_its_poster_as_image():
    player = (
        '<div class="link_preview_video_player js-message_video_player">'
        + background("link_preview_video_thumb", f"{CDN}/lpv.jpg")
        + '<div class="link_preview_video_wrap"><video class="link_preview_video"'
        ' src="https://cdn.example/lpv.mp4"></video></div>'
        '<time class="message_video_duration js-message_video_duration">0:11</time></div>'
    )
    post = one_post(link_preview(player))
    assert post.link_preview == {**PREVIEW, "image": f"{CDN}/lpv.jpg"}
    assert post.media == []


def test_a_link_preview_without_a_picture_has_no_image_key():
    post = one_post(link_preview(""))
    assert post.link_preview == PREVIEW
    assert "image" not in post.to_dict()["link_preview"]


def test_a_protocol_relative_picture_is_made_https_and_an_inline_one_is_skipped():
    poster = background("tgme_widget_message_video_thumb", "//cdn.example/file/p.jpg")
    inline = background("link_preview_image", "data:image/png;base64,iVBORw0KGgo=")
    post = one_post(video_player(poster + VIDEO) + link_preview(inline))
    assert post.media[0]["thumb"] == "https://cdn.example/file/p.jpg"
    assert post.link_preview == PREVIEW


# -- the shared corpus of real pages (skipped when it is absent) ----------------------------

CORPUS = SHARED / "corpus" / "tme_html"
PAGES = sorted(CORPUS.rglob("*.html")) if CORPUS.is_dir() else []
_CLASSES = re.compile(r'class="([^"]*)"')
_POSTERS = {"tgme_widget_message_video_thumb", "tgme_widget_message_roundvideo_thumb"}
_PICTURES = {"link_preview_image", "link_preview_right_image", "link_preview_video_thumb"}
_WEB_URL = re.compile(r"^https?://[^/\s]+/\S+$")


def count_of(html: str, names: set[str]) -> int:
    """How many elements of ``html`` carry one of the classes ``names``."""
    return sum(not names.isdisjoint(found.split()) for found in _CLASSES.findall(html))


@pytest.mark.skipif(not PAGES, reason="../shared/corpus is absent")
def test_every_poster_and_preview_picture_of_the_corpus_is_kept():
    """Each video poster the real pages hold ends up as a ``thumb``, each link preview
    picture as an ``image``, and every one is an absolute web address."""
    posters = pictures = 0
    for path in PAGES:
        html = path.read_text(encoding="utf-8")
        posts = parse_page(html, "").posts
        if not posts:
            continue  # a bare fragment or a channel header: no message to hold them
        thumbs = [item["thumb"] for post in posts for item in post.media if "thumb" in item]
        images = [
            p.link_preview["image"] for p in posts if p.link_preview and "image" in p.link_preview
        ]
        assert (len(thumbs), len(images)) == (
            count_of(html, _POSTERS),
            count_of(html, _PICTURES),
        ), path.name
        for url in thumbs + images:
            assert _WEB_URL.match(url), (path.name, url)
        posters += len(thumbs)
        pictures += len(images)
    assert (posters, pictures) == (12, 5)  # the corpus holds some of each
