"""Jobs with owners take turns: the next one started is of the owner with the fewest
running, then the one served least recently, then the oldest; a job running lends its turn
only to an owner with none running."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.db import transaction
from bandstand.worker import fair, outbox
from tests.conftest import Harness
from tests.worker.jobs import pending

NAME = "tests.owned"  # never handed to the queue here: the rows are claimed by hand


async def _owners(session: AsyncSession, jobs: Sequence[list[Any]]) -> list[str | None]:
    return [args[0] if args[0] != "gone" else None for args in jobs]


async def _queue(harness: Harness, *owners: str) -> None:
    for owner in owners:  # one transaction each: created in this order
        async with transaction(harness.app.state.runtime.sessionmaker) as session:
            outbox.add(session, NAME, [owner], 300)


async def _claim(harness: Harness, turns: fair.Turns, **options: Any) -> fair.Claimed | None:
    async with transaction(harness.app.state.runtime.sessionmaker) as session:
        return await fair.claim_next(session, NAME, 30, _owners, turns, **options)


async def _finish(harness: Harness, claimed: fair.Claimed) -> None:
    async with transaction(harness.app.state.runtime.sessionmaker) as session:
        assert await outbox.finish(session, claimed.job_id, claimed.tries)


async def test_owners_take_turns_one_slot_at_a_time(harness: Harness) -> None:
    """One user's four jobs queued first do not keep the two others waiting."""
    await _queue(harness, "ann", "ann", "ann", "ann", "bob", "cat", "gone")
    turns = fair.Turns()
    order = []
    while (claimed := await _claim(harness, turns)) is not None:
        assert claimed.tries == 1  # a claim like any other: counted, fenced, leased
        order.append(claimed.owner if claimed.args != ["gone"] else "gone")
        await _finish(harness, claimed)
    assert order == ["ann", "bob", "cat", "gone", "ann", "ann", "ann"]
    assert await pending(harness.app.state.runtime) == []


async def test_an_owner_with_a_job_running_waits_for_those_with_none(harness: Harness) -> None:
    await _queue(harness, "ann", "ann", "ann")
    turns = fair.Turns()
    running = await _claim(harness, turns)
    assert running is not None and running.owner == "ann"
    # The running job lends its turn only to an owner with nothing running: none yet.
    assert await _claim(harness, turns, idle_owners_only=True) is None
    await _queue(harness, "bob")
    lent = await _claim(harness, turns, idle_owners_only=True)
    assert lent is not None and lent.owner == "bob"
    # Everyone has a job running: a free slot takes the owner with fewer, oldest first.
    await _queue(harness, "bob")
    second = await _claim(harness, turns)
    assert second is not None and second.owner == "ann"
    for claimed in (running, lent, second):
        await _finish(harness, claimed)
    last = await _claim(harness, turns)
    assert last is not None and last.owner == "bob"  # ann was served last
    await _finish(harness, last)
    leftover = await _claim(harness, turns)
    assert leftover is not None and leftover.owner == "ann"
    await _finish(harness, leftover)
