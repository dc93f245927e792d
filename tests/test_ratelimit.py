"""Throttles hold across replicas when they share Redis."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as redis

from bandstand.kit.ratelimit import RateLimiter
from tests import services


@pytest.fixture
async def redis_url() -> str:
    client = redis.from_url(services.REDIS_DEFAULT)
    try:
        await client.ping()
    except (redis.ConnectionError, OSError) as exc:
        services.missing("Redis", str(exc))
    finally:
        await client.aclose()
    return services.REDIS_DEFAULT


async def test_two_replicas_share_one_budget(redis_url: str) -> None:
    prefix = f"bandstand-test-{uuid.uuid4().hex[:8]}:rl"
    one, two = RateLimiter(redis_url, prefix), RateLimiter(redis_url, prefix)
    try:
        assert (await one.hit("3/minute", "login", "jane")).allowed
        assert (await two.hit("3/minute", "login", "jane")).allowed
        assert (await one.hit("3/minute", "login", "jane")).allowed
        verdict = await two.check("3/minute", "login", "jane")
        assert not verdict.allowed and 0 < verdict.retry_after <= 61
        await one.clear("3/minute", "login", "jane")
        assert (await two.check("3/minute", "login", "jane")).allowed
    finally:
        await one.reset()


async def test_in_process_limiter_without_redis() -> None:
    limiter = RateLimiter(None)
    assert (await limiter.hit("1/minute", "x")).allowed
    assert not (await limiter.hit("1/minute", "x")).allowed
    assert (await limiter.hit("1/minute", "y")).allowed
