"""Taking over a real Yelp Tron 3.10.5 working dir (spec/samples/tron_workdir): its history,
flags and events come through our API as Tron's own API showed them before it stopped."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.integration.conftest import Harness

SAMPLE = Path(__file__).resolve().parents[2] / "../shared/spec/samples/tron_workdir"
if not SAMPLE.is_dir():
    SAMPLE = Path("/work/shared/spec/samples/tron_workdir")

pytestmark = [
    pytest.mark.skipif(not SAMPLE.is_dir(), reason="the captured Tron working dir is not here"),
    pytest.mark.skipif(shutil.which("db5.3_dump") is None, reason="db5.3-util is not installed"),
]


def copy_workdir(root: Path) -> Path:
    """A writable copy of the captured working dir (the sample itself is read-only)."""
    work = root / "work"
    shutil.copytree(SAMPLE / "work", work, symlinks=True)
    for path in [work, *work.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)
    return work


def digests(work: Path) -> dict[str, str]:
    """Tron's files and their hashes. Left out: ours (tron_state.sqlite*), and tron.lock,
    the daemon lock both Tron and trond take (trond writes its pid there; Tron ignores it)."""
    return {
        str(p.relative_to(work)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(work.rglob("*"))
        if p.is_file() and not p.name.startswith("tron_state.sqlite") and p.name != "tron.lock"
    }


async def api_view(h: Harness) -> dict[str, Any]:
    """Our API's answers in the layout of the capture's expected.json."""
    jobs: dict[str, Any] = {}
    for job in (await h.get("/api/jobs"))["jobs"]:
        name = job["name"]
        path = f"/api/jobs/{quote(name)}"
        detail = await h.get(path, include_action_runs=1, num_runs=1000)
        runs, actions = {}, {}
        for run in detail["runs"]:
            runs[str(run["run_num"])] = run["state"]
            full = await h.get(f"{path}/{run['run_num']}", include_action_runs=1)
            for a in full["runs"]:
                actions[f"{run['run_num']}.{a['action_name']}"] = {
                    "state": a["state"],
                    "exit_status": a["exit_status"],
                    "exit_statuses": a["exit_statuses"],
                }
        jobs[name] = {
            "disabled": job["status"] == "disabled",
            "status": job["status"],
            "runs": runs,
            "action_runs": actions,
        }
    events = await h.get("/api/events")
    return {"jobs": jobs, "events": sorted(events["response"])}


async def test_first_start_imports_the_captured_tron_state(tmp_path: Path) -> None:
    expected = json.loads((SAMPLE / "expected.json").read_text(encoding="utf-8"))
    work = copy_workdir(tmp_path)
    before = digests(work)
    h = Harness(tmp_path)
    h.config_dir = work / "config"
    async with h.running():
        seen = await api_view(h)
    assert seen["jobs"] == expected["jobs"]
    assert seen["events"] == expected["events"]
    assert digests(work) == before  # Tron's files untouched: the user can go back

    # A second start imports nothing again: what trond did since stays as it is.
    async with h.running():
        assert await api_view(h) == seen
    assert digests(work) == before


def test_migrate_state_from_tron_is_idempotent(tmp_path: Path) -> None:
    work = copy_workdir(tmp_path)
    before = digests(work)
    command = [sys.executable, "-m", "tron", "migrate-state", "--from-tron", str(work)]
    first = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "8 jobs, 22 runs, 41 action runs, 2 events" in first.stdout
    database = (work / "tron_state.sqlite").read_bytes()
    second = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert second.returncode == 0, second.stderr
    assert "nothing imported" in second.stdout
    assert (work / "tron_state.sqlite").read_bytes() == database
    assert digests(work) == before


def test_migrate_state_from_a_dir_without_tron_state_fails(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    command = [sys.executable, "-m", "tron", "migrate-state", "--from-tron", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 1
    assert "no Tron state" in done.stderr
