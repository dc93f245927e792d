"""The /rest tests: the test's app served on a port of its own, for the real client
(py-opensonic speaks HTTP through aiohttp)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests import live
from tests.conftest import Harness


@pytest.fixture
async def site(harness: Harness) -> AsyncIterator[str]:
    """``host:port`` of the test's app, served until the test ends."""
    async with live.served(harness) as where:
        yield where
