"""Which manual commands a run or action run takes now, and why the others are refused.

One source of truth with the commands themselves: each command is tried on the run (pure, the
result thrown away), so the web UI enables exactly what the API would accept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from tron.core.records import JobRun
from tron.core.run_commands import apply_action_command, apply_job_run_command
from tron.errors import TronError

# The commands the web UI offers, in the order it shows them.
ACTION_RUN_COMMANDS = ("start", "cancel", "retry", "success", "fail", "skip", "stop", "kill")
JOB_RUN_COMMANDS = ("start", "cancel", "success", "fail")

# `None` when the command is accepted, else the reason it is refused.
Refusals = Mapping[str, str | None]


def action_run_commands(run: JobRun, action_name: str, *, now: datetime) -> Refusals:
    """Each action-run command mapped to None (accepted) or the API's reason for refusing it."""
    return {
        command: _action_refusal(run, action_name, command, now) for command in ACTION_RUN_COMMANDS
    }


def job_run_commands(run: JobRun, *, now: datetime) -> Refusals:
    """Each job-run command (rerun is always accepted) mapped to None or its refusal."""
    refusals = {command: _run_refusal(run, command, now) for command in JOB_RUN_COMMANDS}
    return {**refusals, "rerun": None}


def _action_refusal(run: JobRun, action_name: str, command: str, now: datetime) -> str | None:
    try:
        apply_action_command(run, action_name, command, now=now)
    except TronError as exc:
        return str(exc)
    return None


def _run_refusal(run: JobRun, command: str, now: datetime) -> str | None:
    try:
        apply_job_run_command(run, command, now=now)
    except TronError as exc:
        return str(exc)
    return None
