"""ScriptedExecutor: the Executor protocol with no processes, for fast engine tests.

Attempts end when the test says so. What a supervisor would leave on the node lives in
`records`, which outlives any daemon: keep one executor object across a simulated crash (drop
the engine, call `disconnect()`, build a new engine with the same executor) and the new daemon
finds what the old one launched, as it would on a real node. A record models the four shapes
recovery has to handle:

    no record for (action_run_id, attempt)   the supervisor never started: `reattach` raises
                                             AttemptNotStarted (as LocalExecutor does)
    NodeRecord(pid), status None             running (pid only): `wait` blocks until `finish`
    NodeRecord(pid, status=ExitStatus(...))  ended: `wait` returns the status at once
    status=ExitStatus(None, UNREADABLE)      an unreadable exit record (see `garble`)
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from tron.errors import NodeError
from tron.executors.base import ActionSpec, AttemptNotStarted, ExitStatus, Handle
from tron.executors.supervisor import UNREADABLE, VANISHED

Key = tuple[str, int]


@dataclass(slots=True, kw_only=True)
class NodeRecord:
    """What the supervisor of one attempt left on its node; `status` None while it runs."""

    pid: int
    status: ExitStatus | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Launch:
    """One command launched: the attempt's spec and the handle `start` returned for it."""

    spec: ActionSpec
    handle: Handle

    @property
    def key(self) -> Key:
        return (self.spec.action_run_id, self.spec.attempt)


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalSent:
    action_run_id: str
    attempt: int
    signum: int


@dataclass(slots=True, eq=False)
class _Hold:
    """Starts wait on `gate` while held; `launched` says whether they launch before waiting,
    `broken` that the daemon died meanwhile (its starts then end cancelled)."""

    launched: bool
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    broken: bool = False


class ScriptedExecutor:
    """An Executor whose attempts end when the test calls `finish` (or `signal` ends them).

    `exit_codes`, when given, is asked at every launch: an int ends the attempt at once with
    that code, None leaves it running. `finish_on_signal` (default True) makes `signal` end a
    running attempt with 128+N, as a command that does not trap N would.
    """

    def __init__(
        self,
        *,
        exit_codes: Callable[[ActionSpec], int | None] | None = None,
        finish_on_signal: bool = True,
    ) -> None:
        self.exit_codes = exit_codes
        self.finish_on_signal = finish_on_signal
        # Set to a message to make every start raise NodeError (an unreachable node); None again
        # to let them through.
        self.start_error: str | None = None
        self.launches: list[Launch] = []
        self.refused: list[ActionSpec] = []
        self.signals: list[SignalSent] = []
        self.records: dict[Key, NodeRecord] = {}
        self.held = 0
        self._hold: _Hold | None = None
        self._holds: set[_Hold] = set()
        self._waiters: dict[Key, list[asyncio.Future[ExitStatus]]] = {}
        self._pids = itertools.count(1000)

    # -- the test's side ------------------------------------------------------------------

    def finish(
        self,
        action_run_id: str,
        exit_code: int | None,
        attempt: int | None = None,
        *,
        signal: int | None = None,
        stdout: str | None = None,
        stderr: str | None = None,
    ) -> None:
        """End a running attempt (the latest one of `action_run_id` by default).

        `stdout`/`stderr` are appended to the attempt's output files, as the command's output.
        Raises KeyError for an attempt never launched, ValueError for one that already ended.
        """
        key = self._key(action_run_id, attempt)
        record = self.records[key]
        if record.status is not None:
            raise ValueError(f"{key} already ended with {record.status}")
        launch = self._last_launch(key)
        if launch is not None:
            _append(launch.spec.output_dir, stdout=stdout, stderr=stderr)
        self._end(key, ExitStatus(exit_code=exit_code, signal=signal))

    def garble(self, action_run_id: str, attempt: int | None = None) -> None:
        """Leave an unreadable exit record for the attempt (ended or not)."""
        key = self._key(action_run_id, attempt)
        self.records[key].status = None
        self._end(key, ExitStatus(exit_code=None, reason=UNREADABLE))

    def lose(self, action_run_id: str, attempt: int | None = None) -> None:
        """Delete the attempt's records, as if its supervisor never wrote any."""
        key = self._key(action_run_id, attempt)
        del self.records[key]
        self._settle(key, ExitStatus(exit_code=None, reason=VANISHED))

    def hold_starts(self, *, launched: bool = False) -> None:
        """Make starts block until `release_starts` (or `disconnect`); `held` counts them.

        With `launched`, each blocked start has already launched its command (recorded in
        `launches` and `records`) and only its return is held: trond dying then is trond dying
        mid-launch, after the supervisor started the command but before trond heard its pid.
        """
        self._hold = _Hold(launched=launched)
        self._holds.add(self._hold)

    def release_starts(self) -> None:
        """Let every held start carry on; starts from now on do not block."""
        for hold in self._holds:
            hold.gate.set()
        self._holds.clear()
        self._hold = None

    def disconnect(self) -> None:
        """What the death of the daemon does to its executor: every pending `wait` and held
        `start` is cancelled; the records stay for the next daemon."""
        for hold in self._holds:
            hold.broken = True
        self.release_starts()
        self._cancel_waits()

    def running(self) -> list[Key]:
        """Attempts launched and not ended, in launch order."""
        return [key for key, record in self.records.items() if record.status is None]

    def launch_count(self, action_run_id: str, attempt: int | None = None) -> int:
        """How many times the action run (or one attempt of it) was launched."""
        return sum(
            1
            for launch in self.launches
            if launch.spec.action_run_id == action_run_id
            and (attempt is None or launch.spec.attempt == attempt)
        )

    # -- the Executor protocol ------------------------------------------------------------

    async def start(self, spec: ActionSpec) -> Handle:
        hold = self._hold
        if hold is None:
            return self._launch(spec)
        self.held += 1
        try:
            if hold.launched:
                handle = self._launch(spec)
                await self._held_until_released(hold)
                return handle
            await self._held_until_released(hold)
        finally:
            self.held -= 1
        return self._launch(spec)

    async def wait(self, handle: Handle) -> ExitStatus:
        key = (handle.action_run_id, handle.attempt)
        record = self.records.get(key)
        if record is None:
            return ExitStatus(exit_code=None, reason=VANISHED)
        if record.status is not None:
            return record.status
        future: asyncio.Future[ExitStatus] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(key, []).append(future)
        return await future

    async def signal(self, handle: Handle, signum: int) -> None:
        key = (handle.action_run_id, handle.attempt)
        self.signals.append(SignalSent(action_run_id=key[0], attempt=key[1], signum=signum))
        record = self.records.get(key)
        if self.finish_on_signal and record is not None and record.status is None:
            self._end(key, ExitStatus(exit_code=128 + signum, signal=signum))

    async def reattach(self, handle: Handle) -> Handle:
        record = self.records.get((handle.action_run_id, handle.attempt))
        if record is None:
            raise AttemptNotStarted(f"{handle.action_run_id}: the attempt never started")
        return replace(handle, pid=record.pid)

    async def close(self) -> None:
        self._cancel_waits()

    # -- inside ---------------------------------------------------------------------------

    def _launch(self, spec: ActionSpec) -> Handle:
        if self.start_error is not None:
            self.refused.append(spec)
            raise NodeError(self.start_error)
        key = (spec.action_run_id, spec.attempt)
        pid = next(self._pids)
        handle = Handle(
            action_run_id=spec.action_run_id,
            attempt=spec.attempt,
            node=None if spec.node is None else spec.node.name,
            output_dir=str(spec.output_dir),
            pid=pid,
        )
        self.records[key] = NodeRecord(pid=pid)
        self.launches.append(Launch(spec=spec, handle=handle))
        code = None if self.exit_codes is None else self.exit_codes(spec)
        if code is not None:
            self._end(key, ExitStatus(exit_code=code))
        return handle

    @staticmethod
    async def _held_until_released(hold: _Hold) -> None:
        await hold.gate.wait()
        if hold.broken:
            raise asyncio.CancelledError

    def _key(self, action_run_id: str, attempt: int | None) -> Key:
        if attempt is not None:
            return (action_run_id, attempt)
        attempts = [number for run_id, number in self.records if run_id == action_run_id]
        if not attempts:
            raise KeyError(f"{action_run_id} was never launched")
        return (action_run_id, max(attempts))

    def _last_launch(self, key: Key) -> Launch | None:
        return next((launch for launch in reversed(self.launches) if launch.key == key), None)

    def _end(self, key: Key, status: ExitStatus) -> None:
        self.records[key].status = status
        self._settle(key, status)

    def _settle(self, key: Key, status: ExitStatus) -> None:
        for future in self._waiters.pop(key, []):
            if not future.done():
                future.set_result(status)

    def _cancel_waits(self) -> None:
        waiters, self._waiters = self._waiters, {}
        for futures in waiters.values():
            for future in futures:
                future.cancel()


def _append(directory: Path, *, stdout: str | None, stderr: str | None) -> None:
    for name, text in (("stdout", stdout), ("stderr", stderr)):
        if text is None:
            continue
        directory.mkdir(parents=True, exist_ok=True)
        with (directory / name).open("a", encoding="utf-8") as out:
            out.write(text)
