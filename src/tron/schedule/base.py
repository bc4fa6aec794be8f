"""The Schedule contract every schedule kind (cron, daily, groc) fulfils."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol


class Schedule(Protocol):
    """When a job is due.

    `type` is Tron's scheduler type (`cron`, `daily`, `groc`), `value` the schedule as written
    (without the type word), `jitter` the spread the engine adds at random (zero when unset),
    `time_zone` the IANA zone its wall-clock times are read in (`None` = UTC).
    Instances are immutable and compare equal when they describe the same schedule.
    """

    @property
    def type(self) -> str: ...

    @property
    def value(self) -> str: ...

    @property
    def jitter(self) -> timedelta: ...

    @property
    def time_zone(self) -> str | None: ...

    def next_run(self, after: datetime) -> datetime:
        """The first fire time strictly after `after` (aware in, aware out, in the zone).

        Never loops forever: a schedule that cannot fire is refused by `parse_schedule`.
        Raises `ValueError` for a naive `after`.
        """
        ...
