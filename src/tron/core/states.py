"""Action-run states and events, and the table of allowed transitions (spec 5.2)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from tron.errors import InvalidTransitionError


class ActionRunState(StrEnum):
    """The state of one action run; values are Tron's JSON names."""

    SCHEDULED = "scheduled"
    QUEUED = "queued"
    WAITING = "waiting"
    STARTING = "starting"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"

    @property
    def is_done(self) -> bool:
        return self in END_STATES

    @property
    def is_active(self) -> bool:
        """Started and not yet finished (a process may exist)."""
        return self in (ActionRunState.STARTING, ActionRunState.RUNNING)


class ActionRunEvent(StrEnum):
    """What can happen to an action run."""

    READY = "ready"
    QUEUE = "queue"
    SCHEDULE = "schedule"
    START = "start"
    STARTED = "started"
    RUNNING = "running"
    SUCCESS = "success"
    FAIL = "fail"
    FAIL_UNKNOWN = "fail_unknown"
    CANCEL = "cancel"
    SKIP = "skip"


END_STATES = frozenset(
    {
        ActionRunState.SUCCEEDED,
        ActionRunState.FAILED,
        ActionRunState.CANCELLED,
        ActionRunState.SKIPPED,
        ActionRunState.UNKNOWN,
    }
)

# Counts as complete for dependants: the next action may start.
COMPLETE_STATES = frozenset({ActionRunState.SUCCEEDED, ActionRunState.SKIPPED})

_S = ActionRunState
_E = ActionRunEvent

TRANSITIONS: Mapping[tuple[ActionRunState, ActionRunEvent], ActionRunState] = MappingProxyType(
    {
        (_S.SCHEDULED, _E.READY): _S.WAITING,
        (_S.SCHEDULED, _E.QUEUE): _S.QUEUED,
        (_S.SCHEDULED, _E.START): _S.STARTING,
        (_S.SCHEDULED, _E.SUCCESS): _S.SUCCEEDED,
        (_S.SCHEDULED, _E.FAIL): _S.FAILED,
        (_S.SCHEDULED, _E.CANCEL): _S.CANCELLED,
        (_S.QUEUED, _E.READY): _S.WAITING,
        (_S.QUEUED, _E.SCHEDULE): _S.SCHEDULED,
        (_S.QUEUED, _E.START): _S.STARTING,
        (_S.QUEUED, _E.SUCCESS): _S.SUCCEEDED,
        (_S.QUEUED, _E.FAIL): _S.FAILED,
        (_S.QUEUED, _E.CANCEL): _S.CANCELLED,
        (_S.WAITING, _E.START): _S.STARTING,
        (_S.WAITING, _E.SUCCESS): _S.SUCCEEDED,
        (_S.WAITING, _E.FAIL): _S.FAILED,
        (_S.WAITING, _E.CANCEL): _S.CANCELLED,
        (_S.STARTING, _E.STARTED): _S.RUNNING,
        (_S.STARTING, _E.SUCCESS): _S.SUCCEEDED,
        (_S.STARTING, _E.FAIL): _S.FAILED,
        (_S.STARTING, _E.FAIL_UNKNOWN): _S.UNKNOWN,
        (_S.STARTING, _E.CANCEL): _S.CANCELLED,
        (_S.RUNNING, _E.SUCCESS): _S.SUCCEEDED,
        (_S.RUNNING, _E.FAIL): _S.FAILED,
        (_S.RUNNING, _E.FAIL_UNKNOWN): _S.UNKNOWN,
        (_S.RUNNING, _E.CANCEL): _S.CANCELLED,
        (_S.UNKNOWN, _E.RUNNING): _S.RUNNING,
        (_S.UNKNOWN, _E.SUCCESS): _S.SUCCEEDED,
        (_S.UNKNOWN, _E.FAIL): _S.FAILED,
        (_S.UNKNOWN, _E.FAIL_UNKNOWN): _S.UNKNOWN,
        (_S.SUCCEEDED, _E.SUCCESS): _S.SUCCEEDED,
        (_S.SUCCEEDED, _E.FAIL): _S.FAILED,
        (_S.SUCCEEDED, _E.SKIP): _S.SKIPPED,
        (_S.FAILED, _E.SUCCESS): _S.SUCCEEDED,
        (_S.FAILED, _E.SKIP): _S.SKIPPED,
        (_S.CANCELLED, _E.SUCCESS): _S.SUCCEEDED,
        (_S.CANCELLED, _E.FAIL): _S.FAILED,
        (_S.CANCELLED, _E.SKIP): _S.SKIPPED,
    }
)


def next_state(state: ActionRunState, event: ActionRunEvent) -> ActionRunState:
    """The state `event` leads to from `state`; raises InvalidTransitionError if not allowed."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransitionError(state.value, event.value) from None


def can_transition(state: ActionRunState, event: ActionRunEvent) -> bool:
    return (state, event) in TRANSITIONS
