"""The supervisor's pure helpers: record parsing, launch lines, and wrapper.sh run by hand."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tron.errors import NodeError
from tron.executors.base import ExitStatus
from tron.executors.supervisor import (
    WRAPPER_PATH,
    SupervisorRecords,
    launch_argv,
    launch_line,
    parse_launch_output,
    parse_records,
    read_exit_status,
    read_records,
    wrapper_text,
    write_file_line,
)


def wait_for_file(path: Path, within: float = 5.0) -> str:
    deadline = time.monotonic() + within
    while not (path.exists() and path.read_text().endswith("\n")):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)
    return path.read_text()


def test_parse_records_reads_complete_records() -> None:
    records = parse_records(
        {
            "supervisor": "10\n",
            "pid": "11\n",
            "started": "1700000000.25\n",
            "exit": "137\n",
            "signal": "9\n",
        }
    )
    assert records == SupervisorRecords(
        supervisor_pid=10, pid=11, started=1700000000.25, exit_code=137, signal=9
    )
    assert records.has_exited
    assert records.exit_status == ExitStatus(exit_code=137, signal=9)


def test_parse_records_ignores_partial_and_garbled_records() -> None:
    records = parse_records({"pid": "12", "exit": "\n", "started": "soon\n", "supervisor": "x\n"})
    assert records == SupervisorRecords()
    assert not records.has_exited
    assert records.exit_status is None


def test_read_records_of_missing_directory_is_empty(tmp_path: Path) -> None:
    assert read_records(tmp_path / "absent") == SupervisorRecords()
    assert read_exit_status(tmp_path / "absent") is None


def test_read_exit_status_includes_signal(tmp_path: Path) -> None:
    (tmp_path / "exit").write_text("143\n")
    (tmp_path / "signal").write_text("15\n")
    assert read_exit_status(tmp_path) == ExitStatus(exit_code=143, signal=15)
    assert read_records(tmp_path).exit_code == 143


def test_launch_argv_shapes() -> None:
    assert launch_argv("/d", wrapper="/w.sh", in_session=False) == ["/bin/sh", "/w.sh", "/d"]
    assert launch_argv("/d", shell="sh", wrapper="/w.sh", in_session=True, started=1.5) == [
        "sh",
        "/w.sh",
        "-s",
        "/d",
        "1.500000",
    ]


def test_parse_launch_output_reads_pid() -> None:
    assert parse_launch_output(b"1234\n") == 1234


def test_parse_launch_output_without_pid_raises() -> None:
    with pytest.raises(NodeError, match="did not start"):
        parse_launch_output(b"sh: cannot open\n")


def test_wrapper_text_is_a_posix_script() -> None:
    assert wrapper_text().startswith("#!/bin/sh\n")


def test_launch_line_rejects_unassignable_names() -> None:
    with pytest.raises(NodeError, match="invalid environment variable name"):
        launch_line("/d", wrapper="/w.sh", env={"NOT-A-NAME": "x"})


TRICKY = "echo \"it's\" 'ü' \\\\ $HOME\nprintf '%s\\n' done"


def test_write_file_line_writes_text_verbatim(tmp_path: Path) -> None:
    target = tmp_path / "command"
    subprocess.run(["sh", "-c", write_file_line(str(target), TRICKY)], check=True)
    assert target.read_text() == TRICKY


def test_launch_line_detaches_supervisor_and_applies_env(tmp_path: Path) -> None:
    (tmp_path / "command").write_text('printf "%s" "$GREETING"; exit 3')
    line = launch_line(str(tmp_path), wrapper=str(WRAPPER_PATH), env={"GREETING": "hi 'there' ü"})
    done = subprocess.run(["sh", "-c", line], capture_output=True, check=True, timeout=10)
    pid = parse_launch_output(done.stdout)
    assert wait_for_file(tmp_path / "exit") == "3\n"
    records = read_records(tmp_path)
    assert records.pid == pid
    assert records.started is not None
    assert abs(records.started - time.time()) < 5
    assert (tmp_path / "stdout").read_text() == "hi 'there' ü"


def test_wrapper_records_signal_of_killed_command(tmp_path: Path) -> None:
    (tmp_path / "command").write_text("kill -9 $$")
    subprocess.run(["sh", str(WRAPPER_PATH), str(tmp_path)], check=True, timeout=10)
    assert wait_for_file(tmp_path / "exit") == "137\n"
    assert read_exit_status(tmp_path) == ExitStatus(exit_code=137, signal=9)


def test_wrapper_puts_command_in_own_session(tmp_path: Path) -> None:
    (tmp_path / "command").write_text("sleep 0.3")
    done = subprocess.run(
        ["sh", str(WRAPPER_PATH), str(tmp_path)], capture_output=True, check=True, timeout=10
    )
    pid = parse_launch_output(done.stdout)
    supervisor = int(wait_for_file(tmp_path / "supervisor"))
    deadline = time.monotonic() + 5
    while os.getsid(pid) != pid:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert os.getsid(supervisor) not in (pid, os.getsid(0))
    assert wait_for_file(tmp_path / "exit") == "0\n"


def test_wrapper_without_command_file_prints_nothing(tmp_path: Path) -> None:
    done = subprocess.run(
        ["sh", str(WRAPPER_PATH), "-s", str(tmp_path)], capture_output=True, timeout=10
    )
    assert done.returncode != 0
    assert done.stdout == b""


def test_process_group_prefers_the_local_runner_group_record() -> None:
    local = parse_records({"pid": "11\n", "group": "10\n", "supervisor": "10\n"})
    assert local.group == 10
    assert local.process_group == 10
    assert parse_records({"pid": "11\n"}).process_group == 11
    assert parse_records({}).process_group is None
