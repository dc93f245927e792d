"""Where the suite finds PostgreSQL and Redis, and what it does when they are missing.

The suite runs on the embedded defaults unless ``BANDSTAND_TEST_DATABASE_URL`` (PostgreSQL)
and ``BANDSTAND_TEST_REDIS_URL`` are set. A test that needs one of them skips on a laptop
without it, and fails under ``CI=true``, where a missing service is a broken run.
"""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
DATABASE_URL = os.environ.get("BANDSTAND_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("BANDSTAND_TEST_REDIS_URL")
POSTGRES_URL = DATABASE_URL or os.environ.get(
    "BANDSTAND_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_DEFAULT = REDIS_URL or os.environ.get(
    "BANDSTAND_TEST_REDIS_DEFAULT", "redis://127.0.0.1:6379/15"
)


def missing(service: str, why: str) -> None:
    message = f"{service} is not available: {why}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
