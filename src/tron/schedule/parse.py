"""`parse_schedule`: a job's `schedule` (string or mapping) as written, to a Schedule."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tron.errors import ScheduleError
from tron.schedule.calendar import Calendar
from tron.schedule.cron import parse_cron
from tron.schedule.daily import parse_daily
from tron.schedule.groc import parse_groc
from tron.schedule.timedelta import parse_timedelta
from tron.schedule.zoned import CalendarSchedule, ScheduleType

# Each form: (type shown by the API, value as shown, calendar) from (value, path).
_Reader = Callable[[str, str], tuple[ScheduleType, str, Calendar]]

_MAPPING_KEYS = frozenset({"type", "value", "jitter"})
_LEGACY_KEYS = frozenset({"start_time", "days"})


def parse_schedule(
    value: str | Mapping[str, Any], time_zone: str | None = None, *, path: str = "schedule"
) -> CalendarSchedule:
    """Parse a schedule exactly as written in a job, read in `time_zone` (None = UTC).

    Strings: `daily ...`, `cron ...`, anything else is a groc expression. Mappings:
    `{type: cron|daily|groc daily, value, jitter?}` or the legacy `{start_time?, days?}`.
    Raises ScheduleError, in Tron's wording with `path` as the key path, for anything invalid
    and for a schedule that can never fire.
    """
    _check_zone(time_zone, path)
    if isinstance(value, str):
        kind, shown, calendar = _from_string(value, path)
        jitter = timedelta(0)
    elif isinstance(value, Mapping) and "type" in value:
        kind, shown, calendar, jitter = _from_mapping(value, path)
    elif isinstance(value, Mapping) and _LEGACY_KEYS & value.keys():
        kind, shown, calendar = _from_legacy(value, path)
        jitter = timedelta(0)
    else:
        raise ScheduleError(f"Unknown scheduler at {path}: {value}")
    return CalendarSchedule(
        type=kind, value=shown, calendar=calendar, jitter=jitter, time_zone=time_zone
    )


def _check_zone(time_zone: str | None, path: str) -> None:
    if time_zone is None:
        return
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"Unknown time zone at {path}: {time_zone}") from exc


def _from_string(text: str, path: str) -> tuple[ScheduleType, str, Calendar]:
    stripped = text.strip()
    word, rest = [*stripped.split(None, 1), "", ""][:2]
    reader = _READERS.get(word)
    if reader is None:
        return _read_groc(stripped, path)
    return reader(rest, path)


def _from_mapping(
    mapping: Mapping[str, Any], path: str
) -> tuple[ScheduleType, str, Calendar, timedelta]:
    unknown = mapping.keys() - _MAPPING_KEYS
    if unknown:
        raise ScheduleError(f"Unknown keys in GenericSchedule : {', '.join(sorted(unknown))}")
    if "value" not in mapping:
        raise ScheduleError("Nameless GenericSchedule is missing options: value")
    kind = mapping["type"]
    if kind not in _TYPE_WORDS:
        choices = "{" + ", ".join(repr(word) for word in sorted(_TYPE_WORDS)) + "}"
        raise ScheduleError(f"Value at {path}.type is not in {choices}: {kind}.")
    value = mapping["value"]
    if not isinstance(value, str):
        raise ScheduleError(f"Value at {path}.value is not a string: {value}")
    jitter = _jitter(mapping.get("jitter", timedelta(0)), f"{path}.jitter")
    return (*_TYPE_WORDS[kind](value, path), jitter)


def _from_legacy(mapping: Mapping[str, Any], path: str) -> tuple[ScheduleType, str, Calendar]:
    unknown = mapping.keys() - _LEGACY_KEYS
    if unknown:
        raise ScheduleError(f"Unknown keys in schedule at {path}: {', '.join(sorted(unknown))}")
    start_time = mapping.get("start_time", "00:00:00")
    days = mapping.get("days", "")
    for key, item in (("start_time", start_time), ("days", days)):
        if not isinstance(item, str):
            raise ScheduleError(f"Value at {path}.{key} is not a string: {item}")
    return _read_daily(f"{start_time} {days}", path)


def _jitter(value: object, path: str) -> timedelta:
    if isinstance(value, timedelta):
        return value
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return parse_timedelta(value)
    except ValueError as exc:
        raise ScheduleError(f"Value at {path} is not a valid time delta: {value}") from exc


def _read_cron(value: str, path: str) -> tuple[ScheduleType, str, Calendar]:
    return ScheduleType.CRON, value, parse_cron(value, path)


def _read_daily(value: str, path: str) -> tuple[ScheduleType, str, Calendar]:
    shown, calendar = parse_daily(value, path)
    return ScheduleType.DAILY, shown, calendar


def _read_groc(value: str, path: str) -> tuple[ScheduleType, str, Calendar]:
    return ScheduleType.GROC, value, parse_groc(value, path)


_READERS: dict[str, _Reader] = {"cron": _read_cron, "daily": _read_daily}
_TYPE_WORDS: dict[str, _Reader] = {**_READERS, "groc daily": _read_groc}
