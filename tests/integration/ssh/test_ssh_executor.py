"""SshExecutor against real sshd: bad nodes fail fast and clearly, dropped links recover."""

from __future__ import annotations

import asyncio
import itertools
import random
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

from tests.sshd import SshKit, SshServer, free_port, start_sshd
from tron.config.model import NodeConfig
from tron.errors import NodeError
from tron.executors.base import ActionSpec, ExitStatus
from tron.executors.ssh import SshExecutor, jitter_delay

pytestmark = pytest.mark.ssh

_ids = itertools.count()


def spec_for(tmp_path: Path, node: NodeConfig, command: str) -> ActionSpec:
    number = next(_ids)
    return ActionSpec(
        action_run_id=f"ns.job.{number}.act",
        attempt=0,
        command=command,
        output_dir=tmp_path / f"out-{number}",
        node=node,
    )


@pytest.fixture
async def executor(ssh_kit: SshKit) -> AsyncIterator[SshExecutor]:
    built = SshExecutor(ssh_kit.config(connect_timeout=1))
    yield built
    await built.close()


async def test_thirty_concurrent_actions_on_a_stock_sshd(
    executor: SshExecutor, ssh_kit: SshKit, tmp_path: Path
) -> None:
    node = ssh_kit.servers[0].node
    specs = [spec_for(tmp_path, node, f"sleep 0.5; echo {n}; exit {n % 3}") for n in range(30)]
    handles = await asyncio.gather(*(executor.start(spec) for spec in specs))
    statuses = await asyncio.wait_for(asyncio.gather(*map(executor.wait, handles)), 180)
    assert [s.exit_code for s in statuses] == [n % 3 for n in range(30)]
    assert [(s.output_dir / "stdout").read_text() for s in specs] == [f"{n}\n" for n in range(30)]
    # One agent on one connection starts them all: no channel per action, so no extra link.
    assert executor.connections(node).connection_count == 1


async def test_closed_port_fails_start_quickly_with_node_error(
    ssh_kit: SshKit, tmp_path: Path
) -> None:
    node = NodeConfig(name="closed", hostname="127.0.0.1", port=free_port())
    known = _known_hosts(tmp_path, f"[127.0.0.1]:{node.port} {ssh_kit.servers[0].host_key}")
    executor = SshExecutor(ssh_kit.config(known_hosts_file=known))
    try:
        with pytest.raises(NodeError, match=r"node closed .*cannot connect"):
            # Refused at once, not after retries: a generous deadline, no timing goal here.
            await asyncio.wait_for(executor.start(spec_for(tmp_path, node, "true")), 30)
    finally:
        await executor.close()


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A port whose connections are accepted by the kernel but never get an SSH banner."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


async def test_silent_node_times_out_instead_of_hanging(
    ssh_kit: SshKit, tmp_path: Path, blackhole: int
) -> None:
    node = NodeConfig(name="silent", hostname="127.0.0.1", port=blackhole)
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{blackhole} {ssh_kit.servers[0].host_key}\n")
    executor = SshExecutor(ssh_kit.config(connect_timeout=1, known_hosts_file=str(known)))
    try:
        with pytest.raises(NodeError, match="no answer within 1s"):
            await asyncio.wait_for(executor.start(spec_for(tmp_path, node, "true")), 30)
    finally:
        await executor.close()


def _known_hosts(tmp_path: Path, *lines: str) -> str:
    path = tmp_path / "known_hosts"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


async def test_changed_host_key_is_a_clear_node_error(ssh_kit: SshKit, tmp_path: Path) -> None:
    first, second = ssh_kit.servers
    # The file claims node1's port presents node2's key: what a changed key looks like.
    known = _known_hosts(tmp_path, f"[127.0.0.1]:{first.port} {second.host_key}")
    executor = SshExecutor(ssh_kit.config(known_hosts_file=known))
    try:
        with pytest.raises(NodeError, match="host key does not match"):
            await executor.start(spec_for(tmp_path, first.node, "true"))
    finally:
        await executor.close()


async def test_unknown_host_is_refused(ssh_kit: SshKit, tmp_path: Path) -> None:
    first, second = ssh_kit.servers
    known = _known_hosts(tmp_path, f"[127.0.0.1]:{second.port} {second.host_key}")
    executor = SshExecutor(ssh_kit.config(known_hosts_file=known))
    try:
        with pytest.raises(NodeError, match="unknown host"):
            await executor.start(spec_for(tmp_path, first.node, "true"))
    finally:
        await executor.close()


async def test_bare_host_known_hosts_line_matches_any_port(ssh_kit: SshKit, tmp_path: Path) -> None:
    server = ssh_kit.servers[1]
    known = _known_hosts(tmp_path, f"127.0.0.1 {server.host_key}")
    executor = SshExecutor(ssh_kit.config(known_hosts_file=known))
    try:
        spec = spec_for(tmp_path, server.node, 'echo "on $TRON_TEST_NODE"')
        status = await executor.wait(await executor.start(spec))
    finally:
        await executor.close()
    assert status == ExitStatus(exit_code=0)
    assert (spec.output_dir / "stdout").read_text() == "on node2\n"


async def test_action_survives_killed_ssh_session_and_output_is_complete(
    executor: SshExecutor, ssh_kit: SshKit, tmp_path: Path
) -> None:
    server = ssh_kit.servers[0]
    spec = spec_for(tmp_path, server.node, "echo before; sleep 1; echo after; exit 7")
    handle = await executor.start(spec)
    waiting = asyncio.ensure_future(executor.wait(handle))
    await asyncio.sleep(0.3)
    assert server.kill_sessions()
    status = await asyncio.wait_for(waiting, 10)
    assert status == ExitStatus(exit_code=7)
    assert (spec.output_dir / "stdout").read_text() == "before\nafter\n"


@pytest.fixture
def lonely_server(ssh_kit: SshKit, tmp_path: Path) -> Iterator[SshServer]:
    server = start_sshd(tmp_path / "lonely", "lonely", ssh_kit.directory / "authorized_keys")
    yield server
    server.stop()


async def test_unreachable_node_turns_unknown_then_settles_after_reconnect(
    ssh_kit: SshKit, lonely_server: SshServer, tmp_path: Path
) -> None:
    known = _known_hosts(tmp_path, f"[127.0.0.1]:{lonely_server.port} {lonely_server.host_key}")
    config = ssh_kit.config(known_hosts_file=known, connect_timeout=1, unreachable_timeout=1)
    config = replace(config, nodes=MappingProxyType({"lonely": lonely_server.node}))
    executor = SshExecutor(config)
    try:
        spec = spec_for(tmp_path, lonely_server.node, "sleep 2; echo late; exit 3")
        handle = await executor.start(spec)
        lonely_server.go_down()
        lost = await asyncio.wait_for(executor.wait(handle), 10)
        assert lost.final is False
        assert lost.exit_code is None
        assert "node lonely" in (lost.reason or "")
        lonely_server.restart()
        status = await asyncio.wait_for(executor.wait(handle), 10)
    finally:
        await executor.close()
    assert status == ExitStatus(exit_code=3)
    assert (spec.output_dir / "stdout").read_text() == "late\n"


def test_jitter_starts_only_past_the_minimum_load(ssh_kit: SshKit) -> None:
    options = ssh_kit.ssh_options(jitter_min_load=2, jitter_max_delay=5, jitter_load_factor=2)
    rng = random.Random(1)
    assert jitter_delay(options, 2, rng) == 0
    assert all(0 <= jitter_delay(options, 3, rng) <= 2 for _ in range(50))
    assert max(jitter_delay(options, 100, rng) for _ in range(200)) > 4
    assert all(jitter_delay(options, 100, rng) <= 5 for _ in range(50))
    assert jitter_delay(replace(options, jitter_max_delay=0), 100, rng) == 0
