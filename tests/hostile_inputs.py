"""Hostile inputs for every reader: deep nesting, wrong types, truncations, garbage, huge values.

Each generator yields :class:`Case` values (a file's name and bytes); ``tests/test_hostile.py``
feeds them to the real importer and checks that each ends, within bounded time and memory,
in a success or one line of error, never a traceback.  The inputs are built here, from the
project's own samples and fixtures; nothing is downloaded.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB_PAGE = (ROOT / "samples/rusembchina_page.html").read_text(encoding="utf-8")
DESKTOP_HTML = (ROOT / "tests/fixtures/desktop/messages.html").read_text(encoding="utf-8")
TEXTDUMP = (ROOT / "samples/russia_china_dump.txt").read_text(encoding="utf-8")
SNSCRAPE = (ROOT / "tests/fixtures/other/snscrape.jsonl").read_text(encoding="utf-8")

CHANNEL = "hostile"  # --channel for the files that do not name theirs
DEEP = 100_000  # levels of the deep-nesting inputs (the reproduction)


@dataclass(frozen=True)
class Case:
    name: str  # what the input is, for test ids and reports
    filename: str
    data: bytes
    format: str | None = None  # to name when the start of the file does not tell


# -- Telegram Desktop JSON -----------------------------------------------------------------


def desktop_messages() -> list[dict]:
    """A valid one-chat export's messages, using every field the reader maps."""
    stamp = {"date": "2022-11-15T12:00:00", "date_unixtime": "1668513600"}
    return [
        {"id": 1, "type": "service", **stamp, "actor": "Hostile", "action": "create_channel"}
        | {"title": "Hostile", "text": "", "text_entities": [], "members": ["A", None]},
        {"id": 2, "type": "message", **stamp, "from": "Hostile", "author": "Ann"}
        | {
            "text": ["Hello ", {"type": "bold", "text": "world"}, " #tag"],
            "text_entities": [
                {"type": "plain", "text": "Hello "},
                {"type": "bold", "text": "world"},
                {"type": "plain", "text": " "},
                {"type": "hashtag", "text": "#tag"},
                {"type": "text_link", "text": "!", "href": "https://example.org/"},
                {"type": "custom_emoji", "text": "x", "document_id": 5368},
            ],
            "reactions": [
                {"type": "emoji", "count": 3, "emoji": "👍"},
                {"type": "custom_emoji", "count": 1, "document_id": "5368"},
                {"type": "paid", "count": 2},
            ],
            "photo": "photos/photo_1.jpg",
            "width": 1280,
            "height": 853,
            "edited": "2022-11-15T12:05:00",
            "edited_unixtime": "1668513900",
        },
        {"id": 3, "type": "message", **stamp, "text": "A file", "forwarded_from": "Other"}
        | {
            "file": "files/a.pdf",
            "file_name": "a.pdf",
            "mime_type": "application/pdf",
            "media_type": "audio_file",
            "performer": "Band",
            "duration_seconds": 61,
            "file_size": 2048,
            "reply_to_message_id": 2,
            "via_bot": "@somebot",
            "inline_bot_buttons": [[{"type": "url", "text": "Open", "data": "https://x.org"}]],
        },
        {"id": 4, "type": "message", **stamp, "text": ""}
        | {
            "poll": {
                "question": "Yes?",
                "closed": False,
                "total_voters": 3,
                "answers": [{"text": "Yes", "voters": 2}, {"text": "No", "voters": 1}],
            },
            "location_information": {"latitude": 55.75, "longitude": 37.61},
            "place_name": "Moscow",
            "address": "Red Square",
            "contact_information": {"first_name": "A", "last_name": "B", "phone_number": "+1"},
        },
    ]


def desktop_export(messages: list | None = None, **header) -> dict:
    chat = {"name": "Hostile", "type": "public_channel", "id": 1700000001, **header}
    return {**chat, "messages": desktop_messages() if messages is None else messages}


def as_json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8", "surrogatepass")


#: wrong values for a field: every JSON kind, and numbers past what any field can hold
WRONG_VALUES: list = [
    "text",
    "",
    0,
    -1,
    1.5,
    1e300,
    2**62,
    [],
    [1, "a", None],
    [[{"x": 1}]],
    {"a": [1]},
    True,
    None,
]
#: message fields the reader maps (and ``id``), each tried with every wrong value
MESSAGE_FIELDS = sorted({key for message in desktop_messages() for key in message})


def desktop_json_wrong_types() -> Iterator[Case]:
    """Every field of every message kind set to every kind of wrong value."""
    for field in MESSAGE_FIELDS:
        for number, value in enumerate(WRONG_VALUES):
            messages = desktop_messages()
            for message in messages:
                if field in message:
                    message[field] = value
            data = as_json(desktop_export(messages))
            yield Case(f"desktop-json {field}={value!r}", f"type_{field}_{number}.json", data)
    for name, value in (
        ("header id 2^70", {"id": 2**70}),
        ("header name a list", {"name": ["x"]}),
        ("header type a number", {"type": 5}),
    ):
        yield Case(f"desktop-json {name}", "header.json", as_json(desktop_export(**value)))


def desktop_json_nested_pieces() -> Iterator[Case]:
    """Wrong kinds inside the parts: text pieces, reactions, poll answers, buttons."""
    parts = {
        "text_entities": ("text_entities", 0),
        "reactions": ("reactions", 0),
    }
    for name, (field, index) in parts.items():
        for number, value in enumerate(WRONG_VALUES):
            messages = desktop_messages()
            messages[1][field][index] = value
            yield Case(
                f"desktop-json {name}[0]={value!r}",
                f"part_{name}_{number}.json",
                as_json(desktop_export(messages)),
            )
            for key in ("text", "type", "href", "count", "emoji", "document_id"):
                messages = desktop_messages()
                item = messages[1][field][-1]
                item[key] = value
                yield Case(
                    f"desktop-json {name}[-1].{key}={value!r}",
                    f"part_{name}_{key}_{number}.json",
                    as_json(desktop_export(messages)),
                )
    for number, value in enumerate(WRONG_VALUES):
        for path in (
            "poll.answers",
            "poll.question",
            "location_information.latitude",
            "contact_information.first_name",
        ):
            messages = desktop_messages()
            outer, inner = path.split(".")
            messages[3][outer][inner] = value
            yield Case(
                f"desktop-json {path}={value!r}",
                f"part_{path}_{number}.json",
                as_json(desktop_export(messages)),
            )
        messages = desktop_messages()
        messages[2]["inline_bot_buttons"] = [[value], value]
        yield Case(
            f"desktop-json button={value!r}",
            f"button_{number}.json",
            as_json(desktop_export(messages)),
        )


def desktop_json_ids() -> Iterator[Case]:
    for number, value in enumerate([10**30, -(2**63) - 1, 2**63, "abc", "12", 1.0, None, True]):
        messages = desktop_messages()
        messages[1]["id"] = value
        yield Case(
            f"desktop-json id={value!r}", f"id_{number}.json", as_json(desktop_export(messages))
        )


def desktop_json_text_tricks() -> Iterator[Case]:
    """Lone surrogates, Telegram's ``\\xNN`` escapes, invalid UTF-8 and control bytes."""
    base = as_json(desktop_export()).replace(b'"A file"', b'"A @@ file"')
    for name, inside in (
        ("lone high surrogate", rb"\ud800"),
        ("lone low surrogate", rb"\udc00"),
        ("reversed pair", rb"\ude00\ud83d"),
        ("surrogate pair", rb"\ud83d\ude00"),
        ("\\x escape", rb"\x01"),
        ("escaped backslash then x", rb"\\x01"),
        ("invalid UTF-8", b"\xff\xfe"),
        ("raw control byte", b"\x07"),
        ("brackets in text", b"[[[[{{{{"),
        ("quote games", rb"\"[[[[\\\"{{{"),
    ):
        yield Case(f"desktop-json {name}", "tricks.json", base.replace(b"@@", inside))


def desktop_json_deep() -> Iterator[Case]:
    """The issue's deep nesting: in a message's text, in the header, unclosed."""
    text = b'{"name": "X", "type": "public_channel", "id": 1, "messages": [{"id": 1, "text": '
    yield Case(
        "desktop-json text [x100000]", "deep_list.json", text + b"[" * DEEP + b"]" * DEEP + b"}]}"
    )
    yield Case(
        "desktop-json text {a: x100000",
        "deep_map.json",
        text + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}]}",
    )
    yield Case("desktop-json text [x100000 unclosed", "deep_open.json", text + b"[" * DEEP)
    yield Case(
        "desktop-json header [x100000",
        "deep_header.json",
        b'{"name": "X", "type": "public_channel", "chats": ' + b"[" * DEEP,
    )
    yield Case(
        "desktop-json [ inside strings x100000",
        "deep_in_string.json",
        text + b'"' + b"[" * DEEP + b'"}]}',
    )
    yield Case("desktop-json 65 levels", "deep_65.json", text + b"[" * 65 + b"]" * 65 + b"}]}")


def truncations(data: bytes, name: str, filename: str, step: int) -> Iterator[Case]:
    for cut in range(step, len(data), step):
        yield Case(f"{name} cut at {cut}", filename, data[:cut])


def garbage(data: bytes, name: str, filename: str, count: int, seed: int) -> Iterator[Case]:
    """Random bytes written over random places of a valid file."""
    chance = random.Random(seed)
    for number in range(count):
        spoiled = bytearray(data)
        for _ in range(chance.randint(1, 4)):
            at = chance.randrange(len(spoiled))
            size = chance.randint(1, 16)
            spoiled[at : at + size] = bytes(chance.randrange(256) for _ in range(size))
        yield Case(f"{name} garbage #{number}", filename, bytes(spoiled))


def desktop_json_cases() -> Iterator[Case]:
    yield from desktop_json_wrong_types()
    yield from desktop_json_nested_pieces()
    yield from desktop_json_ids()
    yield from desktop_json_text_tricks()
    valid = as_json(desktop_export())
    yield from truncations(valid, "desktop-json", "cut.json", 97)
    yield from garbage(valid, "desktop-json", "garbage.json", 40, seed=1)


# -- HTML: saved web pages and Desktop HTML exports ---------------------------------------


def web_page_cases() -> Iterator[Case]:
    page = WEB_PAGE
    text_at = page.index('<div class="tgme_widget_message_text')
    text_at = page.index(">", text_at) + 1

    def inside_text(markup: str) -> bytes:
        return (page[:text_at] + markup + page[text_at:]).encode()

    for name, markup in (
        ("300 nested <b>", "<b>" * 300 + "x" + "</b>" * 300),
        ("3000 nested <span>", "<span>" * 3000 + "x"),
        ("1000 nested <div>", "<div>" * 1000 + "x" + "</div>" * 1000),
        ("100000 nested <x-a>", "<x-a>" * 20_000),
        ("a 1 MB word", "x" * 1_000_000),
        ("20000 links", '<a href="https://e.org/">e</a> ' * 20_000),
        ("stray < and &", "< <<< &&& &#xD800; &#0; &#x110000; </b></i></div>"),
    ):
        yield Case(f"web text {name}", "page.html", inside_text(markup))
    for value in (
        "rusembchina/²",
        "rusembchina/" + "9" * 30,
        "rusembchina/" + "9" * 5000,
        "rusembchina/-1",
        "/",
        "",
        "rusembchina/1/2",
        "ру/1",
    ):
        yield Case(
            f"web data-post={value[:40]!r}",
            "page.html",
            page.replace('data-post="rusembchina/500"', f'data-post="{value}"').encode(),
        )
    for old, new in (
        ('datetime="', 'datetime="99999-99-99T'),
        ('tgme_widget_message_views">', 'tgme_widget_message_views">' + "9" * 40),
        ('tgme_widget_message_views">', 'tgme_widget_message_views">' + "9" * 5000),
        ('data-before="', 'data-before="' + "9" * 40),
        ("https://t.me/mfarussia/", "https://t.me/mfarussia/" + "9" * 40),
        (
            '<div class="tgme_widget_message_bubble">',
            '<div class="tgme_widget_message_bubble"><div class="tgme_widget_message_error">'
            "Post not found</div>",
        ),
    ):
        yield Case(f"web {new[-40:]!r}", "page.html", page.replace(old, new).encode())
    yield from truncations(page.encode(), "web", "cut.html", 499)
    yield from garbage(page.encode(), "web", "garbage.html", 30, seed=2)


def desktop_html_cases() -> Iterator[Case]:
    page = DESKTOP_HTML
    text_at = page.index('<div class="text">') + len('<div class="text">')

    def inside_text(markup: str) -> bytes:
        return (page[:text_at] + markup + page[text_at:]).encode()

    for name, markup in (
        ("300 nested <strong>", "<strong>" * 300 + "x"),
        ("3000 nested <span>", "<span>" * 3000 + "x"),
        ("1000 nested <div>", "<div>" * 1000 + "x" + "</div>" * 1000),
    ):
        yield Case(f"desktop-html text {name}", "messages.html", inside_text(markup))
    for old, new in (
        ('id="message500"', 'id="message' + "9" * 40 + '"'),
        ('id="message500"', 'id="message²"'),
        ('title="15.11.2022 12:12:00 UTC+03:00"', 'title="99.99.9999 99:99:99 UTC+99:99"'),
        ('title="15.11.2022 12:12:00 UTC+03:00"', 'title="15.11.2022 12:12:00"'),
    ):
        yield Case(f"desktop-html {new[:50]!r}", "messages.html", page.replace(old, new).encode())
    yield from truncations(page.encode(), "desktop-html", "cut.html", 997)
    yield from garbage(page.encode(), "desktop-html", "garbage.html", 20, seed=3)


def textdump_cases() -> Iterator[Case]:
    dump = TEXTDUMP
    for name, extra in (
        ("views beyond 64 bits", "9" * 40 + " views"),
        ("views of 5000 digits", "9" * 5000 + " views"),
        ("reactions beyond 64 bits", "👍" + "9" * 30 + "❤2"),
        ("counters beyond 64 bits", "@hostile\n" + "9" * 40 + " subscribers"),
        ("a 2 MB line", "x" * 2_000_000),
        ("emoji soup", "👍🏻‍🔥❤️" * 5000),
    ):
        yield Case(f"textdump {name}", "dump.txt", (dump + "\n" + extra + "\n").encode())
    yield from truncations(dump.encode(), "textdump", "cut.txt", 1499)


# -- JSON Lines (the tgscope and snscrape readers) -----------------------------------------


def jsonl_cases() -> Iterator[Case]:
    """The issue's JSON Lines reproductions (the tabular reader's)."""
    record = {"key": "hostile/1", "channel": "hostile", "id": 1, "text": "hi", "sources": []}
    for name, change in (
        ("text a number", {"text": 5}),
        ("reply_to a string", {"reply_to": "x"}),
        ("sources [{kind: 1}]", {"sources": [{"kind": 1}]}),
        ("lone surrogate in text", {"text": "a\ud800b"}),
        ("id 10^30", {"id": 10**30}),
        ("nested arrays", {"text": "[" * DEEP}),
    ):
        line = json.dumps(record | change, ensure_ascii=True)
        if name == "nested arrays":
            line = json.dumps(record)[:-1] + ', "media": ' + "[" * DEEP + "]" * DEEP + "}"
        yield Case(f"tgscope-jsonl {name}", "export.jsonl", (line + "\n").encode())
    first = SNSCRAPE.splitlines()[0]
    for name, old, new in (
        ("content a number", '"content": "', '"content": 5, "x": "'),
        ("url without id", "mfarussia/16384", "mfarussia/x"),
        ("url id beyond 64 bits", "mfarussia/16384", "mfarussia/" + "9" * 30),
    ):
        yield Case(f"snscrape {name}", "posts.jsonl", (first.replace(old, new) + "\n").encode())


def all_cases() -> Iterator[Case]:
    """Every input that runs in-process (the deep-nesting ones run in their own process)."""
    yield from desktop_json_cases()
    yield from web_page_cases()
    yield from desktop_html_cases()
    yield from textdump_cases()


def heavy_cases() -> dict[str, Callable[[], Case]]:
    """The issue's largest reproductions, each run in its own process to measure its memory;
    made when a test asks for one (some are tens of megabytes)."""
    makers: dict[str, Callable[[], Case]] = {
        case.name: (lambda case=case: case) for case in desktop_json_deep()
    }
    big = "<div>" * DEEP + "x" + "</div>" * DEEP
    text_at = DESKTOP_HTML.index('<div class="text">') + len('<div class="text">')

    def deep_div() -> Case:
        page = WEB_PAGE.replace('<div class="tgme_widget_message_text', big + '<div class="x', 1)
        return Case("web 100000 nested <div>", "deep_div.html", page.encode())

    def deep_bold_italic() -> Case:
        page = WEB_PAGE.replace("Sergey Lavrov", "<b><i>" * (DEEP // 2), 1)
        return Case("web 100000 nested <b><i>", "deep_bi.html", page.encode())

    def deep_export_page() -> Case:
        page = DESKTOP_HTML[:text_at] + big + DESKTOP_HTML[text_at:]
        return Case("desktop-html 100000 nested <div>", "deep_messages.html", page.encode())

    def text_of(words: int, name: str, filename: str) -> Case:
        messages = desktop_messages()
        messages[2]["text"] = "@@"
        data = as_json(desktop_export(messages)).replace(
            b'"@@"', b'"' + "слово ".encode() * words + b'"'
        )
        return Case(name, filename, data)

    def many_messages() -> Case:
        many = [dict(desktop_messages()[2], id=number) for number in range(1, 20_001)]
        return Case("desktop-json 20,000 messages", "many.json", as_json(desktop_export(many)))

    def many_links() -> Case:
        links = "".join(f'<a href="https://e.org/{n}">{n}</a> ' for n in range(200_000))
        page = WEB_PAGE.replace("Sergey Lavrov", links, 1)
        return Case("web 200000 links in one post", "huge_page.html", page.encode())

    def fake_closes_in_comments() -> Case:
        trick = ("<div>" * 200 + "<!--" + "</a>" * 200 + "-->") * 500
        page = WEB_PAGE.replace("Sergey Lavrov", trick, 1)
        return Case(
            "web 100000 <div> between comments of end tags", "fake_ends.html", page.encode()
        )

    def fake_closes_in_scripts() -> Case:
        trick = ("<div>" * 200 + "<script>" + "</a>" * 200 + "</script>") * 500
        page = WEB_PAGE.replace("Sergey Lavrov", trick, 1)
        return Case("web 100000 <div> between scripts of end tags", "fake_ends.html", page.encode())

    for make in (
        deep_div,
        deep_bold_italic,
        deep_export_page,
        many_messages,
        many_links,
        fake_closes_in_comments,
        fake_closes_in_scripts,
    ):
        makers[make.__name__] = make
    makers["a 60 MB text"] = lambda: text_of(5_000_000, "a 60 MB text", "huge_text.json")
    makers.update(huge_posts())
    makers["a 0.9 MB text"] = lambda: text_of(80_000, "a 0.9 MB text", "long_text.json")
    return makers


HUGE = 60_000_000  # characters of one post in the huge-post cases (a Telegram text is 4,096)


def huge_posts() -> dict[str, Callable[[], Case]]:
    """One post of 60 MB in every reader that reads text: each should be refused in bounded
    memory (the line or the page is too long), not parsed at 20-27 times its size."""
    record = {"key": "hostile/1", "channel": "hostile", "id": 1, "text": "@@", "sources": []}

    def jsonl_line(name: str, filename: str, row: dict, text_key: str) -> Callable[[], Case]:
        def make() -> Case:
            line = json.dumps(row | {text_key: "@@"}, ensure_ascii=False)
            text = "слово " * (HUGE // 12)
            data = line.replace('"@@"', '"' + text + '"').encode() + b"\n"
            return Case(name, filename, data, name.split()[0])

        return make

    def json_array() -> Case:
        row = json.dumps([{"id": 1, "text": "@@"}, {"id": 2, "text": "short"}])
        return Case(
            "jsonl array with a 60 MB text",
            "rows.json",
            row.replace('"@@"', '"' + "слово " * (HUGE // 12) + '"').encode(),
            "jsonl",
        )

    def text_dump() -> Case:
        data = TEXTDUMP + "\n" + "слово " * (HUGE // 12) + "\n"
        return Case("textdump one 60 MB post", "dump.txt", data.encode())

    def text_dump_lines() -> Case:
        data = TEXTDUMP + "\n" + ("слово " * 16 + "\n") * (HUGE // 180) + "\n"
        return Case("textdump one 60 MB post in short lines", "dump.txt", data.encode())

    def saved_page() -> Case:
        page = WEB_PAGE.replace("Sergey Lavrov", "слово " * (HUGE // 12), 1)
        return Case("web page with a 60 MB post", "huge_post.html", page.encode())

    def saved_page_lines() -> Case:
        lines = ("слово " * 16 + "<br/>\n") * (HUGE // 180)
        page = WEB_PAGE.replace("Sergey Lavrov", lines, 1)
        return Case("web page of 60 MB in short lines", "huge_page.html", page.encode())

    def export_page() -> Case:
        page = DESKTOP_HTML.replace("Lavrov", "слово " * (HUGE // 12), 1)
        return Case("desktop-html page with a 60 MB message", "messages.html", page.encode())

    snscrape = json.loads(SNSCRAPE.splitlines()[0])
    return {
        "jsonl a 60 MB line": jsonl_line(
            "jsonl a 60 MB line", "rows.jsonl", {"id": 1, "text": ""}, "text"
        ),
        "tgscope-jsonl a 60 MB text": jsonl_line(
            "tgscope-jsonl a 60 MB text", "export.jsonl", record, "text"
        ),
        "snscrape a 60 MB content": jsonl_line(
            "snscrape a 60 MB content", "posts.jsonl", snscrape, "content"
        ),
        "jsonl array with a 60 MB text": json_array,
        "textdump one 60 MB post": text_dump,
        "textdump one 60 MB post in short lines": text_dump_lines,
        "web page with a 60 MB post": saved_page,
        "web page of 60 MB in short lines": saved_page_lines,
        "desktop-html page with a 60 MB message": export_page,
    }
