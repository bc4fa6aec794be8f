"""One daemon per state: an exclusive lock held on the state's file itself, not on a lock path.

trond's `--lock-file` (Tron's flag) only keeps out a second trond given the same flag: two
daemons started with different ones would both schedule from one state. So a store that lives
in a file also holds `flock(LOCK_EX)` on that file for as long as it is open, whoever opens it.

SQLite locks its files with POSIX `fcntl` byte-range locks, which on Linux do not interact with
`flock`: WAL mode, readers and SQLite's own tools work with our lock held. (On NFS, Linux
emulates `flock` with `fcntl` locks and the two would clash; SQLite in WAL mode does not work
on NFS anyway.) One POSIX rule matters here: closing *any* descriptor of a file drops every
`fcntl` lock this process holds on it, SQLite's included. Hence our descriptor is closed only
after SQLite's connection is (see SqliteStore.close), and a second lock on a file this process
already holds is refused from a table of our own, before opening the file again.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from tron.errors import StoreError

_PROC_LOCKS = Path("/proc/locks")
# (device, inode) of every state file this process holds, with the path it was opened by.
_HELD: dict[tuple[int, int], Path] = {}


class StateLock:
    """The exclusive lock on one state file, held until `release`."""

    def __init__(self, path: Path, fd: int, key: tuple[int, int]) -> None:
        self.path = path
        self._fd: int | None = fd
        self._key = key

    @classmethod
    def acquire(cls, path: Path, *, mode: int = 0o600) -> StateLock:
        """Lock `path` (created with `mode` if missing); StoreError if another store holds it."""
        key = _key_of(path)
        if key is not None and key in _HELD:
            raise StoreError(_refusal(path, os.getpid()))
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, mode)
        except OSError as exc:
            raise StoreError(f"cannot open {path}: {exc}") from exc
        stat = os.fstat(fd)
        key = (stat.st_dev, stat.st_ino)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            # Another process holds it (this one holds none of SQLite's locks on it yet).
            os.close(fd)
            if isinstance(exc, BlockingIOError):
                raise StoreError(_refusal(path, _holder(key))) from None
            raise StoreError(f"cannot lock {path}: {exc}") from exc
        _HELD[key] = path
        return cls(path, fd, key)

    def release(self) -> None:
        """Drop the lock. Call it only once SQLite has closed its own descriptors of the file."""
        if self._fd is None:
            return
        _HELD.pop(self._key, None)
        os.close(self._fd)  # closing the only descriptor of our open file drops the flock
        self._fd = None


def _key_of(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


def _refusal(path: Path, pid: int | None) -> str:
    holder = "another process" if pid is None else f"process {pid}"
    return (
        f"the state {path} is in use by {holder} (another trond?); "
        "one daemon per state: stop the other one first"
    )


def _holder(key: tuple[int, int]) -> int | None:
    """The pid holding a flock on the file `key`, from /proc/locks (Linux); None if unknown."""
    device, inode = key
    wanted = f"{os.major(device):02x}:{os.minor(device):02x}:{inode}"
    try:
        lines = _PROC_LOCKS.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        # `1: FLOCK  ADVISORY  WRITE 9332 fe:00:2146323 0 EOF`; waiters have `->` after `1:`.
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == wanted:
            return int(fields[4]) if fields[4].isdigit() else None
    return None
