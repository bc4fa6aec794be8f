"""Shell completion in a real bash, with names from a real trond."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.trond_process import TrondProcess

pytestmark = pytest.mark.slow

MASTER = """\
jobs:
  hello:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      say: {command: "echo hello"}
      after: {command: "echo after", requires: [say]}
"""


@pytest.fixture(scope="module")
def trond(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrondProcess]:
    root = tmp_path_factory.mktemp("completion")
    config = root / "config"
    config.mkdir()
    (config / "MASTER.yaml").write_text(MASTER)
    process = TrondProcess(root / "work", config)
    process.start()
    process.post("/api/jobs/MASTER.hello", command="start")
    yield process
    process.stop()


def bash_complete(trond: TrondProcess, home: Path, *words: str) -> list[str]:
    """Load `tronview`/`tronctl`'s bash completion as a user would and complete the last word."""
    prog = words[0]
    quoted = " ".join(f"'{word}'" for word in words)
    line = (
        f'eval "$({prog} --completion bash)"\n'
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n"
        f"_{prog}_complete\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    return run_shell(["bash", "--norc", "-c", line], trond, home)


def zsh_complete(trond: TrondProcess, home: Path, *words: str) -> list[str]:
    """The same in zsh, outside its completion system: compadd prints what it is given."""
    prog = words[0]
    quoted = " ".join(f"'{word}'" for word in words)
    line = (
        "compdef() { :; }\n"
        'compadd() { shift 2; print -l -- "$@"; }\n'
        f'eval "$({prog} --completion zsh)"\n'
        f"words=({quoted}); CURRENT={len(words)}\n"
        f"_{prog}_complete\n"
    )
    return run_shell(["zsh", "-f", "-c", line], trond, home)


def run_shell(argv: list[str], trond: TrondProcess, home: Path) -> list[str]:
    shell = shutil.which(argv[0])
    if shell is None:
        pytest.skip(f"no {argv[0]} here")
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOME": str(home),
        "TRON_SERVER": trond.url,
        "TRON_CONFIG": str(home / "none.yaml"),
    }
    done = subprocess.run([shell, *argv[1:]], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [item for item in done.stdout.splitlines() if item]


def test_bash_completes_jobs_runs_and_actions_from_the_daemon(
    trond: TrondProcess, tmp_path: Path
) -> None:
    assert bash_complete(trond, tmp_path, "tronview", "MASTER.he") == ["MASTER.hello"]
    runs = bash_complete(trond, tmp_path, "tronctl", "start", "MASTER.hello.")
    assert runs, "the run started by hand is offered"
    assert all(run.startswith("MASTER.hello.") for run in runs)
    actions = bash_complete(trond, tmp_path, "tronview", f"{runs[0]}.")
    assert sorted(actions) == [f"{runs[0]}.after", f"{runs[0]}.say"]
    assert bash_complete(trond, tmp_path, "tronctl", "sk") == ["skip", "skip-and-publish"]


def test_zsh_completes_jobs_and_namespaces_from_the_daemon(
    trond: TrondProcess, tmp_path: Path
) -> None:
    assert zsh_complete(trond, tmp_path, "tronview", "MASTER.he") == ["MASTER.hello"]
    assert zsh_complete(trond, tmp_path, "tronfig", "-p", "MA") == ["MASTER"]
