"""Start-up: load runs from the store and pick up every action that was in flight."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tron.core import job_run as jr
from tron.core.records import ActionRun, JobRun
from tron.core.states import ActionRunState
from tron.engine.dispatch import output_dir
from tron.engine.registry import JobRuntime
from tron.engine.scheduling import Scheduler, is_active, is_pending
from tron.errors import NodeError, TronError
from tron.executors.base import ExitStatus, Handle

logger = logging.getLogger(__name__)

_PARALLEL_JOBS = 512


async def load_jobs(scheduler: Scheduler) -> None:
    """Fill the registry's jobs with their stored runs and runtime flags."""
    store = scheduler.dispatcher.store
    states = await store.load_job_states()
    runs = await store.load_job_runs()
    published = await store.events()
    scheduler.dispatcher.published.update(published)
    for job in scheduler.registry.jobs.values():
        state = states.get(job.name)
        if state is not None:
            job.next_run_num = state.next_run_num
            if state.enabled is not None:
                job.enabled = state.enabled
    for run in runs:
        owner = scheduler.registry.jobs.get(run.job_name)
        if owner is not None:
            owner.runs[run.run_num] = run


async def recover(scheduler: Scheduler) -> None:
    """Reattach running attempts, re-arm timers, start what is due (spec 5.10, improved)."""
    handles = await scheduler.dispatcher.store.load_handles()
    # Jobs recover side by side so the store can group their writes into few commits:
    # 10,000 jobs must not mean 10,000 fsyncs one after another. A fixed crew of workers
    # (not 10,000 tasks behind a semaphore, which rescans its waiters on every release).
    jobs: asyncio.Queue[JobRuntime] = asyncio.Queue()
    for job in list(scheduler.registry.jobs.values()):
        jobs.put_nowait(job)

    async def worker() -> None:
        while not jobs.empty():
            job = jobs.get_nowait()
            for run in sorted(job.runs.values(), key=lambda r: r.run_num):
                await _recover_run(scheduler, run, handles)
            await _resume_queue(scheduler, job)
            await scheduler.ensure_scheduled(job)

    await asyncio.gather(*(worker() for _ in range(min(_PARALLEL_JOBS, jobs.qsize() or 1))))


async def _recover_run(scheduler: Scheduler, run: JobRun, handles: dict[str, Any]) -> None:
    dispatcher = scheduler.dispatcher
    for action_run in run.action_runs:
        if action_run.state.is_active:
            await _reattach(scheduler, run, action_run, handles.get(str(action_run.id)))
        elif action_run.retry_at is not None and not action_run.state.is_done:
            dispatcher.arm_retry(run, action_run.action_name, action_run.retry_at)
    run = scheduler.registry.current(run)
    # Queued runs wait for a run of their job to end; only scheduled ones have a time.
    scheduled = is_pending(run) and jr.job_run_state(run) is ActionRunState.SCHEDULED
    if scheduled and _missed_and_dropped(scheduler, run):
        await dispatcher.update(run, lambda r: jr.cancel_job_run(r, now=dispatcher.clock.now()))
    elif scheduled:
        scheduler.arm(run, run.run_time)
    elif run.start_time is not None and not jr.is_finished(run):
        scheduler.arm_trigger_timeouts(run)
        await dispatcher.update(
            run, lambda r: jr.settle(r, now=dispatcher.clock.now(), published=dispatcher.published)
        )


def _missed_and_dropped(scheduler: Scheduler, run: JobRun) -> bool:
    """Whether a run that fell due while trond was down is dropped by the job's catch_up."""
    job = scheduler.registry.jobs.get(run.job_name)
    if job is None:
        return False
    policy = job.config.catch_up
    now = scheduler.clock.now()
    if policy.policy == "tron" or run.run_time >= now:
        return False
    if policy.policy == "none":
        return True
    if policy.window is not None and run.run_time < now - policy.window:
        return True
    if policy.policy == "latest":
        return bool(job.config.schedule.next_run(run.run_time) <= now)
    return False


async def _reattach(
    scheduler: Scheduler, run: JobRun, action_run: ActionRun, record: dict[str, Any] | None
) -> None:
    dispatcher = scheduler.dispatcher
    attempt = action_run.current_attempt
    if record and attempt is not None and record.get("attempt") != attempt.number:
        record = None  # a handle of an earlier attempt: this one's was never saved
    handle = Handle.from_record(record) if record else _guess_handle(scheduler, action_run)
    try:
        handle = await dispatcher.nodes.executor(handle.node).reattach(handle)
    except (NodeError, TronError, OSError) as exc:
        logger.warning("cannot reattach %s: %s", action_run.id, exc)
        await dispatcher.on_exit(
            run,
            action_run.action_name,
            ExitStatus(exit_code=None, reason=f"lost while trond was down: {exc}"),
        )
        return
    logger.info("reattached %s", action_run.id)
    if action_run.state is ActionRunState.STARTING:
        await dispatcher.update(
            run,
            lambda r: (
                jr.action_started(r, action_run.action_name, now=dispatcher.clock.now()),
                [],
            ),
        )
    dispatcher.watch(run, action_run.action_name, handle)


def _guess_handle(scheduler: Scheduler, action_run: ActionRun) -> Handle:
    """Without a saved handle (trond died mid-launch), the attempt's dir still says it all."""
    attempt = action_run.current_attempt
    number = attempt.number if attempt else 0
    nodes = scheduler.dispatcher.nodes
    node = None if nodes.is_local(action_run.node) else action_run.node
    path = output_dir(scheduler.dispatcher.output_root, action_run, number)
    return Handle(action_run_id=str(action_run.id), attempt=number, node=node, output_dir=str(path))


async def _resume_queue(scheduler: Scheduler, job: JobRuntime) -> None:
    """Tron leaves restored queued runs waiting for a finish that may never come; we don't."""
    if any(is_active(r) for r in job.runs.values()):
        return
    queued = [r for r in job.runs.values() if jr.job_run_state(r) is ActionRunState.QUEUED]
    if queued:
        await scheduler.on_run_done(min(queued, key=lambda r: r.run_num))
