"""Apply a new Config to live jobs as one diff, leaving running action runs alone (spec 5.11)."""

from __future__ import annotations

import logging

from tron.config.diff import ConfigDiff
from tron.config.model import Config, JobConfig
from tron.core import job_run as jr
from tron.engine.crew import for_each
from tron.engine.dispatch import Dispatcher
from tron.engine.nodes import NodeExecutors
from tron.engine.recovery import Recovery, restore_job
from tron.engine.registry import JobRuntime, Registry
from tron.engine.scheduling import Scheduler
from tron.store.base import JobState, Store

logger = logging.getLogger(__name__)


class Reconfigurer:
    """Adds, removes and updates jobs so the engine runs a new config."""

    def __init__(
        self,
        *,
        registry: Registry,
        scheduler: Scheduler,
        dispatcher: Dispatcher,
        recovery: Recovery,
        store: Store,
        nodes: NodeExecutors,
    ) -> None:
        self._registry = registry
        self._scheduler = scheduler
        self._dispatcher = dispatcher
        self._recovery = recovery
        self._store = store
        self._nodes = nodes

    async def apply(self, changes: ConfigDiff, new: Config) -> None:
        """Bring the engine from the config `changes` was diffed from to `new`."""
        self._nodes.update(new)
        self._scheduler.context.clear()
        self._scheduler.context.update(new.command_context)
        await for_each(changes.removed, self._remove)
        # One look at the stored job states tells which added jobs have a history to load.
        states = await self._store.load_job_states() if changes.added else {}
        await for_each(changes.added, lambda name: self._add(new.jobs[name], states.get(name)))
        await for_each(
            changes.changed, lambda name: self._change(new.jobs[name], changes.changed[name])
        )
        logger.info(
            "reconfigured: %d added, %d removed, %d changed",
            len(changes.added),
            len(changes.removed),
            len(changes.changed),
        )

    async def _remove(self, name: str) -> None:
        """The job leaves the config: its pending runs are cancelled, running ones go on
        (still recorded), and its enabled flag is forgotten: added back, it is a new job."""
        job = self._registry.jobs.pop(name, None)
        if job is None:
            return
        self._registry.retired[name] = job
        await self._scheduler.cancel_pending(job)
        await self._store.set_job_enabled(name, None)

    async def _add(self, config: JobConfig, state: JobState | None) -> None:
        """A new job, or one added back: its history is kept and its run numbers continue,
        but it starts enabled as its config says and is scheduled from now (spec 5.11)."""
        name = config.full_name
        moved = self._registry.jobs.get(name)
        if moved is not None:
            # Renamed to this name by `tronctl move` before its config was: it is updated.
            await self._update(moved, config)
            return
        job = self._registry.retired.pop(name, None)
        if job is None:
            job = JobRuntime(config=config, enabled=config.enabled)
            self._registry.jobs[name] = job
            if state is not None:
                restore_job(job, state, await self._store.load_job_runs(name))
                await self._recovery.recover_job(job, await self._store.load_handles())
        else:
            job.config = config
            self._registry.jobs[name] = job
        job.enabled = config.enabled
        job.touch()
        if job.runs:
            await self._store.set_job_enabled(name, None)
        if not job.enabled or any(jr.is_pending(r) for r in job.runs.values()):
            return
        if job.runs:
            await self._scheduler.schedule_from_now(job, tag="add")
        else:
            await self._scheduler.ensure_scheduled(job)

    async def _change(self, config: JobConfig, fields: tuple[str, ...]) -> None:
        """Tron's equality leaves `enabled` out (spec 5.11): a change of it alone is not
        applied. The job keeps the config it runs (so a later change compares against it,
        as Tron compares against the last applied config), and its runtime flag is kept so
        a restart does not apply it either."""
        job = self._registry.jobs.get(config.full_name)
        if job is None:
            return
        if fields == ("enabled",):
            logger.info("%s: a change of enabled alone is not applied", job.name)
            await self._store.set_job_enabled(job.name, job.enabled)
            return
        await self._update(job, config)

    async def _update(self, job: JobRuntime, config: JobConfig) -> None:
        previous = job.config
        job.config = config
        job.touch()
        pending_times = []
        for run in sorted(job.runs.values(), key=lambda r: r.run_num):
            if jr.is_pending(run):
                # Pending runs are rebuilt from the new config (spec 5.11).
                pending_times.append(run.run_time)
                await self._scheduler.delete_run(job, run)
                continue
            await self._dispatcher.update(run, lambda r: (jr.update_commands(r, config), []))
        if previous.enabled != config.enabled and config.enabled != job.enabled:
            if config.enabled:
                await self._scheduler.enable(job)
            else:
                await self._scheduler.disable(job)
            return
        if pending_times and job.enabled:
            await self._scheduler.schedule_slot(job, max(pending_times))
        await self._scheduler.ensure_scheduled(job)
