"""tronview: show jobs, job runs and action runs (spec 7.2), or follow an action's output."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import httpx

from tron.cli import alerting, display
from tron.cli.client import ApiClient, RequestError
from tron.cli.common import (
    add_common_options,
    client_settings,
    make_client,
    resolve_id,
    run_guarded,
    setup_logging,
)
from tron.cli.follow import OK_STATES, Follower
from tron.cli.render import Style
from tron.cli.resolve import IdKind, TronId


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tronview", description="View tron jobs and runs")
    add_common_options(parser)
    parser.add_argument(
        "-n",
        "--numshown",
        type=int,
        default=10,
        dest="num_displays",
        help="Max number of job runs or output lines to show",
    )
    parser.add_argument(
        "-c", "--color", action="store_const", const=True, dest="color", help="Display in color"
    )
    parser.add_argument(
        "--nocolor", action="store_const", const=False, dest="color", help="Display without color"
    )
    parser.add_argument("-o", "--stdout", action="store_true", help="Solely display stdout")
    parser.add_argument("-e", "--stderr", action="store_true", help="Solely display stderr")
    parser.add_argument("-E", "--events", action="store_true", help="Display stored events")
    parser.add_argument("--json", action="store_true", help="Print the API's raw JSON")
    parser.add_argument(
        "-f", "--follow", action="store_true", help="Follow an action run's output until it ends"
    )
    parser.add_argument(
        "--why", action="store_true", help="Say why a job is (not) running, with its evidence"
    )
    parser.add_argument(
        "--history", action="store_true", help="Operators' commands on a job (audit log)"
    )
    parser.add_argument("--poll-interval", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("name", nargs="?", help="job, job run or action run to show")
    return parser


def use_color(flag: bool | None, configured: bool) -> bool:
    if flag is not None:
        return flag
    return configured or (sys.stdout.isatty() and "NO_COLOR" not in os.environ)


def emit(text: str, style: Style) -> None:
    """Print, through `less` when on a terminal and taller than it (as Tron does)."""
    height = shutil.get_terminal_size().lines
    less = shutil.which("less")
    if sys.stdout.isatty() and less and text.count("\n") >= height:
        flags = "-R" if style.color else "-S"
        subprocess.run([less, flags], input=text.encode(), check=False)
        return
    print(text)


def fetch(client: ApiClient, tid: TronId, num: int) -> dict[str, Any]:
    if tid.kind is IdKind.JOB:
        return client.job(tid.job, num_runs=num)
    if tid.kind is IdKind.JOB_RUN:
        return client.job_run(tid.job, str(tid.run))
    return client.action_run(tid.job, str(tid.run), str(tid.action), num_lines=num or None)


def render(args: argparse.Namespace, tid: TronId, body: dict[str, Any], style: Style) -> str:
    if tid.kind is IdKind.JOB:
        return display.format_job(body, style)
    if tid.kind is IdKind.JOB_RUN:
        return display.format_job_run(body, style)
    if args.stdout or args.stderr:
        streams = [s for s in ("stdout", "stderr") if getattr(args, s)]
        return "\n".join(line for s in streams for line in body.get(s) or [])
    return display.format_action_run(body, style)


def show_events(client: ApiClient) -> int:
    try:
        print(display.format_events(client.events()))
    except RequestError as exc:
        print(
            f"Error connecting to the tron server ({client.server}): {exc.message}", file=sys.stderr
        )
        return 1
    return 0


def follow(client: ApiClient, tid: TronId, args: argparse.Namespace) -> int:
    if tid.kind is not IdKind.ACTION_RUN:
        print(f"Error: --follow needs an action run, not a {tid.kind}: {tid}", file=sys.stderr)
        return 1

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    stream = "stderr" if args.stderr and not args.stdout else "stdout"
    follower = Follower(
        client=client, target=tid, write=write, stream=stream, poll_interval=args.poll_interval
    )
    state = follower.run()
    print(f"{tid} finished in state {state}", file=sys.stderr)
    return 0 if state in OK_STATES else 1


def show(client: ApiClient, args: argparse.Namespace, style: Style) -> int:
    if args.events:
        return show_events(client)
    if not args.name:
        jobs = client.jobs()
        emit(
            json.dumps({"jobs": jobs}, indent=2, ensure_ascii=False)
            if args.json
            else display.format_jobs(jobs, style),
            style,
        )
        return 0
    tid = resolve_id(client, args.name)
    if args.why or args.history:
        job = tid.job
        text = (
            alerting.why(client, job)
            if args.why
            else alerting.history(client, job, args.num_displays)
        )
        emit(text, style)
        return 0
    if args.follow:
        return follow(client, tid, args)
    body = fetch(client, tid, args.num_displays)
    emit(
        json.dumps(body, indent=2, ensure_ascii=False)
        if args.json
        else render(args, tid, body, style),
        style,
    )
    return 0


def main(argv: Sequence[str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    config = client_settings(args, color=args.color)
    color = use_color(args.color, config.display_color)
    style = Style(color=color, isolate=sys.stdout.isatty())

    def body() -> int:
        with make_client(config, transport) as client:
            return show(client, args, style)

    return run_guarded(body)


if __name__ == "__main__":
    raise SystemExit(main())
