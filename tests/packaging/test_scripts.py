"""scripts/lib.sh: which newer CPython ./scripts/test runs the whole suite on again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def newer_python(home: Path, pyenv_root: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "PYENV_ROOT": str(pyenv_root)}
    script = ". scripts/lib.sh && newer_python"
    return subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_newer_python_takes_the_newest_pyenv_version_that_runs(tmp_path: Path) -> None:
    for version in ("3.12.1", "3.13.0"):
        bin_dir = tmp_path / "versions" / version / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / f"python{version[:4]}").symlink_to(sys.executable)
    broken = tmp_path / "versions" / "3.13.9" / "bin" / "python3.13"
    broken.parent.mkdir(parents=True)
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    result = newer_python(tmp_path, tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == str(tmp_path / "versions/3.13.0/bin/python3.13")


def test_newer_python_fails_when_there_is_none(tmp_path: Path) -> None:
    result = newer_python(tmp_path, tmp_path / "no-pyenv")
    assert result.returncode == 1
    assert result.stdout == ""
