"""When job runs are created and started: schedules, overlap, queueing, catch-up, run_limit."""

from __future__ import annotations

import logging
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from tron.core import job_run as jr
from tron.core.records import JobRun
from tron.core.states import ActionRunState
from tron.engine.clock import Clock
from tron.engine.dispatch import Dispatcher
from tron.engine.registry import JobRuntime, Registry
from tron.engine.timers import TimerCallback
from tron.errors import ConflictError

logger = logging.getLogger(__name__)

_ACTIVE = frozenset({ActionRunState.RUNNING, ActionRunState.STARTING, ActionRunState.WAITING})
_PENDING = frozenset({ActionRunState.SCHEDULED, ActionRunState.QUEUED})
# How many missed slots a catch-up computation looks at before giving up on exactness.
_MAX_SLOT_SCAN = 100_000
_TRIGGER_TIMEOUT = timedelta(days=1)


def slot_key(job: JobRuntime, when: datetime, node: str) -> str:
    """The name of a scheduled launch: each may be taken once (exactly-once starts)."""
    return f"{when.isoformat()}@{node}" if job.config.all_nodes else when.isoformat()


def is_pending(run: JobRun) -> bool:
    return not run.manual and jr.job_run_state(run) in _PENDING and run.start_time is None


def is_active(run: JobRun) -> bool:
    return jr.job_run_state(run) in _ACTIVE


class Scheduler:
    """Creates scheduled runs (exactly once per slot), fires them, queues or cancels them."""

    def __init__(
        self,
        *,
        dispatcher: Dispatcher,
        clock: Clock,
        context: dict[str, object],
        rng: random.Random | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.clock = clock
        self.context = context
        self.paused = False
        self._rng = rng or random.Random()
        dispatcher.on_run_done = self.on_run_done

    @property
    def registry(self) -> Registry:
        return self.dispatcher.registry

    # -- creating runs -------------------------------------------------------------------

    async def create_run(
        self, job: JobRuntime, *, run_time: datetime, manual: bool, node: str, slot: str | None
    ) -> JobRun | None:
        """Build, persist (taking `slot`) and register a new run; None if the slot was taken."""
        num = job.take_run_num()
        hostname = self.dispatcher.nodes.node(node).hostname if node else None
        run = jr.create_job_run(
            job.config,
            run_num=num,
            run_time=run_time,
            manual=manual,
            node=node,
            context={**self.context, "node_hostname": hostname},
            last_success=self._last_success(job),
        )
        if not await self.dispatcher.store.create_job_run(run, slot=slot):
            logger.info("slot %s of %s already taken; not creating it again", slot, job.name)
            return None
        job.runs[run.run_num] = run
        job.touch()
        self.dispatcher.metrics.job_runs_created.inc()
        self.dispatcher.events.publish("job_run", id=str(run.id), state=jr.job_run_state(run).value)
        await self.prune(job)
        return run

    @staticmethod
    def _last_success(job: JobRuntime) -> datetime | None:
        for run in job.runs_newest_first():
            if jr.job_run_state(run) is ActionRunState.SUCCEEDED:
                return run.run_time
        return None

    def nodes_for_run(self, job: JobRuntime) -> list[str]:
        if job.config.all_nodes:
            return list(self.dispatcher.nodes.pool(job.config.node))
        return [self.dispatcher.nodes.pick(job.config.node)]

    # -- the schedule --------------------------------------------------------------------

    def next_time(self, job: JobRuntime) -> datetime:
        """The next slot after the newest scheduled run (or now), with catch-up policy."""
        now = self.clock.now()
        newest = next((r for r in job.runs_newest_first() if not r.manual), None)
        after = newest.run_time if newest else now
        schedule = job.config.schedule
        slot = schedule.next_run(after)
        slot = self._catch_up(job, slot, now)
        return slot

    def _catch_up(self, job: JobRuntime, slot: datetime, now: datetime) -> datetime:
        policy = job.config.catch_up
        if slot >= now or (policy.policy == "tron" and policy.window is None):
            return slot
        schedule = job.config.schedule
        if policy.policy == "none":
            return schedule.next_run(now)
        if policy.window is not None and slot < now - policy.window:
            slot = schedule.next_run(now - policy.window - timedelta(microseconds=1))
            if slot >= now:
                return slot
        if policy.policy == "latest":
            return self._latest_slot(job, slot, now)
        if policy.max_runs is not None:
            latest_allowed = self._nth_last_slot(job, slot, now, policy.max_runs)
            return max(slot, latest_allowed)
        return slot

    @staticmethod
    def _slots(job: JobRuntime, first: datetime, now: datetime) -> list[datetime]:
        slots = [first]
        while len(slots) < _MAX_SLOT_SCAN:
            following = job.config.schedule.next_run(slots[-1])
            if following > now:
                break
            slots.append(following)
        return slots

    def _latest_slot(self, job: JobRuntime, first: datetime, now: datetime) -> datetime:
        return self._slots(job, first, now)[-1]

    def _nth_last_slot(self, job: JobRuntime, first: datetime, now: datetime, n: int) -> datetime:
        slots = self._slots(job, first, now)
        return slots[max(len(slots) - max(n, 1), 0)]

    def _jitter(self, job: JobRuntime) -> timedelta:
        spread = int(job.config.schedule.jitter.total_seconds())
        return timedelta(seconds=self._rng.randint(-spread, spread)) if spread else timedelta(0)

    async def ensure_scheduled(self, job: JobRuntime) -> None:
        """Give an enabled job its one pending scheduled run, if it has none."""
        if not job.enabled or self.paused or any(is_pending(r) for r in job.runs.values()):
            return
        await self.schedule_slot(job, self.next_time(job))

    async def schedule_slot(self, job: JobRuntime, slot: datetime, *, tag: str = "") -> None:
        """Create the scheduled run of `slot` (one per node with all_nodes) and arm it.

        `tag` names a new decision about a slot already used (re-enabling a job).
        """
        fire_at = slot + self._jitter(job)
        for node in self.nodes_for_run(job):
            key = slot_key(job, slot, node) + tag
            run = await self.create_run(job, run_time=slot, manual=False, node=node, slot=key)
            if run is not None:
                self.arm(run, fire_at)

    def arm(self, run: JobRun, at: datetime) -> None:
        async def fire() -> None:
            await self.fire(run.job_name, run.run_num)

        self.dispatcher.timers.set(("run", run.job_name, run.run_num), at, fire)

    async def fire(self, job_name: str, run_num: int) -> None:
        """A scheduled run's time came (spec 5.6)."""
        job = self.registry.jobs.get(job_name)
        run = job.runs.get(run_num) if job else None
        if job is None or run is None or self.paused:
            return
        if not job.enabled:
            await self.dispatcher.update(run, lambda r: jr.cancel_job_run(r, now=self.clock.now()))
            return
        if jr.job_run_state(run) is not ActionRunState.SCHEDULED or run.start_time is not None:
            await self.ensure_scheduled(job)
            return
        await self._start_or_hold(job, run)
        await self.ensure_scheduled(job)

    async def _start_or_hold(self, job: JobRuntime, run: JobRun) -> None:
        others = [r for r in job.runs.values() if r.run_num != run.run_num and is_active(r)]
        if job.config.all_nodes:
            others = [r for r in others if r.node == run.node]
        if others and not job.config.allow_overlap:
            if job.config.queueing:
                await self.dispatcher.update(run, lambda r: (jr.queue_job_run(r), []))
            else:
                await self.dispatcher.update(
                    run, lambda r: jr.cancel_job_run(r, now=self.clock.now())
                )
            return
        await self.start_run(run, scheduled=True)

    async def start_run(self, run: JobRun, *, scheduled: bool) -> JobRun:
        now = self.clock.now()
        if scheduled:
            lateness = max((now - run.run_time).total_seconds(), 0.0)
            self.dispatcher.metrics.lateness.observe(lateness)
            self._arm_max_runtime(run, now)
        self.dispatcher.metrics.runs_started.labels(job=run.job_name).inc()
        started = await self.dispatcher.update(
            run,
            lambda r: jr.start_job_run(
                r, now=self.clock.now(), published=self.dispatcher.published
            ),
        )
        self.arm_trigger_timeouts(started)
        return started

    def arm_trigger_timeouts(self, run: JobRun) -> None:
        """Fail actions still missing triggers at run_time + trigger_timeout (spec 5.8)."""
        job = self.registry.jobs.get(run.job_name)
        if job is None:
            return
        soonest = self.clock.now() + timedelta(seconds=1)
        for action_run in run.action_runs:
            if not action_run.triggered_by or action_run.state.is_done:
                continue
            action = job.config.actions.get(action_run.action_name)
            limit = (action.trigger_timeout if action else None) or _TRIGGER_TIMEOUT
            key = ("trigger_timeout", run.job_name, run.run_num, action_run.action_name)
            when = max(run.run_time + limit, soonest)
            self.dispatcher.timers.set(
                key, when, self._trigger_timeout(run, action_run.action_name)
            )

    def _trigger_timeout(self, run: JobRun, action_name: str) -> TimerCallback:
        async def expire() -> None:
            await self.dispatcher.update(
                run, lambda r: jr.trigger_timed_out(r, action_name, now=self.clock.now())
            )

        return expire

    def _arm_max_runtime(self, run: JobRun, now: datetime) -> None:
        job = self.registry.jobs.get(run.job_name)
        limit = job.config.max_runtime if job else None
        if limit is None:
            return

        async def expire() -> None:
            current = self.registry.current(run)
            if jr.is_finished(current):
                return
            await self.dispatcher.stop_run(current, reason=f"max_runtime of {limit} exceeded")

        self.dispatcher.timers.set(("max_runtime", run.job_name, run.run_num), now + limit, expire)

    async def on_run_done(self, run: JobRun) -> None:
        """A run finished: start the oldest queued run, then keep the schedule going."""
        job = self.registry.jobs.get(run.job_name)
        if job is None:
            return
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
        when = run_time or self.clock.now()
        runs: list[JobRun] = []
        for node in self.nodes_for_run(job):
            slot = f"manual:{request_key}@{node}" if request_key else None
            run = await self.create_run(job, run_time=when, manual=True, node=node, slot=slot)
            if run is None:
                raise ConflictError(f"request {request_key} was already handled")
            runs.append(await self.start_run(run, scheduled=False))
        return runs

    async def rerun(self, job: JobRuntime, source: JobRun) -> JobRun:
        node = source.node or self.dispatcher.nodes.pick(job.config.node)
        run = await self.create_run(
            job, run_time=source.run_time, manual=True, node=node, slot=None
        )
        assert run is not None  # no slot given, so nothing can refuse it
        return await self.start_run(run, scheduled=False)

    async def disable(self, job: JobRuntime) -> None:
        job.enabled = False
        job.touch()
        await self.dispatcher.store.set_job_enabled(job.name, False)
        for run in list(job.runs.values()):
            if jr.job_run_state(run) in _PENDING and run.start_time is None:
                self.dispatcher.timers.cancel(("run", run.job_name, run.run_num))
                await self.dispatcher.update(
                    run, lambda r: jr.cancel_job_run(r, now=self.clock.now())
                )

    async def enable(self, job: JobRuntime) -> None:
        if job.enabled:
            return
        job.enabled = True
        job.touch()
        await self.dispatcher.store.set_job_enabled(job.name, True)
        # Tron skips the intervals missed while disabled: schedule from now. The slot may
        # belong to a run `disable` cancelled before it started, hence a slot name of its own.
        slot = job.config.schedule.next_run(self.clock.now())
        await self.schedule_slot(job, slot, tag=f"#enable{job.next_run_num}")

    # -- run_limit -----------------------------------------------------------------------

    async def prune(self, job: JobRuntime) -> None:
        """Drop the oldest runs past run_limit, with their output; never a running one."""
        limit = job.config.run_limit
        candidates = sorted(job.runs.values(), key=lambda r: r.run_num)
        excess = len(candidates) - limit
        for run in candidates:
            if excess <= 0:
                break
            if is_active(run) or is_pending(run):
                continue
            await self.dispatcher.store.delete_job_run(run.job_name, run.run_num)
            del job.runs[run.run_num]
            job.touch()
            self._remove_output(run)
            excess -= 1

    def _remove_output(self, run: JobRun) -> None:
        namespace, _, name = run.job_name.partition(".")
        path: Path = self.dispatcher.output_root / namespace / name / str(run.run_num)
        shutil.rmtree(path, ignore_errors=True)
