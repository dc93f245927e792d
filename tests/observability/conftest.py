from __future__ import annotations

from tests.processes import postgres_url, redis_server  # noqa: F401  (fixtures)
