"""The ScriptedExecutor fake (tests/fake_executor.py) keeps the Executor contract without
processes, and models what supervisors leave on a node across a daemon's crash."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.fakes import NodeRecord, ScriptedExecutor, SignalSent

from tron.config.model import NodeConfig
from tron.errors import NodeError
from tron.executors.base import ActionSpec, AttemptNotStarted, Executor, ExitStatus, Handle
from tron.executors.supervisor import UNREADABLE, VANISHED

DEADLINE = 5.0


def spec(tmp_path: Path, run: str = "ns.job.1.a", attempt: int = 0) -> ActionSpec:
    return ActionSpec(
        action_run_id=run,
        attempt=attempt,
        command=f"run {run}",
        output_dir=tmp_path / run / str(attempt),
    )


async def until(check: Callable[[], bool]) -> None:
    """Let other tasks run until `check()` holds, within a generous deadline."""
    deadline = time.monotonic() + DEADLINE
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0)


def test_it_is_an_executor() -> None:
    executor: Executor = ScriptedExecutor()
    assert executor is not None


async def test_wait_resolves_when_the_test_finishes_the_attempt(tmp_path: Path) -> None:
    executor = ScriptedExecutor()
    handle = await executor.start(spec(tmp_path))
    assert handle.pid is not None
    assert executor.records[("ns.job.1.a", 0)] == NodeRecord(pid=handle.pid)
    assert executor.running() == [("ns.job.1.a", 0)]
    waiting = asyncio.ensure_future(executor.wait(handle))
    await asyncio.sleep(0)
    assert not waiting.done()
    executor.finish("ns.job.1.a", 3, stdout="out\n", stderr="err\n")
    assert await asyncio.wait_for(waiting, DEADLINE) == ExitStatus(exit_code=3)
    assert await executor.wait(handle) == ExitStatus(exit_code=3)  # at once, once ended
    assert (tmp_path / "ns.job.1.a" / "0" / "stdout").read_text() == "out\n"
    assert (tmp_path / "ns.job.1.a" / "0" / "stderr").read_text() == "err\n"
    assert executor.running() == []
    assert [launch.spec.command for launch in executor.launches] == ["run ns.job.1.a"]


async def test_finish_picks_the_latest_attempt_and_refuses_mistakes(tmp_path: Path) -> None:
    executor = ScriptedExecutor()
    first = await executor.start(spec(tmp_path, attempt=0))
    second = await executor.start(spec(tmp_path, attempt=1))
    executor.finish("ns.job.1.a", 1)
    assert await executor.wait(second) == ExitStatus(exit_code=1)
    executor.finish("ns.job.1.a", 0, attempt=0)
    assert await executor.wait(first) == ExitStatus(exit_code=0)
    assert executor.launch_count("ns.job.1.a") == 2
    assert executor.launch_count("ns.job.1.a", attempt=1) == 1
    with pytest.raises(ValueError, match="already ended"):
        executor.finish("ns.job.1.a", 0)
    with pytest.raises(KeyError, match="never launched"):
        executor.finish("ns.job.2.a", 0)


async def test_exit_codes_end_attempts_as_they_launch(tmp_path: Path) -> None:
    executor = ScriptedExecutor(exit_codes=lambda s: 7 if s.action_run_id.endswith(".a") else None)
    ended = await executor.start(spec(tmp_path, "ns.job.1.a"))
    running = await executor.start(spec(tmp_path, "ns.job.1.b"))
    assert await executor.wait(ended) == ExitStatus(exit_code=7)
    assert executor.running() == [(running.action_run_id, 0)]


async def test_signal_is_recorded_and_ends_the_attempt(tmp_path: Path) -> None:
    executor = ScriptedExecutor()
    handle = await executor.start(spec(tmp_path))
    await executor.signal(handle, signal.SIGTERM)
    assert await executor.wait(handle) == ExitStatus(exit_code=143, signal=15)
    await executor.signal(handle, signal.SIGKILL)  # after the end: recorded, harmless
    assert await executor.wait(handle) == ExitStatus(exit_code=143, signal=15)
    assert executor.signals == [
        SignalSent(action_run_id="ns.job.1.a", attempt=0, signum=15),
        SignalSent(action_run_id="ns.job.1.a", attempt=0, signum=9),
    ]


async def test_signal_can_leave_the_attempt_running(tmp_path: Path) -> None:
    executor = ScriptedExecutor(finish_on_signal=False)
    handle = await executor.start(spec(tmp_path))
    await executor.signal(handle, signal.SIGTERM)  # a command that traps it
    assert executor.running() == [("ns.job.1.a", 0)]
    executor.finish("ns.job.1.a", 0)
    assert await executor.wait(handle) == ExitStatus(exit_code=0)


async def test_start_error_refuses_starts_until_cleared(tmp_path: Path) -> None:
    executor = ScriptedExecutor()
    executor.start_error = "node1: connection refused"
    with pytest.raises(NodeError, match="connection refused"):
        await executor.start(spec(tmp_path))
    assert executor.launches == []
    assert [s.action_run_id for s in executor.refused] == ["ns.job.1.a"]
    executor.start_error = None
    await executor.start(spec(tmp_path))
    assert executor.launch_count("ns.job.1.a") == 1


async def test_held_starts_wait_for_release_and_launch_then(tmp_path: Path) -> None:
    executor = ScriptedExecutor()
    executor.hold_starts()
    starting = asyncio.ensure_future(executor.start(spec(tmp_path)))
    await until(lambda: executor.held == 1)
    assert executor.launches == []
    executor.release_starts()
    handle = await asyncio.wait_for(starting, DEADLINE)
    assert executor.held == 0
    assert [launch.handle for launch in executor.launches] == [handle]
    await executor.start(spec(tmp_path, "ns.job.2.a"))  # no longer held


async def test_a_daemon_dying_mid_launch_leaves_a_running_attempt_to_reattach(
    tmp_path: Path,
) -> None:
    executor = ScriptedExecutor()
    executor.hold_starts(launched=True)
    starting = asyncio.ensure_future(executor.start(spec(tmp_path)))
    await until(lambda: executor.held == 1)
    assert executor.launch_count("ns.job.1.a") == 1  # the command runs; trond has no handle
    executor.disconnect()  # the daemon dies
    with pytest.raises(asyncio.CancelledError):
        await starting
    guessed = Handle(action_run_id="ns.job.1.a", attempt=0, node=None, output_dir="x")
    reattached = await executor.reattach(guessed)
    assert reattached.pid == executor.records[("ns.job.1.a", 0)].pid
    waiting = asyncio.ensure_future(executor.wait(reattached))
    executor.finish("ns.job.1.a", 5)
    assert await asyncio.wait_for(waiting, DEADLINE) == ExitStatus(exit_code=5)


async def test_a_daemon_dying_before_the_launch_leaves_no_attempt(tmp_path: Path) -> None:
    executor = ScriptedExecutor()
    executor.hold_starts()
    starting = asyncio.ensure_future(executor.start(spec(tmp_path)))
    await until(lambda: executor.held == 1)
    executor.disconnect()
    with pytest.raises(asyncio.CancelledError):
        await starting
    assert executor.launches == []
    guessed = Handle(action_run_id="ns.job.1.a", attempt=0, node=None, output_dir="x")
    with pytest.raises(AttemptNotStarted):
        await executor.reattach(guessed)


async def test_records_survive_a_crash_in_each_of_their_shapes(tmp_path: Path) -> None:
    executor = ScriptedExecutor()
    handles = {}
    for name in ("running", "exited", "unreadable", "lost"):
        launched = await executor.start(spec(tmp_path, f"ns.job.1.{name}"))
        handles[name] = Handle.from_record(launched.to_record())  # as the store keeps it
    pending = asyncio.ensure_future(executor.wait(handles["running"]))
    await asyncio.sleep(0)  # the old daemon waits for it
    executor.finish("ns.job.1.exited", 2)
    executor.garble("ns.job.1.unreadable")
    executor.lose("ns.job.1.lost")
    executor.disconnect()  # crash: waits of the old daemon are cancelled, records stay
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(pending, DEADLINE)

    assert isinstance(AttemptNotStarted("x"), NodeError)
    with pytest.raises(AttemptNotStarted):
        await executor.reattach(handles["lost"])
    statuses = {}
    for name in ("exited", "unreadable"):
        statuses[name] = await executor.wait(await executor.reattach(handles[name]))
    assert statuses == {
        "exited": ExitStatus(exit_code=2),
        "unreadable": ExitStatus(exit_code=None, reason=UNREADABLE),
    }
    running = await executor.reattach(handles["running"])
    waiting = asyncio.ensure_future(executor.wait(running))
    await asyncio.sleep(0)
    assert not waiting.done()
    executor.finish("ns.job.1.running", 0)
    assert await asyncio.wait_for(waiting, DEADLINE) == ExitStatus(exit_code=0)


async def test_records_lost_while_waited_for_end_the_wait_as_vanished(tmp_path: Path) -> None:
    executor = ScriptedExecutor()
    handle = await executor.start(spec(tmp_path))
    waiting = asyncio.ensure_future(executor.wait(handle))
    await asyncio.sleep(0)
    executor.lose("ns.job.1.a")
    assert await asyncio.wait_for(waiting, DEADLINE) == ExitStatus(exit_code=None, reason=VANISHED)


async def test_close_cancels_waits_and_keeps_the_executor_usable(tmp_path: Path) -> None:
    executor = ScriptedExecutor()
    handle = await executor.start(spec(tmp_path))
    waiting = asyncio.ensure_future(executor.wait(handle))
    await asyncio.sleep(0)
    await executor.close()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    executor.finish("ns.job.1.a", 0)
    assert await executor.wait(await executor.reattach(handle)) == ExitStatus(exit_code=0)


async def test_handles_name_the_node(tmp_path: Path) -> None:
    node = NodeConfig(name="node1", hostname="h")
    executor = ScriptedExecutor()
    handle = await executor.start(
        ActionSpec(action_run_id="r", attempt=0, command="c", output_dir=tmp_path, node=node)
    )
    assert handle.node == "node1"
