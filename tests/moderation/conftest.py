from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Harness
from tests.moderation.support import staff
from tests.songs.support import Artist, artist


@pytest.fixture
async def jane(harness: Harness) -> AsyncIterator[Artist]:
    yield await artist(harness)
    # Songs uploaded in a test are processed by jobs; they finish before the tables empty.
    await harness.settle()


@pytest.fixture
async def mallory(harness: Harness) -> Artist:
    return await artist(harness, "mallory")


@pytest.fixture
async def mod(harness: Harness) -> Artist:
    return await staff(harness, "modmolly", "moderator")


@pytest.fixture
async def boss(harness: Harness) -> Artist:
    return await staff(harness, "bossbob", "admin")
