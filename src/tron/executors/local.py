"""LocalExecutor: runs actions on the daemon's machine under the POSIX supervisor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from tron.errors import NodeError
from tron.executors.base import ActionSpec, ExitStatus, Handle
from tron.executors.supervisor import (
    COMMAND_FILE,
    VANISHED,
    WRAPPER_PATH,
    Record,
    launch_argv,
    parse_launch_output,
    read_exit_status,
    read_records,
)

logger = logging.getLogger(__name__)

_PROC = Path("/proc")


def _is_alive(pid: int | None) -> bool:
    """Whether `pid` runs (a zombie does not: it has ended, only its parent has not reaped it)."""
    if pid is None or pid <= 0:
        return False
    try:
        stat = (_PROC / str(pid) / "stat").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return _answers_signal(pid)
    state = stat.rsplit(b")", 1)[-1].split()[0]
    return state not in (b"Z", b"X")


def _answers_signal(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _open_pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (ProcessLookupError, OSError):
        # Gone already, or out of descriptors / an old kernel: the caller polls instead.
        return None


@dataclass(slots=True, kw_only=True)
class _Watch:
    """One attempt somebody waits for; `pidfd` watches whichever process we expect to end next."""

    directory: Path
    future: asyncio.Future[ExitStatus]
    pidfd: int | None = None
    polled: bool = False


@dataclass(slots=True, kw_only=True)
class _Watches:
    """Every watched attempt, keyed by directory, and the one polling task shared by them."""

    by_key: dict[str, _Watch] = field(default_factory=dict)
    poller: asyncio.Task[None] | None = None


class LocalExecutor:
    """Runs each attempt under wrapper.sh in its own session, detached from the daemon.

    The end of an attempt is seen through a pidfd on its supervisor (Linux), so no process is
    polled; where pidfds are unavailable (or `use_pidfd` is False) one task polls every running
    attempt each `poll_interval` seconds.
    """

    def __init__(
        self,
        *,
        poll_interval: float = 0.05,
        start_timeout: float = 10.0,
        use_pidfd: bool | None = None,
        shell: str = "/bin/sh",
        wrapper: Path = WRAPPER_PATH,
    ) -> None:
        self._poll_interval = poll_interval
        self._start_timeout = start_timeout
        self._use_pidfd = hasattr(os, "pidfd_open") if use_pidfd is None else use_pidfd
        self._shell = shell
        self._wrapper = str(wrapper)
        self._watches = _Watches()

    async def start(self, spec: ActionSpec) -> Handle:
        directory = spec.output_dir
        _prepare(directory, spec.command)
        output = await self._launch(directory, {**os.environ, **spec.env} if spec.env else None)
        pid = parse_launch_output(output)
        records = read_records(directory)
        return Handle(
            action_run_id=spec.action_run_id,
            attempt=spec.attempt,
            node=None,
            output_dir=str(directory),
            pid=pid,
            extra=MappingProxyType({"supervisor_pid": records.supervisor_pid}),
        )

    async def _launch(self, directory: Path, env: dict[str, str] | None) -> bytes:
        argv = launch_argv(
            str(directory),
            shell=self._shell,
            wrapper=self._wrapper,
            in_session=True,
            started=time.time(),
        )
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            raise NodeError(f"cannot start the supervisor: {exc}") from exc
        try:
            output, _ = await asyncio.wait_for(proc.communicate(), self._start_timeout)
        except TimeoutError:
            _kill_group(proc.pid)
            await proc.wait()
            raise NodeError(f"supervisor did not start within {self._start_timeout}s") from None
        return output

    async def wait(self, handle: Handle) -> ExitStatus:
        directory = Path(handle.output_dir)
        status = read_exit_status(directory)
        if status is not None:
            return status
        watch = self._watches.by_key.get(handle.output_dir)
        if watch is None:
            watch = self._watch(handle.output_dir, directory)
        return await asyncio.shield(watch.future)

    async def signal(self, handle: Handle, signum: int) -> None:
        directory = Path(handle.output_dir)
        if handle.pid is None or read_exit_status(directory) is not None:
            return
        try:
            os.killpg(handle.pid, signum)
        except ProcessLookupError:
            # Between fork and setsid the command has no group of its own yet.
            with contextlib.suppress(ProcessLookupError):
                os.kill(handle.pid, signum)
        except PermissionError as exc:
            raise NodeError(f"cannot signal process group {handle.pid}: {exc}") from exc

    async def reattach(self, handle: Handle) -> Handle:
        records = read_records(Path(handle.output_dir))
        pid = records.pid if records.pid is not None else handle.pid
        extra = {**handle.extra, "supervisor_pid": records.supervisor_pid}
        return replace(handle, pid=pid, extra=MappingProxyType(extra))

    async def close(self) -> None:
        watches = self._watches
        for key in list(watches.by_key):
            self._forget(key)
            # Nobody will resolve it now; waiters get CancelledError rather than hang.
        if watches.poller is not None:
            watches.poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watches.poller
            watches.poller = None

    def _watch(self, key: str, directory: Path) -> _Watch:
        future: asyncio.Future[ExitStatus] = asyncio.get_running_loop().create_future()
        watch = _Watch(directory=directory, future=future)
        self._watches.by_key[key] = watch
        self._check(key)
        return watch

    def _check(self, key: str) -> None:
        """Resolve the watch if the attempt ended, else (re)arm whatever watches it."""
        watch = self._watches.by_key[key]
        self._disarm(watch)
        status = read_exit_status(watch.directory)
        if status is None:
            status = self._arm(key, watch)
        if status is not None:
            self._resolve(key, status)

    def _arm(self, key: str, watch: _Watch) -> ExitStatus | None:
        records = read_records(watch.directory)
        if records.exit_status is not None:
            return records.exit_status
        pid = _next_to_end(records.supervisor_pid, records.pid)
        if pid is None:
            return _vanished_or_exit(watch.directory)
        if self._use_pidfd:
            watch.pidfd = _open_pidfd(pid)
        if watch.pidfd is not None:
            asyncio.get_running_loop().add_reader(watch.pidfd, self._check, key)
        else:
            watch.polled = True
            self._ensure_poller()
        return None

    def _disarm(self, watch: _Watch) -> None:
        if watch.pidfd is not None:
            asyncio.get_running_loop().remove_reader(watch.pidfd)
            os.close(watch.pidfd)
            watch.pidfd = None
        watch.polled = False

    def _resolve(self, key: str, status: ExitStatus) -> None:
        watch = self._watches.by_key.pop(key)
        if not watch.future.done():
            watch.future.set_result(status)

    def _forget(self, key: str) -> None:
        watch = self._watches.by_key.pop(key)
        self._disarm(watch)
        watch.future.cancel()

    def _ensure_poller(self) -> None:
        watches = self._watches
        if watches.poller is None or watches.poller.done():
            watches.poller = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        while any(w.polled for w in self._watches.by_key.values()):
            await asyncio.sleep(self._poll_interval)
            for key in [k for k, w in self._watches.by_key.items() if w.polled]:
                self._check(key)


def _next_to_end(supervisor_pid: int | None, pid: int | None) -> int | None:
    """The process whose end tells us something: the supervisor, else a command it left behind."""
    for candidate in (supervisor_pid, pid):
        if _is_alive(candidate):
            return candidate
    return None


def _vanished_or_exit(directory: Path) -> ExitStatus:
    # Both processes are gone: the supervisor wrote `exit` just now, or it never will.
    status = read_exit_status(directory)
    return status if status is not None else ExitStatus(exit_code=None, reason=VANISHED)


def _prepare(directory: Path, command: str) -> None:
    """Create the attempt's directory with its command, dropping records of an earlier launch."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for record in (Record.EXIT, Record.SIGNAL, Record.PID):
            (directory / record).unlink(missing_ok=True)
        (directory / COMMAND_FILE).write_text(command, encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise NodeError(f"cannot prepare {directory}: {exc}") from exc


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, 9)
