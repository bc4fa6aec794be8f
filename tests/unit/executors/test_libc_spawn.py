"""posix_spawn through libc: what the child gets, and the GIL let go while it execs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tron.executors import libc_spawn

pytestmark = pytest.mark.skipif(not libc_spawn.available(), reason="needs glibc's posix_spawn")


def _wait(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_the_child_gets_its_session_descriptors_and_default_signals(tmp_path: Path) -> None:
    report = tmp_path / "report"
    reader, writer = os.pipe()
    script = (
        # Session id, SIGPIPE's disposition (SigIgn mask bit 13), what fd 3 carries.
        'ps -o sid= -p $$ >"$1"; grep SigIgn /proc/$$/status >>"$1"; echo piped >&3'
    )
    previous = signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        pid = libc_spawn.spawnp(
            ["sh", "-c", script, "sh", str(report)],
            [b"PATH=" + os.environb[b"PATH"]],
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_DUP2, 1, 2),
                (os.POSIX_SPAWN_DUP2, writer, 3),
            ],
            default_signals=[signal.SIGPIPE],
        )
    finally:
        signal.signal(signal.SIGPIPE, previous)
        os.close(writer)
    assert _wait(pid) == 0
    with os.fdopen(reader) as pipe:
        assert pipe.read() == "piped\n"
    sid, ignored = report.read_text().splitlines()
    assert int(sid) == pid
    assert not int(ignored.split()[1], 16) & (1 << (signal.SIGPIPE - 1))


def test_a_missing_program_and_a_nul_byte_are_refused() -> None:
    with pytest.raises(FileNotFoundError):
        libc_spawn.spawnp(["no-such-program-here"], [], file_actions=[], default_signals=[])
    with pytest.raises(ValueError, match="null byte"):
        libc_spawn.spawnp(["sh", "-c", "true\0"], [], file_actions=[], default_signals=[])


def test_other_threads_run_while_the_child_is_being_made(tmp_path: Path) -> None:
    """The child opens a FIFO before it execs, and the spawning thread waits for that exec:
    only another Python thread of the same process can open the FIFO's other end. Holding the
    GIL meanwhile (as os.posix_spawnp does) deadlocks; the subprocess then times out."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    program = textwrap.dedent(
        f"""
        import os, threading, time
        from tron.executors import libc_spawn

        def other_end():
            time.sleep(0.2)  # waking needs the GIL back
            os.close(os.open({str(fifo)!r}, os.O_WRONLY))

        threading.Thread(target=other_end).start()
        pid = libc_spawn.spawnp(
            ["true"],
            [k + b"=" + v for k, v in os.environb.items()],
            file_actions=[(os.POSIX_SPAWN_OPEN, 0, {str(fifo)!r}, os.O_RDONLY, 0)],
            default_signals=[],
        )
        os.waitpid(pid, 0)
        print("spawned")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout == "spawned\n", done.stderr


@pytest.mark.parametrize("kept", [1024, 0], ids=["file actions kept", "cache full"])
def test_launches_share_what_they_have_in_common_and_each_gets_its_own_pipe(
    kept: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attributes and file actions are built once per kind and reused: every child still gets
    the descriptor it was given, not one kept for another launch. Past the cache's limit each
    launch builds its own."""
    monkeypatch.setattr(libc_spawn, "_MAX_CACHED", kept)
    monkeypatch.setattr(libc_spawn, "_file_actions", {})
    pipes = [os.pipe() for _ in range(3)]
    pids = []
    for number, (_, writer) in enumerate(pipes * 2):
        pids.append(
            libc_spawn.spawnp(
                ["sh", "-c", f"echo {number} >&3"],
                [b"PATH=" + os.environb[b"PATH"]],
                file_actions=[(os.POSIX_SPAWN_DUP2, writer, 3)],
                default_signals=[signal.SIGPIPE],
            )
        )
    for pid in pids:
        assert _wait(pid) == 0
    for _, writer in pipes:
        os.close(writer)
    heard = []
    for reader, _ in pipes:
        with os.fdopen(reader) as pipe:
            heard.append(sorted(pipe.read().split()))
    assert heard == [["0", "3"], ["1", "4"], ["2", "5"]]
