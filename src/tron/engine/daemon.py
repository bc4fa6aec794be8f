"""Daemon: builds the engine's parts from a config dir and a working dir, runs them, and is
the one facade the API talks to."""

from __future__ import annotations

import asyncio
import fcntl
import gc
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO

from tron.config import config_hash
from tron.config.model import Config
from tron.core.alerts.model import Alert, AuditEntry, Notification
from tron.core.alerts.why import Why
from tron.core.records import ActionRun, JobRun
from tron.engine.alerting.delivery import DeliveryWorker
from tron.engine.alerting.evaluator import Evaluator
from tron.engine.alerting.metrics import AlertMetrics
from tron.engine.alerting.senders import Senders
from tron.engine.alerting.service import AlertService, Health
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
from tron.engine.reconfigure import Reconfigurer
from tron.engine.recovery import Recovery, restore_job
from tron.engine.registry import JobRuntime, Registry
from tron.engine.scheduling import Scheduler
from tron.engine.timers import TimerKey, Timers
from tron.engine.writer import RunWriter
from tron.errors import ConfigError, Problem, StaleConfigError, TronError
from tron.executors.base import Executor
from tron.private import ensure_dir, modes_for, tighten
from tron.store import open_store, state_files
from tron.store.alerts_base import AlertStore
from tron.store.alerts_memory import MemoryAlerts
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
    # Seconds an uploaded config may take to check before it is refused (the check runs in a
    # thread, so the API keeps answering meanwhile).
    config_check_budget: float = 60.0
    # Let the group read the state and output (0750/0640) instead of the owner only.
    group_readable: bool = False


class Daemon:
    """`async with Daemon(settings) as daemon: await daemon.run_until_stopped()`.

    It builds the engine's parts and passes each to the parts that need it; nothing reaches
    one part through another. `store` and `executors` (by kind: `local`, `ssh`) replace the
    ones the config names: tests pass the memory store and a scripted executor.
    """

    def __init__(
        self,
        settings: DaemonSettings,
        *,
        clock: Clock | None = None,
        store: Store | None = None,
        executors: Mapping[str, Executor] | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self._store_override = store
        self._executors = executors
        self.events = EventHub()
        self.metrics = Metrics()
        self.alert_metrics = AlertMetrics(self.metrics.registry)
        self.registry = Registry()
        self.published: set[str] = set()
        self.boot_time = time.time()
        self._stopping = asyncio.Event()
        self._lock: IO[str] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._versions_task: asyncio.Task[None] | None = None
        self._config_lock = asyncio.Lock()
        self._config_check: asyncio.Future[tuple[Config, str]] | None = None
        self.modes = modes_for(group_readable=settings.group_readable)
        self._tightened: list[str | None] = []
        zone = settings.default_time_zone or machine_time_zone()
        self.config_dir = ConfigDir(settings.config_path, default_time_zone=zone)

    async def __aenter__(self) -> Daemon:
        started = time.perf_counter()
        self._tightened.append(ensure_dir(self.settings.working_dir, self.modes.dir))
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

    def _build(self) -> None:
        """The engine's parts, each given what it needs."""
        self.nodes = NodeExecutors(self.config, executors=self._executors)
        self.timers = Timers(self.clock, on_failure=self._count_timer_failure)
        self._build_alerting()
        self.writer = RunWriter(
            registry=self.registry,
            store=self.store,
            events=self.events,
            on_change=self.evaluator.job_changed,
        )
        self._finished: asyncio.Queue[JobRun] = asyncio.Queue()
        self.dispatcher = Dispatcher(
            registry=self.registry,
            writer=self.writer,
            store=self.store,
            nodes=self.nodes,
            clock=self.clock,
            timers=self.timers,
            output_root=self.output_root,
            events=self.events,
            metrics=self.metrics,
            finished=self._finished,
            published=self.published,
        )
        self.scheduler = Scheduler(
            registry=self.registry,
            dispatcher=self.dispatcher,
            writer=self.writer,
            store=self.store,
            timers=self.timers,
            nodes=self.nodes,
            clock=self.clock,
            events=self.events,
            metrics=self.metrics,
            output_root=self.output_root,
            published=self.published,
            context=dict(self.config.command_context),
        )
        self.recovery = Recovery(
            scheduler=self.scheduler,
            dispatcher=self.dispatcher,
            store=self.store,
            nodes=self.nodes,
            clock=self.clock,
            output_root=self.output_root,
            published=self.published,
        )
        self.reconfigurer = Reconfigurer(
            registry=self.registry,
            scheduler=self.scheduler,
            dispatcher=self.dispatcher,
            recovery=self.recovery,
            store=self.store,
            nodes=self.nodes,
        )
        self.commands = Commands(
            registry=self.registry,
            scheduler=self.scheduler,
            dispatcher=self.dispatcher,
            timers=self.timers,
            clock=self.clock,
            published=self.published,
        )

    def _build_alerting(self) -> None:
        alert_store: AlertStore
        if isinstance(self.store, AlertStore):
            alert_store = self.store
        else:
            logger.warning("this store keeps no alerts: alerts and the outbox live in memory")
            alert_store = MemoryAlerts()
        self.senders = Senders()
        self.delivery = DeliveryWorker(
            store=alert_store,
            clock=self.clock,
            settings=lambda: self.config.notifications,
            senders=self.senders,
            metrics=self.alert_metrics,
        )
        self.evaluator = Evaluator(
            registry=self.registry,
            store=alert_store,
            clock=self.clock,
            timers=self.timers,
            config=lambda: self.config,
            tail=self.output_lines,
            on_queued=self.delivery.wake,
            metrics=self.alert_metrics,
        )
        self.alerting = AlertService(
            registry=self.registry, store=alert_store, evaluator=self.evaluator, clock=self.clock
        )

    def _count_timer_failure(self, key: TimerKey) -> None:
        self.metrics.timer_failures.labels(kind=str(key.kind)).inc()

    async def _start(self) -> None:
        began = time.perf_counter()
        self.config: Config = self.config_dir.load()
        logger.info("loaded %d jobs in %.2fs", len(self.config.jobs), time.perf_counter() - began)
        self.store = self._store_override or open_store(
            self.config.state_persistence, self.settings.working_dir, file_mode=self.modes.file
        )
        self._make_private()
        await self.store.open()
        self._build()
        for name, job in self.config.jobs.items():
            self.registry.jobs[name] = JobRuntime(config=job, enabled=job.enabled)
        self._count_config()
        restore_started = time.perf_counter()
        await self._load_jobs()
        logger.info("loaded stored runs in %.2fs", time.perf_counter() - restore_started)
        await self.recovery.recover_all(list(self.registry.jobs.values()))
        took = time.perf_counter() - restore_started
        logger.info("recovered and scheduled in %.2fs", took)
        self.metrics.restore_duration.observe(took)
        self.metrics.last_restore_duration.set(took)
        await self.evaluator.start()
        self._tasks = [
            asyncio.create_task(self.timers.run()),
            asyncio.create_task(self.scheduler.follow_finished_runs(self._finished)),
            asyncio.create_task(self.evaluator.follow_changes()),
            asyncio.create_task(self.delivery.run()),
        ]
        # After recovery, so hashing a big config does not slow the start-up itself.
        self._versions_task = asyncio.create_task(self._record_config_versions())

    async def _load_jobs(self) -> None:
        """Give the configured jobs their stored runs and flags; trigger events published."""
        states = await self.store.load_job_states()
        runs: dict[str, list[JobRun]] = {}
        for run in await self.store.load_job_runs():
            runs.setdefault(run.job_name, []).append(run)
        self.published.update(await self.store.events())
        for name, job in self.registry.jobs.items():
            restore_job(job, states.get(name), runs.get(name, ()))

    async def _record_config_versions(self) -> None:
        """Keep the config trond starts with as a version when it differs from the last one,
        so the history (and its diffs) also shows edits made on disk."""
        latest = {v.namespace: v.text for v in await self.store.config_versions()}
        for name, namespace in self.config.namespaces.items():
            if latest.get(name) != namespace.text:
                # Tron's hash re-parses the YAML: seconds for a big namespace, so off the loop.
                digest = await asyncio.to_thread(config_hash, namespace.text)
                await self.store.save_config_version(name, namespace.text, digest)

    def _make_private(self) -> None:
        """Create or tighten what trond keeps (issue 11), and say in one line what changed."""
        self._tightened.append(ensure_dir(self.output_root, self.modes.dir))
        self._tightened += [tighten(path, self.modes.file) for path in state_files(self.store)]
        changed = [change for change in self._tightened if change]
        if changed:
            logger.warning("made trond's files private: %s", ", ".join(changed))

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
        self.scheduler.paused = True
        await self._stop_tasks()
        if self._versions_task is not None:
            await asyncio.gather(self._versions_task, return_exceptions=True)
        await self.nodes.close()
        await self.store.close()
        self._release_lock()
        logger.info("trond stopped; running actions were left running")

    async def _stop_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.timers.close()
        await self.timers.drain()
        await self.dispatcher.close()
        await self.senders.close()

    async def abandon(self) -> None:
        """Drop the engine as `kill -9` would: nothing more is written, launched or closed
        cleanly (for tests that crash the engine; the store and executors are the caller's)."""
        self.scheduler.paused = True
        await self._stop_tasks()
        self._release_lock()

    def request_stop(self) -> None:
        self._stopping.set()

    async def run_until_stopped(self) -> None:
        await self._stopping.wait()

    # -- the lock file -------------------------------------------------------------------

    def _acquire_lock(self) -> None:
        path = self.settings.lock_file or self.settings.working_dir / "tron.lock"
        is_new = not path.exists()
        handle = open(os.open(path, os.O_RDWR | os.O_CREAT, self.modes.file), "a+")  # noqa: SIM115
        if is_new:
            os.fchmod(handle.fileno(), self.modes.file)
        else:
            self._tightened.append(tighten(path, self.modes.file))
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

    # -- trigger events ------------------------------------------------------------------

    def published_events(self) -> list[str]:
        return sorted(self.published)

    async def publish_event(self, event_id: str) -> bool:
        """Publish a trigger event by hand; False if it already was."""
        if event_id in self.published:
            return False
        await self.dispatcher.publish_trigger(event_id)
        return True

    async def discard_event(self, event_id: str) -> bool:
        """Forget a published event (durably first); False if it was not published."""
        if not await self.store.delete_event(event_id):
            return False
        self.published.discard(event_id)
        return True

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
            new, digest = await self._check_config(sources, name)
            if check:
                return new
            self.config_dir.write(name, text if text.strip() else None)
            await self.store.save_config_version(name, text, digest)
            old, self.config = self.config, new
            await self.reconfigurer.apply(old, new)
            self._count_config()
            self.events.publish("config", namespace=name)
            return new

    async def _check_config(
        self, sources: dict[str, tuple[str, str]], name: str
    ) -> tuple[Config, str]:
        """The validated config and the new hash of `name`, computed off the event loop.

        Raises ConfigError when invalid or when the check outlasts its budget. A check past
        its budget cannot be stopped (it is a thread); the next one waits for it, so at most
        one runs at a time.
        """
        if self._config_check is not None:
            await asyncio.wait({self._config_check})

        def check() -> tuple[Config, str]:
            new = self.config_dir.validate(sources)
            return new, namespace_view(new, name)[1]

        self._config_check = asyncio.ensure_future(asyncio.to_thread(check))
        budget = self.settings.config_check_budget
        try:
            return await asyncio.wait_for(asyncio.shield(self._config_check), budget)
        except TimeoutError:
            # Its outcome no longer matters; taking it keeps asyncio from logging it.
            self._config_check.add_done_callback(lambda done: done.exception())
            file = sources.get(name, ("", ""))[0]
            message = f"checking the config took longer than {budget:g} s; nothing was changed"
            raise ConfigError([Problem(file, 0, "", message)]) from None

    # -- alerts (the work is in engine/alerting/service.py) ----------------------------------

    async def why(self, job_name: str) -> Why:
        return await self.alerting.why(job_name)

    async def alerts(
        self, *, job: str | None = None, open_only: bool = False, limit: int = 100
    ) -> list[Alert]:
        return await self.alerting.alerts(job=job, open_only=open_only, limit=limit)

    async def alert_notifications(
        self, alert_id: str | None = None, limit: int = 100
    ) -> list[Notification]:
        return await self.alerting.notifications(alert_id, limit)

    async def acknowledge_alert(self, alert_id: str, who: str) -> Alert:
        return await self.alerting.acknowledge(alert_id, who)

    async def silence_job(self, job_name: str, duration: timedelta | None) -> datetime | None:
        return await self.alerting.silence(job_name, duration)

    async def record_audit(self, entry: AuditEntry) -> AuditEntry:
        return await self.alerting.record(entry)

    async def audit_log(self, target: str | None = None, limit: int = 100) -> list[AuditEntry]:
        return await self.alerting.audit_log(target, limit)

    def health(self) -> Health:
        return self.alerting.health(self.config.notifications.heartbeat_timeout)
