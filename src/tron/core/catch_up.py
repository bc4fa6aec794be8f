"""Which missed slots a job runs: one pure function for scheduling and for recovery.

A slot is "missed" when it fell due while trond was down (or is otherwise already past).
The job's `catch_up` policy decides which of them still run: Tron's default runs each in
turn; `none` skips to the first slot after now; `latest` runs only the newest; `all` runs
each, `window` ignores those older than now - window, and `max_runs` keeps the newest N.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tron.config.model import CatchUpConfig
from tron.schedule.base import Schedule

# How many missed slots one decision looks at before giving up on exactness.
MAX_SLOT_SCAN = 100_000


def catch_up_slot(
    schedule: Schedule, policy: CatchUpConfig, candidate: datetime, now: datetime
) -> datetime:
    """The slot to schedule given that `candidate` is the next one in line.

    A candidate at or after `now` is not missed and is returned as it is.
    """
    if candidate >= now or (policy.policy == "tron" and policy.window is None):
        return candidate
    if policy.policy == "none":
        return schedule.next_run(now)
    if policy.window is not None and candidate < now - policy.window:
        candidate = schedule.next_run(now - policy.window - timedelta(microseconds=1))
        if candidate >= now:
            return candidate
    if policy.policy == "latest":
        return _missed_slots(schedule, candidate, now)[-1]
    if policy.max_runs is not None:
        slots = _missed_slots(schedule, candidate, now)
        return slots[max(len(slots) - max(policy.max_runs, 1), 0)]
    return candidate


def next_slot(
    schedule: Schedule, policy: CatchUpConfig, after: datetime, now: datetime
) -> datetime:
    """The slot to schedule after the newest scheduled run's time `after`."""
    return catch_up_slot(schedule, policy, schedule.next_run(after), now)


def is_dropped(
    schedule: Schedule, policy: CatchUpConfig, run_time: datetime, now: datetime
) -> bool:
    """Whether a stored scheduled run due at `run_time` is skipped by the policy (recovery)."""
    return catch_up_slot(schedule, policy, run_time, now) != run_time


def _missed_slots(schedule: Schedule, first: datetime, now: datetime) -> list[datetime]:
    """`first` and the slots after it up to `now`."""
    slots = [first]
    while len(slots) < MAX_SLOT_SCAN:
        following = schedule.next_run(slots[-1])
        if following > now:
            break
        slots.append(following)
    return slots
