"""The web app's rendering of a post's text and counts: exact HTML, every part hostile."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tgscope.web.render import (
    LINK_REL,
    compact,
    diff_html,
    duration,
    human_size,
    link,
    render_text,
    safe_url,
)

REL = f'rel="{LINK_REL}"'


def entity(kind: str, offset: int, length: int, **extra) -> dict:
    return {"type": kind, "offset": offset, "length": length, **extra}


def rendered(text: str, *entities: dict) -> str:
    return str(render_text(text, list(entities)))


class TagBalance(HTMLParser):
    """Checks that every tag opened is closed, in order (well-formed markup)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.attrs: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text = ""

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        self.attrs.append((tag, attrs))

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()

    def handle_data(self, data):
        self.text += data


def balanced(html: str) -> TagBalance:
    parser = TagBalance()
    parser.feed(html)
    parser.close()
    assert parser.stack == []
    return parser


# -- one entity of each type ----------------------------------------------------------------

EACH_TYPE = [
    ("bold", {}, "<b>world</b>"),
    ("italic", {}, "<i>world</i>"),
    ("underline", {}, "<u>world</u>"),
    ("strikethrough", {}, "<s>world</s>"),
    ("code", {}, "<code>world</code>"),
    ("pre", {"language": "python"}, "<pre>world</pre>"),
    ("spoiler", {}, '<span class="spoiler">world</span>'),
    ("blockquote", {}, "<blockquote>world</blockquote>"),
    ("expandable_blockquote", {}, '<blockquote class="expandable">world</blockquote>'),
    ("custom_emoji", {"custom_emoji_id": "5368"}, '<span class="custom-emoji">world</span>'),
    ("text_link", {"url": "https://mid.ru/en/1"}, f'<a href="https://mid.ru/en/1" {REL}>world</a>'),
    ("url", {}, f'<a href="https://world" {REL}>world</a>'),
    ("email", {}, '<span class="entity-email">world</span>'),
    ("phone", {}, '<span class="entity-phone">world</span>'),
    ("bank_card", {}, '<span class="bank-card">world</span>'),
]


@pytest.mark.parametrize(("kind", "extra", "html"), EACH_TYPE, ids=[t[0] for t in EACH_TYPE])
def test_each_entity_type_gives_its_markup(kind, extra, html):
    assert rendered("Hello world!", entity(kind, 6, 5, **extra)) == f"Hello {html}!"


def test_a_url_entity_with_its_scheme_links_to_itself():
    text = "see https://example.org/a?b=1&c=2 now"
    assert rendered(text, entity("url", 4, 29)) == (
        f'see <a href="https://example.org/a?b=1&amp;c=2" {REL}>'
        "https://example.org/a?b=1&amp;c=2</a> now"
    )


def test_mentions_hashtags_and_cashtags_link_inside_the_app():
    text = "by @MFARussia #РоссияКитай $USD"
    assert rendered(
        text, entity("mention", 3, 10), entity("hashtag", 14, 12), entity("cashtag", 27, 4)
    ) == (
        'by <a href="/channels/mfarussia">@MFARussia</a>'
        ' <a href="/hashtags/%D1%80%D0%BE%D1%81%D1%81%D0%B8%D1%8F%D0%BA%D0%B8%D1%82%D0%B0%D0%B9">'
        "#РоссияКитай</a>"
        ' <a href="/search?q=%24USD">$USD</a>'
    )


def test_a_mention_that_is_not_a_username_is_only_text():
    assert rendered("@a b", entity("mention", 0, 4)) == '<span class="entity-mention">@a b</span>'
    assert rendered("x#y", entity("hashtag", 0, 3)) == '<span class="entity-hashtag">x#y</span>'


def test_an_email_is_never_a_mailto_link():
    html = rendered("write to a@b.example", entity("email", 9, 11))
    assert html == 'write to <span class="entity-email">a@b.example</span>'


# -- nesting and crossing -------------------------------------------------------------------


def test_nested_entities_put_the_longest_outside():
    html = rendered("abcdef", entity("italic", 2, 2), entity("bold", 0, 6))
    assert html == "<b>ab<i>cd</i>ef</b>"
    balanced(html)


def test_a_quote_with_bold_words_inside_stays_one_quote():
    text = "quoted and bold inside"
    html = rendered(text, entity("blockquote", 0, len(text)), entity("bold", 11, 4))
    assert html == "<blockquote>quoted and <b>bold</b> inside</blockquote>"


def test_a_link_inside_a_link_is_not_an_anchor_in_an_anchor():
    """HTML forbids nested anchors: a browser would close the outer link early."""
    text = "see #tag here"
    html = rendered(
        text, entity("text_link", 0, len(text), url="https://example.org/"), entity("hashtag", 4, 4)
    )
    depth = 0
    for tag in re.findall(r"<(/?)a[ >]", html):
        depth += -1 if tag else 1
        assert depth <= 1, html
    assert balanced(html).text == text


def test_entities_of_the_same_span_nest_in_their_order():
    assert rendered("abc", entity("bold", 0, 3), entity("italic", 0, 3)) == "<b><i>abc</i></b>"


def test_crossing_entities_are_closed_and_reopened():
    html = rendered("abcdef", entity("bold", 0, 4), entity("italic", 2, 4))
    assert html == "<b>ab<i>cd</i></b><i>ef</i>"
    balanced(html)


def test_a_link_crossing_bold_stays_well_formed():
    text = "one two three"
    html = rendered(
        text, entity("bold", 0, 7), entity("text_link", 4, 9, url="https://example.org/")
    )
    assert html == (
        f'<b>one <a href="https://example.org/" {REL}>two</a></b>'
        f'<a href="https://example.org/" {REL}> three</a>'
    )
    assert balanced(html).text == text


def test_many_crossing_entities_always_give_balanced_markup_and_the_same_text():
    text = "Привет, мир! 🇷🇺 Hello 😀 world, and more."
    kinds = ["bold", "italic", "underline", "spoiler", "code", "text_link", "strikethrough"]
    entities = [
        entity(kinds[i % len(kinds)], (i * 7) % len(text), 3 + (i * 5) % 11, url="https://a.b/")
        for i in range(20)
    ]
    html = rendered(text, *entities)
    assert balanced(html).text == text


# -- malformed entities ---------------------------------------------------------------------

MALFORMED = [
    ("negative offset", {"type": "bold", "offset": -1, "length": 3}),
    ("zero length", {"type": "bold", "offset": 1, "length": 0}),
    ("negative length", {"type": "bold", "offset": 2, "length": -2}),
    ("offset past the end", {"type": "bold", "offset": 50, "length": 3}),
    ("offset not a number", {"type": "bold", "offset": "x", "length": 3}),
    ("offset None", {"type": "bold", "offset": None, "length": 3}),
    ("offset NaN", {"type": "bold", "offset": float("nan"), "length": 3}),
    ("length infinite", {"type": "bold", "offset": 0, "length": float("inf")}),
    ("no offset", {"type": "bold", "length": 3}),
    ("no length", {"type": "bold", "offset": 0}),
    ("no type", {"offset": 0, "length": 3}),
    ("type not a string", {"type": ["bold"], "offset": 0, "length": 3}),
    ("unknown type", {"type": "marquee", "offset": 0, "length": 3}),
    ("not a dict", ["bold", 0, 3]),
    ("None", None),
    ("a string", "bold"),
]


@pytest.mark.parametrize("bad", [b for _, b in MALFORMED], ids=[name for name, _ in MALFORMED])
def test_a_malformed_entity_is_left_out(bad):
    assert str(render_text("a <b> c", [bad])) == "a &lt;b&gt; c"


def test_an_entity_running_past_the_end_stops_at_the_end():
    assert rendered("abc", entity("bold", 1, 100)) == "a<b>bc</b>"


def test_no_entities_is_the_escaped_text():
    assert str(render_text("x < y", None)) == "x &lt; y"
    assert str(render_text("", [entity("bold", 0, 3)])) == ""


def test_good_entities_are_kept_beside_malformed_ones():
    html = rendered("abc", {"type": "bold", "offset": "?", "length": 1}, entity("italic", 1, 1))
    assert html == "a<i>b</i>c"


# -- code points --------------------------------------------------------------------------


def test_offsets_count_code_points_across_emoji_and_astral_characters():
    text = "😀🇷🇺 𝔘𝔫𝔦 bold 👍🏽 end"
    start = text.index("bold")
    assert start == 8  # 😀, 🇷 🇺, space, three astral letters, space
    html = rendered(text, entity("bold", start, 4), entity("italic", 0, 1))
    assert html == "<i>😀</i>🇷🇺 𝔘𝔫𝔦 <b>bold</b> 👍🏽 end"


def test_an_entity_may_cover_a_flag_half():
    assert rendered("🇷🇺x", entity("bold", 1, 2)) == "🇷<b>🇺x</b>"


# -- hostile text and URLs ----------------------------------------------------------------


def test_hostile_text_is_escaped_outside_and_inside_entities():
    text = "<script>alert(1)</script> \"q\" 'a' & &amp;"
    expected = "&lt;script&gt;alert(1)&lt;/script&gt; &#34;q&#34; &#39;a&#39; &amp; &amp;amp;"
    assert str(render_text(text, [])) == expected
    html = rendered(text, entity("bold", 0, len(text)))
    assert html == f"<b>{expected}</b>"


HOSTILE_URLS = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java\x00script:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "/relative/path",
    "relative",
    "//evil.com/x",
    "http:evil.com",
    "https:/evil.com",
    "",
    "   ",
    "ftp://example.org/",
    "https://exa mple.org/",
    None,
    42,
    ["https://example.org/"],
]


@pytest.mark.parametrize("url", HOSTILE_URLS, ids=[repr(u) for u in HOSTILE_URLS])
def test_a_hostile_text_link_is_only_text(url):
    html = rendered("click", entity("text_link", 0, 5, url=url))
    assert html == '<span class="entity-text_link">click</span>'
    assert safe_url(url) is None
    assert str(link(url, "<b>x</b>")) == "&lt;b&gt;x&lt;/b&gt;"


def test_a_url_entity_whose_text_names_another_scheme_is_only_text():
    for text in ("javascript://%0aalert(1)", "data://x", "vbscript://x"):
        assert rendered(text, entity("url", 0, len(text))) == (
            f'<span class="entity-url">{text}</span>'
        )


def test_quotes_in_a_link_cannot_leave_the_attribute():
    url = "https://example.org/?q=\"><script>alert(1)</script>&x='y'"
    html = rendered("x", entity("text_link", 0, 1, url=url))
    assert html == (
        '<a href="https://example.org/?q=&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;'
        f'&amp;x=&#39;y&#39;" {REL}>x</a>'
    )
    ((tag, attrs),) = balanced(html).attrs
    assert tag == "a" and dict(attrs) == {"href": url, "rel": LINK_REL}


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org",
        "https://example.org/a?b=1",
        "HTTPS://EXAMPLE.ORG/",
        "tg://resolve?domain=mfarussia",
        "tg:resolve?domain=x",
    ],
)
def test_safe_url_keeps_http_https_and_tg(url):
    assert safe_url(url) == url


def test_safe_url_strips_surrounding_spaces():
    assert safe_url("  https://example.org/ ") == "https://example.org/"


# -- link ---------------------------------------------------------------------------------


def test_link_escapes_url_and_label():
    html = str(link('https://example.org/?a=1&b="2"', "<i>A & B</i>"))
    assert html == (
        '<a href="https://example.org/?a=1&amp;b=&#34;2&#34;"'
        f" {REL}>&lt;i&gt;A &amp; B&lt;/i&gt;</a>"
    )


def test_link_with_a_class():
    assert str(link("https://t.me/x", "x", css="tg")) == (
        f'<a href="https://t.me/x" {REL} class="tg">x</a>'
    )


def test_link_without_a_safe_url_is_the_escaped_label():
    assert str(link(None, "a < b")) == "a &lt; b"


# -- diff ---------------------------------------------------------------------------------


def test_diff_marks_removed_and_added_words():
    assert str(diff_html("a b c", "a x c")) == "a <del>b</del><ins>x</ins> c"


def test_diff_of_an_addition_and_a_removal():
    assert str(diff_html("one two", "one two three")) == "one two<ins> three</ins>"
    assert str(diff_html("one two three", "one three")) == "one <del>two </del>three"


def test_diff_of_equal_texts_is_the_text():
    assert str(diff_html("same  text", "same  text")) == "same  text"


def test_diff_escapes_both_sides():
    html = str(diff_html("<b>old</b> & x", "<script>new</script> & x"))
    assert html == (
        "<del>&lt;b&gt;old&lt;/b&gt;</del><ins>&lt;script&gt;new&lt;/script&gt;</ins> &amp; x"
    )
    balanced(html)


def test_diff_of_cyrillic_words():
    assert str(diff_html("Первая редакция", "Вторая редакция")) == (
        "<del>Первая</del><ins>Вторая</ins> редакция"
    )


# -- counts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        (0, "0"),
        (950, "950"),
        (999, "999"),
        (1000, "1K"),
        (1050, "1.1K"),
        (12_300, "12.3K"),
        (999_999, "1M"),
        (1_000_000, "1M"),
        (4_100_000, "4.1M"),
        (2.5, "2.5"),
        (None, ""),
        ("12", ""),
    ],
)
def test_compact(number, shown):
    assert compact(number) == shown


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KB"),
        (2_202_010, "2.1 MB"),
        (3 * 1024**3, "3.0 GB"),
        (5 * 1024**4, "5.0 TB"),
        (-1, ""),
        (None, ""),
        ("10", ""),
    ],
)
def test_human_size(size, shown):
    assert human_size(size) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0:00"),
        (5, "0:05"),
        (65, "1:05"),
        (95.7, "1:35"),
        (3600, "1:00:00"),
        (3723, "1:02:03"),
        (-1, ""),
        (None, ""),
        ("60", ""),
    ],
)
def test_duration(seconds, shown):
    assert duration(seconds) == shown
