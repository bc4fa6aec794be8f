"""Start-up (and a job added back): load runs from the store and carry out the recovery
table of `tron.core.recovery` for each of them."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from tron.core import job_run as jr
from tron.core.action_run import is_in_retry_delay
from tron.core.catch_up import is_dropped
from tron.core.records import ActionRun, JobRun
from tron.core.recovery import ActionRecovery, Trace, action_recovery, needs_trace
from tron.core.states import ActionRunState
from tron.engine.clock import Clock
from tron.engine.crew import for_each
from tron.engine.dispatch import Dispatcher, output_dir
from tron.engine.nodes import NodeExecutors
from tron.engine.registry import JobRuntime
from tron.engine.scheduling import Scheduler
from tron.errors import NodeError, TronError
from tron.executors.base import AttemptNotStarted, ExitStatus, Handle
from tron.store.base import JobState, Store

logger = logging.getLogger(__name__)


def restore_job(job: JobRuntime, state: JobState | None, runs: Iterable[JobRun]) -> None:
    """Give `job` its stored runs and runtime flags."""
    if state is not None:
        job.next_run_num = max(job.next_run_num, state.next_run_num)
        if state.enabled is not None:
            job.enabled = state.enabled
    for run in runs:
        job.runs[run.run_num] = run
    job.touch()  # what the API keeps of the job (cache.py, run_index.py) is out of date


class Recovery:
    """Carries out the recovery table; its parts are the engine's, passed in."""

    def __init__(
        self,
        *,
        scheduler: Scheduler,
        dispatcher: Dispatcher,
        store: Store,
        nodes: NodeExecutors,
        clock: Clock,
        output_root: Path,
        published: set[str],
    ) -> None:
        self._scheduler = scheduler
        self._dispatcher = dispatcher
        self._store = store
        self._nodes = nodes
        self._clock = clock
        self._output_root = output_root
        self._published_events = published

    async def recover_all(self, jobs: Iterable[JobRuntime]) -> None:
        """Recover every job's runs, then schedule it (start-up). Jobs recover side by side
        so the store groups their writes into few commits."""
        handles = await self._store.load_handles()
        await for_each(jobs, lambda job: self.recover_job(job, handles))

    async def recover_job(self, job: JobRuntime, handles: dict[str, Any]) -> None:
        for run in sorted(job.runs.values(), key=lambda r: r.run_num):
            await self._recover_run(job, run, handles)
        # Each run's state once: a job may keep hundreds of finished runs (run_limit).
        states = [(r, jr.job_run_state(r)) for r in job.runs.values()]
        if not any(state in jr.ACTIVE_STATES for _, state in states):
            queued = [r for r, state in states if state is ActionRunState.QUEUED]
            if queued:
                await self._scheduler.on_run_done(min(queued, key=lambda r: r.run_num))
        await self._scheduler.ensure_scheduled(job)

    async def _recover_run(self, job: JobRuntime, run: JobRun, handles: dict[str, Any]) -> None:
        for action_run in run.action_runs:
            await self._recover_action(run, action_run, handles.get(str(action_run.id)))
        run = job.runs.get(run.run_num, run)
        state = jr.job_run_state(run)
        if run.start_time is None and state is ActionRunState.SCHEDULED:
            if run.manual:
                await self._scheduler.start_run(run, scheduled=False)
            elif is_dropped(job.config.schedule, job.config.catch_up, run.run_time, self._now()):
                await self._dispatcher.update(run, lambda r: jr.cancel_job_run(r, now=self._now()))
            elif not jr.built_from(run, job.config):
                # The config changed under it (trond stopped amid an upload): rebuild it.
                await self._scheduler.delete_run(job, run)
                await self._scheduler.schedule_slot(job, run.run_time)
            else:
                self._scheduler.arm(run, run.run_time)
        elif run.start_time is not None and not jr.is_finished(run):
            self._scheduler.arm_run_timers(run)
            await self._dispatcher.update(
                run, lambda r: jr.settle(r, now=self._now(), published=self._published(r))
            )

    def _published(self, run: JobRun) -> frozenset[str]:
        wanted = {t for a in run.action_runs for t in a.triggered_by}
        return frozenset(t for t in wanted if t in self._published_events)

    def _now(self) -> datetime:
        return self._clock.now()

    async def _recover_action(
        self, run: JobRun, action_run: ActionRun, record: dict[str, Any] | None
    ) -> None:
        traced = needs_trace(action_run)
        if not traced and not is_in_retry_delay(action_run):
            return  # the table's "none": most stored action runs, so nothing is built for them
        handle = self._handle(action_run, record)
        trace, problem = Trace.UNKNOWN, ""
        if traced:
            handle, trace, problem = await self._trace(handle)
        await self._act(run, action_run, handle, trace, problem)

    async def _trace(self, handle: Handle) -> tuple[Handle, Trace, str]:
        """What the node kept of the attempt. Reattaching is how an executor tells: it refuses
        an attempt that provably never started (and makes sure a late supervisor of it runs
        nothing)."""
        try:
            return await self._nodes.executor(handle.node).reattach(handle), Trace.SOME, ""
        except AttemptNotStarted:
            return handle, Trace.NONE, ""
        except (NodeError, TronError, OSError) as exc:
            return handle, Trace.UNKNOWN, str(exc)

    async def _act(
        self, run: JobRun, action_run: ActionRun, handle: Handle, trace: Trace, problem: str
    ) -> None:
        """Carry out the recovery table's one decision for this action run and its trace."""
        name = action_run.action_name
        decision = action_recovery(action_run, trace)
        if decision is ActionRecovery.REARM_RETRY:
            assert action_run.retry_at is not None
            self._dispatcher.arm_retry(run, name, action_run.retry_at)
        elif decision is ActionRecovery.RELAUNCH:
            logger.info("relaunching %s: it never started before trond stopped", action_run.id)
            self._dispatcher.queue_launch(run, name)
        elif decision is ActionRecovery.LOST:
            status = ExitStatus(exit_code=None, reason="no trace of the attempt on its node")
            await self._dispatcher.record_exit(run, name, status)
        elif decision is ActionRecovery.RESIGNAL:
            logger.info("reattached %s; sending its stop again", action_run.id)
            await self._watch_again(run, action_run, handle)
            self._dispatcher.resend_stop(run, name)
        elif decision is ActionRecovery.REATTACH and trace is not Trace.SOME:
            logger.warning("cannot reattach %s: %s", action_run.id, problem)
            status = ExitStatus(exit_code=None, reason=f"lost while trond was down: {problem}")
            await self._dispatcher.record_exit(run, name, status)
        elif decision is ActionRecovery.REATTACH:
            logger.info("reattached %s", action_run.id)
            await self._watch_again(run, action_run, handle)

    async def _watch_again(self, run: JobRun, action_run: ActionRun, handle: Handle) -> None:
        if action_run.state is ActionRunState.STARTING:
            await self._dispatcher.started(run, action_run.action_name, handle)
            return
        self._dispatcher.watch(run, action_run.action_name, handle)
        if action_run.state.is_active:
            self._dispatcher.arm_late(run, action_run.action_name)

    def _handle(self, action_run: ActionRun, record: dict[str, Any] | None) -> Handle:
        """The stored handle of the current attempt or, without one (trond died between the
        launch and its record), one made from the attempt's directory."""
        attempt = action_run.current_attempt
        number = attempt.number if attempt else 0
        if record and record.get("attempt") == number:
            return Handle.from_record(record)
        node = None if self._nodes.is_local(action_run.node) else action_run.node
        path = output_dir(self._output_root, action_run, number)
        return Handle(
            action_run_id=str(action_run.id), attempt=number, node=node, output_dir=str(path)
        )
