"""Nodes as they are: an sshd with no `Subsystem sftp` line (the suite's default shape) and one
with SFTP both run actions over exec channels only, output and exit records included."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sshd import SshKit, SshServer
from tron.config.model import NodeConfig
from tron.errors import NodeError
from tron.executors.base import ActionSpec, AttemptNotStarted, ExitStatus, Handle
from tron.executors.ssh import Polling, SshExecutor
from tron.executors.ssh_records import CHUNK_MOST

pytestmark = pytest.mark.ssh

_ids = itertools.count()


def _spec(tmp_path: Path, node: NodeConfig, command: str) -> ActionSpec:
    number = next(_ids)
    return ActionSpec(
        action_run_id=f"ns.shapes.{number}.act",
        attempt=0,
        command=command,
        output_dir=tmp_path / f"out-{number}",
        node=node,
    )


@pytest.fixture(scope="module")
def bare_server(ssh_kit: SshKit) -> Iterator[SshServer]:
    server = ssh_kit.extra_server("bare")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sftp_server(ssh_kit: SshKit) -> Iterator[SshServer]:
    server = ssh_kit.extra_server("withsftp", sftp=True)
    yield server
    server.stop()


async def _run(
    ssh_kit: SshKit, server: SshServer, spec: ActionSpec, polling: Polling | None = None
) -> ExitStatus:
    config = ssh_kit.config_for([server], unreachable_timeout=5)
    executor = SshExecutor(config, polling=polling or Polling())
    try:
        handle = await executor.start(spec)
        return await asyncio.wait_for(executor.wait(handle), 120)
    finally:
        await executor.close()


def test_the_default_test_node_has_no_sftp(ssh_kit: SshKit, bare_server: SshServer) -> None:
    for server in [*ssh_kit.servers, bare_server]:
        assert "Subsystem" not in (server.directory / "sshd_config").read_text()


async def test_action_on_a_node_without_sftp_succeeds_with_its_output(
    ssh_kit: SshKit, bare_server: SshServer, tmp_path: Path
) -> None:
    # Output on both streams, over longer than the agent's report alone covers: it is polled.
    spec = _spec(tmp_path, bare_server.node, "echo out; echo err >&2; sleep 0.5; echo more")
    status = await _run(ssh_kit, bare_server, spec)
    assert status == ExitStatus(exit_code=0)
    assert (spec.output_dir / "stdout").read_text() == "out\nmore\n"
    assert (spec.output_dir / "stderr").read_text() == "err\n"


async def test_action_on_a_node_with_sftp_works_the_same(
    ssh_kit: SshKit, sftp_server: SshServer, tmp_path: Path
) -> None:
    assert "Subsystem sftp" in (sftp_server.directory / "sshd_config").read_text()
    spec = _spec(tmp_path, sftp_server.node, "echo out; sleep 0.5; echo err >&2; exit 4")
    status = await _run(ssh_kit, sftp_server, spec)
    assert status == ExitStatus(exit_code=4)
    assert (spec.output_dir / "stdout").read_text() == "out\n"
    assert (spec.output_dir / "stderr").read_text() == "err\n"


async def test_output_larger_than_one_read_arrives_whole(
    ssh_kit: SshKit, bare_server: SshServer, tmp_path: Path
) -> None:
    size = 2 * CHUNK_MOST + 12345
    command = f"head -c {size} /dev/zero | tr '\\0' x; printf 'end\\n'; exit 2"
    spec = _spec(tmp_path, bare_server.node, command)
    status = await _run(ssh_kit, bare_server, spec)
    assert status == ExitStatus(exit_code=2)
    assert (spec.output_dir / "stdout").read_bytes() == b"x" * size + b"end\n"


async def test_many_polled_attempts_share_channels(
    ssh_kit: SshKit, bare_server: SshServer, tmp_path: Path
) -> None:
    executor = SshExecutor(ssh_kit.config_for([bare_server]))
    pool = executor.connections(bare_server.node)
    runs, reads = 0, 0
    run = pool.run

    async def counted(command: str, *, stdin: bytes | None = None) -> object:
        nonlocal runs, reads
        if stdin:  # a read of records (sweeps have none)
            runs += 1
            reads += stdin.count(b"\n")
        return await run(command, stdin=stdin)

    pool.run = counted  # type: ignore[method-assign,assignment]
    try:
        specs = [_spec(tmp_path, bare_server.node, f"sleep 1; echo {n}") for n in range(12)]
        handles = await asyncio.gather(*(executor.start(spec) for spec in specs))
        statuses = await asyncio.wait_for(asyncio.gather(*map(executor.wait, handles)), 120)
    finally:
        await executor.close()
    assert all(status == ExitStatus(exit_code=0) for status in statuses)
    assert [(s.output_dir / "stdout").read_text() for s in specs] == [f"{n}\n" for n in range(12)]
    # The 12 are polled in step for a second: their reads share channels, several to each.
    assert reads >= 12
    assert reads >= 3 * runs


def _bare_handle(spec: ActionSpec) -> Handle:
    """What recovery has of an attempt whose launch trond never recorded: no pid, no prefix."""
    assert spec.node is not None
    return Handle(
        action_run_id=spec.action_run_id,
        attempt=spec.attempt,
        node=spec.node.name,
        output_dir=str(spec.output_dir),
    )


async def test_reattach_claims_an_attempt_the_node_never_saw(
    ssh_kit: SshKit, bare_server: SshServer, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    spec = _spec(tmp_path, bare_server.node, f"echo ran >> {marks}; echo out")
    handle = _bare_handle(spec)
    config = ssh_kit.config_for([bare_server])
    daemon, stale = SshExecutor(config), SshExecutor(config)
    try:
        for _ in range(2):  # and says so again to the next look
            with pytest.raises(AttemptNotStarted, match="never started"):
                await daemon.reattach(handle)
        # A launch request written before the claim (by a daemon that then died) starts nothing.
        with pytest.raises(NodeError, match="never started"):
            await stale.start(spec)
        assert not marks.exists()
        # The daemon that claimed it launches it again, once.
        relaunched = await daemon.start(spec)
        status = await asyncio.wait_for(daemon.wait(relaunched), 60)
    finally:
        await stale.close()
        await daemon.close()
    assert status == ExitStatus(exit_code=0)
    assert marks.read_text() == "ran\n"
    assert (spec.output_dir / "stdout").read_text() == "out\n"


async def test_reattach_without_a_pid_finds_a_started_attempt(
    ssh_kit: SshKit, bare_server: SshServer, tmp_path: Path
) -> None:
    spec = _spec(tmp_path, bare_server.node, "sleep 1; echo done; exit 5")
    config = ssh_kit.config_for([bare_server])
    first = SshExecutor(config)
    try:
        started = await first.start(spec)
    finally:
        await first.close()
    second = SshExecutor(config)
    try:
        reattached = await second.reattach(_bare_handle(spec))
        assert reattached.pid == started.pid
        status = await asyncio.wait_for(second.wait(reattached), 60)
    finally:
        await second.close()
    assert status == ExitStatus(exit_code=5)
    assert (spec.output_dir / "stdout").read_text() == "done\n"
