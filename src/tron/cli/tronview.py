"""tronview: show jobs, job runs and action runs (spec 7.2), or follow an action's output.

Only the parser is imported up front; the rest (httpx, yaml...) once a command runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tron.cli.options import add_common_options, completion_answer, quiet_pipe, setup_logging

if TYPE_CHECKING:
    import httpx


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tronview",
        description="View tron jobs and runs",
        epilog=(
            "exit status: 0 shown (with -f: the action ended succeeded or skipped); 1 unknown "
            "name, server unreachable or refused, or with -f the action failed; 2 usage error."
        ),
    )
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


def main(argv: Sequence[str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    completed = completion_answer(build_parser, argv, transport)
    if completed is not None:
        return completed
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    from tron.cli import view

    return quiet_pipe(lambda: view.run(args, transport))


if __name__ == "__main__":
    raise SystemExit(main())
