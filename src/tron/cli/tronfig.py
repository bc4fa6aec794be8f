"""tronfig: upload, check, print, delete and validate namespace configs (spec 7.4), and edit.

Only the parser is imported up front; the rest (httpx, yaml...) once a command runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tron.cli.options import add_common_options, completion_answer, quiet_pipe, setup_logging

if TYPE_CHECKING:
    import httpx

EPILOG = """\
Every upload is first checked by the server, which says what it changes (jobs added, removed,
changed; MASTER settings). Removing jobs or MASTER settings asks for confirmation on a
terminal; without one it is refused unless --yes. `tronfig -` uploads stdin to MASTER
unless -n says otherwise.

exit status: 0 done (or, with -C/--dry-run/-V, checked and valid); 1 refused, invalid or
failed (the message says why); 2 usage error."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tronfig",
        description="Manage tron configuration",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_options(parser)
    parser.add_argument("-n", "--namespace", help="Namespace of the config (default: file name)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "-p",
        "--print",
        action="store_true",
        dest="print_config",
        help="Print the namespace's config",
    )
    mode.add_argument("-d", "--delete", action="store_true", help="Delete the namespace")
    mode.add_argument(
        "-C",
        "--check",
        action="store_true",
        help="Check the config on the server without applying it",
    )
    mode.add_argument(
        "-V", "--validate", action="store_true", help="Validate the file locally (no server)"
    )
    mode.add_argument(
        "-D",
        "--validate-dir",
        action="store_true",
        help="Validate a config directory locally (no server)",
    )
    mode.add_argument(
        "--edit",
        action="store_true",
        help="Edit the namespace SOURCE in $EDITOR, review the diff, apply",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="Show what the upload would change; apply nothing"
    )
    parser.add_argument(
        "-y", "--yes", action="store_true", help="Apply even if it removes jobs or MASTER settings"
    )
    parser.add_argument(
        "-m",
        "--master-config",
        help="MASTER file for -V full validation (default: the MASTER.yaml beside the file)",
    )
    parser.add_argument("source", help="file, directory, `-` (stdin), or namespace name")
    return parser


def main(argv: Sequence[str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    completed = completion_answer(build_parser, argv, transport)
    if completed is not None:
        return completed
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    from tron.cli import configcmd

    return quiet_pipe(lambda: configcmd.run(args, transport))


if __name__ == "__main__":
    raise SystemExit(main())
