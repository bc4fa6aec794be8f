"""Which alert conditions hold for one job now: pure functions of its config, its runs and
the time, so each is tested on a manual clock.

Disabled jobs, catch-up skips and queueing are reasons given with a missed slot, never a
reason to stay silent. A job disabled in its config is not expected to run, and says nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tron.config.model import ActionConfig, JobConfig
from tron.core import run_state as rs
from tron.core.action_run import missing_triggers
from tron.core.alerts.model import AlertKey, AlertKind, Severity, Signal
from tron.core.records import ActionRun, JobRun
from tron.core.states import ActionRunState

_S = ActionRunState
DEFAULT_SLOT_GRACE = timedelta(minutes=10)
DEFAULT_TRIGGER_TIMEOUT = timedelta(days=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobFacts:
    """What the rules know of a job: its config, runtime flag and retained runs."""

    config: JobConfig
    enabled: bool
    runs: Sequence[JobRun]
    disabled_since: datetime | None = None


def job_signals(facts: JobFacts, now: datetime) -> list[Signal]:
    """Every condition that holds for the job at `now`."""
    if not facts.config.alerting.alerts:
        return []
    runs = sorted(facts.runs, key=lambda r: r.run_num)
    return [
        *failures(facts.config, runs, now),
        *missed_slots(facts, runs, now),
        *late_start(facts.config, runs),
        *too_long(facts.config, runs, now),
        *stuck(facts.config, runs, now),
        *no_daily_success(facts.config, runs, now),
    ]


def _key(config: JobConfig, kind: AlertKind, subject: str = "") -> AlertKey:
    return AlertKey(config.full_name, kind, subject)


def _severity(config: JobConfig) -> Severity:
    return Severity.PAGE if config.alerting.page else Severity.WARN


def _slot_grace(config: JobConfig) -> timedelta:
    return config.alerting.alert_after or DEFAULT_SLOT_GRACE


def _at(when: datetime | None) -> str:
    return when.isoformat() if when else "-"


def _ended(run: JobRun) -> datetime:
    ends = [a.end_time for a in run.action_runs if a.end_time is not None]
    return run.end_time or max(ends, default=None) or run.start_time or run.run_time


def _finished(runs: Sequence[JobRun]) -> list[JobRun]:
    """Runs that ended in success or failure (cancelled ones say nothing of the job)."""
    return [r for r in runs if rs.job_run_state(r) in (_S.SUCCEEDED, _S.FAILED)]


def failures(config: JobConfig, runs: Sequence[JobRun], now: datetime) -> list[Signal]:
    """The newest finished run failed (after `alert_after`); N failed in a row: a streak."""
    finished = _finished(runs)
    if not finished or rs.job_run_state(finished[-1]) is not _S.FAILED:
        return []
    newest = finished[-1]
    since = _ended(newest)
    if now < since + (config.alerting.alert_after or timedelta(0)):
        return []
    action = next((a for a in rs.regular_runs(newest) if a.state is _S.FAILED), None)
    what = f"action {action.action_name} exited {action.exit_status}" if action else "failed"
    evidence = {"run": str(newest.id), "ended": _at(since)}
    if action is not None:
        evidence["action"] = action.action_name
        evidence["exit_status"] = str(action.exit_status)
    signals = [
        Signal(
            key=_key(config, AlertKind.FAILED),
            since=since,
            reason=f"run {newest.id} failed: {what}",
            severity=_severity(config),
            run_num=newest.run_num,
            action=action.action_name if action else None,
            evidence=evidence,
        )
    ]
    streak = 0
    for run in reversed(finished):
        if rs.job_run_state(run) is not _S.FAILED:
            break
        streak += 1
    if config.alerting.failure_streak >= 2 and streak >= config.alerting.failure_streak:
        first = finished[-streak]
        signals.append(
            Signal(
                key=_key(config, AlertKind.FAILURE_STREAK),
                since=_ended(first),
                reason=f"{streak} runs failed in a row, since run {first.id}",
                severity=_severity(config),
                run_num=newest.run_num,
                evidence={"streak": str(streak), "first_run": str(first.id)},
            )
        )
    return signals


def _slot_signal(
    config: JobConfig, slot: datetime, reason: str, run: JobRun | None = None
) -> Signal:
    evidence = {"slot": slot.isoformat()}
    if run is not None:
        evidence["run"] = str(run.id)
    return Signal(
        key=_key(config, AlertKind.DID_NOT_START, slot.isoformat()),
        since=slot,
        reason=reason,
        severity=_severity(config),
        run_num=run.run_num if run else None,
        evidence=evidence,
    )


def missed_slots(facts: JobFacts, runs: Sequence[JobRun], now: datetime) -> list[Signal]:
    """Scheduled slots that did not start within the grace, each with its reason."""
    config = facts.config
    grace = _slot_grace(config)
    signals: list[Signal] = []
    newest_success = max(
        (r.run_num for r in runs if rs.job_run_state(r) is _S.SUCCEEDED), default=-1
    )
    for run in runs:
        if run.manual or run.start_time is not None or now < run.run_time + grace:
            continue
        state = rs.job_run_state(run)
        if rs.is_pending(run):
            signals.append(_slot_signal(config, run.run_time, _pending_reason(run, runs), run))
        elif state is _S.CANCELLED and run.run_num > newest_success:
            why = "the job was disabled" if not facts.enabled else _cancel_reason(config)
            reason = f"run {run.id} was cancelled before it started: {why}"
            signals.append(_slot_signal(config, run.run_time, reason, run))
    scheduled = [r for r in runs if not r.manual]
    if not facts.enabled and config.enabled:
        after = scheduled[-1].run_time if scheduled else facts.disabled_since
        if after is not None:
            slot = config.schedule.next_run(after)
            if now >= slot + grace:
                since = f" since {_at(facts.disabled_since)}" if facts.disabled_since else ""
                signals.append(_slot_signal(config, slot, f"the job is disabled{since}"))
    skipped = _skipped_slot(config, scheduled)
    if skipped is not None and now >= skipped[0] + grace:
        slot, following = skipped
        if config.catch_up.policy != "tron":
            cause = f"the catch-up policy {config.catch_up.policy}"
        else:
            cause = "the job being disabled or removed at the time"
        reason = f"slot {slot.isoformat()} was skipped by {cause}; next run {following.id}"
        reason += f" at {following.run_time.isoformat()}"
        signals.append(_slot_signal(config, slot, reason, following))
    return signals


def _pending_reason(run: JobRun, runs: Sequence[JobRun]) -> str:
    if rs.job_run_state(run) is _S.QUEUED:
        ahead = [r for r in runs if r.run_num != run.run_num and rs.is_active(r)]
        if ahead:
            first = ahead[0]
            return (
                f"run {run.id} is queued behind run {first.id}, running since"
                f" {_at(first.start_time)}"
            )
        return f"run {run.id} is queued"
    return f"run {run.id} is still scheduled past its time (trond down or not scheduling?)"


def _cancel_reason(config: JobConfig) -> str:
    if not config.queueing:
        return "an earlier run was still running and queueing is off"
    return "cancelled by an operator or by a disable"


def _skipped_slot(config: JobConfig, scheduled: Sequence[JobRun]) -> tuple[datetime, JobRun] | None:
    """The first slot missing between the two newest scheduled runs, while the newer of them
    has not succeeded yet."""
    times = sorted({r.run_time for r in scheduled})
    if len(times) < 2:
        return None
    expected = config.schedule.next_run(times[-2])
    if expected >= times[-1]:
        return None
    following = max((r for r in scheduled if r.run_time == times[-1]), key=lambda r: r.run_num)
    if rs.job_run_state(following) is _S.SUCCEEDED:
        return None
    return expected, following


def late_start(config: JobConfig, runs: Sequence[JobRun]) -> list[Signal]:
    """The newest started scheduled run started later than the threshold after its time."""
    started = [r for r in runs if not r.manual and r.start_time is not None]
    if not started:
        return []
    run = started[-1]
    assert run.start_time is not None
    lateness = run.start_time - run.run_time
    threshold = config.alerting.late_after or _slot_grace(config)
    if lateness <= threshold:
        return []
    return [
        Signal(
            key=_key(config, AlertKind.LATE, str(run.run_num)),
            since=run.start_time,
            reason=f"run {run.id} started {lateness} late (due {_at(run.run_time)})",
            severity=_severity(config),
            run_num=run.run_num,
            evidence={"due": _at(run.run_time), "started": _at(run.start_time)},
        )
    ]


def _action_config(config: JobConfig, name: str) -> ActionConfig | None:
    return next((a for a in config.all_actions if a.name == name), None)


def too_long(config: JobConfig, runs: Sequence[JobRun], now: datetime) -> list[Signal]:
    """Runs and action runs still going past their `expected_runtime`."""
    severity = Severity.PAGE if config.alerting.page_for_expected_runtime else Severity.WARN
    signals = []
    for run in runs:
        if run.start_time is None or not rs.is_active(run):
            continue
        took = now - run.start_time
        if took > config.expected_runtime:
            signals.append(
                Signal(
                    key=_key(config, AlertKind.TOO_LONG, str(run.run_num)),
                    since=run.start_time + config.expected_runtime,
                    reason=f"run {run.id} has run {took}, longer than its expected"
                    f" {config.expected_runtime}",
                    severity=severity,
                    run_num=run.run_num,
                    evidence={"started": _at(run.start_time)},
                )
            )
        for action in run.action_runs:
            signals.extend(_action_too_long(config, run, action, now, severity))
    return signals


def _action_too_long(
    config: JobConfig, run: JobRun, action: ActionRun, now: datetime, severity: Severity
) -> list[Signal]:
    action_config = _action_config(config, action.action_name)
    if action_config is None or not action.state.is_active or action.start_time is None:
        return []
    took = now - action.start_time
    if took <= action_config.expected_runtime:
        return []
    return [
        Signal(
            key=_key(config, AlertKind.TOO_LONG, f"{run.run_num}.{action.action_name}"),
            since=action.start_time + action_config.expected_runtime,
            reason=f"action {action.id} has run {took}, longer than its expected"
            f" {action_config.expected_runtime}",
            severity=severity,
            run_num=run.run_num,
            action=action.action_name,
            evidence={"started": _at(action.start_time)},
        )
    ]


def stuck(config: JobConfig, runs: Sequence[JobRun], now: datetime) -> list[Signal]:
    """Actions `unknown` (their node unreachable, when that is why), or waiting on a trigger
    past `alert_after` (when set) or past their trigger timeout."""
    grace = config.alerting.alert_after or timedelta(0)
    signals = []
    for run in runs:
        for action in run.action_runs:
            subject = f"{run.run_num}.{action.action_name}"
            if action.state is _S.UNKNOWN:
                since = action.end_time or action.start_time or run.run_time
                if now < since + grace:
                    continue
                unreachable = "unreachable" in (action.reason or "")
                kind = AlertKind.UNREACHABLE if unreachable else AlertKind.STUCK
                detail = f": {action.reason}" if action.reason else ""
                signals.append(
                    Signal(
                        key=_key(config, kind, subject),
                        since=since,
                        reason=f"action {action.id} is unknown since {_at(since)}{detail}",
                        severity=_severity(config),
                        run_num=run.run_num,
                        action=action.action_name,
                        evidence={"node": action.node or run.node or "-"},
                    )
                )
            elif _waits_on_trigger(run, action):
                signals.extend(_trigger_wait(config, run, action, now))
    return signals


def _waits_on_trigger(run: JobRun, action: ActionRun) -> bool:
    return (
        action.state is _S.WAITING and run.start_time is not None and bool(missing_triggers(action))
    )


def trigger_deadline(config: JobConfig, run: JobRun, action: ActionRun) -> datetime:
    action_config = _action_config(config, action.action_name)
    timeout = action_config.trigger_timeout if action_config else None
    return run.run_time + (timeout or DEFAULT_TRIGGER_TIMEOUT)


def _trigger_wait(config: JobConfig, run: JobRun, action: ActionRun, now: datetime) -> list[Signal]:
    assert run.start_time is not None
    deadline = trigger_deadline(config, run, action)
    after = config.alerting.alert_after
    if now <= deadline and (after is None or now < run.start_time + after):
        return []
    missing = ", ".join(missing_triggers(action))
    past = " (past it)" if now > deadline else ""
    return [
        Signal(
            key=_key(config, AlertKind.STUCK, f"{run.run_num}.{action.action_name}"),
            since=run.start_time,
            reason=f"action {action.id} waits on trigger {missing} since"
            f" {_at(run.start_time)}, timing out at {_at(deadline)}{past}",
            severity=_severity(config),
            run_num=run.run_num,
            action=action.action_name,
            evidence={"triggers": missing, "timeout_at": _at(deadline)},
        )
    ]


def no_daily_success(config: JobConfig, runs: Sequence[JobRun], now: datetime) -> list[Signal]:
    """`check_that_every_day_has_a_successful_run`: no success in the last day (+ grace)."""
    if not config.alerting.check_that_every_day_has_a_successful_run or not runs:
        return []
    successes = [_ended(r) for r in runs if rs.job_run_state(r) is _S.SUCCEEDED]
    remembered = [r.last_success for r in runs if r.last_success is not None]
    last = max([*successes, *remembered], default=None)
    reference = last or min(r.run_time for r in runs)
    if now < reference + DAY + _slot_grace(config):
        return []
    said = f"since {_at(last)}" if last else "ever"
    return [
        Signal(
            key=_key(config, AlertKind.NO_DAILY_SUCCESS),
            since=reference + DAY,
            reason=f"no successful run in the last day (none {said})",
            severity=_severity(config),
            evidence={"last_success": _at(last)},
        )
    ]


DAEMON = "trond"


def heartbeat_signal(last_beat: datetime | None, now: datetime, limit: timedelta) -> Signal | None:
    """The daemon itself is not scheduling: its timers' heartbeat is older than `limit`."""
    if last_beat is None or now - last_beat <= limit:
        return None
    return Signal(
        key=AlertKey(DAEMON, AlertKind.NOT_SCHEDULING),
        since=last_beat,
        reason=f"trond has not scheduled anything since {_at(last_beat)}",
        severity=Severity.PAGE,
    )
