"""The account a user sees and changes, and what others may see of it."""

from __future__ import annotations

import uuid

from tests.audio import tone
from tests.conftest import PASSWORD, Harness, bearer
from tests.images import png_bytes
from tests.schema_check import assert_conforms
from tests.songs.support import artist, uploaded

ME = "/api/v1/users/current-user"
UPDATE = "/api/v1/users/update-account"


async def _logged_in(harness: Harness, **kwargs: str) -> tuple[dict[str, str], dict[str, object]]:
    user = await harness.sign_up(**kwargs)
    tokens = await harness.log_in(harness.client(), kwargs.get("email_address", "jane@example.com"))
    return bearer(tokens["accessToken"]), user


async def test_current_user_shows_no_secrets(harness: Harness) -> None:
    auth, _ = await _logged_in(harness)
    body = (await harness.client().get(ME, headers=auth)).json()
    # Written by hand (a busy route): exactly what its schema says, all the same.
    assert_conforms(harness.app, "GET", ME, body)
    data = body["data"]
    assert set(data) == {
        "_id",
        "username",
        "fullname",
        "avatar",
        "email",
        "role",
        "twoFactor",
        "createdAt",
        "updatedAt",
        "quota",
    }
    assert data["role"] == "user" and data["twoFactor"] is False


async def test_update_account_whitelist(harness: Harness) -> None:
    auth, _ = await _logged_in(harness)
    client = harness.client()
    changed = await client.patch(UPDATE, json={"fullname": "  Jane Q. Doe  "}, headers=auth)
    assert changed.status_code == 200
    assert changed.json()["data"]["fullname"] == "Jane Q. Doe"
    for body in (
        {"role": "admin"},
        {"fullname": "X", "role": "admin"},
        {"fullname": "X", "password_hash": "x"},
        {"_id": str(uuid.uuid4())},
        {},
    ):
        response = await client.patch(UPDATE, json=body, headers=auth)
        assert response.status_code == 400, body
    assert await harness.sql("SELECT role, fullname FROM users") == [("user", "Jane Q. Doe")]


async def test_username_change_is_unique_case_insensitively(harness: Harness) -> None:
    await harness.sign_up(email_address="other@example.com", username="taken")
    auth, _ = await _logged_in(harness)
    client = harness.client()
    clash = await client.patch(UPDATE, json={"username": "TAKEN"}, headers=auth)
    assert clash.status_code == 409
    own_case = await client.patch(UPDATE, json={"username": "JaneDoe"}, headers=auth)
    assert own_case.status_code == 200
    assert own_case.json()["data"]["username"] == "JaneDoe"
    await harness.log_in(harness.client("10.5.5.5"), "janedoe")


async def test_email_change_needs_the_current_password(harness: Harness) -> None:
    await harness.sign_up(email_address="other@example.com", username="other")
    auth, _ = await _logged_in(harness)
    client = harness.client()
    no_password = await client.patch(UPDATE, json={"email": "new@example.com"}, headers=auth)
    assert no_password.status_code == 400
    wrong = await client.patch(
        UPDATE, json={"email": "new@example.com", "currentPassword": "wrong-one"}, headers=auth
    )
    assert wrong.status_code == 400
    clash = await client.patch(
        UPDATE, json={"email": "OTHER@example.com", "currentPassword": PASSWORD}, headers=auth
    )
    assert clash.status_code == 409
    # Right password, free address: the change waits for its code (test_email_change.py).
    done = await client.patch(
        UPDATE, json={"email": "New@Example.com", "currentPassword": PASSWORD}, headers=auth
    )
    assert done.status_code == 200
    assert done.json()["data"]["email"] == "jane@example.com"
    assert done.json()["data"]["pendingEmail"] == "new@example.com"


async def test_update_avatar_replaces_and_removes_the_old_file(harness: Harness) -> None:
    auth, user = await _logged_in(harness)
    client = harness.client()
    [old] = harness.media_files()
    response = await client.patch(
        "/api/v1/users/update-avatar",
        files={"avatar": ("new.png", png_bytes(color=(1, 2, 3)), "image/png")},
        headers=auth,
    )
    assert response.status_code == 200, response.text
    [new] = harness.media_files()
    assert new != old and not old.exists()
    assert response.json()["data"]["avatar"].endswith(new.name)
    assert user["avatar"] != response.json()["data"]["avatar"]


async def test_update_avatar_refuses_what_is_not_an_image(harness: Harness) -> None:
    auth, _ = await _logged_in(harness)
    client = harness.client()
    before = harness.media_files()
    for name, data in (
        ("a.png", b"#!/bin/sh\nrm -rf /\n"),
        ("a.png", b""),
        ("a.gif", b"GIF89a" + b"\0" * 20),
    ):
        response = await client.patch(
            "/api/v1/users/update-avatar", files={"avatar": (name, data, "image/png")}, headers=auth
        )
        assert response.status_code in (400, 415), response.text
    assert harness.media_files() == before


async def test_public_profile_and_content(harness: Harness) -> None:
    other = await harness.sign_up(email_address="artist@example.com", username="artist")
    auth, _ = await _logged_in(harness)
    client = harness.client()
    profile = await client.get(f"/api/v1/users/get/{other['_id']}", headers=auth)
    assert profile.status_code == 200
    data = profile.json()["data"]
    assert data["username"] == "artist" and data["songs"] == [] and data["playlists"] == []
    assert "email" not in data and "artist@example.com" not in profile.text
    content = await client.get(f"/api/v1/users/{other['_id']}/content", headers=auth)
    assert content.json()["data"] == {"songs": [], "playlists": []}
    assert (await client.get(f"/api/v1/users/get/{uuid.uuid4()}", headers=auth)).status_code == 404
    assert (await client.get("/api/v1/users/get/not-an-id", headers=auth)).status_code == 400
    assert (await client.get(f"/api/v1/users/get/{other['_id']}")).status_code == 401


async def test_a_profile_shows_the_newest_songs_and_public_playlists(harness: Harness) -> None:
    jane = await artist(harness)
    viewer = await artist(harness, "viewer")
    songs = [(await uploaded(jane, tone("mp3", 0.3), title=f"Song {n}"))["_id"] for n in range(3)]
    lists = []
    for n in range(12):
        response = await jane.client.post(
            "/api/v1/playlist/", json={"playlist_name": f"List {n}"}, headers=jane.auth
        )
        assert response.status_code == 201
        lists.append(response.json()["data"]["_id"])
    profile = await viewer.client.get(f"/api/v1/users/get/{jane.id}", headers=viewer.auth)
    data = profile.json()["data"]
    assert [s["_id"] for s in data["songs"]] == songs[::-1]
    assert data["songs"][0]["owner"]["username"] == "janedoe"
    # The ten newest; /content pages through the rest.
    assert [p["_id"] for p in data["playlists"]] == lists[::-1][:10]
    assert data["playlists"][0]["owner"] == data["songs"][0]["owner"]
    content = f"/api/v1/users/{jane.id}/content"
    rest = await viewer.client.get(content, params={"page": 2}, headers=viewer.auth)
    assert rest.json()["data"]["songs"] == []
    assert [p["_id"] for p in rest.json()["data"]["playlists"]] == lists[::-1][10:]
    two = await viewer.client.get(content, params={"limit": 2}, headers=viewer.auth)
    assert [s["_id"] for s in two.json()["data"]["songs"]] == songs[::-1][:2]
    assert len(two.json()["data"]["playlists"]) == 2
    assert "janedoe@example.com" not in profile.text + rest.text + two.text
    bad = await viewer.client.get(content, params={"page": 0}, headers=viewer.auth)
    assert bad.status_code == 400
    await harness.settle()  # the songs' processing, before the next test empties the tables


async def test_change_password_takes_the_original_apis_confirm_password(harness: Harness) -> None:
    # The original API sends {oldPassword, newPassword, confirmPassword}.
    auth, _ = await _logged_in(harness)
    client = harness.client()
    change = "/api/v1/users/change-password"
    new = "a-brand-new-passphrase"
    differs = await client.post(
        change,
        json={"oldPassword": PASSWORD, "newPassword": new, "confirmPassword": new + "!"},
        headers=auth,
    )
    assert differs.status_code == 400, differs.text
    [error] = differs.json()["errors"]
    assert error["field"] == "confirmPassword" and "newPassword" in error["message"]
    await harness.log_in(harness.client("10.7.7.1"), password=PASSWORD)  # unchanged

    same = await client.post(
        change,
        json={"oldPassword": PASSWORD, "newPassword": new, "confirmPassword": new},
        headers=auth,
    )
    assert same.status_code == 200, same.text
    await harness.log_in(harness.client("10.7.7.2"), password=new)
