"""Answers about a song's comments that each process keeps a moment: its tally (for
``totalDocs``) and the pages (of its listing, of its threads' replies) every ordinary
listener sees alike.

Counting a song's visible top-level comments on every request would cost more than the
page (about 20 ms for 100 000 comments on PostgreSQL: the held flag is in no index), and
most listeners see the very same page. So a process keeps a song's tally ``TALLY_TTL_S``
and its shared pages ``PAGE_TTL_S``, forgets them at once when it changes the song's
comments or likes itself, and lets one request compute a missing answer while the others
arriving meanwhile wait for it (or, when it has only expired, are given the expired one
until the new one is there). Other processes catch up within those times, as with the
songs catalogue's recent answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from bandstand.kit.cache import RecentAnswers

TALLY_TTL_S = 5.0
PAGE_TTL_S = 1.0

T = TypeVar("T")


@dataclass(frozen=True)
class Tally:
    """A song's owner, its top-level comments everyone sees, its held top-level ones by
    author, and everyone with a held comment (at any depth) on it."""

    owner_id: uuid.UUID
    public: int
    held_top: dict[uuid.UUID, int] = field(default_factory=dict)
    holders: frozenset[uuid.UUID] = frozenset()

    def seen_by(self, user_id: uuid.UUID) -> int:
        """How many top-level comments ``user_id`` sees."""
        if user_id == self.owner_id:
            return self.public + sum(self.held_top.values())
        return self.public + self.held_top.get(user_id, 0)

    def sees_what_everyone_sees(self, user_id: uuid.UUID) -> bool:
        """Whether the song's comments look to ``user_id`` as to any listener (likes
        aside): nothing is held on the song, or they neither own it nor wrote a comment
        held on it."""
        return not self.holders or (user_id != self.owner_id and user_id not in self.holders)


TallyT = TypeVar("TallyT", bound=Tally)


class Recent:
    """Kept answers, by song; up to ``size`` of them (``kit/cache.py`` keeps them)."""

    def __init__(
        self, tally_ttl_s: float = TALLY_TTL_S, page_ttl_s: float = PAGE_TTL_S, size: int = 2048
    ) -> None:
        self._tally_ttl_s = tally_ttl_s
        self._page_ttl_s = page_ttl_s
        self._size = size
        self._answers = RecentAnswers(page_ttl_s, size, stale_while_refreshing=True)
        # Part of every key: forget() moves a song to a new one, so an answer computed
        # before a change (even one still being computed) is never found after it.
        self._generations: dict[uuid.UUID, int] = {}

    async def tally(self, song_id: uuid.UUID, count: Callable[[], Awaitable[TallyT]]) -> TallyT:
        return await self._fetch(song_id, "tally", self._tally_ttl_s, count)

    async def page(self, song_id: uuid.UUID, key: Hashable, build: Callable[[], Awaitable[T]]) -> T:
        return await self._fetch(song_id, ("page", key), self._page_ttl_s, build)

    async def forget(self, song_id: uuid.UUID) -> None:
        """Drop what is kept of a song (async so an after-commit hook can call it)."""
        if len(self._generations) > 50 * self._size:
            # Songs changed once long ago need no generation: start afresh. (Clearing
            # the answers also keeps one computed before now from being kept.)
            self._generations.clear()
            await self._answers.clear()
        self._generations[song_id] = self._generations.get(song_id, 0) + 1

    async def _fetch(
        self,
        song_id: uuid.UUID,
        what: Hashable,
        ttl_s: float,
        compute: Callable[[], Awaitable[T]],
    ) -> T:
        key = (song_id, self._generations.get(song_id, 0), what)
        return await self._answers.fetch(key, compute, ttl_s=ttl_s)
