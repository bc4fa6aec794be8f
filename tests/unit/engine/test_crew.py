"""The crew that recovers jobs side by side: every item done, and nothing left running after
an error (a failed takeover's recovery must not go on beside the next leader's)."""

from __future__ import annotations

import asyncio

import pytest
from tests.unit.engine.engine_kit import Ticker, spin

from tron.engine import crew
from tron.engine.crew import for_each
from tron.engine.turns import HOLD_SECONDS


async def test_every_item_is_worked_on_by_a_bounded_crew(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crew, "CREW_SIZE", 3)
    done: list[int] = []
    busy = peak = 0

    async def work(item: int) -> None:
        nonlocal busy, peak
        busy += 1
        peak = max(peak, busy)
        await asyncio.sleep(0)
        done.append(item)
        busy -= 1

    await for_each(range(10), work)
    assert sorted(done) == list(range(10))
    assert peak == 3


async def test_the_first_error_stops_the_other_workers_before_it_raises() -> None:
    started: list[str] = []
    stopped: list[str] = []

    async def work(item: str) -> None:
        started.append(item)
        if item == "bad":
            raise RuntimeError("deposed")
        try:
            await asyncio.Event().wait()  # a write retried, a node that does not answer
        finally:
            stopped.append(item)

    with pytest.raises(RuntimeError, match="deposed"):
        await for_each(["slow", "bad", "later"], work)
    # Those under way were cancelled and have ended; none of them is left running.
    assert sorted(stopped) == sorted(i for i in started if i != "bad")
    assert "slow" in stopped
    assert all(t.done() for t in asyncio.all_tasks() if t is not asyncio.current_task())


async def test_cancelling_it_cancels_its_workers() -> None:
    stopped: list[int] = []

    async def work(item: int) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.append(item)

    task = asyncio.create_task(for_each(range(3), work))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(stopped) == [0, 1, 2]


async def test_work_that_never_waits_still_lets_the_event_loop_run() -> None:
    # Jobs with nothing to recover never wait: without a turn now and then, a crew would hold
    # the loop through all of them, and a leader's lease renewals with it.
    ticker = Ticker()
    seen: list[int] = []

    async def work(item: int) -> None:
        seen.append(ticker.ticks)
        spin(HOLD_SECONDS)  # outlasts a worker's hold on the loop

    await asyncio.sleep(0)
    try:
        await for_each(range(5), work)
    finally:
        ticker.stop()
    assert len(set(seen)) == 5  # the other task ran between every two items


async def test_a_timer_due_meanwhile_runs_before_the_crew_goes_on() -> None:
    # As a lease renewal does: it waits on a timer while a full crew works through items that
    # never wait. The crew's hold on the loop is shared, not each worker's own.
    renewals = Ticker(interval=0.005)

    async def work(item: int) -> None:
        spin(0.001)

    await asyncio.sleep(0)
    try:
        before = renewals.ticks
        await for_each(range(200), work)
        during = renewals.ticks - before
    finally:
        renewals.stop()
    assert during >= 2


async def test_the_crew_goes_on_when_each_turn_of_the_loop_outlasts_a_hold() -> None:
    # A busy machine: between a turn and the crew's next step, the loop spends longer than a
    # hold elsewhere. The first worker to run after a turn starts a new hold, or none would
    # ever go on.
    async def hog() -> None:
        while True:
            spin(HOLD_SECONDS * 1.5)
            await asyncio.sleep(0)

    done: list[int] = []

    async def work(item: int) -> None:
        done.append(item)
        spin(HOLD_SECONDS)

    busy = asyncio.create_task(hog())
    try:
        await asyncio.wait_for(for_each(range(3), work), timeout=60)
    finally:
        busy.cancel()
    assert sorted(done) == [0, 1, 2]
