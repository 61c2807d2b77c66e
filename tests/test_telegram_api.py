"""The Telegram API source, offline: Telethon's own message types, built without a network.

The collector is driven by a stand-in for Telethon's client (``FakeClient``) because tests
never reach Telegram; everything it hands over is a real Telethon object.
"""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime

import pytest

telethon = pytest.importorskip("telethon")
from telethon import errors  # noqa: E402
from telethon.tl import types  # noqa: E402

from tgscope.archive import Archive  # noqa: E402
from tgscope.collect.api_sync import (  # noqa: E402
    Credentials,
    api_session,
    load_credentials,
    login,
    save_credentials,
    sync_api,
    sync_api_channel,
)
from tgscope.collect.http import Wait  # noqa: E402
from tgscope.errors import FetchError, OptionError  # noqa: E402
from tgscope.record import Post  # noqa: E402
from tgscope.sources.telegram_api import message_to_post  # noqa: E402

WHEN = datetime(2022, 11, 15, 9, 12, tzinfo=UTC)
MFA = 1098765432


def message(number: int, text: str = "", **fields) -> types.Message:
    return types.Message(
        id=number, peer_id=types.PeerChannel(1234567890), date=WHEN, message=text, **fields
    )


def test_a_full_message_maps_to_the_exact_record():
    text = "🇷🇺 Sergey Lavrov met #RussiaChina partners.\nRead in full · @MFARussia"
    source = message(
        500,
        text,
        # offsets in UTF-16 units: the flag is four of them, two code points
        entities=[
            types.MessageEntityBold(offset=5, length=13),
            types.MessageEntityHashtag(offset=23, length=12),
            types.MessageEntityTextUrl(offset=46, length=12, url="https://mid.ru/en/1"),
            types.MessageEntityMention(offset=61, length=10),
        ],
        views=12345,
        forwards=31,
        replies=types.MessageReplies(replies=4, replies_pts=0),
        reactions=types.MessageReactions(
            results=[
                types.ReactionCount(reaction=types.ReactionEmoji("👍"), count=1203),
                types.ReactionCount(
                    reaction=types.ReactionCustomEmoji(5368324170671202286), count=7
                ),
                types.ReactionCount(reaction=types.ReactionPaid(), count=15),
            ]
        ),
        fwd_from=types.MessageFwdHeader(
            date=WHEN, from_id=types.PeerChannel(MFA), channel_post=16384
        ),
        edit_date=WHEN,
        post_author="Press Office",
        grouped_id=13579,
        media=types.MessageMediaPhoto(photo=None),
    )
    post = message_to_post(
        source, "rusembchina", "Посольство", {MFA: ("MFARussia", "Russian MFA 🇷🇺")}
    )
    assert post == Post(
        key="rusembchina/500",
        channel="rusembchina",
        channel_title="Посольство",
        id=500,
        date="2022-11-15T09:12:00+00:00",
        text=text,
        entities=[
            {"type": "bold", "offset": 3, "length": 13},
            {"type": "hashtag", "offset": 21, "length": 12},
            {"type": "text_link", "offset": 44, "length": 12, "url": "https://mid.ru/en/1"},
            {"type": "mention", "offset": 59, "length": 10},
        ],
        views=12345,
        forwards=31,
        replies=4,
        reactions=[
            {"emoji": "👍", "count": 1203},
            {"custom_emoji_id": "5368324170671202286", "count": 7},
            {"paid": True, "count": 15},
        ],
        forwarded_from={"title": "Russian MFA 🇷🇺", "channel": "mfarussia", "id": 16384},
        media=[{"type": "photo", "url": None}],
        hashtags=["RussiaChina"],
        mentions=["mfarussia"],
        links=["https://mid.ru/en/1"],
        author="Press Office",
        edited=True,
        album_id="rusembchina/album-13579",
    )


def test_documents_polls_places_previews_and_service_messages():
    video = types.Document(
        id=1,
        access_hash=0,
        file_reference=b"",
        date=WHEN,
        mime_type="video/mp4",
        size=1048576,
        dc_id=2,
        attributes=[
            types.DocumentAttributeVideo(duration=95.2, w=1280, h=720),
            types.DocumentAttributeFilename(file_name="v.mp4"),
        ],
    )
    voice = types.Document(
        id=2,
        access_hash=0,
        file_reference=b"",
        date=WHEN,
        mime_type="audio/ogg",
        size=2048,
        dc_id=2,
        attributes=[types.DocumentAttributeAudio(duration=7, voice=True)],
    )
    poll = types.MessageMediaPoll(
        poll=types.Poll(
            id=1,
            question=types.TextWithEntities("Will you come?", []),
            answers=[
                types.PollAnswer(types.TextWithEntities("Yes", []), b"0"),
                types.PollAnswer(types.TextWithEntities("No", []), b"1"),
            ],
            hash=0,
        ),
        results=types.PollResults(
            results=[
                types.PollAnswerVoters(option=b"0", voters=7),
                types.PollAnswerVoters(option=b"1", voters=3),
            ],
            total_voters=10,
        ),
    )
    preview = types.MessageMediaWebPage(
        webpage=types.WebPage(
            id=1,
            url="https://mid.ru/en/2",
            display_url="mid.ru/en/2",
            hash=0,
            site_name="mid.ru",
            title="Statement",
            description="Full text",
        )
    )
    posts = [
        message_to_post(m, "chan")
        for m in (
            message(1, media=types.MessageMediaDocument(document=video)),
            message(2, media=types.MessageMediaDocument(document=voice, voice=True)),
            message(3, media=poll),
            message(4, media=types.MessageMediaGeo(geo=types.GeoPoint(116.4452, 39.9522, 0))),
            message(
                5,
                "See https://mid.ru/en/2",
                media=preview,
                entities=[types.MessageEntityUrl(offset=4, length=19)],
            ),
            types.MessageService(
                id=6,
                peer_id=types.PeerChannel(1),
                date=WHEN,
                action=types.MessageActionChannelCreate(title="Chan"),
            ),
        )
    ]
    assert [post.media for post in posts[:4]] == [
        [
            {
                "type": "video",
                "url": None,
                "mime_type": "video/mp4",
                "size": 1048576,
                "duration": 95,
                "width": 1280,
                "height": 720,
                "file_name": "v.mp4",
            }
        ],
        [{"type": "voice", "url": None, "mime_type": "audio/ogg", "size": 2048, "duration": 7}],
        [
            {
                "type": "poll",
                "poll": {
                    "question": "Will you come?",
                    "closed": False,
                    "total_voters": 10,
                    "options": [{"text": "Yes", "voters": 7}, {"text": "No", "voters": 3}],
                },
            }
        ],
        [{"type": "location", "latitude": 39.9522, "longitude": 116.4452}],
    ]
    assert posts[4].link_preview == {
        "url": "https://mid.ru/en/2",
        "site_name": "mid.ru",
        "title": "Statement",
        "description": "Full text",
    }
    assert posts[4].links == ["https://mid.ru/en/2"]
    assert posts[5].service == "Channel created (Chan)"


class FakeClient:
    """Stands in for Telethon's ``TelegramClient`` (no network in tests): it serves real
    ``types.Message`` objects the way ``iter_messages`` does, and can raise FloodWait."""

    def __init__(self, count: int, floods: list[int] | None = None, *, authorized: bool = True):
        self.messages = [
            message(n, f"Post number {n} about the talks") for n in range(1, count + 1)
        ]
        self.floods = list(floods or [])
        self.calls = 0
        self.authorized = authorized
        self.log: list[str] = []  # connections, logins

    def connect(self):
        self.log.append("connect")

    def disconnect(self):
        self.log.append("disconnect")

    def is_user_authorized(self):
        return self.authorized

    def start(self, *, phone, code_callback=None, password=None):
        self.log.append(f"start {phone} code={code_callback()} password={password}")
        self.authorized = True

    def get_entity(self, name):
        if name != "rusembchina":
            raise ValueError(f'No user has "{name}" as username')
        return types.Channel(id=1234567890, title="Посольство", photo=None, date=WHEN)

    def iter_messages(self, entity, *, limit, offset_id, min_id):
        self.calls += 1
        if self.floods:
            raise errors.FloodWaitError(request=None, capture=self.floods.pop(0))
        older = [m for m in reversed(self.messages) if (not offset_id or m.id < offset_id)]
        return [m for m in older if m.id > min_id][:limit]


def test_the_collector_resumes_sleeps_on_short_floods_and_stops_on_long_ones(db_path):
    client, waited = FakeClient(250, floods=[3]), []
    with Archive.open(db_path) as archive:
        first = sync_api_channel(archive, "rusembchina", client=client, sleep=waited.append)
        client.messages += [message(n, f"Later post {n}") for n in range(251, 261)]
        client.floods = [600]
        with pytest.raises(FetchError, match=r"wait 600 s \(FloodWait\); stopped at message"):
            sync_api_channel(archive, "rusembchina", client=client, sleep=waited.append)
        again = sync_api_channel(archive, "rusembchina", client=client, sleep=waited.append)
        posts = list(archive.posts())
    assert waited == [3]
    assert (first.added, first.stopped) == (250, "reached the first message")
    assert (again.added, again.stopped) == (10, "reached message 250, archived before")
    assert sorted(p.id for p in posts) == list(range(1, 261))
    assert {s["kind"] for p in posts for s in p.sources} == {"api"}


def test_credentials_are_private_and_never_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("TGSCOPE_CONFIG", str(tmp_path / "config"))
    monkeypatch.delenv("TGSCOPE_API_ID", raising=False)
    monkeypatch.delenv("TGSCOPE_API_HASH", raising=False)
    with pytest.raises(OptionError, match="run tgscope auth"):
        load_credentials()
    path = save_credentials(Credentials(12345, "0123456789abcdef"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"api_id": 12345, "api_hash": "0123456789abcdef"}
    loaded = load_credentials()
    assert loaded == Credentials(12345, "0123456789abcdef")
    assert "0123456789abcdef" not in repr(loaded) and "12345" not in repr(loaded)
    monkeypatch.setenv("TGSCOPE_API_HASH", "fromtheenvironment")
    assert load_credentials().api_hash == "fromtheenvironment"


def test_media_that_is_gone_or_empty_does_not_stop_the_mapping():
    posts = [
        message_to_post(m, "chan")
        for m in (
            message(1, media=types.MessageMediaDocument(document=None)),
            message(2, media=types.MessageMediaDocument(document=types.DocumentEmpty(id=5))),
            message(3, media=types.MessageMediaGeo(geo=types.GeoPointEmpty())),
        )
    ]
    assert [post.media for post in posts] == [
        [{"type": "document", "unsupported": True, "reason": "no longer available"}],
        [{"type": "document", "unsupported": True, "reason": "no longer available"}],
        [{"type": "location"}],
    ]


def test_the_session_folder_is_private(tmp_path, monkeypatch):
    from tgscope.collect.api_sync import keep_private, private_folder

    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    monkeypatch.setenv("TGSCOPE_CONFIG", str(folder))
    session = folder / "telegram.session"
    session.write_text("secret")
    session.chmod(0o644)
    private_folder()
    keep_private(session)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(session.stat().st_mode) == 0o600


def test_the_api_sync_is_a_library_call(db_path, tmp_path, monkeypatch):
    from tgscope.collect import api_sync

    monkeypatch.setenv("TGSCOPE_CONFIG", str(tmp_path / "config"))
    client, announced, slept = FakeClient(150, floods=[5]), [], []
    monkeypatch.setattr(api_sync, "make_client", lambda credentials: client)
    with (
        api_session(Credentials(1, "hash")) as session,
        Archive.open(db_path) as archive,
    ):
        outcomes = list(
            sync_api(
                archive,
                ["@RusEmbChina", "nosuchchannel"],
                client=session,
                max_wait=10,
                on_wait=announced.append,
                sleep=slept.append,
            )
        )
        found = archive.search("talks", limit=1).total
    (first, report), (second, error) = outcomes
    assert (first, report.added, report.stopped) == (
        "@RusEmbChina",
        150,
        "reached the first message",
    )
    assert (second, str(error)) == (
        "nosuchchannel",
        "nosuchchannel: the Telegram API does not know this channel",
    )
    assert announced == [Wait("telegram-api:rusembchina", 5, "FloodWait", "Telegram asks")]
    assert slept == [5]
    assert found == 150  # the index was committed at the end of the channel
    assert client.log == ["connect", "disconnect"]


def test_an_api_session_needs_a_login_first(tmp_path, monkeypatch):
    from tgscope.collect import api_sync

    monkeypatch.setenv("TGSCOPE_CONFIG", str(tmp_path / "config"))
    client = FakeClient(1, authorized=False)
    monkeypatch.setattr(api_sync, "make_client", lambda credentials: client)
    with (
        pytest.raises(OptionError, match="not logged in to the Telegram API"),
        api_session(Credentials(1, "hash")),
    ):
        pass
    assert client.log == ["connect", "disconnect"]


def test_login_keeps_the_credentials_and_the_session_private(tmp_path, monkeypatch):
    monkeypatch.setenv("TGSCOPE_CONFIG", str(tmp_path / "config"))
    client = FakeClient(0, authorized=False)
    path = login(
        Credentials(12345, "0123456789abcdef"),
        "+10000000000",
        code_callback=lambda: "54321",
        client=client,
    )
    assert client.log == ["start +10000000000 code=54321 password=None", "disconnect"]
    assert path == tmp_path / "config" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_credentials() == Credentials(12345, "0123456789abcdef")


def test_a_flood_wait_past_max_wait_stops_the_channel(db_path):
    with Archive.open(db_path) as archive:
        [(_, error)] = sync_api(
            archive, ["rusembchina"], client=FakeClient(10, floods=[30]), max_wait=20
        )
    assert str(error) == (
        "rusembchina: Telegram asks to wait 30 s (FloodWait); stopped at message the newest:"
        " run the sync again later to continue"
    )
