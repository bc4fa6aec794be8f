"""The test that matters most: kill -9 trond with 50 actions in flight, start it again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.trond_process import TrondProcess

pytestmark = pytest.mark.slow

SHORT = 25  # end while trond is down
LONG = 25  # still running when trond comes back


def _config(marks: Path) -> str:
    lines = [
        "jobs:",
        "  many:",
        "    node: localhost",
        '    schedule: "cron 0 4 * * *"',
        "    actions:",
    ]
    # Every action holds until the test lets go (right after the kill), so all 50 are in
    # flight together however slowly a busy machine launches them.
    hold = f"while [ ! -e {marks}.go ]; do sleep 0.05; done"
    for i in range(SHORT):
        lines.append(
            f'      short_{i}: {{command: "echo x >> {marks}/short_{i}; {hold}; sleep 1; '
            f'echo short {i} out; exit {i % 4}"}}'
        )
    for i in range(LONG):
        lines.append(
            f'      long_{i}: {{command: "echo x >> {marks}/long_{i}; {hold}; sleep 4; '
            f'echo long {i} out"}}'
        )
    lines += [
        f'      after: {{command: "echo x >> {marks}/after", requires: [long_0, long_1]}}',
        "    cleanup_action:",
        f'      command: "echo x >> {marks}/cleanup"',
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def trond(tmp_path: Path) -> Iterator[TrondProcess]:
    marks = tmp_path / "marks"
    marks.mkdir()
    config = tmp_path / "config"
    config.mkdir()
    (config / "MASTER.yaml").write_text(_config(marks))
    process = TrondProcess(tmp_path / "work", config)
    yield process
    process.stop()


def _wait(trond: TrondProcess, run_id: str, states: set[str], timeout: float = 30) -> dict:
    job, num = run_id.rsplit(".", 1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = trond.get(f"/api/jobs/{job}/{num}", include_action_runs=1)
        if run["state"] in states:
            return run
        time.sleep(0.1)
    raise AssertionError(f"{run_id} never reached {states}: {run['state']}")


def test_kill_9_with_50_actions_in_flight_loses_and_duplicates_nothing(
    trond: TrondProcess, tmp_path: Path
) -> None:
    trond.start()
    assert trond.post("/api/jobs/MASTER.many", command="start") == {
        "result": "Created JobRun:MASTER.many.1"
    }
    deadline = time.monotonic() + 120  # generous: the machine may be busy
    while time.monotonic() < deadline:
        run = trond.get("/api/jobs/MASTER.many/1", include_action_runs=1)
        running = [a for a in run["runs"] if a["state"] == "running"]
        if len(running) == SHORT + LONG:
            break
        time.sleep(0.05)
    assert len(running) == SHORT + LONG

    trond.kill9()
    (tmp_path / "marks.go").touch()
    time.sleep(2.0)  # the short actions end while nobody watches
    trond.start()

    run = _wait(trond, "MASTER.many.1", {"failed", "succeeded"}, timeout=120)
    actions = {a["action_name"]: a for a in run["runs"]}
    for i in range(SHORT):
        action = trond.get(f"/api/jobs/MASTER.many/1/short_{i}", include_stdout=1)
        assert action["exit_status"] == i % 4, action
        assert action["state"] == ("succeeded" if i % 4 == 0 else "failed")
        assert action["stdout"] == [f"short {i} out"]
    for i in range(LONG):
        action = trond.get(f"/api/jobs/MASTER.many/1/long_{i}", include_stdout=1)
        assert action["state"] == "succeeded", action
        assert action["stdout"] == [f"long {i} out"]
    assert actions["after"]["state"] == "succeeded"
    assert actions["cleanup"]["state"] == "succeeded"
    assert run["state"] == "failed"  # some short ones exited non-zero
    assert not [a for a in run["runs"] if a["state"] == "unknown"]
    marks = tmp_path / "marks"
    for mark in marks.iterdir():
        assert mark.read_text() == "x\n", f"{mark.name} ran more than once"
    assert len(list(marks.iterdir())) == SHORT + LONG + 2
