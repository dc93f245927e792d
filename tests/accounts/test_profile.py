"""The account a user sees and changes, and what others may see of it."""

from __future__ import annotations

import uuid

from tests.conftest import PASSWORD, Harness, bearer
from tests.images import png_bytes

ME = "/api/v1/users/current-user"
UPDATE = "/api/v1/users/update-account"


async def _logged_in(harness: Harness, **kwargs: str) -> tuple[dict[str, str], dict[str, object]]:
    user = await harness.sign_up(**kwargs)
    tokens = await harness.log_in(harness.client(), kwargs.get("email_address", "jane@example.com"))
    return bearer(tokens["accessToken"]), user


async def test_current_user_shows_no_secrets(harness: Harness) -> None:
    auth, _ = await _logged_in(harness)
    data = (await harness.client().get(ME, headers=auth)).json()["data"]
    assert set(data) == {
        "_id",
        "username",
        "fullname",
        "avatar",
        "email",
        "role",
        "createdAt",
        "updatedAt",
    }
    assert data["role"] == "user"


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
    done = await client.patch(
        UPDATE, json={"email": "New@Example.com", "currentPassword": PASSWORD}, headers=auth
    )
    assert done.status_code == 200
    assert done.json()["data"]["email"] == "new@example.com"
    await harness.log_in(harness.client("10.6.6.6"), "new@example.com")


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


async def test_watch_history_is_an_empty_page_for_now(harness: Harness) -> None:
    auth, _ = await _logged_in(harness)
    client = harness.client()
    for method in ("GET", "POST"):
        response = await client.request(
            method, "/api/v1/users/watchHistory?limit=500", headers=auth
        )
        assert response.status_code == 200
        page = response.json()["data"]
        assert page["docs"] == [] and page["limit"] == 100 and page["totalDocs"] == 0
    assert (await client.get("/api/v1/users/watchHistory?page=0", headers=auth)).status_code == 400
    assert (
        await client.get("/api/v1/users/watchHistory?page=abc", headers=auth)
    ).status_code == 400
