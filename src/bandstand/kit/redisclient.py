"""One way to open Redis, so that every pool survives a Redis restart the same way.

A pooled connection to a Redis that restarted is dead, and redis-py finds out only when a
command fails on it: without a retry, the first command on each pool after a restart
fails although Redis is back. With these options a command that fails for want of a
connection is sent once more on a new one, after a short pause; a Redis that is really
down still fails fast (the caller answers 503), and a slow one cannot hang a request.

A command that timed out is never sent again: it reached Redis, which may have run it
(a SET NX that took the view window, an HINCRBY, a spent rate-limit hit), and running it
twice would lose a view or count one twice. It fails, and the caller answers 503.
"""

from __future__ import annotations

from typing import Any

import redis
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.driver_info import DriverInfo
from redis.exceptions import ConnectionError

# A connection to a Redis on the same network opens in a millisecond; 5 s leaves room for a
# process whose event loop is busy (a CI machine under load timed out at 2 s), and a connect
# that timed out is not retried (``TimeoutError`` is not among the retried errors).
CONNECT_TIMEOUT_S = 5.0
COMMAND_TIMEOUT_S = 10.0
# What each connection tells Redis it is (CLIENT SETINFO). Named once: left to redis-py,
# every new connection reads the package's metadata from disk, 2 ms of CPU apiece.
_DRIVER = DriverInfo(name="redis-py", lib_version=redis.__version__)


def client_options() -> dict[str, Any]:
    """Keyword arguments for ``Redis.from_url`` (and libraries that pass them on)."""
    return {
        # Two more tries, 50-200 ms apart: enough to replace a dead connection, too few to
        # double a command that reached a server which then died (it has lost it anyway).
        "retry": Retry(
            ExponentialWithJitterBackoff(cap=0.2, base=0.05),
            retries=2,
            supported_errors=(ConnectionError,),
        ),
        "socket_connect_timeout": CONNECT_TIMEOUT_S,
        "socket_timeout": COMMAND_TIMEOUT_S,
        # A connection idle this long is checked (PING) before it is used again.
        "health_check_interval": 30,
        "driver_info": _DRIVER,
    }


def connect(url: str) -> Redis:
    """A client for ``url`` whose pool heals after Redis restarts."""
    return Redis.from_url(url, **client_options())
