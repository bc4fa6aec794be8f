"""Check a set of namespace texts together and build the `Config`, collecting every problem."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tron.config import master as m
from tron.config import values as v
from tron.config.actions import References
from tron.config.excerpt import cut
from tron.config.jobs import JobRules, read_jobs
from tron.config.model import MASTER, Config, NamespaceConfig
from tron.config.named import named_items
from tron.config.naming import namespace_name_problem
from tron.config.notifications import declared_channels, read_notifications
from tron.config.parse import parse_yaml
from tron.config.triggers import check_triggers, declared_jobs
from tron.config.values import BadValueError, Report
from tron.config.ynode import YNode
from tron.errors import Problem
from tron.gc_pause import gc_paused

_MESSAGE_CHARS = 1000
_PATH_CHARS = 200


def _later(_: Report, node: YNode, path: str) -> YNode:
    return node


def _only_master(_: Report, node: YNode, path: str) -> None:
    raise BadValueError(f"{path} is only allowed in the MASTER namespace")


def _master_fields(partial: bool) -> dict[str, v.Reader]:
    return {
        "ssh_options": m.read_ssh_options,
        "nodes": m.read_nodes,
        "node_pools": _later,
        "state_persistence": m.read_state_persistence,
        "action_runner": m.read_action_runner,
        "time_zone": v.time_zone,
        "command_context": v.any_mapping,
        "output_stream_dir": m.output_stream_dir(check_disk=not partial),
        "eventbus_enabled": v.optional_boolean,
        "notifications": read_notifications,
        "read_json": v.optional_boolean,
        "mesos_options": v.k8s_options,
        "k8s_options": v.k8s_options,
        "jobs": _later,
    }


_FRAGMENT_FIELDS: Mapping[str, v.Reader] = {
    **dict.fromkeys(_master_fields(partial=True), _only_master),
    "jobs": _later,
}


@dataclass(slots=True)
class _Source:
    name: str
    file: str
    text: str
    tree: YNode | None
    report: Report
    is_broken: bool = False
    fields: dict[str, Any] = field(default_factory=dict)


def check_namespaces(
    sources: Mapping[str, tuple[str, str]],
    *,
    default_time_zone: str | None = None,
    partial: bool = False,
) -> tuple[Config | None, list[Problem]]:
    """Validate namespaces (name -> (file, text)) together; the Config or None, and problems.

    `partial` checks fragments without MASTER: node names and command variables are not
    checked, and the disk is not looked at.
    """
    with gc_paused():
        return _check(sources, default_time_zone, partial)


def _check(
    sources: Mapping[str, tuple[str, str]], default_time_zone: str | None, partial: bool
) -> tuple[Config | None, list[Problem]]:
    parsed = [_parse(name, file, text) for name, (file, text) in _master_first(sources)]
    master = next((source for source in parsed if source.name == MASTER), None)
    settings = _read_master(master, partial)
    refs = _references(master, settings, partial)
    time_zone = settings.get("time_zone") or default_time_zone
    namespaces = [_read_namespace(source, time_zone, refs) for source in parsed]
    _check_triggers(parsed)
    problems = [problem for source in parsed for problem in source.report.problems]
    if master is None and not partial:
        problems.append(Problem("", 0, "", "A config mapping requires a MASTER namespace"))
    if problems:
        return None, [_bounded(problem) for problem in _in_file_order(problems, parsed)]
    return _build(namespaces, settings), []


def _check_triggers(parsed: list[_Source]) -> None:
    """Cross-namespace references of `triggered_by`; most configs have none, and then the
    jobs of every namespace need not be walked again."""
    waiting = [source for source in parsed if "triggered_by" in source.text]
    if not waiting:
        return
    declared = declared_jobs({source.name: source.tree for source in parsed})
    for source in waiting:
        check_triggers(source.report, source.tree, declared)


def _bounded(problem: Problem) -> Problem:
    """The last guard on what a config can make us print: no message or key path is huge."""
    if len(problem.message) <= _MESSAGE_CHARS and len(problem.key_path) <= _PATH_CHARS:
        return problem
    message, key_path = cut(problem.message, _MESSAGE_CHARS), cut(problem.key_path, _PATH_CHARS)
    return Problem(problem.file, problem.line, key_path, message)


def _master_first(sources: Mapping[str, tuple[str, str]]) -> list[tuple[str, tuple[str, str]]]:
    return sorted(sources.items(), key=lambda item: item[0] != MASTER)


def _parse(name: str, file: str, text: str) -> _Source:
    tree, problems = parse_yaml(text, file)
    report = Report(file, problems)
    return _Source(name, file, text, tree, report, is_broken=tree is None and bool(problems))


def _read_master(master: _Source | None, partial: bool) -> dict[str, Any]:
    if master is None or master.is_broken:
        return {}
    report, tree = master.report, master.tree or YNode({}, 1)
    settings = v.read_fields(report, tree, "", _master_fields(partial), title="MASTER")
    nodes = settings.get("nodes", MappingProxyType({"localhost": m.DEFAULT_NODE}))
    settings["nodes"] = nodes
    pools = settings.pop("node_pools", None)
    if pools is not None:
        node_names = _declared(master, "nodes", nodes) or frozenset(nodes)
        settings["node_pools"] = m.read_node_pools(report, pools, "node_pools", node_names)
    master.fields = settings
    return settings


def _references(master: _Source | None, settings: Mapping[str, Any], partial: bool) -> References:
    """What jobs may name. A MASTER section that could not be read at all is not checked
    against (None), and a node or pool whose own entry is wrong still counts as declared: its
    problem is reported once, where it is, not again at every job that uses it."""
    if partial or master is None or master.is_broken:
        return References(node_names=None, variables=None)
    nodes = _declared(master, "nodes", settings["nodes"])
    pools = _declared(master, "node_pools", settings.get("node_pools", {}))
    names = None if nodes is None or pools is None else nodes | pools
    return References(
        node_names=names,
        variables=_read_or_none(master, "command_context", settings),
        channel_names=declared_channels(_section(master, "notifications")),
    )


def _declared(master: _Source, key: str, built: Mapping[str, Any]) -> frozenset[str] | None:
    """The names given in MASTER's `key` (nodes or pools): those `built` and those whose
    entries are wrong; None when `key` is not even a list or mapping."""
    node = _section(master, key)
    if node is not None and node.value is not None and not (node.is_mapping or node.is_sequence):
        return None
    # A throwaway report: the section's own problems were reported when it was read.
    items = named_items(Report(master.file), node, key) if node is not None else []
    return frozenset(built) | {item.name for item in items if item.name}


def _read_or_none(master: _Source, key: str, settings: Mapping[str, Any]) -> frozenset[str] | None:
    """The keys of a MASTER mapping; None when it is written but could not be read."""
    if key not in settings and _section(master, key) is not None:
        return None
    return frozenset(settings.get(key, ()))


def _section(master: _Source, key: str) -> YNode | None:
    tree = master.tree
    section: YNode | None = tree.value.get(key) if tree is not None and tree.is_mapping else None
    return section


def _read_namespace(source: _Source, time_zone: str | None, refs: References) -> NamespaceConfig:
    _check_namespace_name(source)
    jobs_node = _jobs_node(source)
    rules = JobRules(namespace=source.name, time_zone=time_zone, refs=refs)
    jobs = read_jobs(source.report, jobs_node, "jobs", rules) if jobs_node is not None else {}
    return NamespaceConfig(
        name=source.name, file=source.file, text=source.text, jobs=MappingProxyType(jobs)
    )


def _check_namespace_name(source: _Source) -> None:
    problem = namespace_name_problem(source.name)
    if problem is not None:
        source.report.add(1, "", problem)


def _jobs_node(source: _Source) -> YNode | None:
    if source.tree is None:
        return None
    if source.name == MASTER:
        jobs: YNode | None = source.fields.get("jobs")
        return jobs
    title = f"NamedConfigFragment {source.name}"
    fields = v.read_fields(source.report, source.tree, "", _FRAGMENT_FIELDS, title=title)
    fragment_jobs: YNode | None = fields.get("jobs")
    return fragment_jobs


def _in_file_order(problems: list[Problem], parsed: list[_Source]) -> list[Problem]:
    order = {source.file: index for index, source in enumerate(parsed)}
    return sorted(problems, key=lambda p: (order.get(p.file, -1), p.line))


def _build(namespaces: list[NamespaceConfig], settings: Mapping[str, Any]) -> Config:
    known = Config.__dataclass_fields__
    kept = {key: value for key, value in settings.items() if key in known}
    kept["eventbus_enabled"] = bool(kept.get("eventbus_enabled"))
    by_name = MappingProxyType({namespace.name: namespace for namespace in namespaces})
    return Config(namespaces=by_name, **kept)
