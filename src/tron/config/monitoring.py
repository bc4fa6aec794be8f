"""A job's `monitoring` block: Tron's keys given a meaning here, every other key kept as is.

Tron accepts any mapping there (Yelp's `check_tron_jobs` reads it); so do we. The keys we act
on are read into `Monitoring`; a key we act on with a value we cannot use is a config problem
(with file and line), because a typo there would silently turn an alert off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tron.config import values as v
from tron.config.suggest import did_you_mean
from tron.config.values import BadValueError, Report
from tron.config.ynode import YNode, join_path, to_python

# `realert_every: -1` is Sensu's (and check_tron_jobs') "exponential backoff".
EXPONENTIAL = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class Monitoring:
    """What trond does with a job's alerts (see the README's table of keys)."""

    team: str | None = None
    emails: tuple[str, ...] = ()  # notification_email (false or empty: none)
    slack_channels: tuple[str, ...] = ()
    page: bool = False
    runbook: str | None = None
    tip: str | None = None
    description: str | None = None
    priority: str | None = None
    tags: tuple[str, ...] = ()
    # How long a condition must hold before its alert opens (Tron: before check_tron_jobs
    # alerts); None: the built-in defaults (immediately for failures, 10 minutes for slots).
    alert_after: timedelta | None = None
    # A duration, a number of checks (an int), EXPONENTIAL, or None for the default.
    realert_every: timedelta | int | None = None
    check_that_every_day_has_a_successful_run: bool = False
    page_for_expected_runtime: bool = False
    # Ours: extra channels by name, the failure-streak length, the lateness threshold, and
    # a switch to turn a job's alerts off.
    channels: tuple[str, ...] = ()
    failure_streak: int = 3
    late_after: timedelta | None = None
    alerts: bool = True


def _text(value: Any, path: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise BadValueError(f"Value at {path} is not a string: {value!r}")


def _texts(value: Any, path: str) -> tuple[str, ...]:
    """A list, or one comma-separated string (Tron's notification_email); false is none."""
    if value is None or value is False:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise BadValueError(f"Value at {path} is not a string or a list of strings: {value!r}")


def _flag(value: Any, path: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadValueError(f"Value at {path} is not a boolean: {value!r}")
    return value


def _duration(value: Any, path: str) -> timedelta | None:
    """Tron's interval string (`10m`) or a number of seconds."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    if isinstance(value, str):
        return v.time_delta(Report(""), YNode(value, 0), path)
    raise BadValueError(f"Value at {path} is not a valid time delta: {value!r}")


def _realert(value: Any, path: str) -> timedelta | int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        if value == EXPONENTIAL or value >= 1:
            return value
        raise BadValueError(f"Value at {path} must be a positive number of checks or -1")
    return _duration(value, path)


def _count(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadValueError(f"{path} must be a positive int.")
    return value


_READERS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "team": ("team", _text),
    "notification_email": ("emails", _texts),
    "slack_channels": ("slack_channels", _texts),
    "page": ("page", _flag),
    "runbook": ("runbook", _text),
    "tip": ("tip", _text),
    "description": ("description", _text),
    "priority": ("priority", _text),
    "tags": ("tags", _texts),
    "alert_after": ("alert_after", _duration),
    "realert_every": ("realert_every", _realert),
    "check_that_every_day_has_a_successful_run": (
        "check_that_every_day_has_a_successful_run",
        _flag,
    ),
    "page_for_expected_runtime": ("page_for_expected_runtime", _flag),
    "channels": ("channels", _texts),
    "failure_streak": ("failure_streak", _count),
    "late_after": ("late_after", _duration),
    "alerts": ("alerts", _flag),
}


def read_monitoring(
    report: Report, node: YNode, path: str, channel_names: frozenset[str] | None
) -> Monitoring:
    """The keys of `node` (a mapping, checked by the caller) that trond acts on."""
    if not node.is_mapping:
        return Monitoring()
    fields: dict[str, Any] = {}
    for key, child in node.value.items():
        known = _READERS.get(key)
        if known is None:
            continue  # Tron's other keys (ticket, project, component...) and anyone's own
        child_path = join_path(path, key)
        try:
            fields[known[0]] = known[1](to_python(child), child_path)
        except BadValueError as exc:
            report.add(child.line, child_path, str(exc))
    for name in fields.get("channels", ()):
        if channel_names is not None and name not in channel_names:
            report.add(
                node.value["channels"].line,
                join_path(path, "channels"),
                f"Unknown notification channel {name} at {join_path(path, 'channels')}"
                f"{did_you_mean(name, channel_names)}",
            )
    return Monitoring(**fields)
