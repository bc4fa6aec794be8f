"""Carries out the core's decisions: every change through the run writer, launches through
the launch queue, exits back into the core."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from pathlib import Path
from typing import Any

from tron.core import job_run as jr
from tron.core.action_run import EXIT_INVALID_COMMAND, is_render_failed
from tron.core.effects import (
    Effect,
    JobRunDone,
    KillAction,
    PublishTrigger,
    ScheduleRetry,
    StartAction,
)
from tron.core.progress import INVALID_COMMAND_REASON
from tron.core.records import ActionRun, JobRun
from tron.core.rendering import LiveContext
from tron.core.states import ActionRunState
from tron.engine.clock import Clock
from tron.engine.events import EventHub
from tron.engine.launch import Launch, LaunchQueue
from tron.engine.metrics import Metrics
from tron.engine.nodes import NodeExecutors
from tron.engine.registry import Registry
from tron.engine.retrying import until_done
from tron.engine.timers import TimerKey, TimerKind, Timers
from tron.engine.writer import Decision, RunWriter
from tron.errors import NodeError, StoreError
from tron.executors.base import EXIT_NODE_ERROR, ActionSpec, ExitStatus, Handle
from tron.store.base import Store

logger = logging.getLogger(__name__)

Write = Callable[[], Awaitable[object]]


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


def _key(kind: TimerKind, run: JobRun, action_name: str | None = None) -> TimerKey:
    return TimerKey(kind, run.job_name, run.run_num, action_name)


class Dispatcher:
    """Turns effects into durable changes, launches, signals and timers."""

    def __init__(
        self,
        *,
        registry: Registry,
        writer: RunWriter,
        store: Store,
        nodes: NodeExecutors,
        clock: Clock,
        timers: Timers,
        output_root: Path,
        events: EventHub,
        metrics: Metrics,
        finished: asyncio.Queue[JobRun],
        published: set[str],
        context: Mapping[str, object],
        gate: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._registry = registry
        self._writer = writer
        self._store = store
        self._nodes = nodes
        self._clock = clock
        self._timers = timers
        self._output_root = output_root
        self._events = events
        self._metrics = metrics
        self._finished = finished
        self._published = published
        # MASTER `command_context` as configured now (reconfiguration updates it in place):
        # each attempt's command is rendered with it.
        self._context = context
        # Waited on before each launch: a leader whose lease is in doubt launches nothing.
        self._gate = gate
        self._handles: dict[str, Handle] = {}
        # The last signal sent to each action run's attempt, so a stop is not sent twice.
        self._signalled: dict[str, tuple[int, int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.launches = LaunchQueue(self._launch)

    # -- the ordered path ----------------------------------------------------------------

    async def update(self, run: JobRun, decide: Decision) -> JobRun:
        """Apply a core decision to the newest version of `run`, persist it, then act on it.

        Actions the decision starts are marked `starting` in the same durable write, then
        queued for launch: nothing here waits on an executor.
        """

        def decide_and_mark(current: JobRun) -> tuple[JobRun, Sequence[Effect]]:
            new, effects = decide(current)
            return self._mark_starting(new, effects), effects

        new, effects = await self._writer.change(run, decide_and_mark)
        await self.apply(new, effects)
        return self._registry.current(new)

    def decide_start(
        self, run: JobRun, *, published: AbstractSet[str]
    ) -> tuple[JobRun, list[Effect]]:
        """A new run started at once, its ready actions already `starting` (not yet durable:
        the caller creates the run with them in one write, then applies the effects)."""
        started, effects = jr.start_job_run(run, now=self._clock.now(), published=published)
        return self._mark_starting(started, effects), effects

    def _mark_starting(self, run: JobRun, effects: Sequence[Effect]) -> JobRun:
        now = self._clock.now()
        for effect in effects:
            if not isinstance(effect, StartAction):
                continue
            action_run = run.find_action_run(effect.action_name)
            if action_run is None or action_run.state.is_active:
                continue
            node = self._safe_node(run, action_run)
            live = self._live_context(run)
            run = jr.action_starting(run, effect.action_name, now=now, node=node, live=live)
        return run

    def _live_context(self, run: JobRun) -> LiveContext:
        job = self._registry.owner(run.job_name)
        return LiveContext(self._context, job.last_success if job else lambda: run.last_success)

    async def apply(self, run: JobRun, effects: Iterable[Effect]) -> None:
        """Carry out effects of a change already durable."""
        for effect in effects:
            if isinstance(effect, StartAction):
                self.queue_launch(run, effect.action_name)
            elif isinstance(effect, ScheduleRetry):
                self.arm_retry(run, effect.action_name, effect.at)
            elif isinstance(effect, KillAction):
                self._background(self.signal_action(run, effect.action_name, effect.signal))
            elif isinstance(effect, PublishTrigger):
                await self.deliver_trigger(effect.event_id)
            elif isinstance(effect, JobRunDone):
                self._run_done(run, effect.state)

    def _background(self, work: Coroutine[Any, Any, object]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                logger.exception("background work failed")

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _run_done(self, run: JobRun, state: ActionRunState) -> None:
        # Tron's counter says `fail` only for a failed run (a cancelled or unknown one, say a
        # failed cleanup after good actions, counts as `success` there); ours per job are exact.
        tron_outcome = "fail" if state is ActionRunState.FAILED else "success"
        self._metrics.count(self._metrics.job_runs_completed, tron_outcome)
        metrics = self._metrics
        succeeded = state is ActionRunState.SUCCEEDED
        counter = metrics.runs_succeeded if succeeded else metrics.runs_failed
        metrics.count(counter, run.job_name)
        self._timers.cancel(_key(TimerKind.MAX_RUNTIME, run))
        self._finished.put_nowait(run)

    def arm_retry(self, run: JobRun, action_name: str, at: datetime) -> None:
        """Start the next attempt of `action_name` at `at` (also re-armed after a restart)."""

        async def fire() -> None:
            await self.update(run, lambda r: jr.retry_due(r, action_name, now=self._clock.now()))

        self._timers.set(_key(TimerKind.RETRY, run, action_name), at, fire)

    async def publish_trigger(self, event_id: str) -> None:
        """Publish an event by hand: durably first, then to the runs waiting for it."""
        await self._store.add_event(event_id)
        await self.deliver_trigger(event_id)

    async def deliver_trigger(self, event_id: str) -> None:
        """An event already durable reaches memory and the runs waiting for it."""
        if event_id not in self._published:
            self._published.add(event_id)
            self._events.publish("trigger", id=event_id)
        for job in list(self._registry.jobs.values()):
            for run in list(job.runs.values()):
                if _waits_for(run, event_id):
                    await self.update(
                        run, lambda r: jr.trigger_published(r, event_id, now=self._clock.now())
                    )

    # -- launching -----------------------------------------------------------------------

    def queue_launch(self, run: JobRun, action_name: str) -> None:
        """Queue the launch of the attempt `action_name` is durably `starting`."""
        action_run = run.find_action_run(action_name)
        attempt = action_run.current_attempt if action_run else None
        if action_run is None or attempt is None or action_run.state is not ActionRunState.STARTING:
            return
        self.launches.put(Launch(run.job_name, run.run_num, action_name, attempt.number))

    def _safe_node(self, run: JobRun, action_run: ActionRun) -> str | None:
        try:
            return self._node_for(run, action_run)
        except NodeError:
            return run.node

    def _node_for(self, run: JobRun, action_run: ActionRun) -> str | None:
        job = self._registry.owner(run.job_name)
        action = job.config.actions.get(action_run.action_name) if job else None
        if action is not None and action.node:
            return self._nodes.pick(action.node)
        return run.node

    async def _launch(self, launch: Launch) -> None:
        """Start a queued attempt on its executor, unless it changed meanwhile."""
        if self._gate is not None:
            await self._gate()
        job = self._registry.owner(launch.job_name)
        run = job.runs.get(launch.run_num) if job else None
        action_run = run.find_action_run(launch.action_name) if run else None
        attempt = action_run.current_attempt if action_run else None
        if (
            run is None
            or action_run is None
            or action_run.state is not ActionRunState.STARTING
            or attempt is None
            or attempt.number != launch.attempt
        ):
            return
        if is_render_failed(action_run):
            # Its command could not render when the attempt started: Tron fails it, -1.
            status = ExitStatus(exit_code=EXIT_INVALID_COMMAND, reason=INVALID_COMMAND_REASON)
            await self.record_exit(run, launch.action_name, status)
            return
        node_name = action_run.node
        try:
            spec = ActionSpec(
                action_run_id=str(action_run.id),
                attempt=attempt.number,
                command=action_run.command or "",
                output_dir=output_dir(self._output_root, action_run, attempt.number),
                env=action_env(action_run),
                node=self._nodes.remote_node(node_name),
            )
            handle = await self._nodes.executor(node_name).start(spec)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # NodeError, or ValueError for a command the OS refuses to carry (an embedded NUL
            # byte), or anything unforeseen: the attempt did not start, and must not stay
            # `starting` until the next restart.
            logger.warning("could not start %s on %s: %s", action_run.id, node_name, exc)
            self._metrics.executor_errors.labels(node=str(node_name)).inc()
            status = ExitStatus(exit_code=EXIT_NODE_ERROR, reason=str(exc))
            await self.record_exit(run, launch.action_name, status)
            return
        metrics = self._metrics
        metrics.count(metrics.action_runs_created, self._nodes.executor_kind(node_name))
        await self.started(run, launch.action_name, handle)
        # A stop asked while it was launching found no process to signal: it has one now.
        self.resend_stop(run, launch.action_name)

    async def started(self, run: JobRun, action_name: str, handle: Handle) -> None:
        """The attempt runs: `running` and its handle in one durable write, then watch it."""
        self._handles[handle.action_run_id] = handle
        await self._retrying_store(
            run,
            action_name,
            lambda: self._writer.change(
                run,
                lambda r: (_started(r, action_name, self._clock.now()), []),
                handle=(handle.action_run_id, handle.to_record()),
            ),
        )
        self.watch(run, action_name, handle)
        self.arm_late(run, action_name)

    def arm_late(self, run: JobRun, action_name: str) -> None:
        """Flag an action still running past its expected_runtime (log, event, metric)."""
        job = self._registry.owner(run.job_name)
        action = job.config.actions.get(action_name) if job else None
        current = self._registry.current(run).find_action_run(action_name)
        attempt = current.current_attempt if current else None
        if action is None or attempt is None or attempt.start_time is None:
            return
        expected = action.expected_runtime

        async def check() -> None:
            now_run = self._registry.get_action_run(self._registry.current(run), action_name)
            if now_run.state.is_active:
                logger.warning("%s is late: running longer than %s", now_run.id, expected)
                self._metrics.action_runs_late.labels(job=run.job_name).inc()
                self._events.publish("late", id=str(now_run.id), expected_runtime=str(expected))

        key = _key(TimerKind.LATE, run, action_name)
        self._timers.set(key, attempt.start_time + expected, check)

    # -- watching ------------------------------------------------------------------------

    def watch(self, run: JobRun, action_name: str, handle: Handle) -> None:
        """Wait for the attempt to end in the background, then record how it ended."""
        self._handles[handle.action_run_id] = handle
        self._background(self._watch(run, action_name, handle))

    async def _watch(self, run: JobRun, action_name: str, handle: Handle) -> None:
        while True:
            status = await self._wait(handle)
            if status.final:
                await self.record_exit(run, action_name, status, attempt=handle.attempt)
                return
            # Lost sight of it, but it may still run: unknown now, settled when seen again.
            logger.warning("%s is unknown for now: %s", handle.action_run_id, status.reason)
            await self._retrying_store(run, action_name, self._lose_sight(run, action_name, status))

    def _lose_sight(self, run: JobRun, action_name: str, status: ExitStatus) -> Write:
        def lost(current: JobRun) -> tuple[JobRun, list[Effect]]:
            return jr.action_lost(current, action_name, now=self._clock.now(), reason=status.reason)

        return lambda: self.update(run, lost)

    async def _wait(self, handle: Handle) -> ExitStatus:
        try:
            return await self._nodes.executor(handle.node).wait(handle)
        except NodeError as exc:
            return ExitStatus(exit_code=None, reason=str(exc), final=False)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("watching %s failed", handle.action_run_id)
            return ExitStatus(exit_code=None, reason=f"watch failed: {exc}")

    async def record_exit(
        self,
        run: JobRun,
        action_name: str,
        status: ExitStatus,
        *,
        attempt: int | None = None,
    ) -> None:
        """Record how an attempt ended (retrying while the store cannot write) and act on it.

        `attempt` names the attempt that ended; a later attempt's is left alone.
        """
        self._count_exit(run, action_name, status)

        def decide(current: JobRun) -> tuple[JobRun, list[Effect]]:
            action_run = jr.get_action_run(current, action_name)
            open_attempt = action_run.current_attempt
            if open_attempt is None or (attempt is not None and open_attempt.number != attempt):
                return current, []
            reason = action_run.reason or status.reason
            return jr.action_exited(
                current,
                action_name,
                exit_status=status.exit_code,
                now=self._clock.now(),
                reason=reason,
            )

        await self._retrying_store(run, action_name, lambda: self.update(run, decide))
        action_run = self._registry.current(run).find_action_run(action_name)
        if action_run is not None and not action_run.state.is_active:
            self._handles.pop(str(action_run.id), None)
            self._signalled.pop(str(action_run.id), None)
            self._timers.cancel(_key(TimerKind.LATE, run, action_name))

    def _count_exit(self, run: JobRun, action_name: str, status: ExitStatus) -> None:
        action_run = self._registry.current(run).find_action_run(action_name)
        outcome = "success" if status.exit_code == 0 else "fail"
        if status.exit_code is None:
            outcome = "fail_unknown"
        executor = self._nodes.executor_kind(action_run.node if action_run else None)
        metrics = self._metrics
        metrics.count(metrics.action_runs_completed, executor, outcome, str(status.exit_code))

    async def _retrying_store(self, run: JobRun, action_name: str, write: Write) -> None:
        """Run `write` until the store takes it: what happened on a node must not be lost
        because the disk was full for a moment."""
        await until_done(write, what=f"record {run.id}.{action_name}", retry_on=(StoreError,))

    # -- signals and stops ---------------------------------------------------------------

    async def signal_action(self, run: JobRun, action_name: str, signum: int) -> bool:
        """Signal a running attempt's process group; False when nothing runs."""
        action_run = self._registry.get_action_run(self._registry.current(run), action_name)
        handle = self._handles.get(str(action_run.id))
        if handle is None:
            return False
        await self._nodes.executor(handle.node).signal(handle, signum)
        self._signalled[handle.action_run_id] = (handle.attempt, signum)
        return True

    def resend_stop(self, run: JobRun, action_name: str) -> None:
        """Send the running attempt the stop or kill durably asked for it, if any."""
        action_run = self._registry.current(run).find_action_run(action_name)
        attempt = action_run.current_attempt if action_run else None
        if attempt is None or attempt.stop_signal is None or attempt.is_finished:
            return
        assert action_run is not None
        if self._signalled.get(str(action_run.id)) != (attempt.number, attempt.stop_signal):
            self._background(self.signal_action(run, action_name, attempt.stop_signal))

    async def stop(self, run: JobRun, action_name: str, *, kill: bool, reason: str) -> None:
        """Stop (SIGTERM) or kill (SIGKILL) one action run, recording why, ending its retries.

        Raises InvalidTransitionError when it has neither a process nor a retry delay.
        """
        command = "kill" if kill else "stop"
        await self.update(
            run,
            lambda r: jr.apply_action_command(
                r, action_name, command, now=self._clock.now(), reason=reason
            ),
        )
        self._timers.cancel(_key(TimerKind.RETRY, run, action_name))

    async def stop_run(self, run: JobRun, *, reason: str) -> None:
        """Stop every action run of a job run (`max_runtime`, a job-run `stop`)."""
        await self.update(run, lambda r: jr.stop_job_run(r, now=self._clock.now(), reason=reason))
        for action_run in run.action_runs:
            self._timers.cancel(_key(TimerKind.RETRY, run, action_run.action_name))

    async def close(self) -> None:
        """Stop launching and watching (the actions themselves keep running, detached)."""
        await self.launches.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _started(run: JobRun, action_name: str, now: datetime) -> JobRun:
    action_run = jr.get_action_run(run, action_name)
    if action_run.state is not ActionRunState.STARTING:
        return run  # cancelled or marked by hand meanwhile: the handle alone is worth keeping
    return jr.action_started(run, action_name, now=now)


def _waits_for(run: JobRun, event_id: str) -> bool:
    return any(
        a.state is ActionRunState.WAITING and event_id in a.triggered_by for a in run.action_runs
    )
