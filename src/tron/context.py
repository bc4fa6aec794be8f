"""Command rendering: Tron's `{shortdate-1}`-style variables in commands and trigger names.

Templates use Python `str.format` syntax (spec 4): `{name}` fields, `{{`/`}}` for literal
braces, format specs and conversions as `str.format` applies them. Lookup order (spec 4.1):
action-run variables, date variables of the run time, `runid±N`, `last_success#<date var>`,
then the variables handed in (built-ins first, user `command_context` last).
"""

from __future__ import annotations

import calendar
import functools
import re
import string
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from tron.errors import ContextError

DATE_VARIABLES = frozenset(
    {
        "shortdate",
        "ymd",
        "ym",
        "ymdh",
        "ymdhm",
        "year",
        "month",
        "day",
        "hour",
        "unixtime",
        "daynumber",
    }
)
BUILTIN_VARIABLES = DATE_VARIABLES | frozenset(
    {
        "runid",
        "name",
        "namespace",
        "actionname",
        "node",
        "manual",
        "cleanup_job_status",
        "last_success",
    }
)

_FORMATS = {
    "shortdate": "%Y-%m-%d",
    "ymd": "%Y-%m-%d",
    "ym": "%Y-%m",
    "ymdh": "%Y-%m-%dT%H",
    "ymdhm": "%Y-%m-%dT%H:%M",
    "year": "%Y",
    "month": "%m",
    "day": "%d",
    "hour": "%H",
}
# The unit of N in `{var+N}` (spec 4.3).
_UNITS = {
    "shortdate": "days",
    "ymd": "days",
    "day": "days",
    "ym": "months",
    "month": "months",
    "year": "years",
    "hour": "hours",
    "ymdh": "hours",
    "ymdhm": "minutes",
}
# Tron matches a prefix (`re.match`), so `{day-x}` is `{day}`: kept for compatibility.
_DATE_EXPR = re.compile(r"(\w+)([+-]\d+)?")
_RUNID_EXPR = re.compile(r"runid([+-]\d+)")
_FIRST_ACTION_VARIABLES = ("actionname", "node")
_DUMMY_TIME = datetime(2000, 1, 1)


def render(command: str, *, run_time: datetime, variables: Mapping[str, Any] | None = None) -> str:
    """Render `command` for a run due at `run_time` (its wall-clock fields are used as given).

    Raises ContextError for an unknown variable (`.variable` names it) or a malformed
    template; never renders a missing variable as an empty string.
    """
    try:
        parts = _plain_parts(command)
        if parts is not None:
            return _fill(parts, run_time, variables or {})
        return _ContextFormatter(run_time, variables or {}).format(command)
    except ContextError:
        raise
    except (ValueError, KeyError, IndexError, AttributeError, TypeError, OverflowError) as exc:
        raise ContextError(f"Wrong command format {command}: {exc}") from exc


def check_command(command: str, user_variables: Iterable[str]) -> None:
    """Raise ContextError if `command` cannot render with every built-in and these names."""
    variables: dict[str, Any] = {name: _Filler() for name in user_variables}
    variables.update(
        runid="ns.job.0",
        name="ns.job",
        namespace="ns",
        actionname="action",
        node="localhost",
        manual="false",
        cleanup_job_status="UNKNOWN",
        last_success=None,
    )
    render(command, run_time=_DUMMY_TIME, variables=variables)


def date_value(expression: str, when: datetime) -> str | int | None:
    """The value of a date expression such as `shortdate-1` at `when`; None if it is not one."""
    match = _DATE_EXPR.match(expression.replace(" ", ""))
    if match is None or match[1] not in DATE_VARIABLES:
        return None
    name, offset = match[1], int(match[2] or 0)
    if name == "unixtime":
        return _epoch_seconds(when) + offset
    if name == "daynumber":
        return when.toordinal() + offset
    return _shift(when, _UNITS[name], offset).strftime(_FORMATS[name])


# A template's parts, as string.Formatter.parse gives them: literal text, then a field's name,
# format spec and conversion (None after the last literal).
_Parts = tuple[tuple[str, str | None, str | None, str | None], ...]
_CONVERSIONS: dict[str, Any] = {"s": str, "r": repr, "a": ascii}
_PARSER = string.Formatter()


@functools.lru_cache(maxsize=1024)
def _plain_parts(template: str) -> _Parts | None:
    """`template`'s parts when every field is a name looked up whole (no attribute, index,
    position or nested field, a known conversion): what `_fill` renders as the formatter
    would, without its generic machinery. None for any other template, malformed ones too:
    the formatter then renders it, or says what is wrong with it."""
    try:
        parts = tuple(_PARSER.parse(template))
    except ValueError:
        return None
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if not name or name.isdigit() or any(c in name for c in ".[]"):
            return None
        if "{" in (spec or "") or "}" in (spec or "") or conversion not in (None, *_CONVERSIONS):
            return None
    return parts


def _fill(parts: _Parts, run_time: datetime, variables: Mapping[str, Any]) -> str:
    pieces = []
    for literal, name, spec, conversion in parts:
        pieces.append(literal)
        if name is not None:
            value = _lookup(name, run_time, variables)
            if conversion is not None:
                value = _CONVERSIONS[conversion](value)
            pieces.append(format(value, spec or ""))
    return "".join(pieces)


class _ContextFormatter(string.Formatter):
    def __init__(self, run_time: datetime, variables: Mapping[str, Any]) -> None:
        super().__init__()
        self._run_time = run_time
        self._variables = variables

    def get_value(self, key: int | str, args: Any, kwargs: Any) -> Any:
        if isinstance(key, int):
            raise ContextError(f"Unknown context variable '{key}'", variable=str(key))
        return _lookup(key, self._run_time, self._variables)


def _lookup(key: str, run_time: datetime, variables: Mapping[str, Any]) -> Any:
    if key in _FIRST_ACTION_VARIABLES and key in variables:
        return variables[key]
    for source in (_date_source, _runid_source, _last_success_source):
        value = source(key, run_time, variables)
        if value is not None:
            return value
    if key in variables and key != "last_success":
        return variables[key]
    raise ContextError(f"Unknown context variable '{key}'", variable=key)


def _date_source(key: str, run_time: datetime, variables: Mapping[str, Any]) -> Any:
    return date_value(key, run_time)


def _runid_source(key: str, run_time: datetime, variables: Mapping[str, Any]) -> Any:
    match = _RUNID_EXPR.fullmatch(key.replace(" ", ""))
    runid = variables.get("runid")
    if match is None or not isinstance(runid, str):
        return None
    job_name, _, run_num = runid.rpartition(".")
    if not run_num.lstrip("-").isdigit():
        return None
    return f"{job_name}.{int(run_num) + int(match[1])}"


def _last_success_source(key: str, run_time: datetime, variables: Mapping[str, Any]) -> Any:
    name, hash_sign, expression = key.rpartition("#")
    if not hash_sign or name != "last_success":
        return None
    # No successful run yet: Tron uses "now"; a pure renderer uses the run's own time.
    last_success = variables.get("last_success")
    return date_value(expression, last_success if last_success is not None else run_time)


def _shift(when: datetime, unit: str, offset: int) -> datetime:
    if unit == "years":
        return _add_months(when, 12 * offset)
    if unit == "months":
        return _add_months(when, offset)
    # Wall-clock arithmetic, as Python does for aware datetimes: 14:07 + 1 hour is 15:07.
    return when + timedelta(**{unit: offset})


def _add_months(when: datetime, months: int) -> datetime:
    year, month0 = divmod(when.year * 12 + when.month - 1 + months, 12)
    day = min(when.day, calendar.monthrange(year, month0 + 1)[1])
    return when.replace(year=year, month=month0 + 1, day=day)


def _epoch_seconds(when: datetime) -> int:
    # A naive run time is taken as UTC so rendering never depends on the daemon's zone.
    parts = when.utctimetuple() if when.tzinfo is not None else when.timetuple()
    return calendar.timegm(parts)


class _Filler:
    """Stands for a user variable during validation: any attribute, index or format works."""

    def __getattr__(self, name: str) -> _Filler:
        return self

    def __getitem__(self, key: object) -> _Filler:
        return self

    def __format__(self, spec: str) -> str:
        return ""

    def __str__(self) -> str:
        return ""
