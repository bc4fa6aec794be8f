"""What an action run that has not started waits for, in one line, from the API's JSON."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

# Required actions in these states no longer hold their dependants back.
_DONE_FOR_DEPENDANTS = frozenset({"succeeded", "skipped", "cancelled"})
_DONE_MARK = " (done)"


def waiting_reason(action: Json, job_run: Json) -> str:
    """Why `action` (an action run's JSON) has not started, given its job run's JSON (with
    its action runs): a retry delay, the run's time, a queue, requirements, triggers."""
    delay = action.get("in_delay")
    if delay is not None:
        return f"its next attempt starts in {float(delay):.0f} s (retries_delay)"
    state = str(action.get("state"))
    run_state = str(job_run.get("state"))
    if state == "starting":
        return f"starting on {_node(action)}"
    if run_state == "queued":
        return f"its run {job_run.get('id')} is queued behind an earlier run still active"
    if state == "scheduled" or run_state == "scheduled":
        return f"its run {job_run.get('id')} is scheduled for {job_run.get('run_time')}"
    reasons = [*_requirements(action, job_run), *_triggers(action)]
    return "; ".join(reasons) if reasons else f"it is {state}"


def _requirements(action: Json, job_run: Json) -> list[str]:
    states = {
        str(other.get("action_name")): str(other.get("state"))
        for other in job_run.get("runs") or []
        if isinstance(other, dict)
    }
    pending = [
        f"{name} ({states[name]})"
        for name in action.get("requirements") or []
        if name in states and states[name] not in _DONE_FOR_DEPENDANTS
    ]
    return [f"waiting for {', '.join(pending)} to finish"] if pending else []


def _triggers(action: Json) -> list[str]:
    written = str(action.get("triggered_by") or "")
    pending = [t for t in written.split(", ") if t and not t.endswith(_DONE_MARK)]
    if not pending:
        return []
    return [f"waiting for trigger {', '.join(pending)} (tronctl publish EVENT sends one)"]


def _node(action: Json) -> str:
    node = action.get("node")
    if isinstance(node, dict):
        return str(node.get("name") or node.get("hostname") or "its node")
    return str(node or "its node")
