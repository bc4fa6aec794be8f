"""A job run's state derived from its action runs (spec 5.3), and what is ready to start.

Decisions documented here:
- the cleanup's result counts as Tron's collection rules count it (spec 5.5 is ambiguous,
  Tron's code decides): a run whose regular actions all completed is `succeeded` only when its
  cleanup completed too; a failed (or `unknown`) cleanup leaves it `unknown`, a cancelled one
  `cancelled`. With a failed regular action the run is `failed` whatever the cleanup did;
- a collection is `cancelled` when everything is done, something was cancelled and no
  regular action failed (a cancelled run whose other actions had succeeded is cancelled);
- `waiting` means some action waits for something that may still come (a trigger, a
  requirement still to run, or the cleanup about to start); waiting behind a requirement
  that ended incomplete does not count, so a finished run with such leftovers and an
  `unknown` action is `unknown`;
- an action left `waiting` behind a failed requirement is blocked: the run can finish
  (`failed`) with it still `waiting`, as Tron shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from tron.core.action_run import missing_triggers
from tron.core.records import ActionRun, JobRun
from tron.core.states import COMPLETE_STATES, ActionRunState
from tron.errors import NotFoundError

_S = ActionRunState
# States that, shared by every action run, are the job run's state as they are.
_UNIFORM = frozenset({_S.SCHEDULED, _S.QUEUED, _S.RUNNING, _S.STARTING})
_PENDING = frozenset({_S.SCHEDULED, _S.QUEUED})
# The job run states that hold the job's turn (see is_active).
ACTIVE_STATES = frozenset({_S.RUNNING, _S.STARTING, _S.WAITING})


def get_action_run(run: JobRun, action_name: str) -> ActionRun:
    """The action run named `action_name`; raises NotFoundError."""
    action_run = run.find_action_run(action_name)
    if action_run is None:
        raise NotFoundError(f"Unknown action run: {run.id}.{action_name}")
    return action_run


def with_action_run(run: JobRun, action_run: ActionRun) -> JobRun:
    """`run` with the action run of the same name replaced."""
    runs = tuple(
        action_run if a.action_name == action_run.action_name else a for a in run.action_runs
    )
    return replace(run, action_runs=runs)


def regular_runs(run: JobRun) -> tuple[ActionRun, ...]:
    return tuple(a for a in run.action_runs if not a.is_cleanup)


def cleanup_run(run: JobRun) -> ActionRun | None:
    return next((a for a in run.action_runs if a.is_cleanup), None)


def blocked_actions(run: JobRun) -> frozenset[str]:
    """Not-done regular actions that can never start: a requirement ended incomplete."""
    states = {a.action_name: a.state for a in regular_runs(run)}
    requires = {a.action_name: a.requires for a in regular_runs(run)}
    blocked: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, reqs in requires.items():
            if (
                name not in blocked
                and not states[name].is_done
                and _any_dead(reqs, states, blocked)
            ):
                blocked.add(name)
                changed = True
    return frozenset(blocked)


def _any_dead(reqs: tuple[str, ...], states: Mapping[str, _S], blocked: set[str]) -> bool:
    return any(
        r in states and states[r] not in COMPLETE_STATES and (states[r].is_done or r in blocked)
        for r in reqs
    )


def is_settled(run: JobRun) -> bool:
    """The regular actions are over: none active, every one done or blocked (spec 5.5)."""
    regular = regular_runs(run)
    if any(a.state.is_active for a in regular):
        return False
    blocked = blocked_actions(run)
    return all(a.state.is_done or a.action_name in blocked for a in regular)


def is_pending(run: JobRun) -> bool:
    """A scheduled run not yet started, waiting for its time or its turn in the queue.

    Manual runs are never pending: they start when created (a created manual run that did
    not start is recovery's business).
    """
    return not run.manual and run.start_time is None and job_run_state(run) in _PENDING


def is_active(run: JobRun) -> bool:
    """Started and not over: it holds its job's turn (overlap, queueing)."""
    return job_run_state(run) in ACTIVE_STATES


def has_open_attempt(run: JobRun) -> bool:
    """Some action's attempt is not over: its process may still run, whatever the states say."""
    return any(
        a.current_attempt is not None and not a.current_attempt.is_finished for a in run.action_runs
    )


def is_finished(run: JobRun) -> bool:
    """Nothing left to do: the regular actions are settled and the cleanup (if any) is done."""
    if not run.action_runs:
        return False
    if all(a.state.is_done for a in run.action_runs):
        return True  # the usual finished run, told without walking its graph
    cleanup = cleanup_run(run)
    return is_settled(run) and (cleanup is None or cleanup.state.is_done)


def cleanup_job_status(run: JobRun) -> str:
    """`{cleanup_job_status}`: FAILURE, SUCCESS or UNKNOWN from the regular actions."""
    regular = regular_runs(run)
    if _any_failed(run):
        return "FAILURE"
    if regular and all(a.state in COMPLETE_STATES for a in regular):
        return "SUCCESS"
    return "UNKNOWN"


def ready_actions(run: JobRun) -> tuple[str, ...]:
    """Waiting regular actions whose requires are complete and triggers all published."""
    states = {a.action_name: a.state for a in run.action_runs}
    return tuple(
        a.action_name
        for a in regular_runs(run)
        if a.state is _S.WAITING
        and not missing_triggers(a)
        and all(states.get(r) in COMPLETE_STATES for r in a.requires)
    )


def is_cleanup_ready(run: JobRun) -> bool:
    cleanup = cleanup_run(run)
    return cleanup is not None and cleanup.state is _S.WAITING and is_settled(run)


def job_run_state(run: JobRun) -> ActionRunState:
    """The run's state from its action runs: spec 5.3's rules, first match."""
    states = {a.state for a in run.action_runs}
    uniform = _uniform_state(states)
    if uniform is not None:
        return uniform
    if _is_succeeded(run):
        return _S.SUCCEEDED
    if _is_cancelled(run):
        return _S.CANCELLED
    for state in (_S.RUNNING, _S.STARTING):
        if state in states:
            return state
    if is_settled(run) and _any_failed(run):
        return _S.FAILED
    if _any_unblocked_waiting(run):
        return _S.WAITING
    for state in (_S.SCHEDULED, _S.QUEUED):
        if state in states:
            return state
    return _S.UNKNOWN


def _uniform_state(states: set[ActionRunState]) -> ActionRunState | None:
    """One state shared by every action run decides it: the common case, and no graph walk.
    No action runs at all is `unknown` (spec 5.3 rule 1)."""
    if not states:
        return _S.UNKNOWN
    if len(states) != 1:
        return None
    only = next(iter(states))
    if only in COMPLETE_STATES:
        return _S.SUCCEEDED
    return only if only in _UNIFORM else None


def _any_unblocked_waiting(run: JobRun) -> bool:
    # Waiting behind a dead requirement is not waiting for anything (spec 5.3 rule 7).
    blocked = blocked_actions(run)
    return any(a.state is _S.WAITING and a.action_name not in blocked for a in run.action_runs)


def _is_succeeded(run: JobRun) -> bool:
    cleanup = cleanup_run(run)
    regular_complete = all(a.state in COMPLETE_STATES for a in regular_runs(run))
    return regular_complete and (cleanup is None or cleanup.state in COMPLETE_STATES)


def _is_cancelled(run: JobRun) -> bool:
    all_done = all(a.state.is_done for a in run.action_runs)
    any_cancelled = any(a.state is _S.CANCELLED for a in run.action_runs)
    return all_done and any_cancelled and not _any_failed(run)


def _any_failed(run: JobRun) -> bool:
    return any(a.state is _S.FAILED for a in regular_runs(run))
