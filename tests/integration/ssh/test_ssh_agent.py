"""The per-connection agent: launches and reports over one channel, falls back to polling when
lost, and deletes finished attempts on the node in batches."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.sshd import SshKit
from tron.config.model import NodeConfig
from tron.executors.base import ActionSpec, ExitStatus
from tron.executors.ssh import Polling, SshExecutor
from tron.executors.ssh_agent import launch_request, parse_exit, parse_reply

pytestmark = pytest.mark.ssh

_ids = itertools.count()


def spec_for(tmp_path: Path, node: NodeConfig, command: str, **env: str) -> ActionSpec:
    number = next(_ids)
    return ActionSpec(
        action_run_id=f"ns.agent.{number}.act",
        attempt=0,
        command=command,
        output_dir=tmp_path / f"out-{number}",
        node=node,
        env=env,
    )


@pytest.fixture
async def executor(ssh_kit: SshKit) -> AsyncIterator[SshExecutor]:
    built = SshExecutor(ssh_kit.config(connect_timeout=2), polling=Polling(sweep=0.05))
    yield built
    await built.close()


def test_request_marker_is_never_a_line_of_the_texts() -> None:
    request = launch_request(3, "/r/d", "echo a\nTRON-END-x\n", {"A": "1\n2"}, 5.0)
    header, *rest = request.decode().split("\n")
    number, started, marker, mode, directory = header.split(" ")
    assert (number, started, mode, directory) == ("3", "5.000000", "-", "/r/d")
    reclaiming = launch_request(3, "/r/d", "true", {}, 5.0, reclaim=True)
    assert reclaiming.split(b"\n")[0].split(b" ")[3] == b"reclaim"
    assert rest == ["export A='1", "2'", marker, "echo a", "TRON-END-x", marker, ""]


def test_replies_parse_and_garbage_is_refused() -> None:
    assert parse_reply(b"p 4 123\n") == ("p", 4, [b"123"])
    assert parse_reply(b"p 4 123") is None
    assert parse_reply(b"junk\n") is None
    report = parse_exit([b"137", b"9", b"0", b"1"])
    assert report is not None
    assert report.status == ExitStatus(exit_code=137, signal=9)
    assert report.has_output
    unsignalled = parse_exit([b"0", b"-", b"0", b"0"])
    assert unsignalled is not None
    assert unsignalled.status == ExitStatus(exit_code=0)
    assert not unsignalled.has_output
    assert parse_exit([b"0", b"x", b"0", b"0"]) is None


async def test_long_command_and_env_reach_the_node(
    executor: SshExecutor, ssh_kit: SshKit, tmp_path: Path
) -> None:
    filler = "#" + "x" * 200_000 + "\n"
    spec = spec_for(
        tmp_path, ssh_kit.servers[0].node, filler + 'echo "$GREETING"', GREETING="hi\nthere"
    )
    status = await asyncio.wait_for(executor.wait(await executor.start(spec)), 10)
    assert status == ExitStatus(exit_code=0)
    assert (spec.output_dir / "stdout").read_text() == "hi\nthere\n"


async def test_action_with_output_is_complete_when_reported_quickly(
    executor: SshExecutor, ssh_kit: SshKit, tmp_path: Path
) -> None:
    spec = spec_for(tmp_path, ssh_kit.servers[0].node, "echo out; echo err >&2; exit 4")
    status = await asyncio.wait_for(executor.wait(await executor.start(spec)), 10)
    assert status == ExitStatus(exit_code=4)
    assert (spec.output_dir / "stdout").read_text() == "out\n"
    assert (spec.output_dir / "stderr").read_text() == "err\n"


async def test_lost_agent_falls_back_to_polling_the_files(
    executor: SshExecutor, ssh_kit: SshKit, tmp_path: Path
) -> None:
    server = ssh_kit.servers[1]
    spec = spec_for(tmp_path, server.node, "sleep 0.6; echo late; exit 2")
    handle = await executor.start(spec)
    assert server.kill_sessions()  # the agent's channel goes with its connection
    status = await asyncio.wait_for(executor.wait(handle), 10)
    assert status == ExitStatus(exit_code=2)
    assert (spec.output_dir / "stdout").read_text() == "late\n"
    # A new agent starts the next action.
    again = spec_for(tmp_path, server.node, "exit 1")
    assert await asyncio.wait_for(executor.wait(await executor.start(again)), 10) == ExitStatus(
        exit_code=1
    )


async def test_finished_attempts_are_deleted_on_the_node(
    executor: SshExecutor, ssh_kit: SshKit, tmp_path: Path
) -> None:
    node = ssh_kit.servers[0].node
    handles = [await executor.start(spec_for(tmp_path, node, f"exit {n}")) for n in range(5)]
    prefixes = [str(handle.extra["remote_prefix"]) for handle in handles]

    def left() -> list[str]:
        names = [str(path) for path in Path(prefixes[0]).parent.iterdir()]
        return [name for name in names if name.startswith(tuple(prefixes))]

    assert left()  # the pid record exists once start returns
    await asyncio.gather(*map(executor.wait, handles))
    for _ in range(200):
        if not left():
            break
        await asyncio.sleep(0.02)
    assert not left()
