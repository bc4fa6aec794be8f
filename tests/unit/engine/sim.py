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

from tests.fake_executor import ScriptedExecutor

from tron.core import job_run as jr
from tron.core.records import ActionRun, JobRun
from tron.engine.clock import ManualClock
from tron.engine.daemon import Daemon, DaemonSettings
from tron.errors import ConflictError
from tron.executors.base import ActionSpec
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
        self.on_crash: Callable[[], None] = lambda: None
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
                self.on_crash()
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


class SimNode:
    """Plays commands on a ScriptedExecutor by the manual clock: `run D exit E` runs D
    seconds then exits E; `run D flaky N` exits 1 for the first N attempts, then 0. The
    executor's records outlive the engine; while the engine is dead it launches nothing."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        self.executor = ScriptedExecutor(exit_codes=self._plan)
        self._ends: dict[tuple[str, int], tuple[datetime, int]] = {}

    def _plan(self, spec: ActionSpec) -> int | None:
        match = _COMMAND.fullmatch(spec.command.strip())
        assert match, spec.command
        flaky = match[4] is not None and spec.attempt <= int(match[4])
        code = int(match[3]) if match[3] is not None else int(flaky)
        ends_at = self._clock.now() + timedelta(seconds=int(match[1]))
        self._ends[(spec.action_run_id, spec.attempt)] = (ends_at, code)
        return None

    def tick(self) -> None:
        """End every attempt whose time has come."""
        for (action_run_id, attempt), (ends_at, code) in self._ends.items():
            record = self.executor.records[(action_run_id, attempt)]
            if record.status is None and ends_at <= self._clock.now():
                self.executor.finish(action_run_id, code, attempt)

    @property
    def launches(self) -> list[tuple[str, int]]:
        return [launch.key for launch in self.executor.launches]


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


def stop_action(job: str, action: str, command: str) -> Step:
    """An operator's stop or kill of the job's latest run's action. Once the request is
    answered (its reason is durable) the operator does not ask again: a crash after that
    write and before the signal must not lose the signal."""

    async def step(daemon: Daemon) -> object:
        runs = daemon.registry.get_job(job).runs
        run = runs[max(runs)]
        if jr.get_action_run(run, action).reason is not None:
            return None
        return await daemon.commands.action_run(job, str(run.run_num), action, command)

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
        self.node = SimNode(self.clock)
        self.store.on_crash = self._dead
        self.settings = DaemonSettings(
            working_dir=root / "work", config_path=root / "config", default_time_zone="UTC"
        )
        self.settings.config_path.mkdir(parents=True, exist_ok=True)
        (self.settings.config_path / "MASTER.yaml").write_text(textwrap.dedent(scenario.config))
        self.crashes = 0

    def _dead(self) -> None:
        # A dead trond launches nothing more.
        self.node.executor.start_error = "the engine is dead"

    async def _open(self) -> Daemon:
        self.node.executor.start_error = None
        executors = {"local": self.node.executor}
        daemon = Daemon(self.settings, clock=self.clock, store=self.store, executors=executors)
        await daemon.__aenter__()
        # Its config versions are hashed in a thread: under load they could land at any
        # point, even after the last step, so a crash point would name a different write.
        await daemon.config_versions_recorded()
        return daemon

    async def _settle(self) -> None:
        for _ in range(60):
            self.node.tick()
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
        return Outcome(runs, sorted(self.node.launches))


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
