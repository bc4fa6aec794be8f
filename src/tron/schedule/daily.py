"""The `daily` form: `HH:MM[:SS] [DAYS]`, DAYS one letter per weekday (MTWRFSU)."""

from __future__ import annotations

import re

from tron.errors import ScheduleError
from tron.schedule.calendar import Calendar, DayRule
from tron.schedule.names import DAY_LETTERS

_TIME = re.compile(
    r"(?P<hour>[01]?[0-9]|2[0-3]):(?P<minute>[0-5]?[0-9])(?::(?P<second>[0-5]?[0-9]))?"
)


def parse_daily(value: str, path: str) -> tuple[str, Calendar]:
    """The value as Tron shows it (`"<time> <days>"`) and its Calendar."""
    parts = value.split()
    if len(parts) > 2:
        extra = " ".join(parts[2:])
        raise ScheduleError(f"Invalid daily scheduler {path}: unexpected text after days: {extra}")
    time_text = parts[0] if parts else "00:00:00"
    days = parts[1] if len(parts) > 1 else ""
    calendar = Calendar(
        times=(parse_time_of_day(time_text, path),),
        days=DayRule(weekdays=frozenset(_day(letter, path) for letter in days)),
    )
    # Tron keeps a trailing space when no days are given ("04:00:00 "), and so does its API.
    return f"{time_text} {days}", calendar


def parse_time_of_day(text: str, path: str) -> int:
    """`HH:MM` or `HH:MM:SS` to seconds since midnight."""
    match = _TIME.fullmatch(text)
    if match is None:
        raise ScheduleError(f"Value at {path} is not a valid time")
    hour, minute, second = match.group("hour", "minute", "second")
    return int(hour) * 3600 + int(minute) * 60 + int(second or 0)


def _day(letter: str, path: str) -> int:
    if letter not in DAY_LETTERS:
        raise ScheduleError(f"Unknown day {letter} at {path}")
    return DAY_LETTERS[letter]
