"""What a process keeps of a song's comments: kept a moment, computed once for everyone
waiting, and never found again after the song changed."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bandstand.comments.recent import Recent, Tally

pytestmark = pytest.mark.backend_free

OWNER, ANN, BOB = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def test_a_tally_counts_what_each_reader_sees() -> None:
    tally = Tally(owner_id=OWNER, public=5, held_top={ANN: 2}, holders=frozenset({ANN, BOB}))
    assert [tally.seen_by(u) for u in (OWNER, ANN, BOB, uuid.uuid4())] == [7, 7, 5, 5]
    assert not tally.sees_what_everyone_sees(OWNER)
    assert not tally.sees_what_everyone_sees(BOB)  # a held reply of theirs
    assert tally.sees_what_everyone_sees(uuid.uuid4())
    # With nothing held, the owner's page is everyone's.
    assert Tally(owner_id=OWNER, public=5).sees_what_everyone_sees(OWNER)


async def test_one_computes_while_the_others_wait() -> None:
    recent, song, calls = Recent(), uuid.uuid4(), 0

    async def build() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return "page"

    answers = await asyncio.gather(*(recent.page(song, ("top", 10), build) for _ in range(20)))
    assert answers == ["page"] * 20 and calls == 1
    assert await recent.page(song, ("top", 10), build) == "page" and calls == 1
    assert await recent.page(song, ("top", 20), build) == "page" and calls == 2


async def test_a_change_forgets_even_what_is_being_computed() -> None:
    recent, song = Recent(), uuid.uuid4()
    started, release = asyncio.Event(), asyncio.Event()
    versions = iter(["before", "after"])

    async def build() -> str:
        value = next(versions)
        started.set()
        await release.wait()
        return value

    slow = asyncio.create_task(recent.page(song, "top", build))
    await started.wait()
    await recent.forget(song)
    release.set()
    assert await slow == "before"
    assert await recent.page(song, "top", build) == "after"


async def test_answers_expire_and_failures_are_not_kept() -> None:
    recent, song, calls = Recent(page_ttl_s=0.05), uuid.uuid4(), 0

    async def build() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database away")
        return calls

    with pytest.raises(RuntimeError):
        await recent.page(song, "top", build)
    assert await recent.page(song, "top", build) == 2
    assert await recent.page(song, "top", build) == 2
    await asyncio.sleep(0.06)
    assert await recent.page(song, "top", build) == 3
    # Nothing kept at all with a zero time.
    assert await Recent(page_ttl_s=0).page(song, "top", build) == 4


async def test_an_expired_answer_serves_while_its_successor_is_computed() -> None:
    recent, song = Recent(page_ttl_s=0.01), uuid.uuid4()
    release = asyncio.Event()
    versions = iter(["old", "new", "after the change"])

    async def build() -> str:
        value = next(versions)
        if value == "new":
            await release.wait()
        return value

    assert await recent.page(song, "top", build) == "old"
    await asyncio.sleep(0.02)
    refreshing = asyncio.create_task(recent.page(song, "top", build))
    await asyncio.sleep(0)
    # Nobody else waits for the refresh: they get the expired answer meanwhile.
    assert await asyncio.wait_for(recent.page(song, "top", build), 1) == "old"
    release.set()
    assert await refreshing == "new"
    assert await recent.page(song, "top", build) == "new"
    # After a change nothing from before it is served, expired or not.
    await recent.forget(song)
    assert await recent.page(song, "top", build) == "after the change"


async def test_an_answer_computed_across_a_reset_is_not_kept() -> None:
    # Past 50 * size songs forget() starts afresh and a song's generation starts again:
    # a page computed before its change must not come back under the restarted one.
    recent, song = Recent(size=1), uuid.uuid4()
    for _ in range(50):
        await recent.forget(uuid.uuid4())
    await recent.forget(song)  # its generation is now 1
    started, release = asyncio.Event(), asyncio.Event()
    versions = iter(["before", "after"])

    async def build() -> str:
        value = next(versions)
        if value == "before":
            started.set()
            await release.wait()
        return value

    slow = asyncio.create_task(recent.page(song, "top", build))
    await started.wait()
    await recent.forget(song)  # the reset: generation 1 again
    release.set()
    assert await slow == "before"
    assert await recent.page(song, "top", build) == "after"
