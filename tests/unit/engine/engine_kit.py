"""A daemon on the manual clock, the memory store and the scripted executor: the engine's fast
tests. `restart()` drops the engine as `kill -9` would and starts a new one on the same store
and node records."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.fake_executor import ScriptedExecutor

from tron.core import job_run as jr
from tron.core.records import ActionRun, JobRun
from tron.engine.clock import ManualClock
from tron.engine.daemon import Daemon, DaemonSettings
from tron.store.memory import MemoryStore

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def settle(rounds: int = 50) -> None:
    """Let every task that can run, run (the memory store and fake executor never block)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


class Ticker:
    """A task that counts its turns of the event loop, waking every `interval` seconds (0: at
    every turn it can get, as a ready callback; more: on a timer, as a lease renewal does)."""

    def __init__(self, interval: float = 0.0) -> None:
        self.ticks = 0
        self._interval = interval
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.ticks += 1
            await asyncio.sleep(self._interval)

    def stop(self) -> None:
        self._task.cancel()


def spin(seconds: float) -> None:
    """CPU-bound work of `seconds` that never lets the event loop run."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    while loop.time() - began <= seconds:
        pass


class EngineKit:
    def __init__(self, root: Path, config: str, *, store: MemoryStore | None = None) -> None:
        self.clock = ManualClock(START)
        self.store = store or MemoryStore(now=lambda: START)
        self.executor = ScriptedExecutor()
        self.settings = DaemonSettings(
            working_dir=root / "work", config_path=root / "config", default_time_zone="UTC"
        )
        self.settings.config_path.mkdir(parents=True, exist_ok=True)
        self.write_config(config)
        self.daemon: Daemon | None = None

    def write_config(self, text: str) -> None:
        (self.settings.config_path / "MASTER.yaml").write_text(textwrap.dedent(text))

    async def start(self) -> Daemon:
        daemon = Daemon(
            self.settings,
            clock=self.clock,
            store=self.store,
            executors={"local": self.executor},
        )
        await daemon.__aenter__()
        self.daemon = daemon
        await settle()
        return daemon

    async def restart(self) -> Daemon:
        """`kill -9` and start again: the store and the node's records stay."""
        assert self.daemon is not None
        await self.daemon.abandon()
        self.executor.disconnect()
        return await self.start()

    async def stop(self) -> None:
        if self.daemon is not None:
            await self.daemon.shutdown()
            self.daemon = None

    async def advance(self, seconds: float) -> None:
        await self.clock.advance(timedelta(seconds=seconds))
        await settle()

    def run(self, run_id: str) -> JobRun:
        assert self.daemon is not None
        job, num = run_id.rsplit(".", 1)
        return self.daemon.registry.get_run(job, num)

    def action(self, action_id: str) -> ActionRun:
        run_id, name = action_id.rsplit(".", 1)
        return jr.get_action_run(self.run(run_id), name)

    def state(self, run_id: str) -> str:
        return jr.job_run_state(self.run(run_id)).value

    async def stored(self, run_id: str) -> JobRun:
        job, num = run_id.rsplit(".", 1)
        return next(r for r in await self.store.load_job_runs(job) if r.run_num == int(num))

    async def finish(self, action_id: str, code: int) -> None:
        self.executor.finish(action_id, code)
        await settle()

    async def until(self, predicate: Callable[[], bool], rounds: int = 500) -> None:
        """Settle until `predicate` holds (no wall clock: a bounded number of loop turns)."""
        for _ in range(rounds):
            if predicate():
                return
            await asyncio.sleep(0)
        raise AssertionError("condition never held")
