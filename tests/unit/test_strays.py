"""The suite ends what a failed test left running under its temporary root."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.strays import end_left_behind

from tron.executors.local_process import reap


def test_a_gated_command_left_running_is_ended_and_nothing_else(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    gate = base / "gate"
    stray = subprocess.Popen(
        ["sh", "-c", f"until [ -e {gate} ]; do sleep 0.05; done"], start_new_session=True
    )
    elsewhere = subprocess.Popen(["sleep", "600"], cwd=tmp_path, start_new_session=True)
    try:
        assert end_left_behind(base) == [stray.pid]
        deadline = time.monotonic() + 60
        while not reap(stray.pid):
            assert time.monotonic() < deadline, "the stray still runs"
            time.sleep(0.05)
        assert elsewhere.poll() is None
    finally:
        elsewhere.kill()
        elsewhere.wait()
        stray.kill()
        stray.wait()
