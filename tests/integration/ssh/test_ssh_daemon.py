"""A real daemon running jobs on two sshd nodes: a DAG across them, a pool, all_nodes."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Harness, write_config
from tests.sshd import SshKit, free_port

pytestmark = pytest.mark.ssh

JOBS = """
node_pools:
  - {{name: both, nodes: [node1, node2]}}
jobs:
  dag:
    node: node1
    schedule: "cron 0 4 * * *"
    actions:
      first:
        command: "echo first on $TRON_TEST_NODE"
      second:
        node: node2
        command: "echo second on $TRON_TEST_NODE for $TRON_JOB_NAME"
        requires: [first]
    cleanup_action:
      command: "echo cleanup {{cleanup_job_status}} on $TRON_TEST_NODE"
  pooled:
    node: both
    schedule: "cron 0 4 * * *"
    actions:
      say:
        command: "echo $TRON_TEST_NODE"
  everywhere:
    node: both
    all_nodes: true
    schedule: "cron 0 4 * * *"
    actions:
      say:
        command: "echo $TRON_TEST_NODE"
  nowhere:
    node: closed
    schedule: "cron 0 4 * * *"
    actions:
      try:
        command: "echo never"
"""


def _master(ssh_kit: SshKit, harness: Harness) -> str:
    port = free_port()
    known = harness.root / "known_hosts"
    lines = ssh_kit.known_hosts.read_text() + f"[127.0.0.1]:{port} {ssh_kit.servers[0].host_key}\n"
    known.parent.mkdir(parents=True, exist_ok=True)
    known.write_text(lines)
    closed = f"  - {{name: closed, hostname: 127.0.0.1, port: {port}}}\n"
    return ssh_kit.master_yaml(extra_nodes=closed, known_hosts_file=known) + JOBS.format()


async def _stdout(h: Harness, action_id: str) -> list[str]:
    action = await h.action(action_id, include_stdout=1, num_lines=10)
    lines: list[str] = action["stdout"]
    return lines


async def test_dag_runs_across_two_nodes(ssh_kit: SshKit, harness: Harness) -> None:
    write_config(harness.config_dir, _master(ssh_kit, harness))
    async with harness.running() as h:
        await h.post("/api/jobs/MASTER.dag", command="start")
        run = await h.wait_run_state("MASTER.dag.1", "succeeded", "failed")
        assert run["state"] == "succeeded", run
        actions = {a["action_name"]: a for a in run["runs"]}
        assert actions["first"]["end_time"] <= actions["second"]["start_time"]
        assert await _stdout(h, "MASTER.dag.1.first") == ["first on node1"]
        assert await _stdout(h, "MASTER.dag.1.second") == ["second on node2 for dag"]
        assert await _stdout(h, "MASTER.dag.1.cleanup") == ["cleanup SUCCESS on node1"]


async def test_pool_runs_each_run_on_one_of_its_nodes(ssh_kit: SshKit, harness: Harness) -> None:
    write_config(harness.config_dir, _master(ssh_kit, harness))
    seen = set()
    async with harness.running() as h:
        for number in range(1, 7):
            await h.post("/api/jobs/MASTER.pooled", command="start")
            run = await h.wait_run_state(f"MASTER.pooled.{number}", "succeeded", "failed")
            assert run["state"] == "succeeded"
            (line,) = await _stdout(h, f"MASTER.pooled.{number}.say")
            assert line == run["node"]["name"]
            seen.add(line)
    assert seen <= {"node1", "node2"}
    assert seen


async def test_all_nodes_runs_once_on_every_node(ssh_kit: SshKit, harness: Harness) -> None:
    write_config(harness.config_dir, _master(ssh_kit, harness))
    async with harness.running() as h:
        result = await h.post("/api/jobs/MASTER.everywhere", command="start")
        created = result["result"].removeprefix("Created ").split(",")
        run_ids = [item.removeprefix("JobRun:") for item in created]
        assert len(run_ids) == 2
        outputs = set()
        for run_id in run_ids:
            run = await h.wait_run_state(run_id, "succeeded", "failed")
            assert run["state"] == "succeeded"
            outputs.update(await _stdout(h, f"{run_id}.say"))
    assert outputs == {"node1", "node2"}


async def test_unreachable_node_fails_the_action_with_node_error(
    ssh_kit: SshKit, harness: Harness
) -> None:
    write_config(harness.config_dir, _master(ssh_kit, harness))
    async with harness.running() as h:
        await h.post("/api/jobs/MASTER.nowhere", command="start")
        run = await h.wait_run_state("MASTER.nowhere.1", "failed", "succeeded", limit=120)
        (action,) = [a for a in run["runs"] if a["action_name"] == "try"]
        assert action["state"] == "failed"
        assert action["exit_status"] == -2
