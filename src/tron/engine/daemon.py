"""Daemon: builds the engine's parts from a config dir and a working dir, runs them, and is
the one facade the API talks to."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from tron.config import config_hash
from tron.config.changes import ConfigChanges, summarize
from tron.config.diff import diff
from tron.config.model import Config
from tron.core.alerts.model import AuditEntry
from tron.core.job_run import is_pending
from tron.core.records import JobRun
from tron.engine import lockfile
from tron.engine.alerting.delivery import DeliveryWorker
from tron.engine.alerting.evaluator import Evaluator
from tron.engine.alerting.metrics import AlertMetrics
from tron.engine.alerting.senders import Senders
from tron.engine.alerting.service import AlertService
from tron.engine.clock import Clock, SystemClock
from tron.engine.commands import Commands
from tron.engine.configstore import (
    ConfigDir,
    machine_time_zone,
    namespace_file_name,
    namespace_view,
)
from tron.engine.dispatch import Dispatcher
from tron.engine.events import EventHub
from tron.engine.facade import EngineFacade
from tron.engine.leadership import Leadership, LeaseSettings
from tron.engine.metrics import Metrics
from tron.engine.moves import Mover
from tron.engine.nodes import NodeExecutors
from tron.engine.reconfigure import Reconfigurer
from tron.engine.recovery import Recovery, restore_job
from tron.engine.registry import JobRuntime, Registry
from tron.engine.scheduling import Scheduler
from tron.engine.standby_view import StoredRuns
from tron.engine.timers import TimerKey, Timers
from tron.engine.turns import LoopTurns
from tron.engine.writer import RunWriter
from tron.errors import ConfigError, Problem, StaleConfigError, TronError
from tron.executors.base import Executor
from tron.gc_pause import gc_paused
from tron.private import ensure_dir, modes_for, tighten
from tron.store import open_store, state_files
from tron.store.base import JobState, Store
from tron.store.lease import LeaseStore, RunChanges
from tron.store.tron_import import import_working_dir

logger = logging.getLogger(__name__)

# A standby that could not refresh for this long reads every run again (the database keeps a
# day of deletions, so a shorter gap is followed change by change).
FULL_REFRESH_AFTER = 3600.0


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
    # Where this trond's API answers, as standbys tell clients the leader's address.
    advertise_address: str = "http://127.0.0.1:8089"
    # How often a standby reloads the state from the database (its reads are this stale).
    standby_refresh_seconds: float = 2.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigUpload:
    """An uploaded namespace's validated config and what it changes (`version` once saved)."""

    config: Config
    changes: ConfigChanges


class Daemon(EngineFacade):
    """`async with Daemon(settings) as daemon: await daemon.run_until_stopped()`.

    It builds the engine's parts and passes each to the parts that need it; nothing reaches
    one part through another. The API sees it through `EngineFacade` only. `store` and
    `executors` (by kind: `local`, `ssh`) replace the ones the config names: tests pass the
    memory store and a scripted executor.
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
        self.default_time_zone = zone
        self.config_dir = ConfigDir(settings.config_path, default_time_zone=zone)
        # Set when the store is shared by several trond (postgres): one of them leads.
        self.leadership: Leadership | None = None
        self._leading = False
        self._role_lock = asyncio.Lock()
        self._standby_tasks: list[asyncio.Task[None]] = []
        self._refreshed_at = time.monotonic()
        self._generation = 0
        # A standby's copy of every stored run, kept up to date from the changes it reads.
        self._standby_runs = StoredRuns()
        self._run_mark: int | None = None
        self._config_mark = 0

    async def __aenter__(self) -> Daemon:
        started = time.perf_counter()
        self._tightened.append(ensure_dir(self.settings.working_dir, self.modes.dir))
        self._acquire_lock()
        # Start-up builds the config, the runs and their records at once, nearly all of them
        # kept and none in reference cycles: collections while they are made walk them again
        # and again (a tenth of a 10,000-job first start, for a handful of cyclic objects).
        with gc_paused():
            try:
                await self._start()
            except BaseException:
                self._release_lock()
                raise
            # They live as long as the daemon: keep the collector from walking them again
            # and again afterwards too (pauses of 100 ms at 10k jobs).
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
        # MASTER `command_context`, one dict the scheduler and the dispatcher share and
        # reconfiguration updates in place.
        context = dict(self.config.command_context)
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
            context=context,
            gate=self.leadership.wait_launchable if self.leadership is not None else None,
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
            context=context,
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
        self.mover = Mover(
            registry=self.registry,
            store=self.store,
            timers=self.timers,
            recovery=self.recovery,
            evaluator=self.evaluator,
            events=self.events,
            output_root=self.output_root,
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
        self.senders = Senders()
        self.delivery = DeliveryWorker(
            store=self.store,
            clock=self.clock,
            settings=lambda: self.config.notifications,
            senders=self.senders,
            metrics=self.alert_metrics,
        )
        self.evaluator = Evaluator(
            registry=self.registry,
            store=self.store,
            clock=self.clock,
            timers=self.timers,
            config=lambda: self.config,
            tail=self.output_lines,
            on_queued=self.delivery.wake,
            metrics=self.alert_metrics,
        )
        self.alerting = AlertService(
            registry=self.registry, store=self.store, evaluator=self.evaluator, clock=self.clock
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
        if isinstance(self.store, LeaseStore):
            await self._start_standby(self.store)
        else:
            # A Tron working dir's first start: its state becomes ours (once; Tron's files
            # are only read).
            await import_working_dir(
                self.store, self.settings.working_dir, self.config.state_persistence, self.config
            )
            await self._lead()

    async def _lead(self) -> None:
        """Build the engine, load the stored runs, recover them and start scheduling."""
        self._build()
        self.registry.jobs.clear()
        self.registry.retired.clear()
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
            asyncio.create_task(self.evaluator.watch_heartbeat()),
            asyncio.create_task(self.delivery.run()),
        ]
        # After recovery, so hashing a big config does not slow the start-up itself.
        self._versions_task = asyncio.create_task(self._record_config_versions())

    # -- several trond on one database ---------------------------------------------------

    async def _start_standby(self, store: LeaseStore) -> None:
        """Start as a standby (reads only) and run the lease loop; a lone trond takes the
        lease on its first try and leads within moments."""
        persistence = self.config.state_persistence
        self.leadership = Leadership(
            store,
            address=self.settings.advertise_address,
            settings=LeaseSettings(
                lease_seconds=persistence.lease_seconds, renew_seconds=persistence.renew_seconds
            ),
            on_elected=self._take_over,
            on_deposed=self._step_down,
        )
        store.fence(None)  # a standby writes nothing
        self.metrics.leader.set(0)
        self._build()
        await self._refresh_standby()
        await self.leadership.tick()
        self._standby_tasks = [
            asyncio.create_task(self._lease_loop(self.leadership)),
            asyncio.create_task(self._refresh_loop()),
        ]

    async def _lease_loop(self, leadership: Leadership) -> None:
        await asyncio.sleep(leadership.settings.renew_seconds)
        await leadership.run()

    async def _take_over(self, epoch: int) -> None:
        """Elected: the newest accepted config from the database, then a start-up's recovery."""
        async with self._role_lock:
            self.config = await self._newest_config()
            await self._lead()
            self._leading = True
            self.metrics.leader.set(1)
            self.events.publish("leader", epoch=epoch, address=self.settings.advertise_address)
            logger.info("leading at epoch %d with %d jobs", epoch, len(self.registry.jobs))

    async def _step_down(self) -> None:
        """Deposed: drop the engine as `kill -9` would (the store already refuses our
        writes), then serve reads from the database again."""
        self._leading = False
        self.metrics.leader.set(0)
        self.scheduler.paused = True
        await self._stop_tasks()
        self._tasks = []
        if self._versions_task is not None:
            self._versions_task.cancel()
            await asyncio.gather(self._versions_task, return_exceptions=True)
            self._versions_task = None
        await self.nodes.close()
        self._run_mark = None  # what it wrote as leader is read again, whole
        await self._refresh_standby()

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.standby_refresh_seconds)
            try:
                await self._refresh_standby()
            except TronError as exc:
                logger.warning("cannot refresh the standby's view: %s", exc)

    async def _refresh_standby(self) -> None:
        """Bring the standby's view up to date with the database: the runs written or deleted
        since the last refresh (all of them the first time, after stepping down, or after
        an hour without one), the config when a version was saved, flags, events and
        silences."""
        async with self._role_lock:
            if self._leading or (self.leadership is not None and self.leadership.is_leader):
                return
            assert isinstance(self.store, LeaseStore)
            stale = time.monotonic() - self._refreshed_at > FULL_REFRESH_AFTER
            since = None if stale else self._run_mark
            changes = await self.store.run_changes(since)
            config = self.config
            if changes.full or changes.config_mark != self._config_mark:
                config = await self._newest_config()
            states = await self.store.load_job_states()
            events = await self.store.events()
            silences = await self.store.silences()
            # Applied in one step (no await between), so a request sees one view or the other.
            self._standby_runs.apply(changes)
            if changes.full or config is not self.config:
                self._rebuild_standby_view(config, states)
            else:
                self._patch_standby_view(changes, states)
            self.published.clear()
            self.published.update(events)
            self.evaluator.show_silences(silences)
            self._run_mark, self._config_mark = changes.mark, changes.config_mark
            self._refreshed_at = time.monotonic()

    def _rebuild_standby_view(self, config: Config, states: Mapping[str, JobState]) -> None:
        self._generation += 1
        jobs = {}
        for name, job in config.jobs.items():
            runtime = JobRuntime(config=job, enabled=job.enabled, version=self._generation)
            restore_job(runtime, states.get(name), self._standby_runs.of(name))
            jobs[name] = runtime
        self.config = config
        self.registry.jobs.clear()
        self.registry.jobs.update(jobs)
        self.registry.retired.clear()
        self._count_config()

    def _patch_standby_view(self, changes: RunChanges, states: Mapping[str, JobState]) -> None:
        """Only the jobs whose runs or flags changed are touched (API caches stay warm)."""
        changed = {run.job_name for run in changes.runs} | {job for job, _ in changes.deleted}
        for name, job in self.registry.jobs.items():
            state = states.get(name)
            enabled = (
                job.config.enabled if state is None or state.enabled is None else state.enabled
            )
            next_num = max(job.next_run_num, state.next_run_num if state else 0)
            if name not in changed and (enabled, next_num) == (job.enabled, job.next_run_num):
                continue
            job.enabled, job.next_run_num = enabled, next_num
            if name in changed:
                job.runs = {run.run_num: run for run in self._standby_runs.of(name)}
            job.touch()

    async def _newest_config(self) -> Config:
        """The newest accepted config in the database (each namespace's last version), or
        the one on disk when the database has none yet (the first leader records it)."""
        latest: dict[str, str] = {}
        for version in await self.store.config_versions():
            latest[version.namespace] = version.text
        texts = {name: text for name, text in latest.items() if text.strip()}
        if not texts:
            return self.config
        if texts == {name: ns.text for name, ns in self.config.namespaces.items()}:
            return self.config
        sources = {name: (namespace_file_name(name), text) for name, text in texts.items()}
        try:
            return await asyncio.to_thread(self.config_dir.validate, sources)
        except ConfigError as exc:
            logger.error("the config in the database is invalid; using the current one: %s", exc)
            return self.config

    @property
    def role(self) -> str:
        """`leader` (also a trond on its own store) or `standby`."""
        if self.leadership is None or self._leading:
            return "leader"
        return "standby"

    async def move_job(self, old: str, new: str) -> str:
        """`tronctl move OLD NEW` (see engine/moves.py); serialized with config uploads, which
        also change which jobs there are."""
        async with self._config_lock:
            return await self.mover.move(old, new)

    async def record_audit(self, entry: AuditEntry) -> AuditEntry:
        """The leader records operators' commands; a standby refused them and writes nothing
        (its store refuses every write)."""
        if self.role == "standby":
            return entry
        return await super().record_audit(entry)

    def leader_address(self) -> str | None:
        """Where the leader's API answers, when known (standbys point clients there)."""
        return self.leadership.leader_address() if self.leadership is not None else None

    def leadership_status(self) -> dict[str, object]:
        """What `/api/status` says about who leads."""
        if self.leadership is None:
            return {"role": "leader"}
        lease = self.leadership
        seen = lease.last_seen
        status: dict[str, object] = {
            "role": self.role,
            "leader": lease.leader_address(),
            "epoch": lease.epoch if lease.epoch is not None else (seen.epoch if seen else None),
            "lease_age": _rounded(lease.lease_age()),
            "holder": lease.holder if lease.is_leader else (seen.holder if seen else None),
        }
        if self.role == "standby":
            status["stale_seconds"] = _rounded(time.monotonic() - self._refreshed_at)
        return status

    async def _load_jobs(self) -> None:
        """Give the configured jobs their stored runs and flags; trigger events published."""
        states = await self.store.load_job_states()
        runs: dict[str, list[JobRun]] = {}
        # A long history is millions of new objects, all kept: without collections while
        # they are made (a fifth of the load), and frozen once trond has started.
        with gc_paused():
            loaded = await self.store.load_job_runs()
        for run in loaded:
            runs.setdefault(run.job_name, []).append(run)
        self.published.update(await self.store.events())
        turns = LoopTurns(asyncio.get_running_loop())  # a long history: seconds
        for name, job in self.registry.jobs.items():
            await turns.wait_if_held()
            restore_job(job, states.get(name), runs.get(name, ()))

    async def config_versions_recorded(self) -> None:
        """Wait until the start-up config versions are stored (they are written in the
        background, hashed off the loop); for tests that need every write in one order."""
        if self._versions_task is not None:
            await asyncio.gather(self._versions_task, return_exceptions=True)

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

    def now(self) -> datetime:
        return self.clock.now()

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
        await self._stop_standby_tasks()
        self.scheduler.paused = True
        await self._stop_tasks()
        if self.leadership is not None:
            await self.leadership.release()
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
        await self._stop_standby_tasks()
        self.scheduler.paused = True
        await self._stop_tasks()
        self._release_lock()

    async def _stop_standby_tasks(self) -> None:
        for task in self._standby_tasks:
            task.cancel()
        await asyncio.gather(*self._standby_tasks, return_exceptions=True)
        self._standby_tasks = []

    def request_stop(self) -> None:
        self._stopping.set()

    async def run_until_stopped(self) -> None:
        await self._stopping.wait()

    # -- the lock file -------------------------------------------------------------------

    def _acquire_lock(self) -> None:
        path = self.settings.lock_file or self.settings.working_dir / "tron.lock"
        self._lock, tightened = lockfile.acquire(path, self.modes.file)
        self._tightened.append(tightened)

    def _release_lock(self) -> None:
        if self._lock is not None:
            lockfile.release(self._lock)
            self._lock = None

    # -- trigger events ------------------------------------------------------------------

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
        upload = await self.upload_namespace(name, text, expected_hash, check=check)
        return upload.config

    async def upload_namespace(
        self, name: str, text: str, expected_hash: str | None, *, check: bool = False
    ) -> ConfigUpload:
        """`update_namespace`, also saying what the upload changes (or would change)."""
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
            # Measured before applying: Tron's rule keeps a changed job's pending run in place.
            found = diff(self.config, new)
            changes = summarize(found, self.config, new, name)
            pending = self._pending_times(job.name for job in changes.changed)
            changes = changes.with_pending_runs(pending).after_moves(self.registry.jobs)
            if check:
                return ConfigUpload(config=new, changes=changes)
            staged = self.config_dir.stage(name, text if text.strip() else None)
            try:
                saved = await self.store.save_config_version(name, text, digest)
            except BaseException:
                staged.discard()  # the old config stays in effect, on disk as in memory
                raise
            staged.commit()
            self.config = new
            await self.reconfigurer.apply(found, new)
            self._count_config()
            self.events.publish("config", namespace=name)
            changes = dataclasses.replace(changes, version=saved.version)
            logger.info(
                "config of namespace %s applied as version %d: %s",
                name,
                saved.version,
                "; ".join(line.strip() for line in changes.lines()),
            )
            return ConfigUpload(config=new, changes=changes)

    def _pending_times(self, names: Iterable[str]) -> dict[str, datetime]:
        """The latest pending (scheduled or queued) run time of each job named that has one
        (only the changed jobs: a walk over every stored run would hold up each upload)."""
        times: dict[str, datetime] = {}
        for name in names:
            job = self.registry.jobs.get(name)
            if job is None:
                continue
            pending = [run.run_time for run in job.runs.values() if is_pending(run)]
            if pending:
                times[job.name] = max(pending)
        return times

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
            async with asyncio.timeout(budget):
                return await asyncio.shield(self._config_check)
        except TimeoutError:
            # Its outcome no longer matters; taking it keeps asyncio from logging it.
            self._config_check.add_done_callback(lambda done: done.exception())
            file = sources.get(name, ("", ""))[0]
            message = f"checking the config took longer than {budget:g} s; nothing was changed"
            raise ConfigError([Problem(file, 0, "", message)]) from None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
