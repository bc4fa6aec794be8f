"""Cross-namespace references of `triggered_by`: the job and action a trigger waits on exist.

A trigger `<ns>.<job>.<action>.<key>.<value>` names the action that publishes it. When `<ns>`
is a namespace of the config, that job and action must be in it: a typo there would leave the
action waiting until its trigger times out. Triggers naming no namespace of ours may be
published by other means (`tronctl publish`), so they are not checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from tron.config.named import named_items
from tron.config.suggest import did_you_mean
from tron.config.values import Report
from tron.config.ynode import YNode, join_path

# namespace -> job -> the names of its actions, as written (entries with problems included).
Declared = Mapping[str, Mapping[str, frozenset[str]]]


def declared_jobs(trees: Mapping[str, YNode | None]) -> Declared:
    """The jobs and actions each namespace's tree names, whether or not they are valid."""
    return {name: dict(_jobs(tree)) for name, tree in trees.items() if tree is not None}


def check_triggers(report: Report, tree: YNode | None, declared: Declared) -> None:
    """Report each `triggered_by` entry of `tree`'s jobs that names a job or action of one of
    our namespaces that does not exist."""
    if tree is None:
        return
    for job_node, job_path, _ in _children(tree, "jobs", ""):
        for action_node, action_path, _ in _children(job_node, "actions", job_path):
            triggers = _child(action_node, "triggered_by")
            if triggers is None or not triggers.is_sequence:
                continue
            for index, entry in enumerate(triggers.value):
                path = join_path(join_path(action_path, "triggered_by"), index)
                problem = trigger_problem(entry.value, path, declared)
                if problem is not None:
                    report.add(entry.line, path, problem)


def trigger_problem(trigger: object, path: str, declared: Declared) -> str | None:
    """Why `trigger` waits on something that does not exist, or None."""
    if not isinstance(trigger, str):
        return None
    parts = trigger.split(".")
    if len(parts) < 3 or any("{" in part for part in parts[:3]) or parts[0] not in declared:
        return None
    namespace, job, action = parts[:3]
    jobs = declared[namespace]
    if job not in jobs:
        hint = did_you_mean(job, jobs)
        return (
            f"Trigger {trigger} at {path} waits on job {namespace}.{job}, "
            f"which namespace {namespace} does not have{hint}"
        )
    if action not in jobs[job]:
        hint = did_you_mean(action, jobs[job])
        return (
            f"Trigger {trigger} at {path} waits on action {namespace}.{job}.{action}, "
            f"which job {namespace}.{job} does not have{hint}"
        )
    return None


def _jobs(tree: YNode) -> Iterator[tuple[str, frozenset[str]]]:
    for job_node, job_path, job in _children(tree, "jobs", ""):
        actions = _children(job_node, "actions", job_path)
        yield job, frozenset(action for _, _, action in actions)


def _children(node: YNode, key: str, path: str) -> list[tuple[YNode, str, str]]:
    """The named items under `node[key]` with their key paths; a throwaway report, since the
    items' own problems are reported when they are read."""
    child = _child(node, key)
    if child is None:
        return []
    items = named_items(Report(""), child, join_path(path, key))
    return [(item.node, item.path, item.name) for item in items if item.name is not None]


def _child(node: YNode, key: str) -> YNode | None:
    found: YNode | None = node.value.get(key) if node.is_mapping else None
    return found
