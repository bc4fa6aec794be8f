"""The rule behind a refused schedule: why `daily 25:59:00` is not a time of day."""

from __future__ import annotations

import re
from typing import Any

_TIME_RULE = "a time of day is HH:MM or HH:MM:SS, from 00:00:00 to 23:59:59"
_FIELDS = re.compile(r"(\d+):(\d+)(?::(\d+))?")
# Each part of a time of day: its name and its largest value.
_LIMITS = (("hour", 23), ("minute", 59), ("second", 59))


def schedule_rule(message: str, value: Any) -> str:
    """`; <why>` to append to `message` refusing schedule `value`, or "" when there is
    nothing to add (the schedule's own message already says why)."""
    time_text = _daily_time(value) if message.endswith("is not a valid time") else None
    if time_text is None:
        return ""
    return f"; {time_of_day_problem(time_text)}"


def time_of_day_problem(text: str) -> str:
    """Why `text` is not a time of day, naming the part that is out of range if one is."""
    match = _FIELDS.fullmatch(text)
    if match is not None:
        for (name, largest), part in zip(_LIMITS, match.groups(), strict=True):
            if part is not None and int(part) > largest:
                return f"{text} is not a time: the {name} is {int(part)}, past {largest}"
    return f"{text} is not a time: {_TIME_RULE}"


def _daily_time(value: Any) -> str | None:
    """The time of day written in a `daily` schedule, in either form (string or mapping)."""
    if isinstance(value, dict) and value.get("type") == "daily":
        value = f"daily {value.get('value', '')}"
    if not isinstance(value, str):
        return None
    parts = value.split()
    if len(parts) < 2 or parts[0] != "daily":
        return None
    return parts[1]
