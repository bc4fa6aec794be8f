"""What the engine should do next: the decisions core functions return, never carry out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tron.core.states import ActionRunState


# Effects are tiny value objects; positional construction (`StartAction("load")`) is allowed.
@dataclass(frozen=True, slots=True)
class StartAction:
    """Start a new attempt of this action run now (the engine calls `action_starting`)."""

    action_name: str


@dataclass(frozen=True, slots=True)
class ScheduleRetry:
    """Call `retry_due` for this action run at `at` (an automatic retry after a delay)."""

    action_name: str
    at: datetime


@dataclass(frozen=True, slots=True)
class KillAction:
    """Send `signal` to the running attempt of this action run."""

    action_name: str
    signal: int


@dataclass(frozen=True, slots=True)
class PublishTrigger:
    """Publish this trigger event id (`<ns>.<job>.<action>.<key>.<value>`)."""

    event_id: str


@dataclass(frozen=True, slots=True)
class JobRunDone:
    """The job run has finished (cleanup included) in `state`: queued runs may start."""

    state: ActionRunState


Effect = StartAction | ScheduleRetry | KillAction | PublishTrigger | JobRunDone
