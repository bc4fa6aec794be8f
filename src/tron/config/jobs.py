"""Jobs of one namespace: keys, schedule, actions, and the action dependency graph."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from tron.config import values as v
from tron.config.actions import References, node_reference, read_action
from tron.config.model import ActionConfig, CatchUpConfig, JobConfig
from tron.config.monitoring import read_monitoring
from tron.config.named import Named, named_items, valid_name
from tron.config.schedules import schedule_rule
from tron.config.values import Report
from tron.config.ynode import YNode, join_path, to_python
from tron.errors import ScheduleError
from tron.schedule import Schedule, parse_schedule

_CATCH_UP_FIELDS: Mapping[str, v.Reader] = {
    "policy": v.choice("tron", "none", "latest", "all"),
    "window": v.optional_time_delta,
    "max_runs": v.integer(1),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRules:
    """What the jobs of one namespace are checked against."""

    namespace: str
    time_zone: str | None
    refs: References


def read_jobs(report: Report, node: YNode, path: str, rules: JobRules) -> dict[str, JobConfig]:
    """`jobs`: a list or mapping of jobs; the jobs that could be built, by short name."""
    jobs = (_read_job(report, item, rules) for item in named_items(report, node, path))
    return {job.name: job for job in jobs if job is not None}


def _read_job(report: Report, item: Named, rules: JobRules) -> JobConfig | None:
    title = f"Job {item.name}" if item.name else "Nameless Job"
    required = ("node", "schedule", "actions")
    fields = v.read_fields(
        report, item.node, item.path, _job_fields(rules), title=title, required=required
    )
    # A bad name does not stop the checks: the schedule and actions are read all the same, so
    # every problem of the job shows at once rather than after the name is fixed.
    is_named = valid_name(report, item)
    if not item.node.is_mapping:
        return None
    time_zone = fields.get("time_zone") or rules.time_zone
    schedule = _schedule(report, item, time_zone)
    action_items = _action_items(report, item)
    built = (read_action(report, action, rules.refs) for action in action_items.values())
    actions = {action.name: action for action in built if action is not None}
    cleanup_ok, cleanup = _cleanup(report, item, rules)
    _check_requires(report, item.name or item.path, rules.namespace, actions, action_items)
    kept = {key: value for key, value in fields.items() if key in JobConfig.__dataclass_fields__}
    monitoring = _child(item, "monitoring")
    if monitoring is not None:
        monitoring_path = join_path(item.path, "monitoring")
        channels = rules.refs.channel_names
        kept["alerting"] = read_monitoring(report, monitoring, monitoring_path, channels)
    if not is_named or schedule is None or not actions or "node" not in fields or not cleanup_ok:
        return None
    assert item.name is not None  # valid_name said so
    return JobConfig(
        **{
            **kept,
            "name": item.name,
            "namespace": rules.namespace,
            "time_zone": time_zone,
            "schedule": schedule,
            "actions": MappingProxyType(actions),
            "cleanup_action": cleanup,
        }
    )


@lru_cache(maxsize=64)
def _job_fields(rules: JobRules) -> Mapping[str, v.Reader]:
    """The job keys and their readers, built once per namespace rather than once per job."""
    return MappingProxyType(
        {
            "name": v.identifier,
            "namespace": v.anything,  # Tron injects it; the file's namespace always wins
            "node": node_reference(rules.refs),
            "schedule": _later,
            "actions": _later,
            "cleanup_action": _later,
            "monitoring": v.any_mapping,
            "queueing": v.boolean,
            "allow_overlap": v.boolean,
            "run_limit": v.integer(),
            "all_nodes": v.boolean,
            "enabled": v.boolean,
            "max_runtime": v.optional_time_delta,
            "time_zone": v.time_zone,
            "expected_runtime": v.time_delta,
            "catch_up": _catch_up,
            "use_k8s": v.k8s_switch,
        }
    )


def _later(_: Report, node: YNode, path: str) -> YNode:
    """Keys read after the others, because they need the job's time zone or name."""
    return node


def _catch_up(report: Report, node: YNode, path: str) -> CatchUpConfig:
    return CatchUpConfig(**v.read_fields(report, node, path, _CATCH_UP_FIELDS, title="CatchUp"))


def _child(item: Named, key: str) -> YNode | None:
    child: YNode | None = item.node.value.get(key)
    return child


def _schedule(report: Report, item: Named, time_zone: str | None) -> Schedule | None:
    node = _child(item, "schedule")
    if node is None:
        return None
    path = join_path(item.path, "schedule")
    if isinstance(node.value, str):
        shared = _string_schedule(node.value, time_zone)
        if shared is not None:
            return shared
    try:
        schedule: Schedule = parse_schedule(to_python(node), time_zone, path=path)
    except (ScheduleError, ValueError) as exc:
        message = str(exc)
        report.add(node.line, path, f"{message}{schedule_rule(message, to_python(node))}")
        return None
    return schedule


@lru_cache(maxsize=4096)
def _string_schedule(value: str, time_zone: str | None) -> Schedule | None:
    """A schedule string parsed once for all the jobs that share it (schedules are immutable);
    None when it is invalid, to be parsed again with the job's key path for the message."""
    try:
        return parse_schedule(value, time_zone)
    except (ScheduleError, ValueError):
        return None


def _action_items(report: Report, item: Named) -> dict[str, Named]:
    """The job's action entries by name (unnamed ones under their position)."""
    node = _child(item, "actions")
    if node is None:
        return {}
    path = join_path(item.path, "actions")
    items = named_items(report, node, path)
    if not items and not isinstance(node.value, str | int | float):
        report.add(node.line, path, f"Required non-empty list at {path}")
    return {action.name or action.path: action for action in items}


def _cleanup(report: Report, item: Named, rules: JobRules) -> tuple[bool, ActionConfig | None]:
    """Whether the cleanup action is usable, and the action (None when there is none)."""
    node = _child(item, "cleanup_action")
    if node is None or node.value is None:
        return True, None
    cleanup_item = Named(name=None, node=node, path=join_path(item.path, "cleanup_action"))
    action = read_action(report, cleanup_item, rules.refs, is_cleanup=True)
    return action is not None, action


def _check_requires(
    report: Report,
    job: str,
    namespace: str,
    actions: Mapping[str, ActionConfig],
    items: Mapping[str, Named],
) -> None:
    """Every required action exists in the job (even if broken), and none requires itself."""
    for action in actions.values():
        line, path = _requires_location(items[action.name])
        for dependency in action.requires:
            if dependency not in items:
                message = (
                    f"Action jobs.{job}.{action.name} has a dependency "
                    f'"{dependency}" that is not in the same job!'
                )
                report.add(line, path, message)
    for cycle in find_cycles({name: action.requires for name, action in actions.items()}):
        line, path = _requires_location(items[cycle[0]])
        chain = " -> ".join((*cycle, cycle[0]))
        report.add(line, path, f"Circular dependency in job.{namespace}.{job}: {chain}")


def _requires_location(item: Named) -> tuple[int, str]:
    requires = item.node.value.get("requires") if item.node.is_mapping else None
    line = requires.line if requires is not None else item.node.line
    return line, join_path(item.path, "requires")


def find_cycles(graph: Mapping[str, tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Each distinct cycle of `graph` (node -> the nodes it requires), in discovery order.

    Iterative, so a job with thousands of chained actions cannot exhaust the stack.
    """
    finished: set[str] = set()
    cycles: list[tuple[str, ...]] = []
    seen: set[frozenset[str]] = set()
    for start in graph:
        if start in finished:
            continue
        path = [start]
        stack = [iter(graph[start])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                finished.add(path.pop())
                stack.pop()
            elif nxt in path:
                cycle = tuple(path[path.index(nxt) :])
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    cycles.append(cycle)
            elif nxt in graph and nxt not in finished:
                path.append(nxt)
                stack.append(iter(graph[nxt]))
    return cycles
