"""Rules every store backend shares: when a save is a transition, and run-number bookkeeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from tron.core.records import ActionRun
from tron.store.base import Transition

Now = Callable[[], datetime]

# What the transition log follows: a change of any of these is one more Transition.
TransitionKey = tuple[str, int, int | None]


def system_now() -> datetime:
    """The store's default clock: it stamps transitions and config versions (aware, UTC)."""
    return datetime.now(UTC)


def transition_key(action_run: ActionRun) -> TransitionKey:
    return (action_run.state.value, len(action_run.attempts), action_run.exit_status)


def make_transition(
    action_run: ActionRun, *, seq: int, at: datetime, reason: str | None
) -> Transition:
    return Transition(
        action_run_id=str(action_run.id),
        seq=seq,
        state=action_run.state.value,
        at=at,
        exit_status=action_run.exit_status,
        node=action_run.node,
        reason=reason,
    )


def bumped_run_num(current: int, run_num: int) -> int:
    """The next free run number once `run_num` is taken (never moves backwards)."""
    return max(current, run_num + 1)
