"""LocalExecutor: runs actions on the daemon's machine under the POSIX supervisor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from tron import tasks
from tron.errors import NodeError
from tron.executors.base import ActionSpec, AttemptNotStarted, ExitStatus, Handle
from tron.executors.local_children import Children
from tron.executors.local_process import (
    ChildEnvironment,
    is_alive,
    kill_group,
    open_pidfd,
    spawn,
)
from tron.executors.supervisor import (
    COMMAND_FILE,
    NOT_STARTED,
    STDERR_FILE,
    STDOUT_FILE,
    VANISHED,
    Record,
    final_status,
    parse_launch_output,
    read_exit_status,
    read_records,
)
from tron.private import create_file, dir_mode, file_mode_of, make_dir_like_parent

logger = logging.getLogger(__name__)

RUNNER_PATH = Path(__file__).with_name("local.sh")
KILLED_FILE = "killed"

# The runner traps these to outlive them; any other signal to the group ends it with the command.
_SURVIVED = frozenset(
    {
        signal.SIGHUP,
        signal.SIGINT,
        signal.SIGQUIT,
        signal.SIGTERM,
        signal.SIGUSR1,
        signal.SIGUSR2,
        signal.SIGALRM,
    }
)
# Linux takes at most 128 KiB per argument; longer commands are read from the command file.
_ARGV_LIMIT = 100_000
# Launches prepared and spawned at once off the event loop: a few cover the time a spawn waits
# for its child to exec; the event loop itself does the rest of a launch.
LAUNCH_THREADS = 4
# Records of an earlier launch in the same directory (the separate ones only by earlier versions).
_STALE = (Record.EXIT, Record.SUPERVISOR, Record.SIGNAL, Record.PID, Record.GROUP, KILLED_FILE)


@dataclass(slots=True, kw_only=True)
class _Watch:
    """One attempt somebody waits for; `pidfd` watches whichever process we expect to end next."""

    directory: Path
    future: asyncio.Future[ExitStatus]
    supervisor_pid: int | None = None
    pidfd: int | None = None
    polled: bool = False


@dataclass(slots=True, kw_only=True)
class _Watches:
    """Every watched attempt, keyed by directory, and the one polling task shared by them."""

    by_key: dict[str, _Watch] = field(default_factory=dict)
    # Watches of a supervisor this executor spawned and follows (its Children): its end is
    # the sign to look.
    by_child: dict[int, str] = field(default_factory=dict)
    # How runners we spawned ended before anybody waited for them (a short command ends before
    # its `running` mark is durable), by directory; taken by the first wait.
    ended: dict[str, ExitStatus] = field(default_factory=dict)
    spawned: dict[int, str] = field(default_factory=dict)  # runner pid -> its directory
    poller: asyncio.Task[None] | None = None


class LocalExecutor:
    """Runs each attempt under the local runner (local.sh) in its own session.

    The runner is spawned directly (posix_spawn, no asyncio child watcher thread) and is both the
    supervisor and the attempt's process group leader. This executor reaps it when it ends; if
    the daemon goes away first, init does. The end of an attempt is seen through a pidfd on its
    supervisor (Linux), so no process is polled; where pidfds are unavailable (or `use_pidfd` is
    False) one task polls every running attempt each `poll_interval` seconds.
    """

    def __init__(
        self,
        *,
        poll_interval: float = 0.05,
        start_timeout: float = 10.0,
        use_pidfd: bool | None = None,
        shell: str = "/bin/sh",
        wrapper: Path = RUNNER_PATH,
        launch_threads: int = LAUNCH_THREADS,
    ) -> None:
        self._poll_interval = poll_interval
        self._start_timeout = start_timeout
        self._use_pidfd = hasattr(os, "pidfd_open") if use_pidfd is None else use_pidfd
        self._shell = shell
        self._runner = wrapper.read_text(encoding="utf-8")
        self._watches = _Watches()
        self._children = Children(
            on_end=self._child_ended, use_pidfd=self._use_pidfd, poll_interval=poll_interval
        )
        self._launch_threads = ThreadPoolExecutor(launch_threads, thread_name_prefix="tron-launch")
        self._environment = ChildEnvironment()

    async def start(self, spec: ActionSpec) -> Handle:
        directory = spec.output_dir
        # Making the attempt's directories and spawning block: the file system journals each
        # new entry, and posix_spawn holds the calling thread until the runner has exec'd
        # (longer on a busy machine). On launch threads the event loop goes on meanwhile.
        spawning = asyncio.get_running_loop().run_in_executor(
            self._launch_threads, self._prepare_and_spawn, spec
        )
        try:
            pid, reader = await asyncio.shield(spawning)
        except asyncio.CancelledError:
            # Spawned or not, the runner is ours to reap; nobody reads its first line now.
            spawning.add_done_callback(self._adopt_abandoned)
            raise
        first_line = self._children.adopt(pid, reader)
        self._watches.spawned[pid] = str(directory)
        try:
            # Not wait_for: on 3.11 it swallows a cancellation that comes with the line.
            async with asyncio.timeout(self._start_timeout):
                output = await asyncio.shield(first_line)
        except asyncio.CancelledError:
            self._watches.spawned.pop(pid, None)  # it runs on; nobody here waits for it
            raise
        except TimeoutError:
            self._abandon(pid)
            raise NodeError(f"supervisor did not start within {self._start_timeout}s") from None
        try:
            parse_launch_output(output)
        except NodeError:
            self._abandon(pid)
            raise
        return Handle(
            action_run_id=spec.action_run_id,
            attempt=spec.attempt,
            node=None,
            output_dir=str(directory),
            pid=pid,
            extra=MappingProxyType({"supervisor_pid": pid}),
        )

    def _prepare_and_spawn(self, spec: ActionSpec) -> tuple[int, int]:
        """On a launch thread: the attempt's directory, then its runner; (pid, first-line fd)."""
        directory = spec.output_dir
        inline = _prepare(directory, spec.command)
        argv = [self._shell, "-c", self._runner, "sh", str(directory)]
        if inline:
            argv.append(spec.command)
        return spawn(argv, self._environment.entries(spec.env))

    def _adopt_abandoned(self, spawning: asyncio.Future[tuple[int, int]]) -> None:
        if spawning.cancelled() or spawning.exception() is not None:
            return
        self._children.adopt(*spawning.result())

    def _abandon(self, pid: int) -> None:
        """A launch that failed: its runner is killed, and nobody will wait for its end."""
        self._watches.spawned.pop(pid, None)
        kill_group(pid)

    def _child_ended(self, pid: int, tail: bytes) -> None:
        # The status it wrote to its pipe once its `exit` record was written: the same value,
        # without reading the record. Killed before that, it wrote none: the records tell.
        status = final_status(tail)
        directory = self._watches.spawned.pop(pid, None)
        key = self._watches.by_child.pop(pid, None)
        if key is None:
            if status is not None and directory is not None:
                self._watches.ended[directory] = status
            return
        if status is None:
            self._check(key)
        else:
            self._resolve(key, status)

    async def wait(self, handle: Handle) -> ExitStatus:
        ended = self._watches.ended.pop(handle.output_dir, None)
        if ended is not None:
            return ended
        watch = self._watches.by_key.get(handle.output_dir)
        if watch is None:
            supervisor = handle.extra.get("supervisor_pid")
            if isinstance(supervisor, int) and supervisor in self._children:
                # Our own child, not reaped: it runs, and reaping it will tell. Its records are
                # read then, not now (a launch's costliest step on a busy disk was this read).
                watch = self._watch_child(handle, supervisor)
            else:
                directory = Path(handle.output_dir)
                status = read_exit_status(directory)
                if status is not None:
                    return status
                watch = self._watch(handle, directory)
        return await asyncio.shield(watch.future)

    async def signal(self, handle: Handle, signum: int) -> None:
        directory = Path(handle.output_dir)
        if handle.pid is None or read_exit_status(directory) is not None:
            return
        if signum not in _SURVIVED:
            # The local runner dies with its group: leave word of what ended it.
            _note_kill(directory, signum)
        try:
            os.killpg(handle.pid, signum)
        except ProcessLookupError:
            # Between fork and setsid the command has no group of its own yet.
            with contextlib.suppress(ProcessLookupError):
                os.kill(handle.pid, signum)
        except PermissionError as exc:
            raise NodeError(f"cannot signal process group {handle.pid}: {exc}") from exc

    async def reattach(self, handle: Handle) -> Handle:
        directory = Path(handle.output_dir)
        records = read_records(directory)
        if records.supervisor_pid is None and records.pid is None and _claim(directory):
            raise AttemptNotStarted(f"{handle.action_run_id}: the attempt never started")
        # local.sh leads the attempt's group itself; a `group` record is left only by runners
        # of earlier versions, and records without a supervisor are ssh_agent.sh's shape.
        # Either layout of the records reads the same (see tron.executors.supervisor).
        group = records.group or records.supervisor_pid or records.pid
        pid = group if group is not None else handle.pid
        extra = {**handle.extra, "supervisor_pid": records.supervisor_pid}
        return replace(handle, pid=pid, extra=MappingProxyType(extra))

    async def close(self) -> None:
        watches = self._watches
        for key in list(watches.by_key):
            self._forget(key)
            # Nobody will resolve it now; waiters get CancelledError rather than hang.
        await self._children.close()
        watches.ended.clear()
        watches.spawned.clear()
        await tasks.stop(watches.poller)
        watches.poller = None
        self._launch_threads.shutdown(wait=False, cancel_futures=True)

    def _watch(self, handle: Handle, directory: Path) -> _Watch:
        future: asyncio.Future[ExitStatus] = asyncio.get_running_loop().create_future()
        supervisor = handle.extra.get("supervisor_pid")
        watch = _Watch(
            directory=directory,
            future=future,
            supervisor_pid=supervisor if isinstance(supervisor, int) else None,
        )
        self._watches.by_key[handle.output_dir] = watch
        self._check(handle.output_dir)
        return watch

    def _watch_child(self, handle: Handle, supervisor: int) -> _Watch:
        future: asyncio.Future[ExitStatus] = asyncio.get_running_loop().create_future()
        watch = _Watch(directory=Path(handle.output_dir), future=future, supervisor_pid=supervisor)
        self._watches.by_key[handle.output_dir] = watch
        self._watches.by_child[supervisor] = handle.output_dir
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
        pid = _next_to_end(watch)
        if pid is None:
            return _vanished_or_exit(watch.directory)
        if self._use_pidfd:
            watch.pidfd = open_pidfd(pid)
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
        self._unlink_child(key, watch)
        if not watch.future.done():
            watch.future.set_result(status)

    def _unlink_child(self, key: str, watch: _Watch) -> None:
        pid = watch.supervisor_pid
        if pid is not None and self._watches.by_child.get(pid) == key:
            del self._watches.by_child[pid]

    def _forget(self, key: str) -> None:
        watch = self._watches.by_key.pop(key)
        self._unlink_child(key, watch)
        self._disarm(watch)
        watch.future.cancel()

    def _ensure_poller(self) -> None:
        watches = self._watches
        if watches.poller is None or watches.poller.done():
            watches.poller = asyncio.get_running_loop().create_task(self._poll())

    def _polling(self) -> bool:
        return any(w.polled for w in self._watches.by_key.values())

    async def _poll(self) -> None:
        while self._polling():
            await asyncio.sleep(self._poll_interval)
            for key in [k for k, w in self._watches.by_key.items() if w.polled]:
                self._check(key)


def _next_to_end(watch: _Watch) -> int | None:
    """The process whose end tells us something: the supervisor, else a command it left behind."""
    if is_alive(watch.supervisor_pid):
        return watch.supervisor_pid
    records = read_records(watch.directory)
    for candidate in (records.supervisor_pid, records.pid):
        if is_alive(candidate):
            return candidate
    return None


def _vanished_or_exit(directory: Path) -> ExitStatus:
    # Both processes are gone: the supervisor wrote `exit` just now, we killed both, or it never
    # will write it.
    status = read_exit_status(directory)
    if status is not None:
        return status
    killed = _killed_by(directory)
    if killed is not None:
        return ExitStatus(exit_code=128 + killed, signal=killed)
    return ExitStatus(exit_code=None, reason=VANISHED)


def _claim(directory: Path) -> bool:
    """Whether the attempt in `directory` never started, making sure it never will.

    local.sh reserves its exit record with O_EXCL before anything else: whoever creates the
    record first owns the attempt. Here trond takes it with NOT_STARTED when it is still free.
    """
    path = directory / Record.EXIT
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        # A supervisor reserved it (and runs, or died), or an earlier claim of ours did.
        return read_exit_status(directory) == ExitStatus(exit_code=None, reason=NOT_STARTED)
    except (FileNotFoundError, NotADirectoryError):
        return True  # the directory is made before the supervisor is spawned: none was
    except OSError as exc:
        raise NodeError(f"cannot read the records in {directory}: {exc}") from exc
    # The claim is the file's creation; its text only tells later readers (a full disk may
    # leave it empty: they then see an attempt that vanished).
    with contextlib.suppress(OSError):
        os.write(fd, f"{NOT_STARTED}\n".encode())
    os.close(fd)
    return True


def _killed_by(directory: Path) -> int | None:
    try:
        text = (directory / KILLED_FILE).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.endswith("\n") and text.strip().isdigit() else None


def _note_kill(directory: Path, signum: int) -> None:
    with contextlib.suppress(OSError):
        (directory / KILLED_FILE).write_text(f"{signum}\n", encoding="ascii")


def _prepare(directory: Path, command: str) -> bool:
    """Create the attempt's directory, dropping records of an earlier launch in it.

    Returns whether the command goes in argv; when too long for that, it goes into the command
    file instead.
    """
    inline = len(command.encode("utf-8", "surrogateescape")) <= _ARGV_LIMIT
    try:
        _make_fresh(directory)
        if not inline:
            (directory / COMMAND_FILE).write_text(
                command, encoding="utf-8", errors="surrogateescape"
            )
    except OSError as exc:
        raise NodeError(f"cannot prepare {directory}: {exc}") from exc
    return inline


def _make_fresh(directory: Path) -> None:
    # The usual case is a new directory whose parent exists: one mkdir and nothing to clean.
    try:
        mode = make_dir_like_parent(directory)
    except FileExistsError:
        mode = dir_mode(directory)
        for name in (*_STALE, COMMAND_FILE):
            (directory / name).unlink(missing_ok=True)
    # Made here with the directory's reads: the supervisor opens them as they are.
    for stream in (STDOUT_FILE, STDERR_FILE):
        create_file(directory / stream, file_mode_of(mode))
