"""Fixtures the engagement tests share: a Redis of the test's own, to empty and kill."""

from tests.processes import redis_server  # noqa: F401
