"""Stopping a task never swallows the stopper's own cancellation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import tron
from tron import tasks


async def _slow_to_stop(stopping: asyncio.Event) -> None:
    try:
        await asyncio.sleep(3600)
    finally:
        stopping.set()
        await asyncio.sleep(3600)  # its cleanup outlasts the stopper's patience


async def test_a_stopper_cancelled_while_it_waits_is_cancelled() -> None:
    stopping = asyncio.Event()
    slow = asyncio.ensure_future(_slow_to_stop(stopping))
    await asyncio.sleep(0)
    stopper = asyncio.ensure_future(tasks.stop(slow))
    await stopping.wait()
    stopper.cancel()
    await asyncio.wait({stopper})
    assert stopper.cancelled()  # `suppress(CancelledError): await slow` returned instead
    assert not slow.done()
    slow.cancel()
    await asyncio.wait({slow})


async def test_stop_takes_whatever_the_task_ended_with() -> None:
    async def failing() -> None:
        raise ValueError("boom")

    failed = asyncio.ensure_future(failing())
    await asyncio.wait({failed})
    await tasks.stop(failed)  # raises nothing
    await tasks.stop(None)


async def test_settled_leaves_the_future_alone_when_the_waiter_is_cancelled() -> None:
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    waiter = asyncio.ensure_future(tasks.settled(future))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert not future.done()
    future.set_result(1)
    await tasks.settled(future)


def test_no_wait_for_in_trond() -> None:
    # On 3.11 asyncio.wait_for returns the result when a cancellation comes with it: a
    # shutdown then waits forever for the task it cancelled. asyncio.timeout does not.
    root = Path(tron.__file__).parent
    users = [p.relative_to(root) for p in root.rglob("*.py") if "wait_for(" in p.read_text()]
    assert users == []
