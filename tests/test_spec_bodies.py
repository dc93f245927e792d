"""Every request body the original specification (seed-platform-spec.md) shows, sent as it
shows it: a client written for the original API is never refused for a field it sends.

What the spec sends, by route (CONTRACT.md wins where the two disagree):
register (multipart fullname, email, username, password, avatar) · verify-otp ({otp} with
the emailForOTP cookie) · login ({email, password}) · refresh-token ({refreshToken}) ·
change-password ({oldPassword, newPassword, confirmPassword}) · logout (none) · songs/upload
(multipart songFile, thumbnail, title, description, Genre) · songs/updateSong (partial song
fields: title, description, genre) · songs/delete ({songId}) · comments (content) ·
playlist create (playlist_name, description, isPublic) · addSongs (the song's id) ·
playlist update (playlist_name, description, isPublic) · playlist/delete ({playlistId}).
"""

from __future__ import annotations

import httpx

from tests.audio import tone
from tests.conftest import PASSWORD, Harness, bearer
from tests.images import png_bytes

API = "/api/v1"


def _ok(response: httpx.Response, status: int = 200) -> dict[str, object]:
    assert response.status_code == status, (response.request.url.path, response.text[:400])
    data: dict[str, object] = response.json()["data"]
    return data


async def test_the_original_apis_bodies_are_accepted(harness: Harness) -> None:
    client = harness.client()
    registered = await harness.register(client, email_address="jane@example.com")
    _ok(registered)
    code = await harness.last_code("jane@example.com")
    _ok(await client.post(f"{API}/users/verify-otp", json={"otp": code}), 201)  # by cookie
    client.cookies.clear()

    login = {"email": "jane@example.com", "password": PASSWORD}
    tokens = _ok(await client.post(f"{API}/users/login", json=login))
    client.cookies.clear()
    refresh = {"refreshToken": tokens["refreshToken"]}
    tokens = _ok(await client.post(f"{API}/users/refresh-token", json=refresh))
    client.cookies.clear()
    auth = bearer(str(tokens["accessToken"]))
    new = "a-brand-new-passphrase"
    change = {"oldPassword": PASSWORD, "newPassword": new, "confirmPassword": new}
    _ok(await client.post(f"{API}/users/change-password", json=change, headers=auth))

    upload = await client.post(
        f"{API}/songs/upload",
        data={"title": "First light", "description": "A morning.", "Genre": "Ambient"},
        files={
            "songFile": ("song.mp3", tone("mp3", 0.5), "audio/mpeg"),
            "thumbnail": ("cover.png", png_bytes(), "image/png"),
        },
        headers=auth,
    )
    song_id = str(_ok(upload, 201)["_id"])
    update = {"title": "First light (edit)", "description": "Morning.", "genre": "Folk"}
    _ok(await client.patch(f"{API}/songs/updateSong/{song_id}", json=update, headers=auth))

    comment = await client.post(
        f"{API}/comments/{song_id}", json={"content": "Lovely."}, headers=auth
    )
    comment_id = _ok(comment, 201)["_id"]
    reply = await client.post(
        f"{API}/comments/{song_id}/reply/{comment_id}", json={"content": "Thanks!"}, headers=auth
    )
    _ok(reply, 201)

    playlist = {"playlist_name": "Mornings", "description": "Slow.", "isPublic": True}
    created = await client.post(f"{API}/playlist/", json=playlist, headers=auth)
    playlist_id = _ok(created, 201)["_id"]
    added = await client.post(
        f"{API}/playlist/{playlist_id}/addSongs", json={"songId": song_id}, headers=auth
    )
    _ok(added)
    changed = {"playlist_name": "Slow mornings", "description": "Slower.", "isPublic": False}
    _ok(await client.post(f"{API}/playlist/{playlist_id}/update", json=changed, headers=auth))
    gone = {"playlistId": playlist_id}
    _ok(await client.request("DELETE", f"{API}/playlist/delete", json=gone, headers=auth))
    removed = {"songId": song_id}
    _ok(await client.request("DELETE", f"{API}/songs/delete", json=removed, headers=auth))
    _ok(await client.post(f"{API}/users/logout", headers=auth))
