"""A test's app served by uvicorn on a port of its own, for clients that need a real
socket (nginx, a browser)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn

from tests.conftest import Harness


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def served(harness: Harness, port: int | None = None) -> AsyncIterator[str]:
    """``host:port`` of the harness's app, served in this event loop until the end (on
    ``port`` if given: the one its ``public_url`` names)."""
    port = port or free_port()
    config = uvicorn.Config(
        harness.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "uvicorn stopped"
            await asyncio.sleep(0.02)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
