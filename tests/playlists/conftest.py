from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Harness
from tests.songs.support import Artist, artist


@pytest.fixture
async def jane(harness: Harness) -> AsyncIterator[Artist]:
    yield await artist(harness)
    # Songs uploaded in a test are processed by jobs; they finish before the database is
    # emptied for the next test.
    await harness.settle()


@pytest.fixture
async def mallory(harness: Harness) -> Artist:
    return await artist(harness, "mallory")
