"""What the comments tests share: a song to comment on, comment and reply helpers, and the
counters as the API and the database show them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from bandstand.engagement.counters import COMMENT
from bandstand.engagement.counters.flush import flush_counters
from bandstand.runtime import Runtime
from tests.audio import tone
from tests.conftest import Harness
from tests.songs.support import PAGE_FIELDS, Artist, artist, uploaded

COMMENTS = "/api/v1/comments"
SONGS = "/api/v1/songs"
AUDIO = tone("mp3", 0.5)
# Every field of a comment in an answer, and of its author's summary (never an email).
COMMENT_FIELDS = {
    "_id",
    "content",
    "song",
    "owner",
    "parentComment",
    "timestamp",
    "sentimentScore",
    "isFlagged",
    "isHeld",
    "hiddenReason",
    "likeCount",
    "likedByMe",
    "replyCount",
    "replies",
    "createdAt",
    "updatedAt",
}
OWNER_FIELDS = {"_id", "username", "fullname", "avatar"}
# A page of comments or replies also says whether the song's comments are turned off.
COMMENT_PAGE_FIELDS = PAGE_FIELDS | {"commentsOff"}
ABUSE = "You are a worthless, pathetic, disgusting idiot and I hate you."


def runtime(harness: Harness) -> Runtime:
    rt: Runtime = harness.app.state.runtime
    return rt


async def people(harness: Harness, *names: str) -> list[Artist]:
    return [await artist(harness, name) for name in names]


async def a_song(harness: Harness, owner: Artist, title: str = "A song") -> dict[str, Any]:
    """A half-second song, processed (so no job is left running when the test ends)."""
    song = await uploaded(owner, AUDIO, title=title)
    await harness.settle()
    return song


async def post(
    who: Artist,
    song_id: str,
    content: Any = "Lovely song",
    *,
    parent: str | None = None,
    **more: Any,
) -> httpx.Response:
    path = f"{COMMENTS}/{song_id}" + (f"/reply/{parent}" if parent else "")
    return await who.client.post(path, json={"content": content, **more}, headers=who.auth)


async def commented(
    who: Artist,
    song_id: str,
    content: str = "Lovely song",
    *,
    parent: str | None = None,
    **more: Any,
) -> dict[str, Any]:
    """Comment (or reply to ``parent``), failing the test if refused."""
    response = await post(who, song_id, content, parent=parent, **more)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def listing(who: Artist, song_id: str, **params: Any) -> dict[str, Any]:
    response = await who.client.get(
        f"{COMMENTS}/{song_id}/comments", params=params, headers=who.auth
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def walk(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every comment of a listing, replies included, depth first."""
    found: list[dict[str, Any]] = []
    for doc in docs:
        found.append(doc)
        found.extend(walk(doc["replies"]))
    return found


async def seen_ids(who: Artist, song_id: str) -> set[str]:
    return {doc["_id"] for doc in walk((await listing(who, song_id, limit=100))["docs"])}


async def act(
    who: Artist, comment_id: str, verb: str, method: str = "POST", **kw: Any
) -> httpx.Response:
    """``/comments/{id}/{verb}`` (like, unlike, delete, approve), or ``nuke/{id}`` for nuke."""
    path = f"{COMMENTS}/nuke/{comment_id}" if verb == "nuke" else f"{COMMENTS}/{comment_id}/{verb}"
    return await who.client.request(method, path, headers=who.auth, **kw)


async def comment_count(who: Artist, song_id: str) -> int:
    """The song's commentCount as its page shows it (row plus pending deltas)."""
    response = await who.client.get(f"{SONGS}/{song_id}", headers=who.auth)
    assert response.status_code == 200, response.text
    return int(response.json()["data"]["commentCount"])


async def flush(harness: Harness) -> None:
    report = await flush_counters(runtime(harness))
    assert not report.skipped


def db_id(harness: Harness, value: str) -> Any:
    """An id as raw SQL compares it: SQLite keeps UUIDs as 32 hex digits."""
    parsed = uuid.UUID(value)
    return parsed.hex if harness.settings.is_embedded_database else parsed


async def scalar(harness: Harness, statement: str, **ids: str) -> int:
    rows = await harness.sql(statement, **{k: db_id(harness, v) for k, v in ids.items()})
    return int(rows[0][0])


async def like_rows(harness: Harness, comment_id: str) -> int:
    return await scalar(
        harness, "SELECT count(*) FROM comment_likes WHERE comment_id = :id", id=comment_id
    )


async def like_column(harness: Harness, comment_id: str) -> int:
    return await scalar(harness, "SELECT like_count FROM comments WHERE id = :id", id=comment_id)


async def pending_likes(harness: Harness, comment_id: str) -> int:
    found = await runtime(harness).counters.pending(COMMENT, [uuid.UUID(comment_id)])
    return found.get(uuid.UUID(comment_id), {}).get("likes", 0)


async def stored_comment_count(harness: Harness, song_id: str) -> int:
    """The song's commentCount as the database holds it, without pending deltas."""
    rows = await harness.sql(
        "SELECT comment_count FROM song_stats WHERE song_id = :id", id=db_id(harness, song_id)
    )
    return int(rows[0][0]) if rows else 0
