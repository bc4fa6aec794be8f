"""Tron's trigger pseudo-nodes in the action graphs of the API (its `JobGraph`).

Tron draws a job's cross-job triggers in its `action_graph` as extra nodes named after the
other job's action (`ns.job.action`, the first three parts of the `triggered_by` template),
with the command `TRIGGER`. It finds them by walking trigger edges from each of the job's
actions, up (what it waits for, and what that waits for...) and down (who waits for it,
and who waits for those...). An edge leaving one of the job's own actions names it by its
short name, so it joins the node of that action; any other end keeps its full name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from tron.config.model import Config, JobConfig

TRIGGER_COMMAND = "TRIGGER"
# Node name -> the trigger nodes it depends on (sorted), for one job.
JobTriggers = Mapping[str, tuple[str, ...]]


def trigger_node(template: str) -> str:
    """The pseudo-node a `triggered_by` entry waits on: the publishing action's full name."""
    return ".".join(template.split(".")[:3])


class TriggerGraph:
    """Trigger edges between all actions of one config, by full action name."""

    def __init__(self, jobs: Mapping[str, JobConfig]) -> None:
        self._up: dict[str, set[str]] = defaultdict(set)
        self._down: dict[str, set[str]] = defaultdict(set)
        for job in jobs.values():
            for action in job.actions.values():
                full = f"{job.full_name}.{action.name}"
                for template in action.triggered_by:
                    upstream = trigger_node(template)
                    self._up[full].add(upstream)
                    self._down[upstream].add(full)

    def for_job(self, job: JobConfig) -> JobTriggers:
        edges: dict[str, set[str]] = defaultdict(set)
        for action in job.actions:
            full = f"{job.full_name}.{action}"
            for here, there in self._reachable(full, self._up):
                edges[action if here == full else here].add(there)
            for here, there in self._reachable(full, self._down):
                edges[there].add(action if here == full else here)
        return {name: tuple(sorted(deps)) for name, deps in edges.items()}

    @staticmethod
    def _reachable(start: str, edges: Mapping[str, set[str]]) -> list[tuple[str, str]]:
        """Every edge (from, to) met walking `edges` from `start`."""
        seen, stack, found = {start}, [start], []
        while stack:
            here = stack.pop()
            for there in sorted(edges.get(here, ())):
                found.append((here, there))
                if there not in seen:
                    seen.add(there)
                    stack.append(there)
        return found


class TriggerGraphs:
    """The trigger graph of the config in effect, rebuilt when the config changes."""

    def __init__(self) -> None:
        self._config: Config | None = None
        self._graph = TriggerGraph({})

    def of(self, config: Config) -> TriggerGraph:
        if config is not self._config:
            self._config, self._graph = config, TriggerGraph(config.jobs)
        return self._graph
