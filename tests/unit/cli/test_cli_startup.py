"""Start-up stays light (what `--help` imports, not how long it takes: timings are in
bench/cli.py), and a reader that goes away (`tronview | head`) ends the CLI quietly."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("httpx", "yaml", "wcwidth", "tron.config", "tron.cli.client", "logging")


@pytest.mark.parametrize("cli", ["tronview", "tronctl", "tronfig"])
def test_help_imports_no_heavy_library(cli: str) -> None:
    script = (
        "import sys\n"
        f"from tron.cli import {cli}\n"
        "try:\n"
        f"    {cli}.main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in sys.modules if m.startswith({HEAVY!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "exit status" in done.stdout
    assert done.stdout.splitlines()[-1] == "[]"


def test_a_closed_pipe_ends_quietly() -> None:
    script = (
        "from tron.cli.options import quiet_pipe\n"
        "def body():\n"
        "    for _ in range(10000):\n"
        "        print('x' * 100)\n"
        "    return 0\n"
        "raise SystemExit(quiet_pipe(body))\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdout is not None
    assert child.stderr is not None
    child.stdout.read(10)
    child.stdout.close()  # as `head` does once it has its lines
    err = child.stderr.read()
    child.stderr.close()
    assert child.wait() == 141
    assert err == b""
