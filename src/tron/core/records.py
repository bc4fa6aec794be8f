"""The records of runs: job runs, action runs and each attempt of an action run.

Records are immutable; every change is a new record made with `dataclasses.replace`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from tron.core.ids import ActionRunId, JobRunId
from tron.core.states import ActionRunState


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One try of an action run, kept apart from the others (its own exit and output)."""

    number: int
    command: str
    node: str | None
    start_time: datetime | None = None
    end_time: datetime | None = None
    exit_status: int | None = None
    reason: str | None = None
    # The stop or kill asked for while it runs: durable before it is sent, so a trond that
    # dies in between sends it again once restarted (the recovery table).
    stop_signal: int | None = None

    @property
    def is_finished(self) -> bool:
        return self.end_time is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRun:
    """One action of one job run.

    `raw_command` is the action's current template (reconfiguration updates it),
    `original_command` the template when the run was created, `command` the rendered
    command of the current attempt: rendered again when each attempt starts (with the live
    context, as Tron does) and durable with its `starting` mark, so a relaunch after a crash
    runs the very same command. Before the first start it holds the creation-time rendering.
    """

    job_name: str
    run_num: int
    action_name: str
    state: ActionRunState = ActionRunState.SCHEDULED
    node: str | None = None
    raw_command: str
    original_command: str
    command: str | None = None
    requires: tuple[str, ...] = ()
    is_cleanup: bool = False
    retries_remaining: int | None = None
    retries_delay: timedelta | None = None
    # Exponential backoff of the delay (`retries_backoff`); None keeps Tron's fixed delay.
    retries_backoff_factor: float | None = None
    retries_max_delay: timedelta | None = None
    retries_jitter: timedelta | None = None
    attempts: tuple[Attempt, ...] = ()
    start_time: datetime | None = None
    end_time: datetime | None = None
    exit_status: int | None = None
    retry_at: datetime | None = None
    triggered_by: tuple[str, ...] = ()
    trigger_downstreams: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    reason: str | None = None
    # Rendered `triggered_by` event ids already published (shown as `<id> (done)`).
    triggers_done: tuple[str, ...] = ()
    # A manual retry killed the running attempt: its exit restarts the action.
    restart_on_exit: bool = False
    # The next attempt renders `raw_command` (the newest config's template) instead of
    # `original_command`: `retry --use-latest-command`, for that one attempt (as Tron).
    use_latest_command: bool = False

    @property
    def id(self) -> ActionRunId:
        return ActionRunId(self.job_name, self.run_num, self.action_name)

    @property
    def exit_statuses(self) -> tuple[int, ...]:
        """Exit status of each finished attempt, oldest first."""
        return tuple(a.exit_status for a in self.attempts if a.exit_status is not None)

    @property
    def current_attempt(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRun:
    """One run of a job: when it was due, where it runs, and its action runs.

    The run's state is derived from its action runs (`tron.core.job_run.job_run_state`),
    never stored.
    """

    job_name: str
    run_num: int
    run_time: datetime
    manual: bool = False
    node: str | None = None
    action_runs: tuple[ActionRun, ...] = ()
    start_time: datetime | None = None
    end_time: datetime | None = None
    # What commands are rendered with, kept so the cleanup and retries can render later:
    # MASTER `command_context` plus the engine's `node_hostname`/`node_hostnames`.
    context: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    last_success: datetime | None = None

    @property
    def id(self) -> JobRunId:
        return JobRunId(self.job_name, self.run_num)

    def find_action_run(self, action_name: str) -> ActionRun | None:
        return next((a for a in self.action_runs if a.action_name == action_name), None)
