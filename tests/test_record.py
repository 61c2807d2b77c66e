from __future__ import annotations

import json

import pytest

from tgscope.record import FIELD_NAMES, Post

FULL = {
    "key": "mfarussia/16384",
    "channel": "mfarussia",
    "channel_title": "Russian MFA 🇷🇺",
    "id": 16384,
    "date": "2022-11-15T09:12:00+00:00",
    "text": "🇷🇺🇨🇳 Lavrov’s remarks\nRead in full\n#RussiaChina",
    "entities": [{"type": "text_link", "offset": 20, "length": 12, "url": "https://mid.ru/x"}],
    "views": 12300,
    "forwards": 31,
    "replies": 4,
    "reactions": [
        {"emoji": "👍", "count": 11},
        {"custom_emoji_id": "5368324170671202286", "count": 2},
        {"paid": True, "count": 5},
    ],
    "forwarded_from": {"title": "Russian MFA 🇷🇺", "channel": "mfarussia", "id": 16380},
    "reply_to": {"channel": "mfarussia", "id": 16301},
    "media": [{"type": "video", "url": None, "duration": 95, "unsupported": True}],
    "link_preview": {
        "url": "https://mid.ru/x",
        "site_name": "mid.ru",
        "title": "T",
        "description": "D",
    },
    "buttons": [{"text": "Read", "url": "https://mid.ru/x"}],
    "hashtags": ["RussiaChina"],
    "mentions": [],
    "links": ["https://mid.ru/x"],
    "author": None,
    "via_bot": "mfa_bot",
    "edited": False,
    "service": None,
    "album_id": None,
    "sources": [
        {
            "kind": "web",
            "ref": "https://t.me/s/mfarussia",
            "observed_at": "2026-11-28T07:00:00+00:00",
        }
    ],
}


def test_fields_are_the_documented_ones_in_order():
    assert list(FIELD_NAMES) == list(FULL)


def test_json_round_trip_is_exact():
    post = Post.from_dict(FULL)
    assert post.to_dict() == FULL
    line = post.to_json()
    assert "\n" not in line and "🇷🇺" in line
    assert Post.from_json(line) == post
    assert json.loads(line) == FULL


def test_defaults_are_null_or_empty_never_guessed():
    assert Post(key="k").to_dict() == {
        name: (
            []
            if name
            in {"entities", "reactions", "media", "buttons", "hashtags", "mentions", "links"}
            | {"sources"}
            else None
        )
        for name in FIELD_NAMES
    } | {"key": "k", "text": "", "edited": False}


def test_unknown_fields_are_ignored_and_key_is_required():
    assert Post.from_dict({"key": "a", "future_field": 1}) == Post(key="a")
    with pytest.raises(ValueError, match="key"):
        Post.from_dict({"text": "no key"})
