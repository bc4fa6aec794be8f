"""The Executor contract, run unchanged against every executor (local and ssh)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from tests.sshd import KIT_ENV, NodeBound, SshKit

from tron.executors.base import ActionSpec, Executor, ExitStatus, Handle
from tron.executors.local import LocalExecutor
from tron.executors.ssh import SshExecutor


@dataclass(frozen=True, slots=True, kw_only=True)
class Kind:
    """One executor under test: how to build it here, and in a child Python process."""

    name: str
    build: Callable[[], Executor]
    child_code: str


KINDS = [
    Kind(
        name="local",
        build=LocalExecutor,
        child_code="from tron.executors.local import LocalExecutor as build",
    ),
    Kind(
        name="local-polling",
        build=lambda: LocalExecutor(use_pidfd=False, poll_interval=0.01),
        child_code="from tron.executors.local import LocalExecutor as build",
    ),
    # Built by the `kind` fixture once the session's sshd runs.
    Kind(
        name="ssh", build=LocalExecutor, child_code="from tests.sshd import build_from_env as build"
    ),
]

MakeSpec = Callable[..., ActionSpec]

_ids = itertools.count()


def _param(kind: Kind) -> object:
    marks = [pytest.mark.ssh] if kind.name == "ssh" else []
    return pytest.param(kind, marks=marks, id=kind.name)


@pytest.fixture(params=[_param(kind) for kind in KINDS])
def kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Kind:
    chosen: Kind = request.param
    if chosen.name != "ssh":
        return chosen
    kit: SshKit = request.getfixturevalue("ssh_kit")
    # Child processes of the suite rebuild the same executor from this variable.
    monkeypatch.setenv(KIT_ENV, str(kit.directory))
    node = kit.servers[0].node
    return replace(chosen, build=lambda: NodeBound(SshExecutor(kit.config()), node))


@pytest.fixture
async def executor(kind: Kind) -> AsyncIterator[Executor]:
    built = kind.build()
    yield built
    await built.close()


@pytest.fixture
def make_spec(tmp_path: Path) -> MakeSpec:
    def make(command: str, **env: str) -> ActionSpec:
        number = next(_ids)
        return ActionSpec(
            action_run_id=f"ns.job.{number}.action",
            attempt=0,
            command=command,
            output_dir=tmp_path / f"attempt-{number}",
            env=env,
        )

    return make


async def run(executor: Executor, spec: ActionSpec) -> ExitStatus:
    return await asyncio.wait_for(executor.wait(await executor.start(spec)), 10)


def output(spec: ActionSpec, stream: str = "stdout") -> str:
    return (spec.output_dir / stream).read_text(encoding="utf-8")


async def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def is_running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return False
    return stat.rsplit(b")", 1)[-1].split()[0] not in (b"Z", b"X")


def pids_in(text: str) -> list[int]:
    return [int(word) for word in text.split()]


@pytest.mark.parametrize("code", [0, 3, 127])
async def test_wait_reports_exit_code(executor: Executor, make_spec: MakeSpec, code: int) -> None:
    status = await run(executor, make_spec(f"exit {code}"))
    assert status == ExitStatus(exit_code=code)


async def test_unknown_program_exits_127(executor: Executor, make_spec: MakeSpec) -> None:
    spec = make_spec("no-such-program-for-tron")
    status = await run(executor, spec)
    assert status.exit_code == 127
    assert "no-such-program-for-tron" in output(spec, "stderr")


async def test_stdout_and_stderr_go_to_their_files(executor: Executor, make_spec: MakeSpec) -> None:
    spec = make_spec("echo 'out ünïcødé ✓'; echo 'err ✗' >&2")
    await run(executor, spec)
    assert output(spec) == "out ünïcødé ✓\n"
    assert output(spec, "stderr") == "err ✗\n"


async def test_large_output_is_complete(executor: Executor, make_spec: MakeSpec) -> None:
    spec = make_spec("head -c 3000000 /dev/zero | tr '\\0' x; echo; echo end >&2")
    status = await run(executor, spec)
    assert status.exit_code == 0
    text = output(spec)
    assert len(text) == 3_000_001
    assert set(text.strip()) == {"x"}
    assert output(spec, "stderr") == "end\n"


async def test_env_is_applied(executor: Executor, make_spec: MakeSpec) -> None:
    spec = make_spec(
        'printf "%s|" "$TRON_JOB_NAMESPACE" "$TRON_JOB_NAME" "$TRON_RUN_NUM" "$TRON_ACTION" "$ODD"',
        TRON_JOB_NAMESPACE="ns",
        TRON_JOB_NAME="job",
        TRON_RUN_NUM="7",
        TRON_ACTION="act",
        ODD='it\'s "odd" $HOME ü\nline',
    )
    await run(executor, spec)
    assert output(spec) == 'ns|job|7|act|it\'s "odd" $HOME ü\nline|'


async def test_quotes_and_newlines_in_command_run_verbatim(
    executor: Executor, make_spec: MakeSpec
) -> None:
    command = "echo \"it's \\\"quoted\\\"\"\necho '$HOME stays literal'\nprintf '%s\\n' 'ü \\ back'"
    spec = make_spec(command)
    await run(executor, spec)
    assert output(spec) == 'it\'s "quoted"\n$HOME stays literal\nü \\ back\n'


async def test_command_without_trailing_newline_and_blank_lines(
    executor: Executor, make_spec: MakeSpec
) -> None:
    spec = make_spec("\n\necho a\n\n\necho b")
    await run(executor, spec)
    assert output(spec) == "a\nb\n"


async def test_output_is_readable_while_running(executor: Executor, make_spec: MakeSpec) -> None:
    spec = make_spec("echo first; sleep 0.3; echo second")
    handle = await executor.start(spec)
    waiting = asyncio.ensure_future(executor.wait(handle))
    await eventually(lambda: (spec.output_dir / "stdout").exists() and "first" in output(spec))
    assert not waiting.done()
    assert (await waiting).exit_code == 0
    assert output(spec) == "first\nsecond\n"


async def test_start_returns_handle_with_pid(executor: Executor, make_spec: MakeSpec) -> None:
    spec = make_spec("sleep 0.2")
    handle = await executor.start(spec)
    assert handle.action_run_id == spec.action_run_id
    assert handle.attempt == 0
    assert handle.pid is not None
    assert handle.pid > 0
    assert Handle.from_record(json.loads(json.dumps(handle.to_record()))) == handle
    await executor.wait(handle)


async def _start_family(executor: Executor, spec: ActionSpec) -> tuple[Handle, list[int]]:
    handle = await executor.start(spec)
    await eventually(lambda: len(pids_in(output(spec))) == 2)
    return handle, pids_in(output(spec))


FAMILY = "sleep 30 & echo $!; sh -c 'sleep 30' & echo $!; wait"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
async def test_signal_reaches_whole_process_group(
    executor: Executor, make_spec: MakeSpec, signum: signal.Signals
) -> None:
    handle, children = await _start_family(executor, make_spec(FAMILY))
    await executor.signal(handle, signum)
    status = await asyncio.wait_for(executor.wait(handle), 5)
    assert status == ExitStatus(exit_code=128 + signum, signal=signum)
    await eventually(lambda: not any(is_running(pid) for pid in children))


async def test_action_ignoring_sigterm_dies_on_sigkill(
    executor: Executor, make_spec: MakeSpec
) -> None:
    spec = make_spec("trap '' TERM; echo ready; while :; do sleep 0.05; done")
    handle = await executor.start(spec)
    await eventually(lambda: (spec.output_dir / "stdout").exists() and "ready" in output(spec))
    await executor.signal(handle, signal.SIGTERM)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(executor.wait(handle)), 0.3)
    await executor.signal(handle, signal.SIGKILL)
    status = await asyncio.wait_for(executor.wait(handle), 5)
    assert status == ExitStatus(exit_code=137, signal=9)


async def test_signal_after_end_is_harmless(executor: Executor, make_spec: MakeSpec) -> None:
    spec = make_spec("exit 0")
    handle = await executor.start(spec)
    await executor.wait(handle)
    await executor.signal(handle, signal.SIGTERM)
    assert await executor.wait(handle) == ExitStatus(exit_code=0)


async def test_concurrent_waits_get_same_status(executor: Executor, make_spec: MakeSpec) -> None:
    handle = await executor.start(make_spec("sleep 0.1; exit 9"))
    first, second = await asyncio.gather(executor.wait(handle), executor.wait(handle))
    assert first == second == ExitStatus(exit_code=9)


async def test_reattach_to_running_action(kind: Kind, make_spec: MakeSpec) -> None:
    spec = make_spec("sleep 0.4; echo done; exit 4")
    first = kind.build()
    handle = await first.start(spec)
    await first.close()
    second = kind.build()
    try:
        reattached = await second.reattach(Handle.from_record(handle.to_record()))
        assert reattached.pid == handle.pid
        status = await asyncio.wait_for(second.wait(reattached), 5)
    finally:
        await second.close()
    assert status == ExitStatus(exit_code=4)
    assert output(spec) == "done\n"


async def test_reattach_to_action_that_ended_unwatched(kind: Kind, make_spec: MakeSpec) -> None:
    spec = make_spec("echo bye; exit 5")
    first = kind.build()
    handle = await first.start(spec)
    waiting = asyncio.ensure_future(first.wait(handle))
    await first.close()
    await asyncio.sleep(0.3)
    second = kind.build()
    try:
        reattached = await second.reattach(Handle.from_record(handle.to_record()))
        status = await asyncio.wait_for(second.wait(reattached), 5)
    finally:
        await second.close()
        waiting.cancel()
    assert status == ExitStatus(exit_code=5)
    assert output(spec) == "bye\n"


CHILD = """
import asyncio, json, sys
from pathlib import Path
from tron.executors.base import ActionSpec
{child_code}

async def main():
    executor = build()
    spec = ActionSpec(action_run_id="ns.job.1.survivor", attempt=0, command=sys.argv[2],
                      output_dir=Path(sys.argv[1]))
    handle = await executor.start(spec)
    print(json.dumps(handle.to_record()), flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_action_survives_sigkill_of_launching_process(
    kind: Kind, make_spec: MakeSpec
) -> None:
    spec = make_spec("sleep 0.4; head -c 1000000 /dev/zero | tr '\\0' y; exit 6")
    code = CHILD.format(child_code=kind.child_code)
    launcher = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, str(spec.output_dir), spec.command, stdout=subprocess.PIPE
    )
    assert launcher.stdout is not None
    line = await asyncio.wait_for(launcher.stdout.readline(), 10)
    launcher.kill()
    await launcher.wait()
    executor = kind.build()
    try:
        handle = await executor.reattach(Handle.from_record(json.loads(line)))
        status = await asyncio.wait_for(executor.wait(handle), 10)
    finally:
        await executor.close()
    assert status == ExitStatus(exit_code=6)
    assert output(spec) == "y" * 1_000_000


async def test_fifty_concurrent_actions(executor: Executor, make_spec: MakeSpec) -> None:
    specs = [make_spec(f"echo {n}; exit {n % 4}") for n in range(50)]
    statuses = await asyncio.gather(*(run(executor, spec) for spec in specs))
    assert [s.exit_code for s in statuses] == [n % 4 for n in range(50)]
    assert [output(spec) for spec in specs] == [f"{n}\n" for n in range(50)]


async def test_action_detached_from_daemon_session(executor: Executor, make_spec: MakeSpec) -> None:
    spec = make_spec("sleep 0.2")
    handle = await executor.start(spec)
    pid = handle.pid
    assert pid is not None
    # setsid runs a moment after the fork that gave the pid
    await eventually(lambda: os.getpgid(pid) == pid)
    assert os.getsid(pid) != os.getsid(0)
    await executor.wait(handle)
