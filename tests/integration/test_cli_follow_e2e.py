"""`tronview -f` against a real trond: an action waiting on another, then failing once and
succeeding on its retry."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.trond_process import TrondProcess

pytestmark = pytest.mark.slow


def master(gate: Path, flag: Path) -> str:
    return f"""\
jobs:
  twice:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      gate:
        command: "while [ ! -e {gate} ]; do sleep 0.1; done; echo gate open"
      flaky:
        command: >-
          if [ -e {flag} ]; then echo second try;
          else touch {flag}; echo first try; exit 1; fi
        requires: [gate]
        retries: 1
        retries_delay: 1s
"""


@pytest.fixture
def trond(tmp_path: Path) -> Iterator[TrondProcess]:
    config = tmp_path / "config"
    config.mkdir()
    (config / "MASTER.yaml").write_text(master(tmp_path / "gate", tmp_path / "flag"))
    process = TrondProcess(tmp_path / "work", config)
    process.start()
    yield process
    process.stop()


def test_follow_waits_for_the_requirement_then_heads_each_attempt(
    trond: TrondProcess, tmp_path: Path
) -> None:
    run = trond.post("/api/jobs/MASTER.twice", command="start")
    # "Created JobRun:MASTER.twice.N"
    run_num = str(run["result"]).rsplit(".", 1)[-1].strip()
    env = {**os.environ, "HOME": str(tmp_path), "TRON_CONFIG": str(tmp_path / "none.yaml")}
    argv = [sys.executable, "-m", "tron.cli.tronview", "--server", trond.url]
    argv += ["--poll-interval", "0.1", "-f", f"MASTER.twice.{run_num}.flaky"]
    follower = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert follower.stderr is not None
        first = follower.stderr.readline()
        assert first == (
            f"MASTER.twice.{run_num}.flaky has not started: waiting for gate (running) to finish\n"
        )
        (tmp_path / "gate").touch()
        out, err = follower.communicate(timeout=120)
    finally:
        follower.kill()
    assert follower.returncode == 0, err
    lines = out.splitlines()
    assert [line.split(",")[0] for line in lines if line.startswith("==>")] == [
        "==> attempt 1",
        "==> attempt 2",
    ]
    assert [line for line in lines if not line.startswith("==>")] == ["first try", "second try"]

    shown = subprocess.run(
        [*argv[:-2], f"MASTER.twice.{run_num}.flaky"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    stdout = shown.stdout.split("Stdout:\n", 1)[1].split("\nStderr:")[0].splitlines()
    assert [line.split(",")[0] for line in stdout if line] == [
        "==> attempt 1",
        "first try",
        "==> attempt 2",
        "second try",
    ]
