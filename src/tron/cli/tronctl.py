"""tronctl: start, stop, retry, skip... jobs, job runs and action runs (spec 7.3)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tron.cli.durations import format_run_time, parse_run_date, parse_span
from tron.cli.options import (
    add_common_options,
    add_verbose,
    completion_answer,
    quiet_pipe,
    setup_logging,
)

if TYPE_CHECKING:
    import httpx

SIMPLE_COMMANDS: dict[str, str] = {
    "start": "Start a job, job run or action run",
    "restart": "Start a new run of a job run (same as rerun)",
    "rerun": "Start a new job run with the same run time",
    "recover": "Recover an action run in state unknown",
    "cancel": "Cancel a job run or action run",
    "disable": "Disable a job",
    "enable": "Enable a job",
    "fail": "Mark a job run or action run failed",
    "success": "Mark a job run or action run succeeded",
    "skip": "Skip an action run",
    "skip-and-publish": "Skip an action run and publish its triggers",
    "stop": "Stop (SIGTERM) an action run",
    "kill": "Kill (SIGKILL) an action run",
}


EXIT_STATUS = (
    "exit status: 0 when every command did what was asked; 1 when one was refused or failed "
    "(`Failed to ...`, `Error: ...`; later ids are not tried); 2 for usage errors "
    "(bad flags, no id, an id of the wrong kind)."
)


def run_date(text: str) -> str:
    try:
        return format_run_time(parse_run_date(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def wait_span(text: str) -> float:
    try:
        seconds = parse_span(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if seconds < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return seconds


def max_parallel(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_subcommand(
    subs: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_text: str,
    id_help: str = "job, job run or action run",
) -> argparse.ArgumentParser:
    sub = subs.add_parser(name, help=help_text, description=help_text, epilog=EXIT_STATUS)
    add_verbose(sub)
    sub.add_argument("id", nargs="*", help=id_help)
    if name in SIMPLE_COMMANDS:
        sub.add_argument(
            "--json",
            action="store_true",
            help="Print the results as JSON: [{id, command, ok, result}]",
        )
    return sub


def add_backfill(subs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = add_subcommand(
        subs, "backfill", "Start job runs for a particular date range", id_help="job name"
    )
    sub.add_argument("--start-date", help="First run-date to backfill")
    sub.add_argument("--end-date", help="Last run-date to backfill (inclusive; default today)")
    sub.add_argument(
        "--descending", action="store_true", help="Backfill from end date to start date"
    )
    sub.add_argument("-d", "--dates", help="Comma-separated dates, run in the order given")
    sub.add_argument(
        "-P",
        "--max-parallel",
        type=max_parallel,
        default=3,
        help="The max number of dates backfilled in parallel (default 3)",
    )
    sub.add_argument(
        "--fail-on-error",
        action="store_true",
        help="Stop and cancel in-progress runs when one date fails",
    )
    sub.add_argument(
        "--dry-run", action="store_true", help="Print the equivalent `tronctl start` commands"
    )
    sub.add_argument("-y", "--yes", action="store_true", help="Do not ask for confirmation")
    sub.add_argument("--poll-interval", type=float, default=10.0, help=argparse.SUPPRESS)


def add_retry(subs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = add_subcommand(subs, "retry", "Retry action runs", id_help="action run")
    sub.add_argument(
        "--use-latest-command",
        action="store_true",
        help="Use the action's current config command, not the original",
    )
    sub.add_argument(
        "--wait-for-deps",
        type=wait_span,
        default=0.0,
        help="How long to wait for dependencies (seconds, 10m, 1h30m, infinity)",
    )
    sub.add_argument("--poll-interval", type=float, default=10.0, help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tronctl", description="Control tron jobs and runs", epilog=EXIT_STATUS
    )
    add_common_options(parser)
    subs = parser.add_subparsers(dest="command", metavar="command", required=True)
    for name, help_text in SIMPLE_COMMANDS.items():
        sub = add_subcommand(subs, name, help_text)
        if name == "start":
            sub.add_argument(
                "--run-date", type=run_date, help="Run time: YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS]"
            )
    add_retry(subs)
    add_backfill(subs)
    add_subcommand(subs, "move", "Rename a job", id_help="OLD NEW job names")
    add_subcommand(subs, "publish", "Publish a trigger event", id_help="event id")
    add_subcommand(subs, "discard", "Discard a trigger event", id_help="event id")
    add_subcommand(subs, "version", "Print client and server versions", id_help="(none)")
    add_subcommand(
        subs, "ack", "Acknowledge alerts: stop their repeats (they still resolve)", "alert id"
    )
    silence = add_subcommand(
        subs, "silence", "Silence a job's notifications for a while (history kept)", "job name"
    )
    silence.add_argument(
        "--for", dest="duration", default="1h", help="How long: 30m, 2h, 1d (0 lifts it)"
    )
    return parser


def main(argv: Sequence[str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    completed = completion_answer(build_parser, argv, transport)
    if completed is not None:
        return completed
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    from tron.cli import control

    return quiet_pipe(lambda: control.run(args, transport))


if __name__ == "__main__":
    raise SystemExit(main())
