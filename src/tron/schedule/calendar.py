"""One compiled calendar for every schedule form: which wall-clock times match, found by lookups."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta

ALL_ORDINALS = frozenset(range(1, 6))
ALL_MONTHS = tuple(range(1, 13))
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# The Gregorian calendar repeats every 400 years: a day rule that matches nothing in that
# span never matches. Parsing refuses such rules, so this bound is only a safety net.
_MAX_MONTHS = 400 * 12 + 12


def days_in_month(year: int, month: int) -> int:
    """Length of a month, leap years included."""
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month - 1]


@dataclass(frozen=True, slots=True, kw_only=True)
class DayRule:
    """Which days of a month match.

    Month-day mode when `monthdays` or `last_day` is set; otherwise weekday mode when
    `weekdays` is set (0 = Sunday; `ordinals` picks the 1st..5th such weekday of the month);
    otherwise every day.
    """

    monthdays: tuple[int, ...] = ()
    last_day: bool = False
    weekdays: frozenset[int] = frozenset()
    ordinals: frozenset[int] = ALL_ORDINALS

    @property
    def is_by_monthday(self) -> bool:
        return bool(self.monthdays) or self.last_day

    def days(self, year: int, month: int) -> tuple[int, ...]:
        """The matching days of one month, ascending."""
        length = days_in_month(year, month)
        if self.is_by_monthday:
            return self._monthdays(length)
        if self.weekdays:
            return self._weekdays(year, month, length)
        return tuple(range(1, length + 1))

    def _monthdays(self, length: int) -> tuple[int, ...]:
        days = [day for day in self.monthdays if day <= length]
        if self.last_day and length not in days:
            days.append(length)
        return tuple(days)

    def _weekdays(self, year: int, month: int, length: int) -> tuple[int, ...]:
        first = (date(year, month, 1).weekday() + 1) % 7  # Sunday = 0
        days = []
        for weekday in self.weekdays:
            start = 1 + (weekday - first) % 7
            for ordinal in self.ordinals:
                day = start + 7 * (ordinal - 1)
                if day <= length:
                    days.append(day)
        return tuple(sorted(days))

    def can_match(self, months: tuple[int, ...]) -> bool:
        """Whether some day of some year matches, given the allowed months."""
        if not self.is_by_monthday:
            # Every weekday falls on every ordinal 1..5 of every month in some year.
            return True
        longest = max(days_in_month(2000, month) for month in months)
        return self.last_day or min(self.monthdays) <= longest


@dataclass(frozen=True, slots=True, kw_only=True)
class Calendar:
    """Matching wall-clock times: seconds of the day, months, and a day rule.

    `times` (seconds since midnight) and `months` are sorted and non-empty.
    """

    times: tuple[int, ...]
    months: tuple[int, ...] = ALL_MONTHS
    days: DayRule = DayRule()

    def can_fire(self) -> bool:
        return bool(self.times) and bool(self.months) and self.days.can_match(self.months)

    def first_after(self, start: datetime) -> datetime:
        """The first matching naive wall time strictly after naive `start`."""
        second = start.hour * 3600 + start.minute * 60 + start.second
        today = start.date()
        if self._has_day(today):
            index = bisect_right(self.times, second)
            if index < len(self.times):
                return _at(today, self.times[index])
        return _at(self._day_after(today), self.times[0])

    def _has_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        days = self.days.days(day.year, day.month)
        index = bisect_left(days, day.day)
        return index < len(days) and days[index] == day.day

    def _day_after(self, day: date) -> date:
        year, month, after = day.year, day.month, day.day
        for _ in range(_MAX_MONTHS):
            year, month = self._month_from(year, month)
            if (year, month) != (day.year, day.month):
                after = 0
            days = self.days.days(year, month)
            index = bisect_right(days, after)
            if index < len(days):
                return date(year, month, days[index])
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise ValueError("schedule matches no day in 400 years")

    def _month_from(self, year: int, month: int) -> tuple[int, int]:
        """The first allowed month at or after (year, month)."""
        index = bisect_left(self.months, month)
        if index < len(self.months):
            return year, self.months[index]
        return year + 1, self.months[0]


def _at(day: date, second: int) -> datetime:
    return datetime(day.year, day.month, day.day) + timedelta(seconds=second)
