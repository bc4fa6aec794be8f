"""Tron's state values (plain dicts once unpickled) into our records.

What Tron keeps per job run is close to ours; the differences handled here:
- Tron's naive datetimes are the server's local time; ours are aware (UTC).
- Tron stores `triggered_by` as templates; ours holds rendered ids, so action runs are first
  built from the current config (as Tron's own restore takes each action's command config
  from the current config, spec 5.10 step 2), then Tron's recorded facts are laid over them.
- Runs Tron had in flight: `starting`/`running` action runs become `unknown`, Tron's
  `fail_unknown` at restart. Tron would then ask its action runner on the node for the exit
  status; our executors keep their own handles, which Tron's state does not carry, so such an
  action stays `unknown` for a person to `success`/`fail`/`retry` (documented in the README).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tron.config.model import Config, JobConfig
from tron.core import job_run as jr
from tron.core.records import ActionRun, Attempt, JobRun
from tron.core.states import ActionRunState
from tron.errors import StoreError

LOST_REASON = "trond (Tron) stopped while it ran; imported as unknown"
_IN_FLIGHT = frozenset({ActionRunState.STARTING, ActionRunState.RUNNING})


@dataclass(frozen=True, slots=True)
class TronJob:
    name: str
    enabled: bool


def job_state(name: str, value: Any) -> TronJob:
    # Tron's `run_nums` is not needed: the runs themselves say which numbers are taken.
    data = _mapping(value, f"job state of {name}")
    return TronJob(name=name, enabled=bool(data.get("enabled", True)))


def aware(value: Any) -> datetime | None:
    """A datetime of Tron's as aware UTC: naive ones are this machine's local time."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise StoreError(f"expected a datetime in Tron's state, found {value!r}")
    # astimezone() takes a naive datetime as local time, as Tron wrote it.
    return value.astimezone(UTC)


def job_run(value: Any, config: Config | None, events: Set[str]) -> JobRun:
    """One `job_run_state` value as our JobRun (its action runs, cleanup last)."""
    data = _mapping(value, "job run state")
    name = str(data["job_name"])
    run_time = aware(data["run_time"])
    assert run_time is not None
    job = config.jobs.get(name) if config else None
    node = _str_or_none(data.get("node_name"))
    base = _base_run(job, config, name, int(data["run_num"]), run_time, data, node)
    tron_actions = [
        *(data.get("runs") or ()),
        *([data["cleanup_run"]] if data.get("cleanup_run") else []),
    ]
    untouched = all(not a.get("start_time") and not a.get("attempts") for a in tron_actions)
    actions = []
    for position, raw in enumerate(tron_actions):
        action = _mapping(raw, f"action run of {name}")
        is_cleanup = position >= len(data.get("runs") or ())
        actions.append(
            _action_run(base, action, is_cleanup=is_cleanup, pending=untouched, events=events)
        )
    run = replace(base, action_runs=tuple(actions))
    starts = [a.start_time for a in actions if a.start_time]
    ends = [a.end_time for a in actions if a.end_time]
    return replace(
        run,
        start_time=min(starts) if starts else None,
        end_time=max(ends) if ends and jr.is_finished(run) else None,
    )


def _base_run(
    job: JobConfig | None,
    config: Config | None,
    name: str,
    run_num: int,
    run_time: datetime,
    data: Mapping[str, Any],
    node: str | None,
) -> JobRun:
    manual = bool(data.get("manual"))
    if job is None or config is None:
        return JobRun(job_name=name, run_num=run_num, run_time=run_time, manual=manual, node=node)
    known = config.nodes.get(node) if node else None
    context = {**config.command_context, "node_hostname": known.hostname if known else None}
    return jr.create_job_run(
        job, run_num=run_num, run_time=run_time, manual=manual, node=node, context=context
    )


def _action_run(
    run: JobRun, data: Mapping[str, Any], *, is_cleanup: bool, pending: bool, events: Set[str]
) -> ActionRun:
    name = str(data["action_name"])
    state = _state(data.get("state"), f"{run.id}.{name}")
    original = str(data.get("original_command") or "")
    built = next(
        (a for a in run.action_runs if a.action_name == name and a.is_cleanup == is_cleanup), None
    )
    if built is not None and pending:
        # Not started anywhere: the run as the current config builds it, in Tron's state.
        return replace(built, state=state)
    node = _str_or_none(data.get("node_name")) or run.node
    if built is None:
        built = ActionRun(
            job_name=run.job_name, run_num=run.run_num, action_name=name,
            raw_command=original, original_command=original, is_cleanup=is_cleanup,
        )  # fmt: skip
    attempts = tuple(_attempt(i, a, node) for i, a in enumerate(data.get("attempts") or ()))
    reason = None
    if state in _IN_FLIGHT:
        state, reason = ActionRunState.UNKNOWN, LOST_REASON
        if attempts and not attempts[-1].is_finished:
            attempts = (*attempts[:-1], replace(attempts[-1], reason=LOST_REASON))
    delay = data.get("retries_delay")
    return replace(
        built,
        state=state,
        node=node,
        original_command=original or built.original_command,
        command=attempts[-1].command if attempts else built.command,
        attempts=attempts,
        start_time=aware(data.get("start_time")),
        end_time=aware(data.get("end_time")),
        exit_status=_int_or_none(data.get("exit_status")),
        retries_remaining=_int_or_none(data.get("retries_remaining")),
        retries_delay=delay if isinstance(delay, timedelta) else None,
        reason=reason,
        triggers_done=tuple(t for t in built.triggered_by if t in events),
    )


def _attempt(index: int, raw: Any, node: str | None) -> Attempt:
    data = _mapping(raw, "attempt")
    config = data.get("command_config")
    command = data.get("rendered_command")
    if command is None and isinstance(config, Mapping):
        command = config.get("command")
    return Attempt(
        number=index + 1,
        command=str(command or ""),
        node=node,
        start_time=aware(data.get("start_time")),
        end_time=aware(data.get("end_time")),
        exit_status=_int_or_none(data.get("exit_status")),
    )


def _state(value: Any, where: str) -> ActionRunState:
    try:
        return ActionRunState(str(value))
    except ValueError:
        raise StoreError(f"unknown action run state {value!r} of {where} in Tron's state") from None


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise StoreError(f"{what} in Tron's state is not a mapping: {type(value).__name__}")
    return value


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
