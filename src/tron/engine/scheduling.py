"""When job runs are created and started: schedules, overlap, queueing, catch-up, run_limit."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from tron.core import job_run as jr
from tron.core.catch_up import next_slot
from tron.core.effects import Effect
from tron.core.records import JobRun
from tron.core.states import ActionRunState
from tron.engine.clock import Clock
from tron.engine.dispatch import Dispatcher
from tron.engine.events import EventHub
from tron.engine.keyed_locks import KeyedLocks
from tron.engine.metrics import Metrics
from tron.engine.nodes import NodeExecutors
from tron.engine.registry import JobRuntime, Registry
from tron.engine.retrying import until_done
from tron.engine.timers import TimerCallback, TimerKey, TimerKind, Timers
from tron.engine.writer import RunWriter
from tron.errors import ConflictError
from tron.store.base import Store

logger = logging.getLogger(__name__)

_TRIGGER_TIMEOUT = timedelta(days=1)


class Scheduler:
    """Creates scheduled runs (exactly once per slot), fires them, queues or cancels them."""

    def __init__(
        self,
        *,
        registry: Registry,
        dispatcher: Dispatcher,
        writer: RunWriter,
        store: Store,
        timers: Timers,
        nodes: NodeExecutors,
        clock: Clock,
        events: EventHub,
        metrics: Metrics,
        output_root: Path,
        published: set[str],
        context: dict[str, object],
        rng: random.Random | None = None,
    ) -> None:
        self._registry = registry
        self._dispatcher = dispatcher
        self._writer = writer
        self._store = store
        self._timers = timers
        self._nodes = nodes
        self._clock = clock
        self._events = events
        self._metrics = metrics
        self._output_root = output_root
        self._published = published
        self.context = context
        self.paused = False
        self._rng = rng or random.Random()
        # Whether a run of a job starts or queues behind another is decided one at a time
        # per job (fire, on_run_done): a run that ends while the next one's queueing is on
        # its way to disk would otherwise find nothing queued yet, and the next run would
        # stay queued forever.
        self._start_decisions: KeyedLocks[str] = KeyedLocks()

    # -- creating runs -------------------------------------------------------------------

    async def create_run(
        self,
        job: JobRuntime,
        *,
        run_time: datetime,
        manual: bool,
        node: str,
        slot: str | None,
        start: bool = False,
    ) -> JobRun | None:
        """Build, persist (taking `slot`) and register a new run; None if the slot was taken.

        With `start`, the run is created already started, its first actions `starting`: one
        durable write for a manual start, and no run a crash could leave created but idle.
        """
        num = job.take_run_num()
        hostname = self._nodes.node(node).hostname if node else None
        run = jr.create_job_run(
            job.config,
            run_num=num,
            run_time=run_time,
            manual=manual,
            node=node,
            context={**self.context, "node_hostname": hostname},
            last_success=job.last_success(),
        )
        effects: list[Effect] = []
        if start:
            run, effects = self._dispatcher.decide_start(run, published=self._published)
        if not await self._store.create_job_run(run, slot=slot):
            logger.info("slot %s of %s already taken; not creating it again", slot, job.name)
            job.give_back_run_num(num)
            return None
        job.runs[run.run_num] = run
        job.touch()
        self._metrics.job_runs_created.inc()
        self._events.publish("job_run", id=str(run.id), state=jr.job_run_state(run).value)
        if start:
            for action_run in run.action_runs:
                if action_run.state is not ActionRunState.SCHEDULED:
                    self._events.publish(
                        "action_run", id=str(action_run.id), state=action_run.state.value
                    )
            self._metrics.count(self._metrics.runs_started, run.job_name)
            self.arm_run_timers(run)
            await self._dispatcher.apply(run, effects)
        await self.prune(job)
        return run

    def nodes_for_run(self, job: JobRuntime) -> list[str]:
        if job.config.all_nodes:
            return list(self._nodes.pool(job.config.node))
        return [self._nodes.pick(job.config.node)]

    # -- the schedule --------------------------------------------------------------------

    def next_time(self, job: JobRuntime) -> datetime:
        """The next slot after the newest scheduled run (or now), with catch-up policy."""
        now = self._clock.now()
        newest = next((r for r in job.runs_newest_first() if not r.manual), None)
        after = newest.run_time if newest else now
        return next_slot(job.config.schedule, job.config.catch_up, after, now)

    def _jitter(self, job: JobRuntime) -> timedelta:
        spread = int(job.config.schedule.jitter.total_seconds())
        return timedelta(seconds=self._rng.randint(-spread, spread)) if spread else timedelta(0)

    async def ensure_scheduled(self, job: JobRuntime) -> None:
        """Give an enabled job its one pending scheduled run, if it has none."""
        if not job.enabled or self.paused or self._registry.jobs.get(job.name) is not job:
            return
        if any(jr.is_pending(r) for r in job.runs.values()):
            return
        await self.schedule_slot(job, self.next_time(job))

    async def schedule_from_now(self, job: JobRuntime, *, tag: str) -> None:
        """Schedule the first slot after now: a job enabled again, or added again, skips the
        slots it missed, as Tron does. The slot may belong to a run cancelled before it
        started, hence a slot name of its own (`tag`)."""
        slot = job.config.schedule.next_run(self._clock.now())
        await self.schedule_slot(job, slot, tag=f"#{tag}{job.next_run_num}")

    async def schedule_slot(self, job: JobRuntime, slot: datetime, *, tag: str = "") -> None:
        """Create the scheduled run of `slot` (one per node with all_nodes) and arm it."""
        fire_at = slot + self._jitter(job)
        for node in self.nodes_for_run(job):
            key = jr.slot_name(job.config, slot, node) + tag
            run = await self.create_run(job, run_time=slot, manual=False, node=node, slot=key)
            if run is not None:
                self.arm(run, fire_at)

    def arm(self, run: JobRun, at: datetime) -> None:
        async def fire() -> None:
            await self.fire(run.job_name, run.run_num)

        self._timers.set(TimerKey(TimerKind.RUN, run.job_name, run.run_num), at, fire)

    async def fire(self, job_name: str, run_num: int) -> None:
        """A scheduled run's time came (spec 5.6)."""
        job = self._registry.jobs.get(job_name)
        run = job.runs.get(run_num) if job else None
        if job is None or run is None or self.paused:
            return
        if not job.enabled:
            await self._dispatcher.update(
                run, lambda r: jr.cancel_job_run(r, now=self._clock.now())
            )
            return
        async with self._start_decisions.holding(job_name):
            # Looked up again under the job's turn: started or deleted meanwhile?
            run = job.runs.get(run_num)
            if (
                run is not None
                and jr.job_run_state(run) is ActionRunState.SCHEDULED
                and run.start_time is None
            ):
                await self._start_or_hold(job, run)
        await self.ensure_scheduled(job)

    async def _start_or_hold(self, job: JobRuntime, run: JobRun) -> None:
        others = [r for r in job.runs.values() if r.run_num != run.run_num and jr.is_active(r)]
        if job.config.all_nodes:
            others = [r for r in others if r.node == run.node]
        if others and not job.config.allow_overlap:
            if job.config.queueing:
                await self._dispatcher.update(run, lambda r: (jr.queue_job_run(r), []))
            else:
                await self._dispatcher.update(
                    run, lambda r: jr.cancel_job_run(r, now=self._clock.now())
                )
            return
        await self.start_run(run, scheduled=True)

    async def start_run(self, run: JobRun, *, scheduled: bool) -> JobRun:
        now = self._clock.now()
        if scheduled:
            lateness = max((now - run.run_time).total_seconds(), 0.0)
            self._metrics.lateness.observe(lateness)
        self._metrics.count(self._metrics.runs_started, run.job_name)
        started = await self._dispatcher.update(
            run, lambda r: jr.start_job_run(r, now=self._clock.now(), published=self._published)
        )
        self.arm_run_timers(started)
        return started

    def arm_run_timers(self, run: JobRun) -> None:
        """The timers of a started run: max_runtime and trigger timeouts (spec 5.7, 5.8)."""
        self._arm_max_runtime(run)
        job = self._registry.owner(run.job_name)
        if job is None:
            return
        soonest = self._clock.now() + timedelta(seconds=1)
        for action_run in run.action_runs:
            if not action_run.triggered_by or action_run.state.is_done:
                continue
            action = job.config.actions.get(action_run.action_name)
            limit = (action.trigger_timeout if action else None) or _TRIGGER_TIMEOUT
            key = TimerKey(
                TimerKind.TRIGGER_TIMEOUT, run.job_name, run.run_num, action_run.action_name
            )
            when = max(run.run_time + limit, soonest)
            self._timers.set(key, when, self._trigger_timeout(run, action_run.action_name))

    def _trigger_timeout(self, run: JobRun, action_name: str) -> TimerCallback:
        async def expire() -> None:
            await self._dispatcher.update(
                run, lambda r: jr.trigger_timed_out(r, action_name, now=self._clock.now())
            )

        return expire

    def _arm_max_runtime(self, run: JobRun) -> None:
        job = self._registry.owner(run.job_name)
        limit = job.config.max_runtime if job else None
        if limit is None or run.start_time is None or jr.is_finished(run):
            return

        async def expire() -> None:
            current = self._registry.current(run)
            if jr.is_finished(current):
                return
            await self._dispatcher.stop_run(current, reason=f"max_runtime of {limit} exceeded")

        key = TimerKey(TimerKind.MAX_RUNTIME, run.job_name, run.run_num)
        self._timers.set(key, run.start_time + limit, expire)

    async def follow_finished_runs(self, finished: asyncio.Queue[JobRun]) -> None:
        """Act on every run that finished, in order, until cancelled."""
        while True:
            run = await finished.get()
            # Whatever failed (the store, most likely): the job's next run must not be forgotten.
            await until_done(
                functools.partial(self.on_run_done, run),
                what=f"act on the end of {run.id}",
                retry_on=(Exception,),
            )

    async def on_run_done(self, run: JobRun) -> None:
        """A run finished: start the oldest queued run, then keep the schedule going."""
        job = self._registry.jobs.get(run.job_name)
        if job is None:
            return
        async with self._start_decisions.holding(job.name):
            queued = sorted(
                (r for r in job.runs.values() if jr.job_run_state(r) is ActionRunState.QUEUED),
                key=lambda r: r.run_num,
            )
            if queued and not self.paused:
                await self._start_or_hold(job, queued[0])
        await self.ensure_scheduled(job)

    # -- manual runs and switches --------------------------------------------------------

    async def start_manual(
        self, job: JobRuntime, *, run_time: datetime | None, request_key: str | None = None
    ) -> list[JobRun]:
        """Manual runs start at once, whatever else runs (spec 5.9)."""
        when = run_time or self._clock.now()
        runs: list[JobRun] = []
        for node in self.nodes_for_run(job):
            slot = f"manual:{request_key}@{node}" if request_key else None
            run = await self.create_run(
                job, run_time=when, manual=True, node=node, slot=slot, start=True
            )
            if run is None:
                raise ConflictError(f"request {request_key} was already handled")
            runs.append(run)
        return runs

    async def rerun(self, job: JobRuntime, source: JobRun) -> JobRun:
        node = source.node or self._nodes.pick(job.config.node)
        run = await self.create_run(
            job, run_time=source.run_time, manual=True, node=node, slot=None, start=True
        )
        assert run is not None  # no slot given, so nothing can refuse it
        return run

    async def cancel_pending(self, job: JobRuntime) -> None:
        """Cancel the runs waiting for their time or turn (the job is off, or gone)."""
        for run in list(job.runs.values()):
            if jr.is_pending(run):
                self._timers.cancel(TimerKey(TimerKind.RUN, run.job_name, run.run_num))
                await self._dispatcher.update(
                    run, lambda r: jr.cancel_job_run(r, now=self._clock.now())
                )

    async def disable(self, job: JobRuntime) -> None:
        job.enabled = False
        job.touch()
        await self._store.set_job_enabled(job.name, False)
        await self.cancel_pending(job)

    async def enable(self, job: JobRuntime) -> None:
        if job.enabled:
            return
        job.enabled = True
        job.touch()
        await self._store.set_job_enabled(job.name, True)
        await self.schedule_from_now(job, tag="enable")

    # -- removing runs -------------------------------------------------------------------

    async def delete_run(self, job: JobRuntime, run: JobRun) -> None:
        """Forget a run: its record, its timers and its output."""
        async with self._writer.holding(run):
            await self._store.delete_job_run(run.job_name, run.run_num)
            job.runs.pop(run.run_num, None)
            job.touch()
            self._timers.cancel_all(run.job_name, run.run_num)

    async def prune(self, job: JobRuntime) -> None:
        """Drop the oldest runs past run_limit, with their output (spec 5.6), as Tron does:
        by creation, a pending run included (the job gets its next one when a run ends,
        `on_run_done`). Never the newest run, nor one whose actions may still be running:
        forgetting it would lose sight of its processes."""
        limit = job.config.run_limit
        candidates = sorted(job.runs.values(), key=lambda r: r.run_num)[:-1]
        excess = len(job.runs) - limit
        for run in candidates:
            if excess <= 0:
                break
            if jr.is_active(run) or jr.has_open_attempt(run):
                continue
            await self.delete_run(job, run)
            self._remove_output(run)
            excess -= 1

    def _remove_output(self, run: JobRun) -> None:
        namespace, _, name = run.job_name.partition(".")
        path: Path = self._output_root / namespace / name / str(run.run_num)
        shutil.rmtree(path, ignore_errors=True)
