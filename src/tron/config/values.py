"""Readers for config values (bool, int, time delta, identifier...) with Tron's error wording."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from tron.config.excerpt import cut, excerpt
from tron.config.suggest import did_you_mean
from tron.config.ynode import YNode, join_path, to_python
from tron.errors import Problem

K8S_ONLY = "is not supported by this scheduler (Kubernetes/Mesos only)"

_IDENTIFIER = re.compile(r"[A-Za-z_][\w\-]{0,254}")
_DELTA = re.compile(r"\s*([0-9]+)\s*([a-z]+)\s*")
_DELTA_UNITS = {
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "seconds"),
}


class BadValueError(Exception):
    """A value is wrong; the message is the whole problem text."""


@dataclass(slots=True)
class Report:
    """Collects the problems of one file while it is checked."""

    file: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, line: int, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, line, path, message))


Reader = Callable[[Report, YNode, str], Any]


def read_fields(
    report: Report,
    node: YNode,
    path: str,
    fields: Mapping[str, Reader],
    *,
    title: str,
    required: Collection[str] = (),
) -> dict[str, Any]:
    """Read a mapping through `fields` (key -> reader); report unknown, missing and bad keys.

    Returns the values read well, by key; a key with a bad value is left out. `title` names the
    mapping in messages (`Job nightly`).
    """
    if node.value is None:
        node = YNode({}, node.line)
    if not node.is_mapping:
        report.add(node.line, path, f"Value at {path or 'top level'} is not a dictionary")
        return {}
    values: dict[str, Any] = {}
    for key, child in node.value.items():
        child_path = join_path(path, key)
        reader = fields.get(key)
        if reader is None:
            hint = did_you_mean(str(key), (str(name) for name in fields))
            report.add(child.line, child_path, f"Unknown keys in {title}: {key}{hint}")
            continue
        try:
            values[key] = reader(report, child, child_path)
        except BadValueError as exc:
            report.add(child.line, child_path, str(exc))
    missing = [key for key in required if key not in node.value]
    if missing:
        report.add(node.line, path, f"{title} is missing options: {', '.join(missing)}")
    return values


def _shown(node: YNode) -> str:
    return excerpt(node)


def boolean(_: Report, node: YNode, path: str) -> bool:
    if not isinstance(node.value, bool):
        raise BadValueError(f"Value at {path} is not a boolean: {_shown(node)}")
    return node.value


def optional_boolean(report: Report, node: YNode, path: str) -> bool | None:
    return None if node.value is None else boolean(report, node, path)


def integer(minimum: int = 0) -> Reader:
    """An int (not a bool, not a float) of at least `minimum`."""

    def read(_: Report, node: YNode, path: str) -> int:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadValueError(f"Value at {path} is not an int: {_shown(node)}")
        if value < minimum:
            raise BadValueError(_too_small(path, minimum))
        return value

    return read


def number(minimum: float = 0.0) -> Reader:
    """An int or float of at least `minimum`."""

    def read(_: Report, node: YNode, path: str) -> float:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadValueError(f"Value at {path} is not a number: {_shown(node)}")
        if not value >= minimum:
            raise BadValueError(_too_small(path, minimum))
        return float(value)

    return read


def _too_small(path: str, minimum: float) -> str:
    return f"{path} must be a positive int." if minimum == 0 else f"{path} must be >= {minimum}."


def string(_: Report, node: YNode, path: str) -> str:
    if not isinstance(node.value, str):
        raise BadValueError(f"Value at {path} is not a string: {_shown(node)}")
    return node.value


def optional_string(report: Report, node: YNode, path: str) -> str | None:
    return None if node.value is None else string(report, node, path)


def string_list(report: Report, node: YNode, path: str) -> tuple[str, ...]:
    """A list of strings; null is an empty list. Bad items are reported one by one."""
    if node.value is None:
        return ()
    if not node.is_sequence:
        raise BadValueError(f"Value at {path} is not a list: {_shown(node)}")
    items = []
    for index, item in enumerate(node.value):
        try:
            items.append(string(report, item, join_path(path, index)))
        except BadValueError as exc:
            report.add(item.line, join_path(path, index), str(exc))
    return tuple(items)


def identifier(report: Report, node: YNode, path: str) -> str:
    value = string(report, node, path)
    check_identifier(value, path)
    return value


IDENTIFIER_RULE = (
    "a name starts with an ASCII letter or _, followed by letters, digits, _ or -;"
    " no spaces or dots; 255 characters at most"
)


def check_identifier(value: str, path: str) -> None:
    """Tron's name rule: a letter or `_`, then letters, digits, `_` or `-`; 255 at most.

    The message states the rule, so whoever wrote `my job` or `1st` learns what to write."""
    if not _IDENTIFIER.fullmatch(value):
        raise BadValueError(
            f"Identifier at {path} is not a valid identifier: {cut(value)} ({IDENTIFIER_RULE})"
        )


def time_delta(report: Report, node: YNode, path: str) -> timedelta:
    """Tron's interval syntax: one integer and one unit (`10m`, `1 hour`, `30 secs`)."""
    match = _DELTA.fullmatch(node.value) if isinstance(node.value, str) else None
    unit = _DELTA_UNITS.get(match.group(2)) if match else None
    if match is None or unit is None:
        raise BadValueError(f"Value at {path} is not a valid time delta: {_shown(node)}")
    return timedelta(**{unit: int(match.group(1))})


def optional_time_delta(report: Report, node: YNode, path: str) -> timedelta | None:
    return None if node.value is None else time_delta(report, node, path)


def choice(*choices: str) -> Reader:
    """One of `choices`, exactly."""

    def read(_: Report, node: YNode, path: str) -> str:
        if node.value not in choices or not isinstance(node.value, str):
            listed = ", ".join(choices)
            raise BadValueError(f"Value at {path} is not in {listed}: {_shown(node)}")
        return node.value

    return read


def time_zone(report: Report, node: YNode, path: str) -> str | None:
    """An IANA time zone name such as `Europe/Paris`; null means none."""
    if node.value is None:
        return None
    name = string(report, node, path)
    if not is_time_zone(name):
        raise BadValueError(f"{cut(name)} is not a valid time zone")
    return name


def is_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def any_mapping(_: Report, node: YNode, path: str) -> Mapping[str, Any]:
    """A free-form mapping (monitoring, command_context); null is empty."""
    if node.value is None:
        return MappingProxyType({})
    if not node.is_mapping:
        raise BadValueError(f"Value at {path} is not a dictionary: {_shown(node)}")
    return MappingProxyType(to_python(node))


def string_mapping(report: Report, node: YNode, path: str) -> Mapping[str, str]:
    """A mapping of strings to strings (env); null is empty."""
    mapping = any_mapping(report, node, path)
    for key, child in node.value.items() if node.is_mapping else ():
        if not isinstance(child.value, str):
            message = f"Value at {join_path(path, key)} is not a string: {_shown(child)}"
            report.add(child.line, join_path(path, key), message)
    return mapping


def anything(_: Report, node: YNode, path: str) -> Any:
    """Accepted and kept as written, never checked (Tron has no validator for it)."""
    return to_python(node)


def k8s_only(_: Report, node: YNode, path: str) -> None:
    """A Kubernetes/Mesos key: a problem unless it is null."""
    if node.value is not None:
        raise BadValueError(f"{path.rsplit('.', 1)[-1]} {K8S_ONLY}")


def k8s_switch(report: Report, node: YNode, path: str) -> None:
    """`use_k8s`: false (or null) is accepted, true asks for Kubernetes."""
    if optional_boolean(report, node, path):
        raise BadValueError(f"{path.rsplit('.', 1)[-1]}: true {K8S_ONLY}")


def k8s_options(report: Report, node: YNode, path: str) -> None:
    """`mesos_options` / `k8s_options`: Tron writes them disabled; enabled is refused."""
    options = any_mapping(report, node, path)
    if options.get("enabled") is True:
        raise BadValueError(f"{path.rsplit('.', 1)[-1]} with enabled: true {K8S_ONLY}")
