"""Rules every store backend shares: when a save is a transition, run-number bookkeeping, and
how a row that cannot be read back is reported."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from tron.core.records import ActionRun
from tron.errors import StoreError
from tron.store.base import Transition

T = TypeVar("T")
P = ParamSpec("P")
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


class DamagedRecordError(StoreError):
    """A stored row cannot be read back: `<file>, <table>, <key>: <problem>`."""

    def __init__(self, table: str, key: str, problem: str, *, file: str = "") -> None:
        self.table, self.key, self.problem, self.file = table, key, problem, file
        where = ", ".join(part for part in (file, table, key) if part)
        super().__init__(f"{where}: {problem}")

    def in_file(self, file: str) -> DamagedRecordError:
        return DamagedRecordError(self.table, self.key, self.problem, file=file)


# What decoding a damaged row raises: bad JSON, a wrong shape, a wrong type or value.
_DECODE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, StoreError)


def decoded(table: str, key: str, decode: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`decode(*args, **kwargs)`, or DamagedRecordError naming the row when its data cannot be
    read back."""
    try:
        return decode(*args, **kwargs)
    except json.JSONDecodeError as exc:
        raise DamagedRecordError(table, key, f"invalid JSON ({exc.msg}, char {exc.pos})") from exc
    except _DECODE_ERRORS as exc:
        problem = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise DamagedRecordError(table, key, f"wrong record shape ({problem})") from exc
