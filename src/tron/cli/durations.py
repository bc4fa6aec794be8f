"""Parsing of tronctl's time arguments: `--wait-for-deps` spans and `--run-date` stamps."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)")
_RUN_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
)


def parse_span(text: str) -> float:
    """Seconds in `30`, `10m`, `1h30m`, `2d 4h` or `infinity`; ValueError otherwise."""
    text = text.strip().lower()
    if text in ("inf", "infinity"):
        return math.inf
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    compact = text.replace(" ", "")
    parts = _PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def format_span(seconds: float) -> str:
    """`H:MM:SS`, or `forever` for an unbounded wait."""
    if math.isinf(seconds):
        return "forever"
    return str(timedelta(seconds=int(seconds)))


def parse_run_date(text: str) -> datetime:
    """A `--run-date` in any of Tron's accepted forms; ValueError otherwise."""
    for fmt in _RUN_DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"not a run date: {text!r}")


def format_run_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")
