"""tronview's views (spec 7.2): the API's JSON for jobs, runs and action runs as text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tron.cli.render import PLAIN, Color, Column, Row, Style, details, state_color, table

Json = Mapping[str, Any]

EXIT_STATUS_TEXTS: dict[int, str] = {
    -1: "Invalid command",
    -2: "Node error",
    -3: "Stopped or killed",
    -4: "Timed out waiting for trigger",
}

JOB_COLUMNS = (
    Column(label="Name", width=50, resizable=True),
    Column(label="State", width=10),
    Column(label="Scheduler", width=20),
    Column(label="Last Success", width=22),
    # Beyond Tron: the next scheduled time, appended last so fixed-width parsers still work.
    Column(label="Next Run", width=22),
)
RUN_COLUMNS = (
    Column(label="Run ID", width=10),
    Column(label="State", width=12),
    Column(label="Node", width=30),
    Column(label="Scheduled Time", width=25),
)
ACTION_COLUMNS = (
    Column(label="Action", width=40, resizable=True),
    Column(label="State", width=12),
    Column(label="Start Time", width=22),
    Column(label="End Time", width=22),
    Column(label="Duration", width=10),
)


def or_dash(value: object) -> str:
    return "-" if value in (None, "") else str(value)


def short_duration(duration: object) -> str:
    """`0:00:02.852183` -> `0:00:02`; an unstarted run's empty duration -> `-`."""
    return or_dash(str(duration or "").split(".", 1)[0])


def scheduler_text(scheduler: Json | None) -> str:
    if not scheduler:
        return "None"
    return f"{scheduler.get('type', '')} {scheduler.get('value', '')}{scheduler.get('jitter', '')}"


def node_text(node: Json | None) -> str:
    if not node:
        return "None"
    return f"{node.get('username')}@{node.get('hostname')}"


def node_pool_text(pool: Json | None) -> str:
    if not pool:
        return "None"
    return f"{pool.get('name')} ({len(pool.get('nodes') or [])} node(s))"


def format_jobs(jobs: Sequence[Json], style: Style = PLAIN) -> str:
    """The all-jobs table; sorting by full name groups jobs by namespace."""
    rows = [
        Row(
            cells=(
                job.get("name"),
                job.get("status"),
                scheduler_text(job.get("scheduler")),
                job.get("last_success"),
                job.get("next_run"),
            )
        )
        for job in sorted(jobs, key=lambda job: str(job.get("name")))
    ]
    return table("Jobs", JOB_COLUMNS, rows, style)


def run_row(run: Json) -> Row:
    after = (
        f"{'':10}Start: {or_dash(run.get('start_time'))}  End: {or_dash(run.get('end_time'))}"
        f"  ({short_duration(run.get('duration'))})"
    )
    cells = (f".{run.get('run_num')}", run.get("state"), node_text(run.get("node")))
    return Row(cells=(*cells, run.get("run_time")), after=(after,))


def format_job(job: Json, style: Style = PLAIN) -> str:
    """`tronview JOB`: settings, action names, then runs newest first."""
    state = str(job.get("status"))
    lines = details(
        [
            ("Job", job.get("name"), Color.YELLOW),
            ("State", state, state_color(state)),
            ("Scheduler", scheduler_text(job.get("scheduler")), None),
            ("Max runtime", job.get("max_runtime"), None),
            ("Node Pool", node_pool_text(job.get("node_pool")), None),
            ("Run on all nodes", job.get("all_nodes"), None),
            ("Allow overlapping", job.get("allow_overlap"), None),
            ("Queue overlapping", job.get("queueing"), None),
        ],
        style,
    )
    lines += ["", "List of Actions:", *(str(name) for name in job.get("action_names") or [])]
    runs = sorted(job.get("runs") or [], key=lambda run: int(run.get("run_num", 0)), reverse=True)
    lines.append(table("Job runs", RUN_COLUMNS, [run_row(run) for run in runs], style))
    return "\n".join(lines)


def action_row(action: Json) -> Row:
    return Row(
        cells=(
            f".{action.get('action_name')}",
            action.get("state"),
            or_dash(action.get("start_time")),
            or_dash(action.get("end_time")),
            short_duration(action.get("duration")),
        )
    )


def format_job_run(run: Json, style: Style = PLAIN) -> str:
    """`tronview JOB.RUN`: run details, then its action runs in start order."""
    state = str(run.get("state"))
    manual = run.get("manual")
    lines = details(
        [
            ("Job Run", run.get("id"), Color.YELLOW),
            ("State", state, state_color(state)),
            ("Node", node_text(run.get("node")), None),
            ("Scheduled time", run.get("run_time"), None),
            ("Start time", run.get("start_time"), None),
            ("End time", run.get("end_time"), None),
            ("Manual run", manual, Color.CYAN if manual else None),
        ],
        style,
    )
    # Tron sorts on str(start_time): unstarted ("None") sorts after every date; stable.
    actions = sorted(run.get("runs") or [], key=lambda action: str(action.get("start_time")))
    lines.append(table("Actions", ACTION_COLUMNS, [action_row(a) for a in actions], style))
    return "\n".join(lines)


def exit_status_text(status: object) -> object:
    return EXIT_STATUS_TEXTS.get(status, status) if isinstance(status, int) else status


def action_state_text(action: Json) -> str:
    state = str(action.get("state"))
    delay = action.get("in_delay")
    if delay is not None:
        return f"{state} (retry delayed for {int(delay)}s)"
    return state


def stream_section(title: str, lines: Sequence[str] | None) -> list[str]:
    # Tron prints an empty output as one blank line, then a separator line.
    return [f"{title}:", *(lines or [""]), ""]


def format_action_run(action: Json, style: Style = PLAIN) -> str:
    """`tronview JOB.RUN.ACTION`: details, requirements, then the tail of stdout and stderr."""
    state = action_state_text(action)
    lines = details(
        [
            ("Action Run", action.get("id"), Color.YELLOW),
            ("State", state, state_color(state)),
            ("Node", node_text(action.get("node")), None),
            ("Last run command", action.get("command"), Color.GRAY),
            ("Original raw command", action.get("original_command"), Color.GRAY),
            ("Config command", action.get("raw_command"), Color.GRAY),
            ("Start time", action.get("start_time"), None),
            ("End time", action.get("end_time"), None),
            ("Final exit status", exit_status_text(action.get("exit_status")), None),
            ("Exit statuses", list(action.get("exit_statuses") or []), None),
            ("Waits for triggers", action.get("triggered_by") or "", None),
            ("Publishes triggers", action.get("trigger_downstreams") or "", None),
        ],
        style,
    )
    lines += ["Requirements:", *(str(r) for r in action.get("requirements") or [])]
    lines += ["", *stream_section("Stdout", action.get("stdout"))]
    lines += stream_section("Stderr", action.get("stderr"))
    return "\n".join(lines)


def format_events(body: Json) -> str:
    """`tronview -E`: one stored event id per line."""
    return "\n".join(str(event) for event in body.get("response") or {})


def _seconds(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return f"{value:.1f} s"


def format_cluster(status: Json) -> str | None:
    """Which trond answered, when it is one of several sharing a database:
    `trond: standby (leader at http://...; epoch 4, lease 2.1 s old)`.

    None for a lone trond (`role` leader without lease details) and for Tron, which sends no
    `role`, so their output stays as it was."""
    role = status.get("role")
    if not isinstance(role, str) or not role:
        return None
    epoch = status.get("epoch")
    lease_age = _seconds(status.get("lease_age"))
    leader = status.get("leader")
    if role == "leader" and epoch is None and lease_age is None:
        return None
    lease = []
    if epoch is not None:
        lease.append(f"epoch {epoch}")
    if lease_age is not None:
        lease.append(f"lease {lease_age} old")
    stale = _seconds(status.get("stale_seconds"))
    if stale is not None:
        lease.append(f"view {stale} old")
    parts = []
    if role != "leader":
        parts.append(f"leader at {leader}" if leader else "no leader known")
    if lease:
        parts.append(", ".join(lease))
    return f"trond: {role} ({'; '.join(parts)})" if parts else f"trond: {role}"
