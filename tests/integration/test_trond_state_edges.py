"""trond refuses a state it cannot trust with one clear line, not a traceback (issue 11)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from tests.unit.store.test_sqlite_edges import _store_with_a_run

pytestmark = pytest.mark.slow


def _trond(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "MASTER.yaml").write_text("jobs: {}\n")
    argv = ["--working-dir", str(tmp_path / "work"), "--config-path", str(config), "--port", "0"]
    return subprocess.run(
        [sys.executable, "-m", "tron", *argv], capture_output=True, text=True, timeout=60
    )


def _one_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if " ERROR " in line]
    return line


async def _state(tmp_path: Path, *damage: str) -> Path:
    path = tmp_path / "work" / "tron_state.sqlite"
    path.parent.mkdir()
    await _store_with_a_run(path)
    with closing(sqlite3.connect(path)) as conn, conn:
        for sql in damage:
            conn.execute(sql)
    return path


async def test_a_damaged_row_stops_trond_with_one_line(tmp_path: Path) -> None:
    path = await _state(tmp_path, "UPDATE action_runs SET record = 'garbage'")
    line = _one_error(_trond(tmp_path))
    assert line.endswith(
        f"the state store cannot be used: {path}, action_runs, ns.job.3.a:"
        " invalid JSON (Expecting value, char 0)"
    )


async def test_a_row_of_the_wrong_shape_stops_trond_with_one_line(tmp_path: Path) -> None:
    path = await _state(tmp_path, "UPDATE job_runs SET record = '\"just a string\"'")
    line = _one_error(_trond(tmp_path))
    assert f"{path}, job_runs, ns.job.3: wrong record shape" in line


def test_an_empty_database_stops_trond_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "work" / "tron_state.sqlite"
    path.parent.mkdir()
    path.touch()
    line = _one_error(_trond(tmp_path))
    assert line.endswith(f"{path} is empty: not a tron state database; move it away to start fresh")
    assert path.stat().st_size == 0


async def test_a_newer_schema_stops_trond_with_what_to_do(tmp_path: Path) -> None:
    await _state(tmp_path, "INSERT INTO schema_migrations (version, name) VALUES (7, 'future')")
    line = _one_error(_trond(tmp_path))
    assert "written by a newer trond (schema version 7" in line
    assert "upgrade trond" in line
