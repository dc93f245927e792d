"""RecentAnswers: the in-process cache in front of the newest-songs pages."""

from __future__ import annotations

import asyncio

import pytest

from bandstand.kit.cache import RecentAnswers

pytestmark = pytest.mark.backend_free


async def test_concurrent_misses_compute_once() -> None:
    cache = RecentAnswers(ttl_s=60)
    calls = 0
    release = asyncio.Event()

    async def compute() -> bytes:
        nonlocal calls
        calls += 1
        await release.wait()
        return b"page"

    waiting = [asyncio.create_task(cache.fetch("home", compute)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [b"page"] * 20
    assert calls == 1
    assert await cache.fetch("home", compute) == b"page"
    assert calls == 1


async def test_answers_expire() -> None:
    cache = RecentAnswers(ttl_s=0.05)
    values = iter([b"one", b"two"])

    async def compute() -> bytes:
        return next(values)

    assert await cache.fetch("k", compute) == b"one"
    assert await cache.fetch("k", compute) == b"one"
    await asyncio.sleep(0.06)
    assert await cache.fetch("k", compute) == b"two"


async def test_an_answer_computed_across_a_change_is_not_kept() -> None:
    cache = RecentAnswers(ttl_s=60)
    values = iter([b"before", b"after"])
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> bytes:
        started.set()
        await release.wait()
        return next(values)

    first = asyncio.create_task(cache.fetch("k", slow))
    await started.wait()
    await cache.clear()  # a song changed while the old page was being read
    release.set()
    assert await first == b"before"
    assert await cache.fetch("k", slow) == b"after"


async def test_a_caller_after_a_change_does_not_wait_for_an_answer_begun_before_it() -> None:
    cache = RecentAnswers(ttl_s=60)
    release = asyncio.Event()
    calls = 0

    async def slow() -> bytes:
        nonlocal calls
        calls += 1
        if calls == 1:
            await release.wait()
            return b"before"
        return b"after"

    first = asyncio.create_task(cache.fetch("k", slow))
    await asyncio.sleep(0)
    await cache.clear()  # the song turned ready while the old page was being read
    async with asyncio.timeout(5):  # waiting for the old answer would be for ever here
        assert await cache.fetch("k", slow) == b"after"
    release.set()
    assert await first == b"before"
    assert await cache.fetch("k", slow) == b"after"  # kept; the old answer was not
    assert calls == 2


async def test_a_failed_computation_lets_the_waiters_compute() -> None:
    cache = RecentAnswers(ttl_s=60)
    release = asyncio.Event()

    async def failing() -> bytes:
        await release.wait()
        raise RuntimeError("database went away")

    async def working() -> bytes:
        return b"page"

    first = asyncio.create_task(cache.fetch("k", failing))
    await asyncio.sleep(0)
    second = asyncio.create_task(cache.fetch("k", working))
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(RuntimeError):
        await first
    assert await second == b"page"


async def test_zero_keeps_nothing_and_size_is_bounded() -> None:
    never = RecentAnswers(ttl_s=0)
    values = iter([b"a", b"b"])

    async def compute() -> bytes:
        return next(values)

    assert await never.fetch("k", compute) == b"a"
    assert await never.fetch("k", compute) == b"b"

    small = RecentAnswers(ttl_s=60, size=2)
    for key in ("a", "b", "c"):

        async def named(key: str = key) -> bytes:
            return key.encode()

        await small.fetch(key, named)
    calls = 0

    async def again() -> bytes:
        nonlocal calls
        calls += 1
        return b"a again"

    assert await small.fetch("a", again) == b"a again"  # the oldest went first
    assert calls == 1


async def test_stale_while_refreshing_serves_the_expired_answer_meanwhile() -> None:
    cache = RecentAnswers(ttl_s=0.01, stale_while_refreshing=True)
    release = asyncio.Event()
    versions = iter([b"old", b"new", b"after the change"])

    async def compute() -> bytes:
        value = next(versions)
        if value == b"new":
            await release.wait()
        return value

    assert await cache.fetch("k", compute) == b"old"
    await asyncio.sleep(0.02)
    refreshing = asyncio.create_task(cache.fetch("k", compute))
    await asyncio.sleep(0)
    assert await asyncio.wait_for(cache.fetch("k", compute), 1) == b"old"
    release.set()
    assert await refreshing == b"new"
    await cache.clear()
    # After a change nothing from before it is served, expired or not.
    assert await cache.fetch("k", compute) == b"after the change"


async def test_without_stale_callers_wait_for_the_refresh() -> None:
    cache = RecentAnswers(ttl_s=0.01)
    release = asyncio.Event()
    calls = 0

    async def compute() -> bytes:
        nonlocal calls
        calls += 1
        if calls == 2:
            await release.wait()
        return str(calls).encode()

    assert await cache.fetch("k", compute) == b"1"
    await asyncio.sleep(0.02)
    refreshing = asyncio.create_task(cache.fetch("k", compute))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(cache.fetch("k", compute))
    await asyncio.sleep(0)
    assert not waiting.done()
    release.set()
    assert await asyncio.gather(refreshing, waiting) == [b"2", b"2"]
    assert calls == 2


async def test_each_fetch_may_keep_its_answer_for_its_own_time() -> None:
    cache = RecentAnswers(ttl_s=60)
    values = iter([b"one", b"two", b"three"])

    async def compute() -> bytes:
        return next(values)

    assert await cache.fetch("short", compute, ttl_s=0.01) == b"one"
    await asyncio.sleep(0.02)
    assert await cache.fetch("short", compute, ttl_s=0.01) == b"two"
    assert await cache.fetch("none", compute, ttl_s=0) == b"three"
