"""The runners a LocalExecutor spawned: each one's first line and its end, through one pipe.

A runner (local.sh) keeps the pipe on its fd 3 open until it exits and writes to it the
command's pid, then, once its `exit` record is written, the same exit status: the pipe says that
the attempt started (its first line), how it ended (what follows) and that the runner ended (end
of file). One descriptor per attempt, where a pidfd for the end and a read of the record would
be more calls to make on the event loop, per launch. A runner seen to end is
reaped; should the kernel not have it reapable yet, a pidfd (or, without pidfds, polling) waits
for that.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from tron import tasks
from tron.executors.local_process import open_pidfd, reap


@dataclass(slots=True, eq=False)
class _Child:
    reader: int | None  # the pipe, until its end of file
    first_line: asyncio.Future[bytes]
    chunks: list[bytes] = field(default_factory=list)
    tail: bytes = b""
    pidfd: int | None = None
    polled: bool = False


class Children:
    """Spawned runners not reaped yet; `on_end(pid, tail)` is called once each one is reaped,
    with what it wrote after its first line."""

    def __init__(
        self, *, on_end: Callable[[int, bytes], None], use_pidfd: bool, poll_interval: float
    ) -> None:
        self._on_end = on_end
        self._use_pidfd = use_pidfd
        self._poll_interval = poll_interval
        self._children: dict[int, _Child] = {}
        self._poller: asyncio.Task[None] | None = None

    def __contains__(self, pid: object) -> bool:
        return pid in self._children

    def adopt(self, pid: int, reader: int) -> asyncio.Future[bytes]:
        """Follow runner `pid` through the read end of its pipe; the future resolves with its
        first line (up to a newline or the end of file)."""
        loop = asyncio.get_running_loop()
        child = _Child(reader=reader, first_line=loop.create_future())
        self._children[pid] = child
        loop.add_reader(reader, self._readable, pid)
        return child.first_line

    def _readable(self, pid: int) -> None:
        child = self._children[pid]
        assert child.reader is not None
        try:
            chunk = os.read(child.reader, 64)
        except OSError:
            chunk = b""
        child.chunks.append(chunk)
        if b"\n" in chunk and not child.first_line.done():
            line, _, rest = b"".join(child.chunks).partition(b"\n")
            child.first_line.set_result(line + b"\n")
            child.chunks = [rest]
        if chunk:
            return
        asyncio.get_running_loop().remove_reader(child.reader)
        os.close(child.reader)
        child.reader = None
        if not child.first_line.done():
            child.first_line.set_result(b"".join(child.chunks))
            child.chunks = []
        child.tail = b"".join(child.chunks)
        self._reap(pid)

    def _reap(self, pid: int) -> None:
        child = self._children.get(pid)
        if child is None:
            return
        if reap(pid):
            self._drop(pid)
            self._on_end(pid, child.tail)
            return
        # Its pipe closed as it exited, a moment before the kernel lets it be reaped.
        if child.pidfd is None and not child.polled:
            child.pidfd = open_pidfd(pid) if self._use_pidfd else None
            if child.pidfd is not None:
                asyncio.get_running_loop().add_reader(child.pidfd, self._reap, pid)
            else:
                child.polled = True
                self._ensure_poller()

    def _drop(self, pid: int) -> None:
        child = self._children.pop(pid)
        loop = asyncio.get_running_loop()
        for fd in (child.reader, child.pidfd):
            if fd is not None:
                loop.remove_reader(fd)
                os.close(fd)
        if not child.first_line.done():
            child.first_line.cancel()

    def _ensure_poller(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        while polled := [pid for pid, child in self._children.items() if child.polled]:
            await asyncio.sleep(self._poll_interval)
            for pid in polled:
                self._reap(pid)

    async def close(self) -> None:
        """Stop following: runners still running stay zombies of this process once they end
        (init reaps them when the daemon exits); their records say how it went all the same."""
        for pid in list(self._children):
            self._drop(pid)
        await tasks.stop(self._poller)
        self._poller = None
