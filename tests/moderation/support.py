"""What the moderation tests share: staff made from plain users, the admin routes, and the
state the database keeps (the catalogue's size, the audit log)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.audio import tone
from tests.conftest import Harness
from tests.songs.support import Artist, artist, uploaded

API = "/api/v1"
REPORTS = f"{API}/reports"
MINE = f"{REPORTS}/mine"
ADMIN = f"{API}/admin"
QUEUE = f"{ADMIN}/reports"
AUDIT = f"{ADMIN}/audit"
AUDIO = tone("mp3", 0.3)


async def staff(harness: Harness, username: str, role: str) -> Artist:
    """A logged-in user given ``role`` (moderator or admin) directly in the database: the
    CLI and the role route that do it for real have tests of their own."""
    who = await artist(harness, username)
    await harness.sql(
        "UPDATE users SET role = :role WHERE username_key = :name", role=role, name=username
    )
    return who


async def a_song(harness: Harness, owner: Artist, title: str = "A song") -> dict[str, Any]:
    """A short song, processed (so no job is left running when the test ends)."""
    song = await uploaded(owner, AUDIO, title=title)
    await harness.settle()
    return song


async def a_comment(who: Artist, song_id: str, content: str = "Nice one") -> dict[str, Any]:
    response = await who.client.post(
        f"{API}/comments/{song_id}", json={"content": content}, headers=who.auth
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def a_playlist(who: Artist, name: str = "Mix", public: bool = True) -> dict[str, Any]:
    response = await who.client.post(
        f"{API}/playlist/", json={"playlist_name": name, "isPublic": public}, headers=who.auth
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def report(
    who: Artist, target_type: str, target_id: str, reason: str = "spam", **more: Any
) -> httpx.Response:
    body = {"targetType": target_type, "targetId": target_id, "reason": reason, **more}
    return await who.client.post(REPORTS, json=body, headers=who.auth)


async def reported(who: Artist, target_type: str, target_id: str, **more: Any) -> dict[str, Any]:
    response = await report(who, target_type, target_id, **more)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def act(
    who: Artist, path: str, body: dict[str, Any] | None = None, method: str = "POST"
) -> httpx.Response:
    """A request to ``/admin`` + ``path`` as ``who``, with a JSON body if given."""
    kwargs: dict[str, Any] = {"headers": who.auth}
    if body is not None:
        kwargs["json"] = body
    return await who.client.request(method, f"{ADMIN}{path}", **kwargs)


async def acted(
    who: Artist, path: str, body: dict[str, Any] | None = None, method: str = "POST"
) -> Any:
    response = await act(who, path, body, method)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def fetch(who: Artist, path: str, **params: Any) -> dict[str, Any]:
    response = await who.client.get(path, params=params, headers=who.auth)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def db_id(harness: Harness, ident: str) -> Any:
    """An id as raw SQL compares it: SQLite keeps UUIDs as 32 hex digits."""
    value = uuid.UUID(ident)
    return value.hex if harness.settings.is_embedded_database else value


async def catalogue_size(harness: Harness) -> int:
    rows = await harness.sql("SELECT value FROM counters WHERE name = 'songs'")
    return int(rows[0][0])


async def audit_rows(harness: Harness) -> list[tuple[Any, ...]]:
    """(actor name, action, target type, reason) of every audit entry, oldest first."""
    rows = await harness.sql(
        "SELECT actor_name, action, target_type, reason FROM audit_log ORDER BY id"
    )
    return [tuple(row) for row in rows]
