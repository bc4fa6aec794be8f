"""The Schedule every form compiles to: a calendar read in a time zone, with Tron's DST rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from tron.schedule.calendar import Calendar

# Wider than any DST shift in the tz database (Lord Howe's is 30 minutes, most are 1 hour).
_SHIFT_BOUND = timedelta(hours=3)


class ScheduleType(StrEnum):
    """Tron's scheduler type, as its API shows it."""

    CRON = "cron"
    DAILY = "daily"
    GROC = "groc"


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarSchedule:
    """A cron, daily or groc schedule compiled to a `Calendar`.

    Fire instants are the matching wall-clock times read with fold=0: a time skipped by a
    spring-forward gap runs at its pre-transition reading (02:30 -> 03:30 on the new clock);
    a time repeated by a fall-back runs once, at its first occurrence.
    """

    type: ScheduleType
    value: str
    calendar: Calendar = field(repr=False)
    jitter: timedelta = timedelta(0)
    time_zone: str | None = None
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", ZoneInfo(self.time_zone or "UTC"))

    @property
    def jitter_text(self) -> str:
        """Tron's API `jitter` text: `" (+/- 0:05:00)"`, or `""` when unset."""
        return f" (+/- {self.jitter})" if self.jitter else ""

    @property
    def description(self) -> str:
        """Tron's display text: `"<type> <value>"` plus the jitter text."""
        return f"{self.type} {self.value}{self.jitter_text}"

    def next_run(self, after: datetime) -> datetime:
        """The first fire instant strictly after aware `after`, in the schedule's zone."""
        if after.tzinfo is None or after.utcoffset() is None:
            raise ValueError(f"next_run needs an aware datetime, got {after!r}")
        after_utc = after.astimezone(UTC)
        # A wall time skipped by a recent gap reads with the older, smaller offset, so start
        # the search at the smaller of the offsets now and a little before.
        low = min(self._offset(after_utc), self._offset(after_utc - _SHIFT_BOUND))
        after_naive = after_utc.replace(tzinfo=None)
        wall, instant = self._first_after(after_naive, after_naive + low)
        instant = self._earliest_past_gap(after_naive, wall, instant)
        return instant.replace(tzinfo=UTC).astimezone(self._zone)

    def _first_after(self, after: datetime, start: datetime) -> tuple[datetime, datetime]:
        """The first matching wall after `start` whose instant is after `after` (naive UTC)."""
        wall = self.calendar.first_after(start)
        instant = self._instant(wall)
        # Only the second pass through a fall-back hour loops here, at most an hour of walls.
        while instant <= after:
            wall = self.calendar.first_after(wall)
            instant = self._instant(wall)
        return wall, instant

    def _earliest_past_gap(self, after: datetime, wall: datetime, best: datetime) -> datetime:
        """Later walls can read earlier only across a spring-forward; take the earliest then."""
        shift = self._wall_offset(wall + _SHIFT_BOUND) - self._wall_offset(wall)
        if shift <= timedelta(0):
            return best
        limit = wall + shift
        wall = self.calendar.first_after(wall)
        while wall <= limit:
            instant = self._instant(wall)
            if after < instant < best:
                best = instant
            wall = self.calendar.first_after(wall)
        return best

    def _offset(self, instant: datetime) -> timedelta:
        offset = instant.astimezone(self._zone).utcoffset()
        assert offset is not None  # a ZoneInfo always knows its offset
        return offset

    def _wall_offset(self, wall: datetime) -> timedelta:
        """UTC offset of a naive wall time read with fold=0 (Tron's DST rule)."""
        offset = self._zone.utcoffset(wall)
        assert offset is not None
        return offset

    def _instant(self, wall: datetime) -> datetime:
        """Naive UTC instant of a naive wall time, read with fold=0."""
        return wall - self._wall_offset(wall)
