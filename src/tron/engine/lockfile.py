"""Tron's lock file (`--lock-file`, `--pid-file`): one trond per lock file, its pid inside.

The lock that matters for the state is the store's own (on the database itself); this one
keeps Tron's behaviour for operators and scripts that look at the pid file.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from tron.errors import TronError
from tron.private import tighten


class DaemonLockedError(TronError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"another trond holds the lock {path}; refusing to start a second one")


def acquire(path: Path, mode: int) -> tuple[IO[str], str | None]:
    """Lock `path` (created with `mode`, or tightened to it) and write our pid into it.

    Returns the open file (the lock lives as long as it stays open) and what tightening
    changed, if anything. Raises DaemonLockedError when another process holds it.
    """
    is_new = not path.exists()
    handle = open(os.open(path, os.O_RDWR | os.O_CREAT, mode), "a+")  # noqa: SIM115
    tightened = None
    if is_new:
        os.fchmod(handle.fileno(), mode)
    else:
        tightened = tighten(path, mode)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DaemonLockedError(path) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle, tightened


def release(handle: IO[str]) -> None:
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    handle.close()
