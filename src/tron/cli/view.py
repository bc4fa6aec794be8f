"""What tronview does once its arguments are parsed: fetch, render, page or follow."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
from typing import Any

import httpx

from tron.cli import alerting, display
from tron.cli.attempts import with_attempt_headers
from tron.cli.client import ApiClient, RequestError, ServerUnreachableError
from tron.cli.common import client_settings, make_client, resolve_id, run_guarded
from tron.cli.follow import OK_STATES, Follower
from tron.cli.render import Style
from tron.cli.resolve import IdKind, TronId


def use_color(flag: bool | None, configured: bool) -> bool:
    if flag is not None:
        return flag
    return configured or (sys.stdout.isatty() and "NO_COLOR" not in os.environ)


def pager_command(style: Style) -> list[str] | None:
    """`$PAGER` when set (blank: no pager), else `less -FRX` (`-S` too without color, long
    table rows chopped as Tron's tronview did); None when there is none."""
    given = os.environ.get("PAGER")
    if given is not None:
        return shlex.split(given) or None
    less = shutil.which("less")
    if less is None:
        return None
    return [less, "-FRX"] if style.color else [less, "-FRXS"]


def emit(text: str, style: Style) -> None:
    """Print, through a pager when on a terminal and taller than it (as Tron does)."""
    height = shutil.get_terminal_size().lines
    if sys.stdout.isatty() and text.count("\n") >= height:
        command = pager_command(style)
        if command is not None:
            sys.stdout.flush()
            try:
                subprocess.run(command, input=text.encode("utf-8"), check=False)
            except OSError as exc:
                print(f"tronview: cannot run the pager {command[0]}: {exc}", file=sys.stderr)
            else:
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


def cluster_line(client: ApiClient) -> str | None:
    """Which trond answered, if it is one of a cluster; a status it cannot give is no line."""
    try:
        return display.format_cluster(client.status())
    except (RequestError, ServerUnreachableError):
        return None


def show(client: ApiClient, args: argparse.Namespace, style: Style) -> int:
    if args.events:
        return show_events(client)
    if not args.name:
        jobs = client.jobs()
        if args.json:
            emit(json.dumps({"jobs": jobs}, indent=2, ensure_ascii=False), style)
            return 0
        text = display.format_jobs(jobs, style)
        cluster = cluster_line(client)
        emit(f"{cluster}\n{text}" if cluster else text, style)
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
    if tid.kind is IdKind.ACTION_RUN and not args.json:
        body = with_attempt_headers(client, tid, body, args.num_displays)
    emit(
        json.dumps(body, indent=2, ensure_ascii=False)
        if args.json
        else render(args, tid, body, style),
        style,
    )
    return 0


def run(args: argparse.Namespace, transport: httpx.BaseTransport | None) -> int:
    config = client_settings(args, color=args.color)
    color = use_color(args.color, config.display_color)
    style = Style(color=color, isolate=sys.stdout.isatty())

    def body() -> int:
        with make_client(config, transport) as client:
            return show(client, args, style)

    return run_guarded(body)
