"""trond as a program: flags, an empty start, the lock, signals leaving actions running."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.trond_process import TrondProcess

pytestmark = pytest.mark.slow

SLEEPER = """
jobs:
  sleeper:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      nap: {command: "sleep 2; echo rested"}
"""


def _config(tmp_path: Path, text: str | None) -> Path:
    config = tmp_path / "config"
    if text is not None:
        config.mkdir()
        (config / "MASTER.yaml").write_text(text)
    return config


def test_trond_with_no_config_starts_with_an_empty_master(tmp_path: Path) -> None:
    trond = TrondProcess(tmp_path / "work", _config(tmp_path, None))
    trond.start()
    try:
        assert trond.get("/api") == {"jobs": {}, "namespaces": ["MASTER"]}
        assert trond.get("/api/config", name="MASTER")["hash"] == (
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        )
    finally:
        trond.stop()


def _second_trond(work: Path, config: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """Run another trond on the same working dir to its (expected early) end."""
    argv = [sys.executable, "-m", "tron", "--working-dir", str(work), "--config-path",
            str(config), "--port", "0", *flags]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_a_second_trond_on_the_same_working_dir_is_refused(tmp_path: Path) -> None:
    config = _config(tmp_path, SLEEPER)
    first = TrondProcess(tmp_path / "work", config)
    first.start()
    try:
        second = _second_trond(tmp_path / "work", config)
        assert second.returncode == 1
        assert "another trond holds the lock" in second.stderr
    finally:
        first.stop()


@pytest.mark.parametrize("flag", ["--lock-file", "--pid-file"])
def test_a_second_trond_on_the_same_state_is_refused_whatever_its_lock_file(
    tmp_path: Path, flag: str
) -> None:
    config = _config(tmp_path, SLEEPER)
    first = TrondProcess(tmp_path / "work", config)
    first.start()
    try:
        assert first.proc is not None
        second = _second_trond(tmp_path / "work", config, flag, str(tmp_path / "elsewhere.lock"))
        assert second.returncode == 1
        errors = [line for line in second.stderr.splitlines() if "ERROR" in line]
        state = tmp_path / "work" / "tron_state.sqlite"
        assert len(errors) == 1
        assert f"the state {state} is in use by process {first.proc.pid}" in errors[0]
        assert first.get("/api/status")  # the first one carries on
    finally:
        first.stop()


def test_sigterm_stops_promptly_and_leaves_actions_running(tmp_path: Path) -> None:
    config = _config(tmp_path, SLEEPER)
    trond = TrondProcess(tmp_path / "work", config)
    trond.start()
    trond.post("/api/jobs/MASTER.sleeper", command="start")
    deadline = time.monotonic() + 120
    while trond.get("/api/jobs/MASTER.sleeper/1")["state"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert trond.proc is not None
    trond.proc.send_signal(signal.SIGTERM)
    trond.proc.wait(60)  # it exits by itself (promptness is a bench matter)
    assert trond.proc.returncode == 0
    time.sleep(2.5)  # the action ends while trond is stopped
    trond.start()
    try:
        deadline = time.monotonic() + 10
        while trond.get("/api/jobs/MASTER.sleeper/1")["state"] != "succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        nap = trond.get("/api/jobs/MASTER.sleeper/1/nap", include_stdout=1)
        assert nap["stdout"] == ["rested"]
        assert nap["exit_status"] == 0
    finally:
        trond.stop()
