"""Rendering an action run's command and trigger names with its run's context (spec 4, 5.8)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tron.config.model import ActionConfig
from tron.context import render
from tron.core.action_run import RENDER_FAILED_COMMAND
from tron.core.records import ActionRun, JobRun
from tron.core.run_state import cleanup_job_status
from tron.errors import ContextError

logger = logging.getLogger(__name__)

LOCAL_HOSTNAME = "localhost"


@dataclass(frozen=True, slots=True)
class LiveContext:
    """What an attempt's command is rendered with besides its run (spec 4: Tron renders each
    attempt from the live context): MASTER `command_context` as configured now, and the
    run time of the job's newest successful run, asked only of templates that use it."""

    command_context: Mapping[str, Any]
    last_success: Callable[[], datetime | None]


def action_variables(
    run: JobRun,
    action_name: str,
    node: str | None,
    template: str | None,
    live: LiveContext | None,
) -> dict[str, Any]:
    """Every variable of spec 4.2 for the action run `action_name` of `run` on `node`, over
    the user context: `live`'s when given, else the run's as it was at its creation.

    Given the `template` to render, `cleanup_job_status` (a walk over the whole run) and a
    live `last_success` (a walk over the job's runs) are only worked out when it names them.
    """
    status = "" if template is not None and "cleanup_job_status" not in template else None
    user = run.context if live is None else live.command_context
    last_success = run.last_success
    if live is not None:
        wanted = template is None or "last_success" in template
        last_success = live.last_success() if wanted else None
    return {
        **user,
        "runid": str(run.id),
        "name": run.job_name,
        "namespace": run.job_name.split(".")[0],
        "actionname": action_name,
        "node": node_hostname(run, node),
        "manual": "true" if run.manual else "false",
        "cleanup_job_status": cleanup_job_status(run) if status is None else status,
        "last_success": last_success,
    }


def node_hostname(run: JobRun, node: str | None) -> str:
    """`{node}`: the node's hostname from the context the engine gave, else its name.

    The engine may pass `node_hostnames` (name -> hostname) and `node_hostname` (the job
    run's node); no node at all is the built-in local node.
    """
    hostnames = run.context.get("node_hostnames")
    if isinstance(hostnames, Mapping) and node in hostnames:
        return str(hostnames[node])
    hostname = run.context.get("node_hostname")
    if node == run.node and hostname is not None:
        return str(hostname)
    return node or LOCAL_HOSTNAME


def render_template(
    run: JobRun, action_run: ActionRun, template: str, live: LiveContext | None = None
) -> str:
    """Render `template` for this action run (with `live`, see `action_variables`); raises
    ContextError."""
    return render_for(run, action_run.action_name, action_run.node, template, live)


def render_for(
    run: JobRun,
    action_name: str,
    node: str | None,
    template: str,
    live: LiveContext | None = None,
) -> str:
    """`render_template` for an action run of `run` named `action_name` on `node`: what it
    takes of the action run, so a new one can be made with its command already rendered."""
    if "{" not in template and "}" not in template:
        return template  # nothing to fill in, and str.format would return it unchanged
    variables = action_variables(run, action_name, node, template, live)
    return render(template, run_time=run.run_time, variables=variables)


def render_command(
    run: JobRun, action_run: ActionRun, template: str, live: LiveContext | None = None
) -> str:
    """The command to run, or Tron's failing placeholder when it cannot render (spec 4.1)."""
    try:
        return render_template(run, action_run, template, live)
    except ContextError as exc:
        logger.error("Failed to render command of %s: %s", action_run.id, exc)
        return RENDER_FAILED_COMMAND


def render_attempt(run: JobRun, action_run: ActionRun, live: LiveContext | None) -> str:
    """The command of a new attempt: the run's frozen template (or the newest config's, after
    `retry --use-latest-command`) rendered now, with `live` when given (else the run's
    context as it was when the run was created)."""
    latest = action_run.use_latest_command
    template = action_run.raw_command if latest else action_run.original_command
    return render_command(run, action_run, template, live)


def downstream_templates(action: ActionConfig) -> tuple[tuple[str, str], ...]:
    """(key, value template) pairs of `trigger_downstreams`; `true` is `shortdate`."""
    downstreams = action.trigger_downstreams
    if downstreams is True:
        return (("shortdate", "{shortdate}"),)
    if isinstance(downstreams, Mapping):
        return tuple((str(k), str(v)) for k, v in downstreams.items())
    return ()


def trigger_ids(
    run: JobRun, action_run: ActionRun, action: ActionConfig
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Rendered (`triggered_by`, `trigger_downstreams`) event ids; raises ContextError."""
    triggered_by = tuple(render_template(run, action_run, t) for t in action.triggered_by)
    prefix = f"{run.job_name}.{action_run.action_name}"
    downstreams = tuple(
        f"{prefix}.{key}.{render_template(run, action_run, value)}"
        for key, value in downstream_templates(action)
    )
    return triggered_by, downstreams
