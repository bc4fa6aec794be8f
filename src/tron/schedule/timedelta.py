"""Tron's one-unit time delta strings ("5 min", "2h", "1 day") for jitter and friends."""

from __future__ import annotations

import re
from datetime import timedelta

_DELTA = re.compile(r"\s*(?P<count>[0-9]+)\s*(?P<unit>[a-zA-Z]+)\s*")

# Units are case-sensitive, as in Tron: "5 Min" is refused.
_UNITS: dict[str, str] = {
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "seconds"),
}


def parse_timedelta(text: str) -> timedelta:
    """`<int> <unit>` with exactly one unit to a timedelta; raises ValueError otherwise."""
    match = _DELTA.fullmatch(text)
    unit = _UNITS.get(match["unit"]) if match else None
    if match is None or unit is None:
        raise ValueError(f"not a valid time delta: {text}")
    return timedelta(**{unit: int(match["count"])})
