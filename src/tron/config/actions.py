"""Actions and cleanup actions of a job: their keys, commands and node references."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from tron.config import values as v
from tron.config.excerpt import excerpt
from tron.config.model import CLEANUP_ACTION_NAME, ActionConfig, RetryBackoff
from tron.config.named import Named, valid_name
from tron.config.suggest import did_you_mean
from tron.config.values import BadValueError, Report
from tron.config.ynode import YNode
from tron.context import BUILTIN_VARIABLES, check_command
from tron.errors import ContextError

K8S_ACTION_KEYS = (
    "cpus",
    "mem",
    "disk",
    "cap_add",
    "cap_drop",
    "constraints",
    "docker_image",
    "docker_parameters",
    "secret_env",
    "secret_volumes",
    "projected_sa_volumes",
    "field_selector_env",
    "extra_volumes",
    "node_selectors",
    "node_affinities",
    "topology_spread_constraints",
    "labels",
    "annotations",
    "service_account_name",
    "ports",
)
_EXECUTORS = ("ssh", "mesos", "kubernetes", "spark")
_BACKOFF_FIELDS: Mapping[str, v.Reader] = {
    "factor": v.number(1.0),
    "max_delay": v.optional_time_delta,
    "jitter": v.time_delta,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class References:
    """What names may be referred to; None means "not known here, do not check" (partial)."""

    node_names: frozenset[str] | None
    variables: frozenset[str] | None
    channel_names: frozenset[str] | None = None


def read_action(
    report: Report, item: Named, refs: References, *, is_cleanup: bool = False
) -> ActionConfig | None:
    """Read one action (or the cleanup action); None when it cannot be built."""
    name = _action_name(report, item, is_cleanup)
    title = f"Action {name}" if name else "Nameless Action"
    fields = v.read_fields(
        report, item.node, item.path, _fields(refs, is_cleanup), title=title, required=("command",)
    )
    if name is None or "command" not in fields:
        return None
    kept = {key: value for key, value in fields.items() if key in ActionConfig.__dataclass_fields__}
    return ActionConfig(**{**kept, "name": name})


def _action_name(report: Report, item: Named, is_cleanup: bool) -> str | None:
    if is_cleanup:
        return CLEANUP_ACTION_NAME
    if item.name == CLEANUP_ACTION_NAME:
        report.add(item.node.line, item.path, f"Invalid action name cleanup at {item.path}")
        return None
    return item.name if valid_name(report, item) else None


# One table per set of references, not one per action: 10,000 jobs have 20,000 actions.
@lru_cache(maxsize=16)
def _fields(refs: References, is_cleanup: bool) -> Mapping[str, v.Reader]:
    fields: dict[str, v.Reader] = {
        "name": _cleanup_name if is_cleanup else v.identifier,
        "command": _command(refs),
        "requires": _no_requires if is_cleanup else v.string_list,
        "node": node_reference(refs),
        "retries": _optional_int,
        "retries_delay": v.optional_time_delta,
        "retries_backoff": _backoff,
        "expected_runtime": v.time_delta,
        "executor": _executor,
        "trigger_downstreams": _trigger_downstreams,
        "triggered_by": v.string_list,
        "trigger_timeout": v.optional_time_delta,
        "on_upstream_rerun": _on_upstream_rerun,
        "idempotent": v.anything,
        "env": v.string_mapping,
    }
    fields.update(dict.fromkeys(K8S_ACTION_KEYS, v.k8s_only))
    return MappingProxyType(fields)


def node_reference(refs: References) -> v.Reader:
    """A node or pool name, which must exist when the nodes are known."""

    def read(report: Report, node: YNode, path: str) -> str:
        name = v.string(report, node, path)
        if refs.node_names is not None and name not in refs.node_names:
            hint = did_you_mean(name, refs.node_names)
            raise BadValueError(f"Unknown node name {name} at {path}{hint}")
        return name

    return read


def _command(refs: References) -> v.Reader:
    """The command; a template problem is reported but the action is still built, so the
    dependency checks of its job still run."""

    def read(report: Report, node: YNode, path: str) -> str:
        command = v.string(report, node, path)
        for problem in _command_problems(command, refs.variables, path):
            report.add(node.line, path, problem)
        return command

    return read


# Past this many unknown variables in one command, the rest can wait for the next check.
_MAX_UNKNOWN = 20


def _command_problems(command: str, variables: frozenset[str] | None, path: str) -> list[str]:
    """Every unknown variable of `command` (rendering stops at the first, so each one found
    is taken as known and the command checked again), or the template's format problem."""
    # Without braces there is nothing to render, so nothing can be wrong.
    if variables is None or ("{" not in command and "}" not in command):
        return []
    problems: list[str] = []
    known = variables
    while len(problems) < _MAX_UNKNOWN:
        error = _context_error(command, known)
        if error is None:
            break
        variable, message = error
        if variable is None or variable in known:
            problems.append(f"{message} at {path}")
            break
        hint = did_you_mean(variable, variables | BUILTIN_VARIABLES)
        problems.append(f"Unknown context variable '{variable}' at {path}: {command}{hint}")
        known = known | {variable}
    return problems


@lru_cache(maxsize=4096)
def _context_error(command: str, variables: frozenset[str]) -> tuple[str | None, str] | None:
    """The unknown variable and the message of rendering `command`, or None if it renders.

    Cached because many jobs share their commands (`echo {shortdate}`) and rendering is slow.
    """
    try:
        check_command(command, variables)
    except ContextError as exc:
        return exc.variable, str(exc)
    return None


def _cleanup_name(report: Report, node: YNode, path: str) -> str:
    name = v.string(report, node, path)
    if name != CLEANUP_ACTION_NAME:
        raise BadValueError(f"Cleanup actions cannot have custom names {path}.{name}")
    return name


def _no_requires(_: Report, node: YNode, path: str) -> None:
    raise BadValueError(f"Cleanup actions cannot have requires at {path}")


def _optional_int(report: Report, node: YNode, path: str) -> int:
    return 0 if node.value is None else int(v.integer()(report, node, path))


def _backoff(report: Report, node: YNode, path: str) -> RetryBackoff | None:
    if node.value is None:
        return None
    return RetryBackoff(**v.read_fields(report, node, path, _BACKOFF_FIELDS, title="RetryBackoff"))


def _executor(report: Report, node: YNode, path: str) -> str:
    executor = v.choice(*_EXECUTORS)(report, node, path)
    if executor != "ssh":
        raise BadValueError(f"executor {executor} {v.K8S_ONLY}")
    return str(executor)


def _trigger_downstreams(report: Report, node: YNode, path: str) -> Any:
    if node.value is None or isinstance(node.value, bool):
        return node.value
    if not node.is_mapping:
        raise BadValueError(f"Value at {path} must be None, bool or dict: {excerpt(node)}")
    return MappingProxyType(dict(v.string_mapping(report, node, path)))


def _on_upstream_rerun(report: Report, node: YNode, path: str) -> str | None:
    return None if node.value is None else str(v.choice("rerun")(report, node, path))
