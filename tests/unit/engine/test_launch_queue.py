"""The launch queue's crew stops when closed, whatever a launch did with its cancellation."""

from __future__ import annotations

import asyncio

from tron.engine.launch import Launch, LaunchQueue


def _launch(n: int) -> Launch:
    return Launch(job_name="MASTER.job", run_num=n, action_name="act", attempt=1)


async def test_close_ends_a_worker_whose_launch_swallowed_the_cancellation() -> None:
    # asyncio.wait_for on 3.11 did just this when the result and the cancellation came
    # together: the worker went back to the queue, and close() waited for it forever.
    entered = asyncio.Event()

    async def stubborn(launch: Launch) -> None:
        entered.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            return  # swallowed

    queue = LaunchQueue(stubborn)
    queue.put(_launch(1))
    await entered.wait()
    async with asyncio.timeout(60):  # generous: only a hang fails this
        await queue.close()
    assert queue.pending() == 0


async def test_nothing_is_launched_once_closed() -> None:
    launched: list[Launch] = []

    async def launch(item: Launch) -> None:
        launched.append(item)

    queue = LaunchQueue(launch)
    await queue.close()
    queue.put(_launch(1))
    await asyncio.sleep(0)
    assert launched == []
    assert queue.pending() == 0
