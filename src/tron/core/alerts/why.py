""" "Why is this job not running?": one sentence and its evidence, from the job's facts.

The first answer that applies wins: disabled; running (and on which action); an action
unknown or its node unreachable; waiting on a trigger; queued behind a run; its last slot
skipped; its next run; nothing scheduled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tron.core import run_state as rs
from tron.core.action_run import missing_triggers
from tron.core.alerts.signals import JobFacts, _skipped_slot, trigger_deadline
from tron.core.records import JobRun
from tron.core.states import ActionRunState

_S = ActionRunState


@dataclass(frozen=True, slots=True, kw_only=True)
class Why:
    state: str  # disabled, running, unknown, waiting, queued, skipped, scheduled, idle
    sentence: str
    evidence: dict[str, str] = field(default_factory=dict)


def _at(when: datetime | None) -> str:
    return when.isoformat() if when else "an unknown time"


def explain(facts: JobFacts, now: datetime, *, disabled_by: str | None = None) -> Why:
    name = facts.config.full_name
    runs = sorted(facts.runs, key=lambda r: r.run_num)
    pending = [r for r in runs if rs.is_pending(r)]
    if not facts.enabled:
        since = f" since {_at(facts.disabled_since)}" if facts.disabled_since else ""
        by = f" (by {disabled_by})" if disabled_by else " (in its config)"
        evidence = {"disabled_since": _at(facts.disabled_since)} if facts.disabled_since else {}
        return Why(state="disabled", sentence=f"{name} is disabled{since}{by}.", evidence=evidence)
    for run in reversed(runs):
        found = _active(facts, run, now)
        if found is not None:
            return found
    queued = [r for r in pending if rs.job_run_state(r) is _S.QUEUED]
    if queued:
        ahead = next((r for r in runs if rs.is_active(r)), None)
        behind = f" behind run {ahead.id}, running since {_at(ahead.start_time)}" if ahead else ""
        sentence = f"Run {queued[0].id} is queued{behind}."
        return Why(state="queued", sentence=sentence, evidence={"run": str(queued[0].id)})
    skipped = _skipped_slot(facts.config, [r for r in runs if not r.manual])
    if skipped is not None:
        slot, following = skipped
        sentence = (
            f"Its last slot {slot.isoformat()} was skipped (catch-up policy"
            f" {facts.config.catch_up.policy}); its next run {following.id} is at"
            f" {following.run_time.isoformat()}."
        )
        return Why(state="skipped", sentence=sentence, evidence={"slot": slot.isoformat()})
    if pending:
        run = pending[0]
        overdue = " (overdue: trond has not started it)" if run.run_time < now else ""
        sentence = f"Its next run {run.id} is at {run.run_time.isoformat()}{overdue}."
        return Why(state="scheduled", sentence=sentence, evidence={"next_run": _at(run.run_time)})
    return Why(state="idle", sentence=f"{name} has nothing scheduled.")


def _active(facts: JobFacts, run: JobRun, now: datetime) -> Why | None:
    for action in run.action_runs:
        if action.state is _S.UNKNOWN:
            reason = action.reason or ""
            cause = "its node is unreachable" if "unreachable" in reason else "its state is unknown"
            since = action.end_time or action.start_time
            sentence = f"Action {action.id} is stuck: {cause} since {_at(since)}."
            return Why(state="unknown", sentence=sentence, evidence={"reason": reason})
    if not rs.is_active(run):
        return None
    running = [a for a in run.action_runs if a.state.is_active]
    if running:
        action = running[0]
        sentence = (
            f"It is running: run {run.id} is on action {action.action_name}, since"
            f" {_at(action.start_time)}."
        )
        return Why(state="running", sentence=sentence, evidence={"action": str(action.id)})
    for action in run.action_runs:
        missing = missing_triggers(action) if action.state is _S.WAITING else ()
        if missing:
            deadline = trigger_deadline(facts.config, run, action)
            sentence = (
                f"Run {run.id} waits on trigger {', '.join(missing)} since"
                f" {_at(run.start_time)}, timing out at {deadline.isoformat()}."
            )
            evidence = {"action": str(action.id), "timeout_at": deadline.isoformat()}
            return Why(state="waiting", sentence=sentence, evidence=evidence)
    return Why(state="running", sentence=f"It is running: run {run.id} is {rs.job_run_state(run)}.")
