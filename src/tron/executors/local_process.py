"""Process plumbing for the LocalExecutor: spawning the runner, pids, reaping."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Mapping
from pathlib import Path

from tron.errors import NodeError
from tron.executors import libc_spawn

_PROC = Path("/proc")


class ChildEnvironment:
    """What a runner's environment is: trond's own plus an attempt's variables, as the
    KEY=VALUE entries spawning takes. trond's own is encoded once, and again only if it has
    changed since (a launch made that for each of ~40 variables, twice)."""

    def __init__(self) -> None:
        self._encoded: tuple[dict[bytes, bytes], list[tuple[bytes, bytes]]] = ({}, [])

    def entries(self, extra: Mapping[str, str]) -> list[bytes]:
        own = self._own()
        added = {os.fsencode(key): os.fsencode(value) for key, value in extra.items()}
        kept = [key + b"=" + value for key, value in own if key not in added]
        return kept + [key + b"=" + value for key, value in added.items()]

    def _own(self) -> list[tuple[bytes, bytes]]:
        # os.environ keeps its variables encoded in `_data` (CPython on POSIX): comparing that
        # dict is one C call; elsewhere they are encoded for every launch.
        current = getattr(os.environ, "_data", None)
        if not isinstance(current, dict):
            return [(os.fsencode(k), os.fsencode(v)) for k, v in os.environ.items()]
        snapshot, pairs = self._encoded
        if current != snapshot:
            snapshot = dict(current)
            pairs = list(snapshot.items())
            self._encoded = (snapshot, pairs)
        return pairs


def spawn(argv: list[str], env: list[bytes]) -> tuple[int, int]:
    """Start `argv` with the KEY=VALUE entries `env` as a session leader with a pipe on fd 3;
    return its pid and the read end.

    posix_spawn (vfork and exec) costs the daemon far less than asyncio's subprocess machinery,
    which forks, builds transports and starts a thread per child to wait for it; it is called
    through libc where it can be, so that other threads run while the child execs.
    """
    reader, writer = os.pipe()
    try:
        pid = _spawn_runner(argv, env, writer)
    except OSError as exc:
        os.close(reader)
        raise NodeError(f"cannot start the supervisor: {exc}") from exc
    except BaseException:
        os.close(reader)
        raise
    finally:
        os.close(writer)
    return pid, reader


# Python ignores these for itself; an ignored signal would stay ignored in the action.
_DEFAULT_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ)


def _spawn_runner(argv: list[str], env: list[bytes], writer: int) -> int:
    """stdin and stdout/stderr on /dev/null, `writer` as fd 3, a session of its own."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_DUP2, 1, 2),
        (os.POSIX_SPAWN_DUP2, writer, 3),
    ]
    if libc_spawn.available():
        return libc_spawn.spawnp(argv, env, file_actions=actions, default_signals=_DEFAULT_SIGNALS)
    return os.posix_spawnp(
        argv[0],
        argv,
        dict(entry.split(b"=", 1) for entry in env),
        file_actions=actions,
        setsid=True,
        setsigmask=(),
        setsigdef=_DEFAULT_SIGNALS,
    )


def _stat_fields(pid: int) -> list[bytes] | None:
    """Fields of /proc/PID/stat after the command name (state first), None if it has gone."""
    try:
        stat = (_PROC / str(pid) / "stat").read_bytes()
    except FileNotFoundError:
        return None
    return stat.rsplit(b")", 1)[-1].split()


def is_alive(pid: int | None) -> bool:
    """Whether `pid` runs (a zombie does not: it has ended, only its parent has not reaped it)."""
    if pid is None or pid <= 0:
        return False
    try:
        fields = _stat_fields(pid)
    except OSError:
        return _answers_signal(pid)
    return fields is not None and fields[0] not in (b"Z", b"X")


def _answers_signal(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def open_pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (ProcessLookupError, OSError):
        # Gone already, or out of descriptors / an old kernel: the caller polls instead.
        return None


def reap(pid: int) -> bool:
    """Collect our child `pid` if it has ended; True once it is collected (or not ours)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done != 0


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, 9)
