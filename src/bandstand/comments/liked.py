"""Which comments of a page its reader likes, looked up for many readers at once.

A page every listener sees alike is kept and shared (``recent.py``); what it cannot say is
which of its comments the reader likes, so that is looked up on every request. One
statement per request would cost more than the rest of the request; instead the look-ups
of requests arriving together go as one statement (``kit/batching.py``), as logins are
checked: at rest a look-up runs at once and alone, under load one round trip serves many
readers. A batch starts after its requests arrived, so it sees every like and unlike
committed before them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandstand.comments import repository as repo
from bandstand.kit.batching import Batcher

Ask = tuple[uuid.UUID, Sequence[uuid.UUID]]


class LikedLookup:
    """``await lookup(viewer_id, ids)``: which of ``ids`` the viewer likes."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._batches: Batcher[Ask, frozenset[uuid.UUID]] = Batcher(self._look_up)

    async def __call__(
        self, viewer_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> frozenset[uuid.UUID]:
        if not ids:
            return frozenset()
        return await self._batches((viewer_id, ids))

    async def _look_up(self, asks: Sequence[Ask]) -> list[frozenset[uuid.UUID]]:
        # Readers of one page ask about the same ids: the statement takes each once.
        users = {viewer for viewer, _ in asks}
        ids = {comment for _, comments in asks for comment in comments}
        async with self._sessionmaker() as session:
            pairs = await repo.likes_among(session, users, ids)
        return [frozenset(c for c in comments if (viewer, c) in pairs) for viewer, comments in asks]

    async def close(self) -> None:
        await self._batches.close()
