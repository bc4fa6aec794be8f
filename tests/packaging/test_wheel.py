"""The wheel is a working install: built, installed into a fresh venv (on the newest CPython
here), its four commands run, and its trond serves the API and the web UI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.trond_process import TrondProcess

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "src" / "tron"
COMMANDS = ("trond", "tronview", "tronctl", "tronfig")

pytestmark = pytest.mark.slow


def uv() -> str:
    found = ROOT / ".tools" / "bin" / "uv"
    if found.exists():
        return str(found)
    on_path = shutil.which("uv")
    if on_path is None:
        pytest.skip("no uv here (./scripts/test fetches one into .tools/)")
    return on_path


def newest_python() -> str:
    """The CPython past 3.11 that scripts/lib.sh finds, else the one running the tests."""
    script = ". scripts/lib.sh && newer_python"
    found = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True)
    return found.stdout.strip() if found.returncode == 0 else sys.executable


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build = [uv(), "build", "--wheel", "--out-dir", str(out), str(ROOT)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    (built,) = out.glob("tron-*.whl")
    return built


@pytest.fixture(scope="module")
def venv_bin(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    python = str(venv / "bin" / "python")
    run_uv("venv", "-q", "--python", newest_python(), str(venv))
    run_uv("pip", "install", "-q", "--python", python, str(wheel))
    return venv / "bin"


def run_uv(*args: str) -> None:
    # Not the test venv's: the fresh venv gets what the wheel asks for, nothing else.
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    result = subprocess.run([uv(), *args], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr


def test_the_wheel_carries_every_file_of_the_package(wheel: Path) -> None:
    """Web assets, supervisor scripts, migrations: whatever src/tron holds besides Python."""
    names = set(zipfile.ZipFile(wheel).namelist())
    data = [
        path.relative_to(PACKAGE.parent).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]
    assert {"tron/web/static/app.js", "tron/executors/local.sh"} <= set(data)
    assert [name for name in data if name not in names] == []


@pytest.mark.parametrize("command", COMMANDS)
def test_each_installed_command_answers_help(venv_bin: Path, command: str) -> None:
    result = subprocess.run(
        [str(venv_bin / command), "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert f"usage: {command}" in result.stdout


@pytest.fixture
def installed_trond(venv_bin: Path, tmp_path: Path) -> Iterator[TrondProcess]:
    config = tmp_path / "config"
    config.mkdir()
    (config / "MASTER.yaml").write_text("jobs: {}\n")
    trond = TrondProcess(tmp_path / "work", config, trond=[str(venv_bin / "trond")])
    trond.start(timeout=60)
    yield trond
    trond.stop()


def test_the_installed_trond_serves_the_api_and_the_web_ui(
    installed_trond: TrondProcess,
) -> None:
    assert "version" in installed_trond.get("/api/status")
    page = httpx.get(f"{installed_trond.url}/", timeout=60, follow_redirects=True)
    assert page.status_code == 200
    assert 'src="app.js"' in page.text
    script = httpx.get(str(page.url.join("app.js")), timeout=60)
    assert script.status_code == 200
    assert len(script.content) > 10_000
