"""The recovery table: what a restarted trond does with each stored action run and job run.

An action run's stored state is crossed with what its attempt's supervisor left behind
(`trace`: any record at all, none, or cannot be told now because the node is unreachable);
each pair has exactly one decision. Which records (pid only, exit, unreadable) the executor
then finds is settled by reattaching: it reports a running attempt's end, an exit already
recorded at once, and an unreadable record as an unknown exit.

| stored action run                      | trace            | decision                      |
|----------------------------------------|------------------|-------------------------------|
| not started (scheduled/queued/waiting) | any              | none here (the run settles)   |
| `running` in a retry delay             | any              | re-arm the retry at retry_at  |
| `starting`                             | none             | relaunch the same attempt     |
| attempt open, a stop or kill asked     | some             | reattach, send it again       |
| `starting`                             | some, or unknown | reattach (then `running`)     |
| attempt open, any other state          | some, or unknown | reattach, record its real end |
| attempt open, any other state          | none             | lost: exit unknown            |
| attempt closed, not in a delay         | any              | none                          |

A `starting` attempt with no supervisor record provably never ran: launching it again makes
launches exactly-once. (The supervisor writes its first record before the command runs, and
a new trond takes far longer to start than that first write.) A stop or kill is durable (the
attempt's `stop_signal`) before it is sent: sending it again covers a trond that died in
between. A `starting` attempt relaunched gets it once launched.

| stored job run                          | decision                                        |
|-----------------------------------------|-------------------------------------------------|
| scheduled, not manual                   | arm at run_time, or cancel if catch_up drops it |
| scheduled, manual (created, not started)| start it now                                    |
| queued                                  | start the oldest if no run of the job is active |
| started, not finished                   | re-arm max_runtime and trigger timeouts; settle |
| finished                                | none (the job's next run is scheduled)          |
"""

from __future__ import annotations

from enum import StrEnum

from tron.core.action_run import has_process, is_in_retry_delay
from tron.core.records import ActionRun
from tron.core.states import ActionRunState


class Trace(StrEnum):
    """What the supervisor of an attempt left behind, as far as can be told now."""

    SOME = "some"
    NONE = "none"
    UNKNOWN = "unknown"  # the node cannot be asked now


class ActionRecovery(StrEnum):
    NOTHING = "nothing"
    REARM_RETRY = "rearm_retry"
    RELAUNCH = "relaunch"
    REATTACH = "reattach"
    RESIGNAL = "resignal"  # reattach, then send the stop or kill asked for again
    LOST = "lost"


def needs_trace(action_run: ActionRun) -> bool:
    """Whether the decision depends on the attempt's trace (ask the executor only then)."""
    return has_process(action_run) and not is_in_retry_delay(action_run)


def action_recovery(action_run: ActionRun, trace: Trace) -> ActionRecovery:
    """The one decision of the table above for `action_run`."""
    if is_in_retry_delay(action_run):
        return ActionRecovery.REARM_RETRY
    if not has_process(action_run):
        return ActionRecovery.NOTHING
    if trace is Trace.NONE:
        if action_run.state is ActionRunState.STARTING:
            return ActionRecovery.RELAUNCH
        return ActionRecovery.LOST
    attempt = action_run.current_attempt
    asked = attempt is not None and attempt.stop_signal is not None
    if asked and trace is Trace.SOME:
        return ActionRecovery.RESIGNAL
    return ActionRecovery.REATTACH
