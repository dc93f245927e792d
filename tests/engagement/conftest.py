"""Fixtures the engagement tests share: a Redis of the test's own, to empty and kill."""

from tests.processes import postgres_url, redis_server  # noqa: F401  (fixtures)
