"""Apply a new Config to live jobs as one diff, leaving running action runs alone (spec 5.11)."""

from __future__ import annotations

import logging

from tron.config import diff
from tron.config.model import Config
from tron.core import job_run as jr
from tron.core.states import ActionRunState
from tron.engine.registry import JobRuntime
from tron.engine.scheduling import Scheduler

logger = logging.getLogger(__name__)


async def reconfigure(scheduler: Scheduler, old: Config, new: Config) -> None:
    """Add, remove and update jobs so the engine runs `new`."""
    changes = diff(old, new)
    registry = scheduler.registry
    scheduler.dispatcher.nodes.update(new)
    scheduler.context.clear()
    scheduler.context.update(new.command_context)
    for name in changes.removed:
        job = registry.jobs.get(name)
        if job is not None:
            await scheduler.disable(job)
            del registry.jobs[name]
    for name in changes.added:
        config = new.jobs[name]
        job = JobRuntime(config=config, enabled=config.enabled)
        registry.jobs[name] = job
        await scheduler.ensure_scheduled(job)
    for name in changes.changed:
        job = registry.jobs.get(name)
        if job is not None:
            await _update_job(scheduler, job, old, new)
    logger.info(
        "reconfigured: %d added, %d removed, %d changed",
        len(changes.added),
        len(changes.removed),
        len(changes.changed),
    )


async def _update_job(scheduler: Scheduler, job: JobRuntime, old: Config, new: Config) -> None:
    previous = old.jobs[job.name]
    config = new.jobs[job.name]
    job.config = config
    job.touch()
    dispatcher = scheduler.dispatcher
    pending_times = []
    for run in sorted(job.runs.values(), key=lambda r: r.run_num):
        state = jr.job_run_state(run)
        if (
            not run.manual
            and run.start_time is None
            and state
            in (
                ActionRunState.SCHEDULED,
                ActionRunState.QUEUED,
            )
        ):
            # Pending runs are rebuilt from the new config (spec 5.11).
            pending_times.append(run.run_time)
            dispatcher.timers.cancel(("run", run.job_name, run.run_num))
            await dispatcher.store.delete_job_run(run.job_name, run.run_num)
            del job.runs[run.run_num]
            job.touch()
            continue
        updated = jr.update_commands(run, config)
        if updated != run:
            await dispatcher.commit(run, updated)
    if previous.enabled != config.enabled and config.enabled != job.enabled:
        if config.enabled:
            await scheduler.enable(job)
        else:
            await scheduler.disable(job)
        return
    if pending_times and job.enabled:
        await scheduler.schedule_slot(job, max(pending_times))
    await scheduler.ensure_scheduled(job)
