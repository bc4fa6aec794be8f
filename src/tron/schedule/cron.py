"""The `cron` form: five fields (minute hour day-of-month month day-of-week) to a Calendar."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tron.errors import ScheduleError
from tron.schedule.calendar import ALL_MONTHS, Calendar, DayRule
from tron.schedule.names import MONTH_ABBREVIATIONS, WEEKDAY_ABBREVIATIONS

PREDEFINED = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_PART = re.compile(
    r"(?P<start>\*|[0-9]+|[a-zA-Z]+)(?:-(?P<end>[0-9]+|[a-zA-Z]+))?(?:/(?P<step>[0-9]+))?"
)
_LAST = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class _Field:
    """One cron field: its name in Tron's messages, its bounds and the names it accepts."""

    name: str
    low: int
    high: int
    names: Mapping[str, int]

    def parse(self, text: str) -> tuple[int, ...]:
        """Sorted values of a comma list (`_LAST` last when `L` appears in day-of-month)."""
        values: set[int] = set()
        for part in text.split(","):
            values.update(self._part(part))
        return tuple(sorted(values - {_LAST})) + ((_LAST,) if _LAST in values else ())

    def _part(self, part: str) -> list[int]:
        if part == "L" and self.name == "monthdays":
            return [_LAST]
        match = _PART.fullmatch(part)
        if match is None or (match["start"] == "*" and match["end"] is not None):
            raise ValueError(f"Unknown expression: {part}")
        step = self._step(match["step"])
        if match["start"] == "*":
            return list(range(self.low, self.high + 1, step))
        start = self._value(match["start"])
        if match["end"] is None:
            # Tron reads `N/S` as just N (its range ends at N), so do we.
            return [start]
        return self._range(start, self._value(match["end"]), step)

    def _range(self, start: int, end: int, step: int) -> list[int]:
        if start <= end:
            return list(range(start, end + 1, step))
        # A backwards range wraps past the top of the field: 22-2 is 22,23,0,1,2.
        return [*range(start, self.high + 1), *range(self.low, end + 1)][::step]

    def _step(self, text: str | None) -> int:
        if text is None:
            return 1
        step = int(text)
        if not max(self.low, 1) <= step <= self.high:
            raise ValueError(f"{self.name} value out of range: {step}")
        return step

    def _value(self, text: str) -> int:
        value = self.names.get(text.lower()) if text.isalpha() else int(text)
        if value is None:
            raise ValueError(f"Unknown expression: {text}")
        if not self.low <= value <= self.high:
            raise ValueError(f"{self.name} value out of range: {value}")
        return value


class _WeekdayField(_Field):
    """Day of week: 7 is Sunday too, and `?` means any day."""

    def parse(self, text: str) -> tuple[int, ...]:
        values = super().parse(text.replace("?", "*"))
        return tuple(sorted({value % 7 for value in values}))


_MINUTES = _Field(name="minutes", low=0, high=59, names={})
_HOURS = _Field(name="hours", low=0, high=23, names={})
_MONTHDAYS = _Field(name="monthdays", low=1, high=31, names={})
_MONTHS = _Field(name="months", low=1, high=12, names=MONTH_ABBREVIATIONS)
_WEEKDAYS = _WeekdayField(name="weekdays", low=0, high=7, names=WEEKDAY_ABBREVIATIONS)


def parse_cron(value: str, path: str) -> Calendar:
    """A cron expression to a Calendar; ScheduleError in Tron's wording when invalid."""
    try:
        calendar = _compile(value)
    except ValueError as exc:
        raise ScheduleError(f"Invalid cron scheduler {path}: {exc}") from exc
    if not calendar.can_fire():
        reason = "no month in the schedule has those days"
        raise ScheduleError(f"Invalid cron scheduler {path}: {reason}: {value}")
    return calendar


def _compile(value: str) -> Calendar:
    fields = _fields(value)
    minute, hour, monthday, month, weekday = fields
    if monthday != "*" and weekday != "*":
        raise ValueError("cannot supply both monthdays and weekdays")
    minutes, hours = _MINUTES.parse(minute), _HOURS.parse(hour)
    return Calendar(
        times=tuple(h * 3600 + m * 60 for h in hours for m in minutes),
        months=ALL_MONTHS if month == "*" else _MONTHS.parse(month),
        days=_day_rule(monthday, weekday),
    )


def _fields(value: str) -> list[str]:
    line = value.strip()
    if line.startswith("@"):
        if line not in PREDEFINED:
            raise ValueError(f"Unknown predefine: {line}")
        line = PREDEFINED[line]
    fields = line.split()
    if len(fields) != 5:
        raise ValueError(
            f"expected 5 fields (minute hour monthday month weekday), got {len(fields)}: {value}"
        )
    return fields


def _day_rule(monthday: str, weekday: str) -> DayRule:
    if monthday != "*":
        days = _MONTHDAYS.parse(monthday)
        return DayRule(monthdays=tuple(d for d in days if d != _LAST), last_day=_LAST in days)
    if weekday != "*":
        return DayRule(weekdays=frozenset(_WEEKDAYS.parse(weekday)))
    return DayRule()
