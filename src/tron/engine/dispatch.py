"""Carries out the core's decisions: starts action runs on executors, watches them end,
and persists every change before acting on it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path

from tron.core import job_run as jr
from tron.core.effects import (
    Effect,
    JobRunDone,
    KillAction,
    PublishTrigger,
    ScheduleRetry,
    StartAction,
)
from tron.core.records import ActionRun, JobRun
from tron.core.states import ActionRunState
from tron.engine.clock import Clock
from tron.engine.events import EventHub
from tron.engine.metrics import Metrics
from tron.engine.nodes import NodeExecutors
from tron.engine.persist import changed_action_runs, commit_run
from tron.engine.registry import Registry
from tron.engine.timers import Timers
from tron.errors import NodeError, StoreError
from tron.executors.base import EXIT_NODE_ERROR, ActionSpec, ExitStatus, Handle
from tron.store.base import Store

logger = logging.getLogger(__name__)

# Launches in flight at once; more would only queue in the kernel and the node's sshd.
MAX_CONCURRENT_LAUNCHES = 64
# At most this many `starting` marks ride along with the decision that made them.
_FOLD_STARTS = 8

RunChange = Callable[[JobRun], tuple[JobRun, Sequence[Effect]]]
RunDoneCallback = Callable[[JobRun], Awaitable[None]]


def output_dir(root: Path, action_run: ActionRun, attempt: int) -> Path:
    """Where one attempt's output and supervisor records live (Tron's layout plus attempt)."""
    namespace, _, job = action_run.job_name.partition(".")
    return root / namespace / job / str(action_run.run_num) / action_run.action_name / str(attempt)


def action_env(action_run: ActionRun) -> dict[str, str]:
    namespace, _, job = action_run.job_name.partition(".")
    return {
        **action_run.env,
        "TRON_JOB_NAMESPACE": namespace,
        "TRON_JOB_NAME": job,
        "TRON_RUN_NUM": str(action_run.run_num),
        "TRON_ACTION": action_run.action_name,
    }


class Dispatcher:
    """Turns effects into store writes and executor calls, and exits back into the core."""

    def __init__(
        self,
        *,
        registry: Registry,
        store: Store,
        nodes: NodeExecutors,
        clock: Clock,
        timers: Timers,
        output_root: Path,
        events: EventHub,
        metrics: Metrics,
    ) -> None:
        self.registry = registry
        self.store = store
        self.nodes = nodes
        self.clock = clock
        self.timers = timers
        self.output_root = output_root
        self.events = events
        self.metrics = metrics
        self.on_run_done: RunDoneCallback | None = None
        self.handles: dict[str, Handle] = {}
        self._watchers: set[asyncio.Task[None]] = set()
        self._published: set[str] = set()
        self._launch_gate = asyncio.Semaphore(MAX_CONCURRENT_LAUNCHES)

    # -- persistence ---------------------------------------------------------------------

    async def commit(self, old: JobRun, new: JobRun) -> JobRun:
        """Record `new` in memory and durably; announce what changed."""
        self.registry.put_run(new)
        try:
            await commit_run(self.store, old, new)
        except BaseException:
            # Memory must never run ahead of disk: forget the change, the caller retries.
            if self.registry.current(new) is new:
                self.registry.put_run(old)
            raise
        self._announce(old, new)
        return new

    def _announce(self, old: JobRun, new: JobRun) -> None:
        before = {a.action_name: a.state for a in old.action_runs}
        for action_run in changed_action_runs(old, new):
            if before.get(action_run.action_name) != action_run.state:
                self.events.publish(
                    "action_run", id=str(action_run.id), state=action_run.state.value
                )
        old_state, new_state = jr.job_run_state(old), jr.job_run_state(new)
        if old_state != new_state or old is new:
            self.events.publish("job_run", id=str(new.id), state=new_state.value)

    async def update(self, run: JobRun, change: RunChange) -> JobRun:
        """Apply a core decision to the newest version of `run`, persist it, then act on it."""
        current = self.registry.current(run)
        new, effects = change(current)
        new, marked = self._mark_starting(new, effects)
        await self.commit(current, new)
        await self.apply(new, effects, marked=marked)
        return self.registry.current(new)

    def _mark_starting(self, run: JobRun, effects: Sequence[Effect]) -> tuple[JobRun, set[str]]:
        """Fold `starting` of a few actions about to launch into the same commit as the
        decision that started them: one durable write less before each launch. Only a few:
        a `starting` action whose launch never happened is lost to a crash, so never more
        than could be launching at once anyway."""
        names = [e.action_name for e in effects if isinstance(e, StartAction)]
        if not names or len(names) > _FOLD_STARTS:
            return run, set()
        marked = set()
        now = self.clock.now()
        for name in names:
            action_run = run.find_action_run(name)
            if action_run is None:
                continue
            after = jr.action_starting(run, name, now=now, node=self._safe_node(run, action_run))
            if self.registry.get_action_run(after, name).state is ActionRunState.STARTING:
                run = after
                marked.add(name)
        return run, marked

    # -- effects -------------------------------------------------------------------------

    @property
    def published(self) -> set[str]:
        return self._published

    async def apply(
        self, run: JobRun, effects: Iterable[Effect], *, marked: set[str] | None = None
    ) -> None:
        """Carry out effects; actions in `marked` are already durably `starting`."""
        effects = list(effects)
        starts = [e.action_name for e in effects if isinstance(e, StartAction)]
        if starts:
            # Independent actions launch side by side, as many at once as the gate allows.
            await asyncio.gather(
                *(self._gated_start(run, name, name in (marked or ())) for name in starts)
            )
        for effect in effects:
            if isinstance(effect, ScheduleRetry):
                self.arm_retry(run, effect.action_name, effect.at)
            elif isinstance(effect, KillAction):
                await self.signal_action(run, effect.action_name, effect.signal)
            elif isinstance(effect, PublishTrigger):
                await self.publish_trigger(effect.event_id)
            elif isinstance(effect, JobRunDone):
                await self._run_done(run, effect.state)

    async def _run_done(self, run: JobRun, state: ActionRunState) -> None:
        run = self.registry.current(run)
        outcome = "success" if state is ActionRunState.SUCCEEDED else "fail"
        self.metrics.job_runs_completed.labels(outcome=outcome).inc()
        counter = self.metrics.runs_succeeded if outcome == "success" else self.metrics.runs_failed
        counter.labels(job=run.job_name).inc()
        self.timers.cancel(("max_runtime", run.job_name, run.run_num))
        if self.on_run_done is not None:
            await self.on_run_done(run)

    def arm_retry(self, run: JobRun, action_name: str, at: datetime) -> None:
        """Start the next attempt of `action_name` at `at` (also re-armed after a restart)."""

        async def fire() -> None:
            await self.update(run, lambda r: jr.retry_due(r, action_name, now=self.clock.now()))

        self.timers.set(("retry", run.job_name, run.run_num, action_name), at, fire)

    async def publish_trigger(self, event_id: str) -> None:
        if event_id in self._published:
            return
        await self.store.add_event(event_id)
        self._published.add(event_id)
        self.events.publish("trigger", id=event_id)
        for job in list(self.registry.jobs.values()):
            for run in list(job.runs.values()):
                if self._waits_for(run, event_id):
                    await self.update(
                        run, lambda r: jr.trigger_published(r, event_id, now=self.clock.now())
                    )

    @staticmethod
    def _waits_for(run: JobRun, event_id: str) -> bool:
        return any(
            a.state is ActionRunState.WAITING and event_id in a.triggered_by
            for a in run.action_runs
        )

    # -- starting and watching -----------------------------------------------------------

    async def _gated_start(self, run: JobRun, action_name: str, marked: bool) -> None:
        async with self._launch_gate:
            if marked:
                await self._launch(self.registry.current(run), action_name)
            else:
                await self.start_action(run, action_name)

    def _safe_node(self, run: JobRun, action_run: ActionRun) -> str | None:
        try:
            return self._node_for(run, action_run)
        except NodeError:
            return run.node

    def _node_for(self, run: JobRun, action_run: ActionRun) -> str | None:
        job = self.registry.jobs.get(run.job_name)
        action = job.config.actions.get(action_run.action_name) if job else None
        if action is not None and action.node:
            return self.nodes.pick(action.node)
        return run.node

    async def start_action(self, run: JobRun, action_name: str) -> None:
        run = self.registry.current(run)
        action_run = self.registry.get_action_run(run, action_name)
        node_name = self._safe_node(run, action_run)
        now = self.clock.now()
        run = await self.commit(run, jr.action_starting(run, action_name, now=now, node=node_name))
        await self._launch(run, action_name)

    async def _launch(self, run: JobRun, action_name: str) -> None:
        """Start an action run already durably `starting` on its executor."""
        action_run = self.registry.get_action_run(run, action_name)
        if action_run.state is not ActionRunState.STARTING:
            return
        node_name = action_run.node
        current = action_run.current_attempt
        attempt = current.number if current else 0
        try:
            spec = ActionSpec(
                action_run_id=str(action_run.id),
                attempt=attempt,
                command=action_run.command or "",
                output_dir=output_dir(self.output_root, action_run, attempt),
                env=action_env(action_run),
                node=self.nodes.remote_node(node_name),
            )
            executor = self.nodes.executor(node_name)
            handle = await executor.start(spec)
        except (NodeError, ValueError) as exc:
            # ValueError: a command the OS refuses to carry (an embedded NUL byte).
            logger.warning("could not start %s on %s: %s", action_run.id, node_name, exc)
            self.metrics.executor_errors.labels(node=str(node_name)).inc()
            await self.on_exit(
                run, action_name, ExitStatus(exit_code=EXIT_NODE_ERROR, reason=str(exc))
            )
            return
        self.metrics.action_runs_created.labels(executor=self.nodes.executor_kind(node_name)).inc()
        # Both in one commit: if only the state lands, recovery finds the attempt by its dir.
        await asyncio.gather(
            self.store.save_handle(str(action_run.id), handle.to_record()),
            self.update(
                run, lambda r: (jr.action_started(r, action_name, now=self.clock.now()), [])
            ),
        )
        self.watch(run, action_name, handle)
        self._arm_late(run, action_name)

    def _arm_late(self, run: JobRun, action_name: str) -> None:
        """Flag an action still running past its expected_runtime (log, event, metric)."""
        job = self.registry.jobs.get(run.job_name)
        action = job.config.actions.get(action_name) if job else None
        if action is None:
            return
        expected = action.expected_runtime

        async def check() -> None:
            current = self.registry.get_action_run(self.registry.current(run), action_name)
            if current.state.is_active:
                logger.warning("%s is late: running longer than %s", current.id, expected)
                self.metrics.action_runs_late.labels(job=run.job_name).inc()
                self.events.publish("late", id=str(current.id), expected_runtime=str(expected))

        key = ("late", run.job_name, run.run_num, action_name)
        self.timers.set(key, self.clock.now() + expected, check)

    def watch(self, run: JobRun, action_name: str, handle: Handle) -> None:
        """Wait for the attempt to end in the background, then record how it ended."""
        self.handles[handle.action_run_id] = handle
        task = asyncio.create_task(self._watch(run, action_name, handle))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _watch(self, run: JobRun, action_name: str, handle: Handle) -> None:
        while True:
            status = await self._wait(handle)
            if status.final:
                await self._record_exit(run, action_name, status)
                return
            # Lost sight of it, but it may still run: unknown now, settled when seen again.
            logger.warning("%s is unknown for now: %s", handle.action_run_id, status.reason)
            await self.update(run, self._lost_sight(action_name, status.reason))

    def _lost_sight(self, action_name: str, reason: str | None) -> RunChange:
        def change(run: JobRun) -> tuple[JobRun, Sequence[Effect]]:
            return jr.action_exited(
                run, action_name, exit_status=None, now=self.clock.now(), reason=reason
            )

        return change

    async def _record_exit(self, run: JobRun, action_name: str, status: ExitStatus) -> None:
        """Record an exit, retrying while the store cannot write (full disk, locked file)."""
        delay = 0.5
        while True:
            try:
                action_run = self.registry.get_action_run(self.registry.current(run), action_name)
                attempt = action_run.current_attempt
                if attempt is not None and not attempt.is_finished:
                    # Also when cancelled or marked by hand meanwhile: the attempt keeps its
                    # real exit status.
                    await self.on_exit(run, action_name, status)
                else:
                    # The exit is on disk; what followed from it may not be: do it again.
                    await self.update(
                        run, lambda r: jr.settle(r, now=self.clock.now(), published=self.published)
                    )
                return
            except StoreError as exc:
                logger.error(
                    "cannot record the end of %s.%s (retrying in %.0fs): %s",
                    run.id,
                    action_name,
                    delay,
                    exc,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _wait(self, handle: Handle) -> ExitStatus:
        try:
            return await self.nodes.executor(handle.node).wait(handle)
        except NodeError as exc:
            return ExitStatus(exit_code=None, reason=str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("watching %s failed", handle.action_run_id)
            return ExitStatus(exit_code=None, reason=f"watch failed: {exc}")

    async def on_exit(self, run: JobRun, action_name: str, status: ExitStatus) -> None:
        action_run = self.registry.get_action_run(self.registry.current(run), action_name)
        reason = action_run.reason or status.reason
        outcome = "success" if status.exit_code == 0 else "fail"
        if status.exit_code is None:
            outcome = "fail_unknown"
        self.metrics.action_runs_completed.labels(
            executor=self.nodes.executor_kind(action_run.node),
            outcome=outcome,
            exit_status=str(status.exit_code),
        ).inc()
        await self.update(
            run,
            lambda r: jr.action_exited(
                r, action_name, exit_status=status.exit_code, now=self.clock.now(), reason=reason
            ),
        )
        # The stored handle stays (recovery ignores handles of ended or older attempts) and
        # goes with its run: one durable write less per action.
        self.handles.pop(str(action_run.id), None)
        self.timers.cancel(("late", run.job_name, run.run_num, action_name))

    async def signal_action(self, run: JobRun, action_name: str, signum: int) -> bool:
        """Signal a running attempt's process group; False when nothing runs."""
        action_run = self.registry.get_action_run(self.registry.current(run), action_name)
        handle = self.handles.get(str(action_run.id))
        if handle is None:
            return False
        await self.nodes.executor(handle.node).signal(handle, signum)
        return True

    async def stop(self, run: JobRun, action_name: str, *, kill: bool, reason: str) -> None:
        """Stop (SIGTERM) or kill (SIGKILL) one action run, recording why, ending its retries.

        Raises InvalidTransitionError when it has neither a process nor a retry delay.
        """
        self.timers.cancel(("retry", run.job_name, run.run_num, action_name))
        command = "kill" if kill else "stop"
        await self.update(
            run,
            lambda r: jr.apply_action_command(
                r, action_name, command, now=self.clock.now(), reason=reason
            ),
        )

    async def stop_run(self, run: JobRun, *, reason: str) -> None:
        """Stop every action run of a job run (`max_runtime`, a job-run `stop`)."""
        for action_run in run.action_runs:
            self.timers.cancel(("retry", run.job_name, run.run_num, action_run.action_name))
        await self.update(run, lambda r: jr.stop_job_run(r, now=self.clock.now(), reason=reason))

    async def close(self) -> None:
        """Stop watching (the actions themselves keep running, detached)."""
        for task in list(self._watchers):
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
