"""The groc ("complex") form: `every|1st,3rd [days|day] [of|in months|month] [at] HH:MM`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tron.errors import ScheduleError
from tron.schedule.calendar import ALL_MONTHS, ALL_ORDINALS, Calendar, DayRule
from tron.schedule.names import MONTHS, WEEKDAYS

# The suffix is not checked against the number ("3nd" is fine), as in Tron.
_ORDINALS = re.compile(r"[0-9]+(?:st|nd|rd|th)(?:,[0-9]+(?:st|nd|rd|th))*")
_TIME = re.compile(r"(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9])")


class _Invalid(Exception):
    """The expression breaks the grammar (`reason` empty: Tron's bare message) or its ranges."""

    def __init__(self, reason: str = "") -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(slots=True, kw_only=True)
class _Parts:
    """What the words of an expression said, before it is compiled."""

    numbers: tuple[int, ...] = ()
    weekdays: frozenset[int] = frozenset()
    months: tuple[int, ...] = ALL_MONTHS
    time: int = 0


def parse_groc(value: str, path: str) -> Calendar:
    """A groc expression to a Calendar; ScheduleError in Tron's wording when invalid."""
    message = f"Schedule at {path} is not a valid expression: {value}"
    try:
        calendar = _compile(_read(value.lower().split()))
    except _Invalid as exc:
        raise ScheduleError(f"{message} ({exc.reason})" if exc.reason else message) from exc
    if not calendar.can_fire():
        raise ScheduleError(f"{message} (no month in the schedule has those days)")
    return calendar


def _read(words: list[str]) -> _Parts:
    if not words:
        raise _Invalid()
    parts = _Parts()
    if words[0] != "every":
        if _ORDINALS.fullmatch(words[0]) is None:
            raise _Invalid()
        parts.numbers = tuple(int(word[:-2]) for word in words[0].split(","))
    rest = _read_days(words[1:], parts)
    rest = _read_months(rest, parts)
    rest = _read_time(rest, parts)
    if rest:
        raise _Invalid()
    return parts


def _read_days(words: list[str], parts: _Parts) -> list[str]:
    if not words or words[0] == "day":
        return words[1:]
    names = words[0].split(",")
    if not all(name in WEEKDAYS for name in names):
        return words
    parts.weekdays = frozenset(WEEKDAYS[name] for name in names)
    return words[1:]


def _read_months(words: list[str], parts: _Parts) -> list[str]:
    if not words or words[0] not in ("of", "in"):
        return words
    if len(words) < 2:
        raise _Invalid()
    if words[1] != "month":
        parts.months = tuple(sorted({_name(MONTHS, name) for name in words[1].split(",")}))
    return words[2:]


def _read_time(words: list[str], parts: _Parts) -> list[str]:
    if words and words[0] == "at":
        words = words[1:]
        if not words:
            raise _Invalid()
    if not words:
        return words
    match = _TIME.fullmatch(words[0])
    if match is None:
        return words
    parts.time = int(match["hour"]) * 3600 + int(match["minute"]) * 60
    return words[1:]


def _name(names: Mapping[str, int], name: str) -> int:
    if name not in names:
        raise _Invalid()
    return names[name]


def _compile(parts: _Parts) -> Calendar:
    return Calendar(times=(parts.time,), months=parts.months, days=_day_rule(parts))


def _day_rule(parts: _Parts) -> DayRule:
    numbers = frozenset(parts.numbers)
    if parts.weekdays:
        if not numbers <= ALL_ORDINALS:
            raise _Invalid("ordinals of a weekday must be 1st..5th")
        return DayRule(weekdays=parts.weekdays, ordinals=numbers or ALL_ORDINALS)
    if numbers and not all(1 <= number <= 31 for number in numbers):
        raise _Invalid("days of the month must be 1st..31st")
    return DayRule(monthdays=tuple(sorted(numbers)))
