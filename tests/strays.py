"""Processes a test left behind: a gated command (`until [ -e gate ]; do sleep 0.2; done`)
whose test failed before it opened the gate runs on in its own session after trond is gone,
forking a `sleep` five times a second until the machine stops. The suite ends them."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

_PROC = Path("/proc")


def _mentions(pid: str, base: bytes) -> bool:
    """Whether process `pid` runs from under `base` (a directory path ending in a slash) or
    names something under it on its command line."""
    with contextlib.suppress(OSError):
        if (os.fsencode(os.readlink(_PROC / pid / "cwd")) + b"/").startswith(base):
            return True
    with contextlib.suppress(OSError):
        return base in (_PROC / pid / "cmdline").read_bytes()
    return False


def end_left_behind(base: Path) -> list[int]:
    """SIGKILL every process group with a process under `base` (but our own group); return
    the groups ended."""
    own = {os.getpid(), os.getpgrp()}
    # With its slash, so that worker gw1's root does not match gw10's.
    marker = os.fsencode(str(base)) + b"/"
    groups: set[int] = set()
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) in own:
            continue
        if _mentions(entry.name, marker):
            with contextlib.suppress(ProcessLookupError):
                groups.add(os.getpgid(int(entry.name)))
    groups -= own
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    return sorted(groups)
