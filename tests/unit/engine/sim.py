"""A deterministic world for the engine: the manual clock, the memory store behind a wrapper
that can "crash" the engine after its k-th durable write, and a simulated executor whose
records (like a supervisor's files) outlive the engine.

A scenario is a config and a timeline of operator steps; `World.play` runs it to the end,
restarting the engine whenever it crashed, as a `kill -9` and a fresh trond would.
"""

from __future__ import annotations

import asyncio
import re
import textwrap
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tron.core import job_run as jr
from tron.core.records import ActionRun, JobRun
from tron.engine.clock import ManualClock
from tron.engine.daemon import Daemon, DaemonSettings
from tron.errors import ConflictError, NodeError
from tron.executors.base import ActionSpec, ExitStatus, Handle
from tron.store.memory import MemoryStore

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class SimulatedCrash(Exception):
    """The engine died here (raised into whatever it was doing)."""


class CrashingStore(MemoryStore):
    """A memory store that counts durable writes; after write `crash_at` lands, the engine is
    dead: that call and every later one raise SimulatedCrash. `revive()` is the restart."""

    WRITES = (
        "create_job_run",
        "save_job_run",
        "save_action_run",
        "save_run_changes",
        "save_handle",
        "set_job_enabled",
        "delete_job_run",
        "add_event",
        "delete_event",
        "save_config_version",
    )

    def __init__(self, crash_at: int | None) -> None:
        super().__init__(now=lambda: START)
        self.crash_at = crash_at
        self.writes = 0
        self.crashed = False
        for name in self.WRITES:
            setattr(self, name, self._counted(getattr(self, name)))

    def _counted(self, write: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            if self.crashed:
                raise SimulatedCrash
            result = await write(*args, **kwargs)
            self.writes += 1
            if self.writes == self.crash_at:
                self.crashed = True
                raise SimulatedCrash
            return result

        return counted

    async def load_job_runs(self, job_name: str | None = None) -> list[JobRun]:
        if self.crashed:
            raise SimulatedCrash
        return await super().load_job_runs(job_name)

    def revive(self) -> None:
        self.crashed = False


_COMMAND = re.compile(r"run (\d+) (exit (\d+)|flaky (\d+))")


@dataclass
class _Attempt:
    ends_at: datetime
    exit_code: int
    ended: bool = False
    waiters: list[asyncio.Future[ExitStatus]] = field(default_factory=list)


class SimExecutor:
    """Runs `run D exit E` (D seconds, then exit E) and `run D flaky N` (exit 1 for the
    first N attempts, then 0) on the manual clock. Its records survive the engine; `frozen`
    (set while the engine is dead) refuses launches, as a dead trond launches nothing."""

    def __init__(self, clock: ManualClock, store: CrashingStore) -> None:
        self._clock = clock
        self._store = store
        self.attempts: dict[tuple[str, int], _Attempt] = {}
        self.launches: list[tuple[str, int]] = []

    async def start(self, spec: ActionSpec) -> Handle:
        if self._store.crashed:
            raise SimulatedCrash
        key = (spec.action_run_id, spec.attempt)
        self.launches.append(key)
        match = _COMMAND.fullmatch(spec.command.strip())
        assert match, spec.command
        seconds = int(match[1])
        if match[3] is not None:
            code = int(match[3])
        else:
            code = 1 if spec.attempt <= int(match[4]) else 0
        self.attempts[key] = _Attempt(self._clock.now() + timedelta(seconds=seconds), code)
        return Handle(
            action_run_id=spec.action_run_id,
            attempt=spec.attempt,
            node=None,
            output_dir=str(spec.output_dir),
        )

    async def wait(self, handle: Handle) -> ExitStatus:
        attempt = self.attempts[(handle.action_run_id, handle.attempt)]
        if attempt.ended:
            return ExitStatus(exit_code=attempt.exit_code)
        future: asyncio.Future[ExitStatus] = asyncio.get_running_loop().create_future()
        attempt.waiters.append(future)
        return await future

    def tick(self) -> None:
        """End every attempt whose time has come."""
        for attempt in self.attempts.values():
            if not attempt.ended and attempt.ends_at <= self._clock.now():
                self._end(attempt)

    def _end(self, attempt: _Attempt) -> None:
        attempt.ended = True
        for future in attempt.waiters:
            if not future.done():
                future.set_result(ExitStatus(exit_code=attempt.exit_code))
        attempt.waiters.clear()

    async def signal(self, handle: Handle, signum: int) -> None:
        attempt = self.attempts.get((handle.action_run_id, handle.attempt))
        if attempt is not None and not attempt.ended:
            attempt.exit_code = 128 + signum
            self._end(attempt)

    async def launched(self, handle: Handle) -> bool | None:
        return (handle.action_run_id, handle.attempt) in self.attempts

    async def reattach(self, handle: Handle) -> Handle:
        if (handle.action_run_id, handle.attempt) not in self.attempts:
            raise NodeError("no supervisor record")
        return handle

    async def close(self) -> None:
        return None


Step = Callable[[Daemon], Awaitable[object]]


@dataclass
class Scenario:
    name: str
    config: str
    seconds: int
    steps: dict[int, list[Step]] = field(default_factory=dict)


def start_job(job: str, key: str) -> Step:
    """An operator's start; the request key makes a repeat after a crash harmless."""

    async def step(daemon: Daemon) -> object:
        try:
            return await daemon.commands.job(job, "start", request_key=key)
        except ConflictError:
            return None  # handled before the crash

    return step


def upload(namespace: str, text: str) -> Step:
    async def step(daemon: Daemon) -> object:
        return await daemon.update_namespace(namespace, textwrap.dedent(text), None)

    return step


@dataclass(frozen=True)
class Outcome:
    runs: dict[str, tuple[Any, ...]]
    launches: list[tuple[str, int]]


class World:
    """One play of a scenario, crashing after durable write `crash_at` (None: never)."""

    def __init__(self, root: Path, scenario: Scenario, crash_at: int | None) -> None:
        self.scenario = scenario
        self.clock = ManualClock(START)
        self.store = CrashingStore(crash_at)
        self.executor = SimExecutor(self.clock, self.store)
        self.settings = DaemonSettings(
            working_dir=root / "work", config_path=root / "config", default_time_zone="UTC"
        )
        self.settings.config_path.mkdir(parents=True, exist_ok=True)
        (self.settings.config_path / "MASTER.yaml").write_text(textwrap.dedent(scenario.config))
        self.crashes = 0

    async def _open(self) -> Daemon:
        daemon = Daemon(
            self.settings, clock=self.clock, store=self.store, executors={"local": self.executor}
        )
        await daemon.__aenter__()
        return daemon

    async def _settle(self) -> None:
        for _ in range(60):
            self.executor.tick()
            await asyncio.sleep(0)

    async def play(self) -> Outcome:
        daemon = await self._start()
        for second in range(self.scenario.seconds + 1):
            if second:
                await self.clock.advance(timedelta(seconds=1))
            steps = list(self.scenario.steps.get(second, ()))
            while True:
                await self._settle()
                if self.store.crashed:
                    daemon = await self._restart(daemon)
                    continue
                if not steps:
                    break
                try:
                    await steps[0](daemon)
                    steps.pop(0)
                except SimulatedCrash:
                    pass  # done or not: the step runs again after the restart
        outcome = await self._outcome(daemon)
        await daemon.shutdown()
        return outcome

    async def _start(self) -> Daemon:
        while True:
            try:
                return await self._open()
            except SimulatedCrash:
                self.store.revive()
                self.crashes += 1

    async def _restart(self, daemon: Daemon) -> Daemon:
        await daemon.abandon()
        self.store.revive()
        self.crashes += 1
        return await self._start()

    async def _outcome(self, daemon: Daemon) -> Outcome:
        stored = await self.store.load_job_runs()
        in_memory = {
            str(run.id): run for job in daemon.registry.jobs.values() for run in job.runs.values()
        }
        # Memory never runs ahead of disk, nor lags behind it once everything settled.
        assert {str(r.id): r for r in stored if r.job_name in daemon.registry.jobs} == in_memory
        runs = {str(run.id): describe(run) for run in stored}
        return Outcome(runs, sorted(self.executor.launches))


def describe(run: JobRun) -> tuple[Any, ...]:
    return (
        run.run_time,
        run.manual,
        jr.job_run_state(run).value,
        tuple(_describe_action(a) for a in run.action_runs),
    )


def _describe_action(action_run: ActionRun) -> tuple[Any, ...]:
    return (
        action_run.action_name,
        action_run.state.value,
        action_run.exit_status,
        tuple((a.number, a.exit_status, a.end_time is not None) for a in action_run.attempts),
    )
