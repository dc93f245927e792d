"""What the worker tests share: a Redis of their own to empty and kill."""

from tests.processes import redis_server  # noqa: F401  (fixture)
