"""examples/systemd/trond.service: the keys an operator relies on, read by systemd itself."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tron.__main__ import build_parser

UNIT = Path(__file__).parents[2] / "examples" / "systemd" / "trond.service"


def service() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser["Service"]


def test_the_unit_keeps_actions_running_across_a_restart_and_restarts_on_failure() -> None:
    keys = service()
    assert keys["Type"] in {"exec", "notify"}
    assert keys["KillMode"] == "process"
    assert keys["Restart"] in {"on-failure", "always"}
    assert keys["StateDirectory"] == "tron"


def test_the_unit_starts_trond_with_flags_trond_accepts_and_its_state_directory() -> None:
    argv = shlex.split(service()["ExecStart"])
    assert Path(argv[0]).name == "trond"
    args = build_parser().parse_args(argv[1:])
    assert args.working_dir == "/var/lib/tron"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_reads_the_unit_without_a_warning(tmp_path: Path) -> None:
    # ExecStart must name an executable that exists: point it at this environment's trond.
    trond = Path(sys.executable).parent / "trond"
    unit = tmp_path / "trond.service"
    unit.write_text(UNIT.read_text().replace("/opt/tron/bin/trond", str(trond)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
