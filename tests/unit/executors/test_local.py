"""LocalExecutor behaviour beyond the shared contract: failures to start and lost supervisors."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tron.errors import NodeError
from tron.executors import load_executor_class
from tron.executors.base import ActionSpec, AttemptNotStarted, ExitStatus, Handle
from tron.executors.local import LocalExecutor
from tron.executors.local_children import Children
from tron.executors.supervisor import EXIT_PLACEHOLDER, NOT_STARTED, VANISHED, read_records


@pytest.fixture(params=[True, False], ids=["pidfd", "polling"])
async def executor(request: pytest.FixtureRequest) -> AsyncIterator[LocalExecutor]:
    built = LocalExecutor(use_pidfd=request.param, poll_interval=0.01)
    yield built
    await built.close()


def spec(directory: Path, command: str) -> ActionSpec:
    return ActionSpec(
        action_run_id="ns.job.1.act", attempt=0, command=command, output_dir=directory
    )


def kill_quietly(pid: int, *, group: bool = False) -> None:
    with contextlib.suppress(ProcessLookupError):
        (os.killpg if group else os.kill)(pid, signal.SIGKILL)


def is_running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return False
    return stat.rsplit(b")", 1)[-1].split()[0] not in (b"Z", b"X")


def has_proc_entry(pid: int) -> bool:
    """Whether `pid` exists at all, zombie included."""
    return Path(f"/proc/{pid}").exists()


async def until_gone(pid: int) -> None:
    deadline = time.monotonic() + 5
    while is_running(pid):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


def test_backend_table_loads_local_executor() -> None:
    assert load_executor_class("local") is LocalExecutor
    with pytest.raises(KeyError):
        load_executor_class("carrier-pigeon")


async def test_wait_reports_vanished_when_supervisor_and_command_die(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    handle = await executor.start(spec(tmp_path, "sleep 30"))
    waiting = asyncio.ensure_future(executor.wait(handle))
    assert handle.pid is not None
    supervisor = read_records(tmp_path).supervisor_pid
    assert supervisor is not None
    kill_quietly(supervisor)
    await until_gone(supervisor)
    assert not waiting.done()  # the command still runs
    kill_quietly(handle.pid, group=True)
    status = await asyncio.wait_for(waiting, 5)
    assert status == ExitStatus(exit_code=None, reason=VANISHED)


async def test_reattach_without_records_claims_the_attempt_as_never_started(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    handle = Handle(action_run_id="ns.job.1.act", attempt=0, node=None, output_dir=str(tmp_path))
    for _ in range(2):  # and says so again to the next daemon
        with pytest.raises(AttemptNotStarted, match="never started"):
            await executor.reattach(handle)
    assert await executor.wait(handle) == ExitStatus(exit_code=None, reason=NOT_STARTED)
    await executor.signal(handle, signal.SIGTERM)  # nothing to signal, no error
    missing = Handle(
        action_run_id="ns.job.1.act", attempt=0, node=None, output_dir=str(tmp_path / "none")
    )
    with pytest.raises(AttemptNotStarted):
        await executor.reattach(missing)


async def test_reattach_to_a_reserved_attempt_is_not_a_claim(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    # A supervisor that reserved its exit record and died before any other record.
    (tmp_path / "exit").write_text(EXIT_PLACEHOLDER)
    handle = Handle(action_run_id="ns.job.1.act", attempt=0, node=None, output_dir=str(tmp_path))
    reattached = await executor.reattach(handle)
    assert await executor.wait(reattached) == ExitStatus(exit_code=None, reason=VANISHED)


async def test_close_cancels_pending_waits_and_leaves_action_running(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    handle = await executor.start(spec(tmp_path, "sleep 0.3; exit 2"))
    waiting = asyncio.ensure_future(executor.wait(handle))
    await asyncio.sleep(0.05)
    await executor.close()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    fresh = LocalExecutor()
    try:
        assert await asyncio.wait_for(fresh.wait(handle), 5) == ExitStatus(exit_code=2)
    finally:
        await fresh.close()


async def test_start_raises_node_error_when_shell_is_missing(tmp_path: Path) -> None:
    executor = LocalExecutor(shell=str(tmp_path / "no-shell"))
    with pytest.raises(NodeError, match="cannot start the supervisor"):
        await executor.start(spec(tmp_path / "a", "true"))


async def test_start_raises_node_error_when_directory_cannot_exist(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(NodeError, match="cannot prepare"):
        await LocalExecutor().start(spec(tmp_path / "file" / "a", "true"))


async def test_start_raises_node_error_when_supervisor_says_nothing(tmp_path: Path) -> None:
    silent = tmp_path / "silent.sh"
    silent.write_text("exit 0\n")
    with pytest.raises(NodeError, match="did not start"):
        await LocalExecutor(wrapper=silent).start(spec(tmp_path / "a", "true"))


async def test_start_raises_node_error_on_timeout(tmp_path: Path) -> None:
    stuck = tmp_path / "stuck.sh"
    stuck.write_text("sleep 5\n")
    executor = LocalExecutor(wrapper=stuck, start_timeout=0.2)
    with pytest.raises(NodeError, match="did not start within"):
        await executor.start(spec(tmp_path / "a", "true"))


async def test_restart_in_same_directory_forgets_old_exit(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    first = await executor.start(spec(tmp_path, "exit 1"))
    assert (await executor.wait(first)).exit_code == 1
    second = await executor.start(spec(tmp_path, "sleep 0.1; exit 0"))
    assert (await executor.wait(second)).exit_code == 0


async def test_sigkill_status_survives_a_new_executor(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    handle = await executor.start(spec(tmp_path, "echo ready; sleep 30"))
    await executor.signal(handle, signal.SIGKILL)
    assert handle.pid is not None
    await until_gone(handle.pid)
    fresh = LocalExecutor(use_pidfd=False, poll_interval=0.01)
    try:
        reattached = await fresh.reattach(handle)
        status = await asyncio.wait_for(fresh.wait(reattached), 5)
    finally:
        await fresh.close()
    assert status == ExitStatus(exit_code=137, signal=9)


async def test_command_trapping_sigterm_reports_its_own_exit(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    handle = await executor.start(
        spec(tmp_path, "trap 'sleep 0.1; exit 3' TERM; echo ready; while :; do sleep 0.02; done")
    )
    deadline = time.monotonic() + 5
    while "ready" not in (tmp_path / "stdout").read_text():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    await executor.signal(handle, signal.SIGTERM)
    assert await asyncio.wait_for(executor.wait(handle), 5) == ExitStatus(exit_code=3)


async def test_long_command_is_read_from_the_command_file(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    command = ": '" + "x" * 120_000 + "'\necho long"
    status = await asyncio.wait_for(executor.wait(await executor.start(spec(tmp_path, command))), 5)
    assert status == ExitStatus(exit_code=0)
    assert (tmp_path / "stdout").read_text() == "long\n"


async def test_command_sees_no_positional_parameters(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    handle = await executor.start(spec(tmp_path, 'echo "$#|$1|$2|$3"'))
    await asyncio.wait_for(executor.wait(handle), 5)
    assert (tmp_path / "stdout").read_text() == "0|||\n"


async def test_supervisor_is_reaped_once_waited(executor: LocalExecutor, tmp_path: Path) -> None:
    handle = await executor.start(spec(tmp_path, "exit 0"))
    await asyncio.wait_for(executor.wait(handle), 5)
    assert handle.pid is not None
    deadline = time.monotonic() + 5
    while has_proc_entry(handle.pid):
        assert time.monotonic() < deadline, "supervisor left as a zombie"
        await asyncio.sleep(0.01)


async def test_reattach_without_group_record_signals_the_command_group(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    # Records without `group` (as ssh_agent.sh leaves them): the command leads its own group.
    (tmp_path / "pid").write_text("4242\n")
    handle = Handle(action_run_id="ns.job.1.act", attempt=0, node=None, output_dir=str(tmp_path))
    assert (await executor.reattach(handle)).pid == 4242


async def test_local_runner_leaves_only_the_records_trond_reads(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    # Each file is an inode to allocate per launch: the runner keeps its records in the one
    # `exit` file, leads the attempt's process group (so its pid is also the group), and a
    # signal is told by the status itself.
    handle = await executor.start(spec(tmp_path / "running", "sleep 30"))
    try:
        assert set(os.listdir(tmp_path / "running")) == {"exit", "stdout", "stderr"}
        reattached = await executor.reattach(replace(handle, pid=None))
        assert reattached.pid == read_records(tmp_path / "running").supervisor_pid == handle.pid
    finally:
        kill_quietly(handle.pid or 0, group=True)
    await asyncio.wait_for(executor.wait(handle), 5)
    signalled = await executor.start(spec(tmp_path / "signalled", "sh -c 'kill -TERM $$'"))
    ended = await asyncio.wait_for(executor.wait(signalled), 5)
    assert ended == ExitStatus(exit_code=143, signal=15)
    assert set(os.listdir(tmp_path / "signalled")) == {"exit", "stdout", "stderr"}
    assert read_records(tmp_path / "signalled").exit_status == ended


async def test_restart_in_same_directory_forgets_old_kill(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    first = await executor.start(spec(tmp_path, "sleep 30"))
    await executor.signal(first, signal.SIGKILL)
    assert (await asyncio.wait_for(executor.wait(first), 5)).signal == 9
    second = await executor.start(spec(tmp_path, "exit 0"))
    assert await asyncio.wait_for(executor.wait(second), 5) == ExitStatus(exit_code=0)


async def test_command_does_not_inherit_ignored_sigpipe(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    handle = await executor.start(spec(tmp_path, "sh -c 'grep SigIgn /proc/$$/status'"))
    await asyncio.wait_for(executor.wait(handle), 5)
    ignored = int((tmp_path / "stdout").read_text().split()[1], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1))


async def test_a_stop_sent_as_soon_as_the_launch_returns_ends_the_command(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    # As the dispatcher does with a stop asked while the action was launching. The runner's
    # subshell once inherited its no-op trap for SIGTERM until it reset it: a stop that came
    # first was lost (about one launch in two), and the command ran on.
    for launch in range(10):
        handle = await executor.start(spec(tmp_path / str(launch), "sleep 30"))
        await executor.signal(handle, signal.SIGTERM)
        try:
            ended = await asyncio.wait_for(executor.wait(handle), 10)
        finally:
            kill_quietly(handle.pid or 0, group=True)
        assert ended == ExitStatus(exit_code=143, signal=15)


async def test_a_start_cancelled_as_its_first_line_comes_is_cancelled(
    executor: LocalExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The shutdown that cancels a launch may come in the very turn of the loop that brings
    # the runner's first line: the launch must end cancelled, or the worker that runs it
    # would go on to wait for more work and the shutdown would wait for it forever.
    starting: asyncio.Task[Handle] | None = None
    adopt = Children.adopt

    def adopt_then_cancel_on_the_line(self: Children, pid: int, reader: int) -> Any:
        first_line = adopt(self, pid, reader)
        first_line.add_done_callback(lambda _: starting and starting.cancel())
        return first_line

    monkeypatch.setattr(Children, "adopt", adopt_then_cancel_on_the_line)
    starting = asyncio.ensure_future(executor.start(spec(tmp_path, "true")))
    await asyncio.wait({starting})
    assert starting.cancelled()
