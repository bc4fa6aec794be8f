"""The shell supervisors run by hand (with /bin/sh, dash on Debian): trond dying mid-launch, the
reserved exit record, the claim that stops a supervisor from starting a reclaimed attempt."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tron.executors.base import ExitStatus
from tron.executors.local import RUNNER_PATH
from tron.executors.ssh_agent import launch_request
from tron.executors.supervisor import (
    EXIT_PLACEHOLDER,
    NOT_STARTED,
    SupervisorRecords,
    read_exit_status,
    read_records,
)

AGENT_PATH = RUNNER_PATH.with_name("ssh_agent.sh")
DEADLINE = 10.0


def spawn_runner(directory: Path, command: str, fd3: int) -> int:
    """Start local.sh as the LocalExecutor does, with `fd3` as its launcher pipe."""
    runner = RUNNER_PATH.read_text()
    argv = ["/bin/sh", "-c", runner, "sh", str(directory), command]
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_DUP2, 1, 2),
        (os.POSIX_SPAWN_DUP2, fd3, 3),
    ]
    return os.posix_spawn(
        argv[0], argv, os.environ, file_actions=actions, setsid=True, setsigdef=(signal.SIGPIPE,)
    )


def reap(pid: int) -> int:
    """Wait (polling, with a deadline) for our child `pid`; its wait status."""
    deadline = time.monotonic() + DEADLINE
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        assert time.monotonic() < deadline, "the supervisor did not end"
        time.sleep(0.01)


def test_local_supervisor_outlives_a_launcher_that_died_before_hearing_the_pid(
    tmp_path: Path,
) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # trond is gone before the supervisor writes the pid to it
    try:
        pid = spawn_runner(tmp_path, "echo ran; exit 7", writer)
    finally:
        os.close(writer)
    status = reap(pid)
    assert os.WIFEXITED(status), "the supervisor was killed (SIGPIPE?)"
    assert read_exit_status(tmp_path) == ExitStatus(exit_code=7)
    assert (tmp_path / "stdout").read_text() == "ran\n"


def test_local_supervisor_reserves_the_exit_record_then_overwrites_it(tmp_path: Path) -> None:
    go = tmp_path / "go"
    reader, writer = os.pipe()
    try:
        pid = spawn_runner(tmp_path, f"while [ ! -e '{go}' ]; do sleep 0.01; done; exit 3", writer)
    finally:
        os.close(writer)
    try:
        with os.fdopen(reader, "rb") as launcher:
            command = int(launcher.readline())
        records = f"supervisor {pid}\npid {command}\n"  # after the slot, in the same file
        assert (tmp_path / "exit").read_text() == EXIT_PLACEHOLDER + records
        assert read_records(tmp_path) == SupervisorRecords(supervisor_pid=pid, pid=command)
        assert read_exit_status(tmp_path) is None
    finally:
        go.touch()  # a failed check must not leave the command waiting forever
        reap(pid)
    assert (tmp_path / "exit").read_text() == f"{3:<16}\n" + records
    assert read_exit_status(tmp_path) == ExitStatus(exit_code=3)


def test_local_supervisor_starts_nothing_when_the_exit_record_is_taken(tmp_path: Path) -> None:
    # Claimed by LocalExecutor.reattach as never started (or no room left to reserve it).
    (tmp_path / "exit").write_text(f"{NOT_STARTED}\n")
    marker = tmp_path / "ran"
    reader, writer = os.pipe()
    try:
        pid = spawn_runner(tmp_path, f"touch '{marker}'", writer)
    finally:
        os.close(writer)
    with os.fdopen(reader, "rb") as launcher:
        said = launcher.read()
    assert os.WEXITSTATUS(reap(pid)) == 2
    assert b"cannot reserve" in said
    assert not marker.exists()
    assert (tmp_path / "exit").read_text() == f"{NOT_STARTED}\n"
    assert sorted(os.listdir(tmp_path)) == ["exit"]


def test_ssh_agent_supervisor_outlives_trond_that_stopped_reading(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    prefix = f"{runs}/a.0."
    reader, writer = os.pipe()
    os.close(reader)  # nobody reads the agent's replies any more
    try:
        agent = subprocess.Popen(
            ["/bin/sh", str(AGENT_PATH), str(runs)],
            stdin=subprocess.PIPE,
            stdout=writer,
            stderr=subprocess.DEVNULL,
        )
    finally:
        os.close(writer)
    assert agent.stdin is not None
    agent.stdin.write(launch_request(1, prefix, "sleep 0.1; echo ran; exit 9", {}, 1.0))
    agent.stdin.close()
    agent.wait(DEADLINE)
    deadline = time.monotonic() + DEADLINE
    exit_record = Path(prefix + "exit")
    while not exit_record.read_text().endswith("\n"):
        assert time.monotonic() < deadline, "no exit record"
        time.sleep(0.01)
    assert exit_record.read_text() == f"{9:<16}\n"
    assert Path(prefix + "stdout").read_text() == "ran\n"


def test_local_supervisor_records_read_while_written_only_grow(tmp_path: Path) -> None:
    # Read as fast as we can while the runner writes: each reading is a state the attempt went
    # through, in order (supervisor, then command pid, then status), never a torn one.
    for launch in range(20):
        directory = tmp_path / str(launch)
        directory.mkdir()
        reader, writer = os.pipe()
        try:
            pid = spawn_runner(directory, "exit 7", writer)
        finally:
            os.close(writer)
        seen = [read_records(directory)]
        while not seen[-1].has_exited:
            seen.append(read_records(directory))
        with os.fdopen(reader, "rb") as launcher:
            command = int(launcher.readline())
        reap(pid)
        ended = SupervisorRecords(supervisor_pid=pid, pid=command, exit_code=7)
        states = [
            SupervisorRecords(),
            SupervisorRecords(supervisor_pid=pid),
            SupervisorRecords(supervisor_pid=pid, pid=command),
            ended,
        ]
        assert all(records in states for records in seen), f"a torn reading: {seen}"
        order = [states.index(records) for records in seen]
        assert order == sorted(order)
        assert seen[-1] == ended
