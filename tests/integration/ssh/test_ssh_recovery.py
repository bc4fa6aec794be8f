"""kill -9 trond with remote actions in flight on two nodes, start it again: nothing lost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.trond_process import TrondProcess
from tests.sshd import SshKit

pytestmark = [pytest.mark.ssh, pytest.mark.slow]

SHORT = 6  # end while trond is down
LONG = 6  # still running when trond comes back


def _jobs(marks: Path) -> str:
    lines = [
        "jobs:",
        "  many:",
        "    node: node1",
        '    schedule: "cron 0 4 * * *"',
        "    actions:",
    ]
    for i in range(SHORT):
        lines.append(
            f'      short_{i}: {{node: node{1 + i % 2}, command: "echo x >> {marks}/short_{i}; '
            f'sleep 1; echo short {i} on $TRON_TEST_NODE; exit {i % 3}"}}'
        )
    for i in range(LONG):
        lines.append(
            f'      long_{i}: {{node: node{1 + i % 2}, command: "echo x >> {marks}/long_{i}; '
            f'sleep 3.5; echo long {i} on $TRON_TEST_NODE"}}'
        )
    lines += [
        f'      after: {{command: "echo x >> {marks}/after", requires: [long_0, long_1]}}',
        "    cleanup_action:",
        f'      command: "echo x >> {marks}/cleanup"',
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def trond(ssh_kit: SshKit, tmp_path: Path) -> Iterator[TrondProcess]:
    marks = tmp_path / "marks"
    marks.mkdir()
    config = tmp_path / "config"
    config.mkdir()
    (config / "MASTER.yaml").write_text(ssh_kit.master_yaml() + _jobs(marks))
    process = TrondProcess(tmp_path / "work", config)
    yield process
    process.stop()


def _wait_state(trond: TrondProcess, states: set[str], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = trond.get("/api/jobs/MASTER.many/1", include_action_runs=1)
        if run["state"] in states:
            return dict(run)
        time.sleep(0.1)
    raise AssertionError(f"never reached {states}: {run}")


def _wait_all_running(trond: TrondProcess) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        run = trond.get("/api/jobs/MASTER.many/1", include_action_runs=1)
        if len([a for a in run["runs"] if a["state"] == "running"]) == SHORT + LONG:
            return
        time.sleep(0.05)
    raise AssertionError(f"not all running: {run}")


def test_kill_9_with_remote_actions_in_flight_loses_and_duplicates_nothing(
    trond: TrondProcess, tmp_path: Path
) -> None:
    trond.start()
    trond.post("/api/jobs/MASTER.many", command="start")
    _wait_all_running(trond)
    trond.kill9()
    time.sleep(1.5)  # the short actions end while nobody watches
    trond.start()

    run = _wait_state(trond, {"failed", "succeeded"}, timeout=30)
    for i in range(SHORT):
        action = trond.get(f"/api/jobs/MASTER.many/1/short_{i}", include_stdout=1)
        assert action["exit_status"] == i % 3, action
        assert action["stdout"] == [f"short {i} on node{1 + i % 2}"]
    for i in range(LONG):
        action = trond.get(f"/api/jobs/MASTER.many/1/long_{i}", include_stdout=1)
        assert action["state"] == "succeeded", action
        assert action["stdout"] == [f"long {i} on node{1 + i % 2}"]
    actions = {a["action_name"]: a for a in run["runs"]}
    assert actions["after"]["state"] == "succeeded"
    assert actions["cleanup"]["state"] == "succeeded"
    assert not [a for a in run["runs"] if a["state"] == "unknown"]
    marks = sorted((tmp_path / "marks").iterdir())
    assert [mark.read_text() for mark in marks] == ["x\n"] * (SHORT + LONG + 2)
