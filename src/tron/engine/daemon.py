"""Daemon: builds the engine's parts from a config dir and a working dir, runs them, and is
the one facade the API talks to."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gc
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from tron.config import config_hash
from tron.config.model import Config
from tron.core.records import ActionRun
from tron.engine.clock import Clock, SystemClock
from tron.engine.commands import Commands
from tron.engine.configstore import (
    ConfigDir,
    machine_time_zone,
    namespace_file_name,
    namespace_view,
)
from tron.engine.dispatch import Dispatcher, output_dir
from tron.engine.events import EventHub
from tron.engine.metrics import Metrics
from tron.engine.nodes import NodeExecutors
from tron.engine.output import read_from, tail_lines
from tron.engine.reconfigure import reconfigure
from tron.engine.recovery import load_jobs, recover
from tron.engine.registry import JobRuntime, Registry
from tron.engine.scheduling import Scheduler
from tron.engine.timers import Timers
from tron.errors import StaleConfigError, TronError
from tron.store import open_store
from tron.store.base import Store

logger = logging.getLogger(__name__)


class DaemonLockedError(TronError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"another trond holds the lock {path}; refusing to start a second one")


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonSettings:
    working_dir: Path
    config_path: Path
    lock_file: Path | None = None
    default_time_zone: str | None = None


class Daemon:
    """`async with Daemon(settings) as daemon: await daemon.run_until_stopped()`."""

    def __init__(
        self, settings: DaemonSettings, *, clock: Clock | None = None, store: Store | None = None
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self._store_override = store
        self.events = EventHub()
        self.metrics = Metrics()
        self.registry = Registry()
        self.boot_time = time.time()
        self._stopping = asyncio.Event()
        self._lock: IO[str] | None = None
        self._timer_task: asyncio.Task[None] | None = None
        self._versions_task: asyncio.Task[None] | None = None
        self._config_lock = asyncio.Lock()
        zone = settings.default_time_zone or machine_time_zone()
        self.config_dir = ConfigDir(settings.config_path, default_time_zone=zone)

    async def __aenter__(self) -> Daemon:
        started = time.perf_counter()
        self.settings.working_dir.mkdir(parents=True, exist_ok=True)
        self._acquire_lock()
        try:
            await self._start()
        except BaseException:
            self._release_lock()
            raise
        # The config and the runs loaded at start live as long as the daemon: keep the
        # garbage collector from walking them again and again (pauses of 100 ms at 10k jobs).
        gc.freeze()
        took = time.perf_counter() - started
        self.metrics.startup_duration.observe(took)
        self.metrics.last_startup_duration.set(took)
        logger.info("trond started in %.2fs with %d jobs", took, len(self.registry.jobs))
        return self

    async def _start(self) -> None:
        began = time.perf_counter()
        self.config: Config = self.config_dir.load()
        logger.info("loaded %d jobs in %.2fs", len(self.config.jobs), time.perf_counter() - began)
        self.store = self._store_override or open_store(
            self.config.state_persistence, self.settings.working_dir
        )
        await self.store.open()
        self.nodes = NodeExecutors(self.config)
        self.timers = Timers(self.clock)
        self.dispatcher = Dispatcher(
            registry=self.registry,
            store=self.store,
            nodes=self.nodes,
            clock=self.clock,
            timers=self.timers,
            output_root=self.output_root,
            events=self.events,
            metrics=self.metrics,
        )
        self.scheduler = Scheduler(
            dispatcher=self.dispatcher, clock=self.clock, context=dict(self.config.command_context)
        )
        self.commands = Commands(self.scheduler)
        for name, job in self.config.jobs.items():
            self.registry.jobs[name] = JobRuntime(config=job, enabled=job.enabled)
        self._count_config()
        restore_started = time.perf_counter()
        await load_jobs(self.scheduler)
        logger.info("loaded stored runs in %.2fs", time.perf_counter() - restore_started)
        await recover(self.scheduler)
        took = time.perf_counter() - restore_started
        logger.info("recovered and scheduled in %.2fs", took)
        self.metrics.restore_duration.observe(took)
        self.metrics.last_restore_duration.set(took)
        self._timer_task = asyncio.create_task(self.timers.run())
        # After recovery, so hashing a big config does not slow the start-up itself.
        self._versions_task = asyncio.create_task(self._record_config_versions())

    async def _record_config_versions(self) -> None:
        """Keep the config trond starts with as a version when it differs from the last one,
        so the history (and its diffs) also shows edits made on disk."""
        latest = {v.namespace: v.text for v in await self.store.config_versions()}
        for name, namespace in self.config.namespaces.items():
            if latest.get(name) != namespace.text:
                # Tron's hash re-parses the YAML: seconds for a big namespace, so off the loop.
                digest = await asyncio.to_thread(config_hash, namespace.text)
                await self.store.save_config_version(name, namespace.text, digest)

    @property
    def output_root(self) -> Path:
        if self.config.output_stream_dir:
            return Path(self.config.output_stream_dir)
        return self.settings.working_dir / "output"

    def _count_config(self) -> None:
        self.metrics.job_count.set(len(self.config.jobs))
        self.metrics.action_count.set(sum(len(j.all_actions) for j in self.config.jobs.values()))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    async def shutdown(self) -> None:
        """Stop scheduling and watching; running actions keep running, detached."""
        if self._lock is None:
            return
        # An upload in flight writes files and the store: it finishes first, and none starts
        # after (the lock is never released).
        await self._config_lock.acquire()
        self.scheduler.paused = True
        if self._timer_task is not None:
            self._timer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer_task
        if self._versions_task is not None:
            await asyncio.gather(self._versions_task, return_exceptions=True)
        await self.dispatcher.close()
        await self.nodes.close()
        await self.store.close()
        self._release_lock()
        logger.info("trond stopped; running actions were left running")

    def request_stop(self) -> None:
        self._stopping.set()

    async def run_until_stopped(self) -> None:
        await self._stopping.wait()

    # -- the lock file -------------------------------------------------------------------

    def _acquire_lock(self) -> None:
        path = self.settings.lock_file or self.settings.working_dir / "tron.lock"
        handle = path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise DaemonLockedError(path) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock = handle

    def _release_lock(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    # -- output --------------------------------------------------------------------------

    def output_lines(self, action_run: ActionRun, stream: str, count: int) -> list[str]:
        """The last `count` lines of a stream, across attempts (oldest attempt first)."""
        lines: list[str] = []
        for attempt in action_run.attempts:
            path = output_dir(self.output_root, action_run, attempt.number) / stream
            lines.extend(tail_lines(path, count))
        return lines[-count:] if count > 0 else lines

    def output_from(
        self, action_run: ActionRun, stream: str, offset: int, *, attempt: int | None = None
    ) -> tuple[str, int]:
        current = action_run.current_attempt
        number = attempt if attempt is not None else (current.number if current else 0)
        return read_from(output_dir(self.output_root, action_run, number) / stream, offset)

    # -- config --------------------------------------------------------------------------

    def namespace(self, name: str) -> tuple[str, str]:
        return namespace_view(self.config, name)

    async def update_namespace(
        self, name: str, text: str, expected_hash: str | None, *, check: bool = False
    ) -> Config:
        """Validate `text` as namespace `name` with the rest; unless `check`, save and apply.

        Raises StaleConfigError when `expected_hash` is not the current one, ConfigError with
        every problem when invalid; the running config is unchanged in both cases.
        An empty text deletes the namespace.
        """
        async with self._config_lock:
            _, current_hash = self.namespace(name)
            if expected_hash is not None and expected_hash != current_hash:
                raise StaleConfigError()
            sources = self.config_dir.sources(self.config)
            if text.strip():
                file = sources.get(name, (namespace_file_name(name), ""))[0]
                sources[name] = (file, text)
            else:
                sources.pop(name, None)
            new = self.config_dir.validate(sources)
            if check:
                return new
            staged = self.config_dir.stage(name, text if text.strip() else None)
            try:
                await self.store.save_config_version(name, text, namespace_view(new, name)[1])
            except BaseException:
                staged.discard()  # the old config stays in effect, on disk as in memory
                raise
            staged.commit()
            old, self.config = self.config, new
            await reconfigure(self.scheduler, old, new)
            self._count_config()
            self.events.publish("config", namespace=name)
            return new
