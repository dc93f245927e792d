"""kit/batching.py: calls that arrive while batches run go together in the next one."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bandstand.kit.batching import Batcher

pytestmark = pytest.mark.backend_free


class Doubler:
    """Doubles numbers; each batch waits for ``gate`` when one is set."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()

    async def __call__(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if any(item < 0 for item in items):
            raise ValueError("negative")
        return [item * 2 for item in items]


async def _until_started(run: Doubler, count: int) -> None:
    while len(run.batches) < count:
        run.started.clear()
        await run.started.wait()


async def test_a_call_at_rest_runs_at_once_alone() -> None:
    run = Doubler()
    batcher = Batcher(run, in_flight=1)
    assert await batcher(21) == 42
    assert await batcher(5) == 10
    assert run.batches == [[21], [5]]


async def test_calls_during_a_batch_go_together_each_with_its_answer() -> None:
    run = Doubler()
    run.gate = asyncio.Event()
    batcher = Batcher(run, in_flight=1)
    first = asyncio.create_task(batcher(1))
    await _until_started(run, 1)
    rest = [asyncio.create_task(batcher(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    assert run.batches == [[1]]  # the others wait for the one in flight
    run.gate.set()
    assert await asyncio.gather(first, *rest) == [2, 4, 6, 8]
    assert run.batches == [[1], [2, 3, 4]]


async def test_in_flight_batches_run_side_by_side_and_max_size_splits() -> None:
    run = Doubler()
    run.gate = asyncio.Event()
    batcher = Batcher(run, in_flight=2, max_size=2)
    calls = [asyncio.create_task(batcher(n)) for n in range(1, 7)]
    await _until_started(run, 2)
    assert run.batches == [[1], [2]]
    run.gate.set()
    assert await asyncio.gather(*calls) == [2, 4, 6, 8, 10, 12]
    assert sorted(map(len, run.batches)) == [1, 1, 2, 2]


async def test_a_failure_reaches_its_batch_only() -> None:
    run = Doubler()
    run.gate = asyncio.Event()
    batcher = Batcher(run, in_flight=1)
    first = asyncio.create_task(batcher(1))
    await _until_started(run, 1)
    bad = [asyncio.create_task(batcher(n)) for n in (2, -3)]
    run.gate.set()
    assert await first == 2
    for call in bad:
        with pytest.raises(ValueError, match="negative"):
            await call
    assert await batcher(4) == 8  # the next batch runs as ever


async def test_a_caller_that_stops_waiting_does_not_stop_its_batch() -> None:
    run = Doubler()
    run.gate = asyncio.Event()
    batcher = Batcher(run, in_flight=1)
    gone = asyncio.create_task(batcher(1))
    await _until_started(run, 1)
    gone.cancel()
    stays = asyncio.create_task(batcher(2))
    run.gate.set()
    assert await stays == 4
    await batcher.close()
    assert run.batches == [[1], [2]]
    assert gone.cancelled()
