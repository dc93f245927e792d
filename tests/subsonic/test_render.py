"""The renderer: one structure written as Subsonic's JSON and XML, by the same rules."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bandstand.subsonic import mapping
from bandstand.subsonic.render import envelope, to_json, to_xml
from tests.subsonic.support import NS, SCHEMA

pytestmark = pytest.mark.backend_free

MOMENT = datetime(2026, 12, 6, 1, 2, 3, 450000, tzinfo=UTC)
PAYLOAD = {
    "user": {
        "username": 'ann <&> "o\'neil"\nline',
        "email": None,
        "adminRole": False,
        "scrobblingEnabled": True,
        "settingsRole": True,
        "downloadRole": True,
        "uploadRole": False,
        "playlistRole": True,
        "coverArtRole": True,
        "commentRole": False,
        "podcastRole": False,
        "streamRole": True,
        "jukeboxRole": False,
        "shareRole": False,
        "avatarLastChanged": MOMENT.astimezone(timezone(timedelta(hours=2))),
        "folder": [1, 2],
    }
}


def test_json_keeps_the_structure_and_leaves_out_none() -> None:
    body = json.loads(to_json(envelope("ok", PAYLOAD)))["subsonic-response"]
    assert body["status"] == "ok" and body["openSubsonic"] is True
    user = body["user"]
    assert "email" not in user
    assert user["adminRole"] is False and user["folder"] == [1, 2]
    assert user["avatarLastChanged"] == "2026-12-06T01:02:03.450000Z"
    assert user["username"] == 'ann <&> "o\'neil"\nline'


def test_xml_makes_scalars_attributes_and_lists_repeated_elements() -> None:
    text = to_xml(envelope("ok", PAYLOAD)).decode()
    SCHEMA.validate(text)
    root = ET.fromstring(text)  # noqa: S314 - made by the test
    user = root.find(f"{NS}user")
    assert user is not None
    assert user.get("username") == 'ann <&> "o\'neil"\nline'
    assert user.get("adminRole") == "false" and user.get("streamRole") == "true"
    assert user.get("email") is None
    assert user.get("avatarLastChanged") == "2026-12-06T01:02:03.450000Z"
    assert [f.text for f in user.findall(f"{NS}folder")] == ["1", "2"]


def test_value_is_the_text_and_characters_xml_cannot_hold_are_replaced() -> None:
    payload = {"genres": {"genre": [{"songCount": 1, "albumCount": 1, "value": "a\x01b & c"}]}}
    text = to_xml(envelope("ok", payload)).decode()
    SCHEMA.validate(text)
    genre = ET.fromstring(text).find(f"{NS}genres/{NS}genre")  # noqa: S314 - made by the test
    assert genre is not None and genre.text == "a\ufffdb & c"
    assert json.loads(to_json(envelope("ok", payload)))["subsonic-response"]["genres"] == {
        "genre": [{"songCount": 1, "albumCount": 1, "value": "a\x01b & c"}]
    }


def test_empty_lists() -> None:
    payload = {"artists": {"ignoredArticles": "The", "index": []}}
    assert json.loads(to_json(envelope("ok", payload)))["subsonic-response"]["artists"] == {
        "ignoredArticles": "The",
        "index": [],
    }
    text = to_xml(envelope("ok", payload)).decode()
    SCHEMA.validate(text)
    assert '<artists ignoredArticles="The"></artists>' in text


def test_ids_of_every_kind_are_told_apart() -> None:
    ident = uuid.uuid4()
    kinds = {
        str(ident): mapping.Kind.SONG,
        f"al-{ident}": mapping.Kind.RELEASE,
        f"sg-{ident}": mapping.Kind.SINGLE,
        f"ar-{ident}": mapping.Kind.ARTIST,
        f"pl-{ident}": mapping.Kind.PLAYLIST,
    }
    for text, kind in kinds.items():
        assert mapping.parse_id(text) == mapping.Ref(kind, ident)
        cover = mapping.cover_art_id(text, "covers/abc/640.webp")
        assert cover is not None and cover.startswith(f"{text}_")
        assert mapping.parse_cover_art(cover) == mapping.Ref(kind, ident)
        assert mapping.parse_cover_art(text) == mapping.Ref(kind, ident)
    for bad in (None, "", "1", "al-", "xx-" + str(ident), "al-nope", "x" * 100):
        assert mapping.parse_id(bad) is None
    # The tag follows the picture.
    first = mapping.cover_art_id("al-x", "covers/a/640.webp")
    assert first != mapping.cover_art_id("al-x", "covers/b/640.webp")
    assert mapping.cover_art_id("al-x", None) is None
