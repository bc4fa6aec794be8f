"""The commands an operator sends (tronctl, the API, the web UI), with Tron's result texts."""

from __future__ import annotations

from datetime import datetime

from tron.core import job_run as jr
from tron.core.records import JobRun
from tron.core.states import ActionRunState
from tron.engine.clock import Clock
from tron.engine.dispatch import Dispatcher
from tron.engine.registry import Registry
from tron.engine.scheduling import Scheduler
from tron.engine.timers import TimerKey, TimerKind, Timers
from tron.errors import (
    CommandRefusedError,
    ConflictError,
    InvalidTransitionError,
    UnknownCommandError,
)


class ActionCommandError(ConflictError):
    """An action-run command invalid in its state (Tron answers 409 with this text)."""

    def __init__(self, command: str, action_name: str, state: str) -> None:
        super().__init__(f"Failed to {command} on {action_name}. State is {state}.")


_STOPPED = "stopped by operator"
_KILLED = "killed by operator"

JOB_COMMANDS = ("enable", "disable", "start")
JOB_RUN_COMMANDS = ("start", "success", "cancel", "fail", "stop", "restart", "rerun")
ACTION_COMMANDS = (
    "start",
    "success",
    "cancel",
    "fail",
    "skip",
    "stop",
    "kill",
    "retry",
    "recover",
)


class Commands:
    """Applies operator commands to live jobs; returns the `result` text Tron returns.

    A command Tron refuses with 200 and a `result` text (cancel of a finished run, start of
    an action in a scheduled run, ...) raises CommandRefusedError with that text.

    Every command returns once its decision is durable; launches and signals it asks for are
    carried out in the background.
    """

    def __init__(
        self,
        *,
        registry: Registry,
        scheduler: Scheduler,
        dispatcher: Dispatcher,
        timers: Timers,
        clock: Clock,
        published: set[str],
    ) -> None:
        self.scheduler = scheduler
        self.dispatcher = dispatcher
        self.registry = registry
        self._timers = timers
        self._clock = clock
        self._published = published

    async def job(
        self,
        name: str,
        command: str,
        *,
        run_time: datetime | None = None,
        request_key: str | None = None,
    ) -> str:
        job = self.registry.get_job(name)
        if command == "enable":
            await self.scheduler.enable(job)
            return f"Job:{name} is enabled"
        if command == "disable":
            await self.scheduler.disable(job)
            return f"Job:{name} is disabled"
        if command == "start":
            runs = await self.scheduler.start_manual(
                job, run_time=run_time, request_key=request_key
            )
            return "Created " + ",".join(f"JobRun:{r.id}" for r in runs)
        raise UnknownCommandError(command, name)

    async def job_run(self, job_name: str, ref: str, command: str) -> str:
        run = self.registry.get_run(job_name, ref)
        job = self.registry.get_job(job_name)
        if command in ("rerun", "restart"):
            new = await self.scheduler.rerun(job, run)
            return f"Created JobRun:{new.id}"
        if command == "retry":
            raise UnknownCommandError(command, f"JobRun:{run.id}", ". Did you mean 'rerun'?")
        if command not in JOB_RUN_COMMANDS:
            raise UnknownCommandError(command, f"JobRun:{run.id}")
        try:
            run = await self._job_run_command(run, command)
        except ConflictError as exc:
            state = jr.job_run_state(self.registry.current(run)).value
            refusal = f"Failed to {command}, JobRun:{run.id} in state {state}"
            raise CommandRefusedError(refusal) from exc
        return f"JobRun:{run.id} now in state {jr.job_run_state(run).value}"

    async def _job_run_command(self, run: JobRun, command: str) -> JobRun:
        if command == "start":
            if jr.job_run_state(run) not in (ActionRunState.SCHEDULED, ActionRunState.QUEUED):
                raise ConflictError("not startable")
            self._timers.cancel(TimerKey(TimerKind.RUN, run.job_name, run.run_num))
            started = await self.scheduler.start_run(run, scheduled=False)
            await self.scheduler.ensure_scheduled(self.registry.get_job(run.job_name))
            return started
        if command == "stop":
            await self.dispatcher.stop_run(run, reason=_STOPPED)
            return self.registry.current(run)
        now = self._clock.now()
        return await self.dispatcher.update(
            run, lambda r: jr.apply_job_run_command(r, command, now=now)
        )

    async def action_run(
        self,
        job_name: str,
        ref: str,
        action_name: str,
        command: str,
        *,
        use_latest_command: bool = False,
    ) -> str:
        run = self.registry.get_run(job_name, ref)
        action_run = self.registry.get_action_run(run, action_name)
        label = f"ActionRun: {action_run.id}"
        if command not in ACTION_COMMANDS:
            raise UnknownCommandError(command, label)
        if command in ("stop", "kill"):
            return await self._stop(run, action_name, kill=command == "kill")
        if command == "recover":
            if action_run.state is not ActionRunState.UNKNOWN:
                raise CommandRefusedError(
                    "Action run cannot be recovered if its state is not unknown."
                )
            raise ActionCommandError(command, action_name, action_run.state.value)
        now = self._clock.now()
        try:
            run = await self.dispatcher.update(
                run,
                lambda r: jr.apply_action_command(
                    r,
                    action_name,
                    command,
                    now=now,
                    use_latest_command=use_latest_command,
                    published=self._published,
                ),
            )
        except InvalidTransitionError as exc:
            raise ActionCommandError(command, action_name, exc.state) from exc
        state = self.registry.get_action_run(run, action_name).state.value
        if command == "retry":
            return f"Retrying {label}"
        return f"{label} now in state {state}"

    async def _stop(self, run: JobRun, action_name: str, *, kill: bool) -> str:
        command = "kill" if kill else "stop"
        label = f"ActionRun: {self.registry.get_action_run(run, action_name).id}"
        # A retry waiting out its delay ends failed (-3), a process gets the signal (spec 5.4).
        try:
            await self.dispatcher.stop(
                run, action_name, kill=kill, reason=_KILLED if kill else _STOPPED
            )
        except InvalidTransitionError as exc:
            raise CommandRefusedError(f"Failed to {command}: {label} is not running") from exc
        return f"Attempting to {command} {label}"
