"""Per-node connection lifetime against real sshd: idle connections close and reopen, and a
server allowing more sessions than stock serves more channels on one connection."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.sshd import SshKit, SshServer
from tron.config.model import NodeConfig
from tron.executors.base import ActionSpec, ExitStatus
from tron.executors.ssh import SshExecutor
from tron.executors.supervisor import VANISHED

pytestmark = pytest.mark.ssh

_ids = itertools.count()


def spec_for(tmp_path: Path, node: NodeConfig, command: str) -> ActionSpec:
    number = next(_ids)
    return ActionSpec(
        action_run_id=f"ns.nodes.{number}.act",
        attempt=0,
        command=command,
        output_dir=tmp_path / f"out-{number}",
        node=node,
    )


@pytest.fixture
def idle_server(ssh_kit: SshKit) -> Iterator[SshServer]:
    server = ssh_kit.extra_server(f"idle{next(_ids)}")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def wide_server(ssh_kit: SshKit) -> Iterator[SshServer]:
    server = ssh_kit.extra_server("wide", extra="MaxSessions 30")
    yield server
    server.stop()


async def _until(check: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_idle_connections_close_after_the_timeout_and_reopen_on_use(
    ssh_kit: SshKit, idle_server: SshServer, tmp_path: Path
) -> None:
    node = idle_server.node
    executor = SshExecutor(ssh_kit.config_for([idle_server], idle_connection_timeout=1))
    try:
        first = spec_for(tmp_path, node, "echo one")
        assert await executor.wait(await executor.start(first)) == ExitStatus(exit_code=0)
        assert idle_server.session_pids()
        assert await _until(lambda: not idle_server.session_pids(), 5)
        assert executor.connections(node).connection_count == 0
        again = spec_for(tmp_path, node, "echo two")
        assert await executor.wait(await executor.start(again)) == ExitStatus(exit_code=0)
        assert (again.output_dir / "stdout").read_text() == "two\n"
        assert executor.connections(node).connection_count == 1
    finally:
        await executor.close()


async def test_connections_stay_open_while_an_action_runs_past_the_idle_timeout(
    ssh_kit: SshKit, idle_server: SshServer, tmp_path: Path
) -> None:
    node = idle_server.node
    executor = SshExecutor(ssh_kit.config_for([idle_server], idle_connection_timeout=1))
    try:
        spec = spec_for(tmp_path, node, "sleep 2; echo done")
        handle = await executor.start(spec)
        await asyncio.sleep(1.5)
        assert executor.connections(node).connection_count == 1
        assert await asyncio.wait_for(executor.wait(handle), 10) == ExitStatus(exit_code=0)
        assert (spec.output_dir / "stdout").read_text() == "done\n"
        # The files left to delete on the node keep it open until they are gone.
        assert await _until(lambda: not idle_server.session_pids(), 5)
    finally:
        await executor.close()


async def test_zero_idle_timeout_never_closes(
    ssh_kit: SshKit, idle_server: SshServer, tmp_path: Path
) -> None:
    node = idle_server.node
    executor = SshExecutor(ssh_kit.config_for([idle_server], idle_connection_timeout=0))
    try:
        await executor.wait(await executor.start(spec_for(tmp_path, node, "true")))
        await asyncio.sleep(1.2)
        assert executor.connections(node).connection_count == 1
    finally:
        await executor.close()


@pytest.mark.parametrize(("wide", "max_channels"), [(False, 8), (True, 28)], ids=["stock", "wide"])
async def test_thirty_concurrent_stops_reach_every_action(
    ssh_kit: SshKit,
    wide_server: SshServer,
    tmp_path: Path,
    wide: bool,
    max_channels: int,
) -> None:
    server = wide_server if wide else ssh_kit.servers[0]
    config = ssh_kit.config_for([server]) if wide else ssh_kit.config()
    executor = SshExecutor(config, max_channels=max_channels)
    try:
        specs = [spec_for(tmp_path, server.node, "sleep 30") for _ in range(30)]
        handles = await asyncio.gather(*map(executor.start, specs))
        await asyncio.gather(*(executor.signal(h, signal.SIGTERM) for h in handles))
        statuses = await asyncio.wait_for(asyncio.gather(*map(executor.wait, handles)), 20)
        assert {status.exit_code for status in statuses} == {143}
        count = executor.connections(server.node).connection_count
        # Stock sshd: 10 sessions a connection, so 30 channels at once need several.
        assert count <= 2 if wide else count >= 2
    finally:
        await executor.close()


def _wipe(prefix: str) -> int:
    """Delete an attempt's files on the (loopback) node; return its supervisor's pid."""
    supervisor = int(Path(prefix + "supervisor").read_text())
    for path in Path(prefix).parent.glob(Path(prefix).name + "*"):
        path.unlink()
    return supervisor


async def test_attempt_whose_files_and_processes_vanish_ends_as_vanished(
    ssh_kit: SshKit, tmp_path: Path
) -> None:
    node = ssh_kit.servers[0].node
    executor = SshExecutor(ssh_kit.config())
    try:
        handle = await executor.start(spec_for(tmp_path, node, "sleep 30"))
        prefix = str(handle.extra["remote_prefix"])
        supervisor = _wipe(prefix)
        assert handle.pid is not None
        os.kill(supervisor, signal.SIGKILL)
        try:
            os.killpg(handle.pid, signal.SIGKILL)
        except ProcessLookupError:  # not yet in a session of its own
            os.kill(handle.pid, signal.SIGKILL)
        status = await asyncio.wait_for(executor.wait(handle), 10)
        assert status == ExitStatus(exit_code=None, reason=VANISHED)
    finally:
        await executor.close()
