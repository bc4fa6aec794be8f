"""File modes of trond's own state: owner-only, or group-readable when the operator asks.

The state database holds config `env` values (often secrets) and action output holds whatever
commands print, so nothing trond writes is readable by other local users, whatever the umask.
Modes are set with chmod after creating, because the umask can only take bits away.

Action output lives in directories created per run and attempt, by executors that do not know
the operator's choice: they give a new directory the mode of the nearest existing one, capped
at group read. The daemon sets the mode of the output root at start-up, so that is the choice.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

_GROUP_READ_DIR = 0o750  # the most an inherited directory mode may allow


@dataclass(frozen=True, slots=True)
class Modes:
    dir: int
    file: int


OWNER_ONLY = Modes(dir=0o700, file=0o600)
GROUP_READABLE = Modes(dir=0o750, file=0o640)


def modes_for(*, group_readable: bool) -> Modes:
    return GROUP_READABLE if group_readable else OWNER_ONLY


def file_mode_of(dir_mode: int) -> int:
    """The mode of a file in a directory of `dir_mode`: the same reads, no execute."""
    return dir_mode & 0o640


def dir_mode(directory: Path) -> int:
    """The mode a directory gives what is made in it, as `make_dir_like_parent` reads it."""
    return stat.S_IMODE(os.stat(directory).st_mode) & _GROUP_READ_DIR


def tighten(path: Path, mode: int) -> str | None:
    """Take from `path` every permission bit `mode` does not allow.

    Returns what changed (`path 0644 -> 0600`), None when nothing did or `path` is absent.
    """
    try:
        current = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None
    wanted = current & mode
    if wanted == current:
        return None
    os.chmod(path, wanted)
    return f"{path} {current:04o} -> {wanted:04o}"


def ensure_dir(path: Path, mode: int) -> str | None:
    """Create `path` (and its parents) with exactly `mode`, or tighten it if it exists.

    Returns what changed on an existing directory, as `tighten` does. A directory that is
    shared (sticky, as /tmp) or belongs to another user is left as it is.
    """
    try:
        path.mkdir(parents=True)
    except FileExistsError:
        info = os.stat(path)
        if info.st_mode & stat.S_ISVTX or info.st_uid != os.geteuid():
            return None
        return tighten(path, mode)
    os.chmod(path, mode)
    return None


def make_dir_like_parent(directory: Path) -> int:
    """Create `directory` and its missing parents with the mode of the nearest existing
    ancestor, capped at group read; return that mode.

    Raises FileExistsError when `directory` itself exists (a parent created meanwhile by
    someone else is fine), and OSError when it cannot be made.
    """
    chain = [directory]
    while True:
        try:
            mode = dir_mode(chain[-1].parent)
            break
        except FileNotFoundError:
            chain.append(chain[-1].parent)
    for path in reversed(chain):
        try:
            path.mkdir()
        except FileExistsError:
            if path == directory:
                raise
            continue
        os.chmod(path, mode)
    return mode


def create_file(path: Path, mode: int) -> None:
    """Create (or empty) the file `path` with exactly `mode`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
