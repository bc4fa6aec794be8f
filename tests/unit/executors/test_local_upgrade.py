"""Attempts started by the runner of an earlier version (one file per record) are read and
reattached by today's LocalExecutor, whose runner keeps its records in one file."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

from tron.executors.base import ActionSpec, ExitStatus, Handle
from tron.executors.local import LocalExecutor
from tron.executors.supervisor import read_exit_status, read_records

EARLIER_RUNNER = Path(__file__).with_name("local_separate_records.sh")
DEADLINE = 10.0


@pytest.fixture(params=[True, False], ids=["pidfd", "polling"])
async def upgraded(request: pytest.FixtureRequest) -> AsyncIterator[LocalExecutor]:
    built = LocalExecutor(use_pidfd=request.param, poll_interval=0.01)
    yield built
    await built.close()


async def start_with_earlier_runner(directory: Path, command: str) -> Handle:
    """Start an attempt as the earlier trond did; that trond then goes away (an upgrade)."""
    earlier = LocalExecutor(wrapper=EARLIER_RUNNER)
    try:
        spec = ActionSpec(
            action_run_id="ns.job.1.act", attempt=0, command=command, output_dir=directory
        )
        handle = await earlier.start(spec)
    finally:
        await earlier.close()
    # What the new trond loads from the store: the handle without the old process's extras.
    return replace(handle, pid=None, extra=MappingProxyType({}))


async def until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.01)


def separate_records(directory: Path) -> set[str]:
    return set(os.listdir(directory)) - {"stdout", "stderr"}


async def test_a_running_attempt_of_the_earlier_runner_is_reattached_and_stopped(
    upgraded: LocalExecutor, tmp_path: Path
) -> None:
    stored = await start_with_earlier_runner(tmp_path, "echo ready; sleep 30")
    supervisor = int((tmp_path / "supervisor").read_text())
    try:
        assert separate_records(tmp_path) == {"exit", "supervisor", "pid"}
        # Its records are read as they are: not ended, the supervisor leads the group.
        assert read_exit_status(tmp_path) is None
        handle = await upgraded.reattach(stored)
        assert handle.pid == supervisor == read_records(tmp_path).supervisor_pid
        await until(lambda: (tmp_path / "stdout").read_text() == "ready\n", "no command")
        await upgraded.signal(handle, signal.SIGTERM)
        ended = await asyncio.wait_for(upgraded.wait(handle), DEADLINE)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(supervisor, signal.SIGKILL)
    # The earlier runner's separate `signal` record says how it ended.
    assert (tmp_path / "signal").read_text() == "15\n"
    assert ended == ExitStatus(exit_code=143, signal=15)
    assert read_records(tmp_path).exit_status == ended


async def test_an_attempt_of_the_earlier_runner_that_ended_meanwhile_is_recorded(
    upgraded: LocalExecutor, tmp_path: Path
) -> None:
    stored = await start_with_earlier_runner(tmp_path, "exit 3")
    await until(lambda: read_exit_status(tmp_path) is not None, "the attempt did not end")
    handle = await upgraded.reattach(stored)
    assert handle.pid == read_records(tmp_path).supervisor_pid is not None
    assert await asyncio.wait_for(upgraded.wait(handle), DEADLINE) == ExitStatus(exit_code=3)


async def test_an_attempt_of_the_earlier_runner_can_be_killed(
    upgraded: LocalExecutor, tmp_path: Path
) -> None:
    stored = await start_with_earlier_runner(tmp_path, "sleep 30")
    handle = await upgraded.reattach(stored)
    await upgraded.signal(handle, signal.SIGKILL)
    ended = await asyncio.wait_for(upgraded.wait(handle), DEADLINE)
    assert ended == ExitStatus(exit_code=137, signal=9)


async def test_a_relaunch_in_a_directory_of_the_earlier_runner_leaves_one_record_file(
    upgraded: LocalExecutor, tmp_path: Path
) -> None:
    await start_with_earlier_runner(tmp_path, "sh -c 'kill -TERM $$'")
    await until(lambda: read_exit_status(tmp_path) is not None, "the attempt did not end")
    assert separate_records(tmp_path) == {"exit", "supervisor", "pid", "signal"}
    handle = await upgraded.start(
        ActionSpec(action_run_id="ns.job.1.act", attempt=0, command="exit 0", output_dir=tmp_path)
    )
    assert await asyncio.wait_for(upgraded.wait(handle), DEADLINE) == ExitStatus(exit_code=0)
    assert separate_records(tmp_path) == {"exit"}
    assert read_records(tmp_path).supervisor_pid == handle.pid
