"""Counters converge to their truth rows by themselves: a delta lost after its rows
committed is recounted by the next flush, and a counter store that lost everything is
rebuilt by the periodic flush job, with nobody running a command."""

from __future__ import annotations

import asyncio
from typing import Any, NoReturn

import pytest

from bandstand.engagement import tasks
from bandstand.engagement.counters import Counters
from tests.comments.support import COMMENTS, act, commented
from tests.conftest import Harness
from tests.engagement.support import (
    SONGS,
    _db_id,
    a_song,
    flush,
    likes_in_table,
    listeners,
    runtime,
    shown,
    song_row,
)
from tests.processes import RedisServer
from tests.songs.support import Artist, artist

# Changes not arrived are taken as lost at the next flush (production waits a minute).
SETTLED_AT_ONCE = 0.0


class _Unreachable(Exception):
    """The counter store failing (as Redis does when it is down)."""


async def _unreachable(*_: Any, **__: Any) -> NoReturn:
    raise _Unreachable


def _fail_after_commit(monkeypatch: pytest.MonkeyPatch, counters: Counters) -> None:
    """Simulated: the store stops answering exactly between a commit and the delta it
    owes (no real Redis can be stopped at that instant). Marks, made before the commit,
    still work: a store that fails before the commit fails the request instead."""
    for name in ("add", "add_and_read", "pending"):
        monkeypatch.setattr(counters, name, _unreachable)


async def test_a_like_whose_delta_is_lost_after_the_commit_is_answered_and_recounted_simulated(
    make_harness: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness: Harness = await make_harness(counter_settle_s=SETTLED_AT_ONCE)
    owner = await artist(harness, "owner")
    fans = await listeners(harness, 3)
    song = await a_song(harness, owner)
    rt = runtime(harness)
    with monkeypatch.context() as patch:
        _fail_after_commit(patch, rt.counters)
        answers = await asyncio.gather(
            *(f.client.post(f"{SONGS}/{song['_id']}/like", headers=f.auth) for f in fans)
        )
    # The likes are committed: each is answered as done, not 500.
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert all(a.json()["data"]["liked"] for a in answers)
    assert await likes_in_table(harness, song["_id"]) == 3
    assert (await shown(owner.client, owner.auth, song["_id"]))["likeCount"] == 0  # lost

    await flush(harness)
    assert (await song_row(harness, song["_id"]))["likeCount"] == 3
    assert (await shown(owner.client, owner.auth, song["_id"]))["likeCount"] == 3


async def test_comments_and_comment_likes_lost_after_the_commit_are_recounted_simulated(
    make_harness: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness: Harness = await make_harness(counter_settle_s=SETTLED_AT_ONCE)
    owner = await artist(harness, "owner")
    (fan,) = await listeners(harness, 1)
    song = await a_song(harness, owner)
    first = await commented(fan, song["_id"], "Lovely song")
    rt = runtime(harness)
    with monkeypatch.context() as patch:
        _fail_after_commit(patch, rt.counters)
        second = await fan.client.post(
            f"{COMMENTS}/{song['_id']}", json={"content": "Still lovely"}, headers=fan.auth
        )
        liked = await act(owner, first["_id"], "like")
    assert second.status_code == 201, second.text
    assert liked.status_code == 200, liked.text
    assert liked.json()["data"]["likeCount"] == 0  # the count could not be read
    await flush(harness)
    assert (await song_row(harness, song["_id"]))["commentCount"] == 2
    rows = await harness.sql(
        "SELECT like_count FROM comments WHERE id = :id", id=_db_id(harness, first["_id"])
    )
    assert rows[0][0] == 1


async def _activity(harness: Harness, owner: Artist, fans: list[Artist], song_id: str) -> None:
    await asyncio.gather(
        *(f.client.post(f"{SONGS}/{song_id}/like", headers=f.auth) for f in fans),
        *(f.client.post(f"{SONGS}/{song_id}", headers=f.auth) for f in fans),
        *(commented(f, song_id, f"Nice one from {n}") for n, f in enumerate(fans)),
    )


async def test_an_emptied_counter_store_heals_without_an_operator(
    redis_server: RedisServer,  # first: it must outlive the server using it
    make_harness: Any,
) -> None:
    harness: Harness = await make_harness(redis_url=redis_server.url)
    owner = await artist(harness, "owner")
    fans = await listeners(harness, 6)
    song = await a_song(harness, owner)
    await _activity(harness, owner, fans[:3], song["_id"])
    await flush(harness)
    await _activity(harness, owner, fans[3:], song["_id"])  # pending...
    redis_server.flush()  # ...and gone
    shown_now = await shown(owner.client, owner.auth, song["_id"])
    assert (shown_now["views"], shown_now["likeCount"], shown_now["commentCount"]) == (3, 3, 3)

    # What the periodic job runs, every BANDSTAND_COUNTER_FLUSH_S.
    rt = runtime(harness)
    await tasks.flush(rt.counters, rt.sessionmaker, rt.settings)
    shown_now = await shown(owner.client, owner.auth, song["_id"])
    assert (shown_now["views"], shown_now["likeCount"], shown_now["commentCount"]) == (6, 6, 6)
    assert await song_row(harness, song["_id"]) == {"views": 6, "likeCount": 6, "commentCount": 6}


async def test_a_like_the_store_cannot_mark_is_refused_not_kept_in_memory(
    redis_server: RedisServer,  # first: it must outlive the server using it
    make_harness: Any,
) -> None:
    """The mark is what repairs a delta lost after the commit: with Redis down, a like
    committed unmarked would be recounted by nothing (a restart forgets any retry)."""
    harness: Harness = await make_harness(redis_url=redis_server.url)
    owner = await artist(harness, "owner")
    (fan,) = await listeners(harness, 1)
    song = await a_song(harness, owner)
    redis_server.kill()
    refused = await fan.client.post(f"{SONGS}/{song['_id']}/like", headers=fan.auth)
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"]
    assert await likes_in_table(harness, song["_id"]) == 0  # nothing written unmarked

    redis_server.start()
    liked = await fan.client.post(f"{SONGS}/{song['_id']}/like", headers=fan.auth)
    assert liked.status_code == 200, liked.text
    assert liked.json()["data"]["likeCount"] == 1
    await flush(harness)
    assert (await song_row(harness, song["_id"]))["likeCount"] == 1
