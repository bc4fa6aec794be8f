"""What the three CLIs need before they know what to do: common flags (spec 7.1), logging, and
a quiet exit when the reader of their output goes away. Kept light on purpose: `--help` and
usage errors must not pay for httpx or yaml (start-up under 150 ms, see bench/cli.py)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from tron import __version__

if TYPE_CHECKING:
    import httpx

# What a shell reports for a writer killed by SIGPIPE (`yes | head`): 128 + 13.
EXIT_BROKEN_PIPE = 141
# Shell completion (`completion.py`, loaded only when asked): the shells it writes scripts for,
# and the first word of the requests those scripts make.
COMPLETION_SHELLS = ("bash", "zsh")
COMPLETION_REQUEST = "--complete"


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action="version", version=f"{parser.prog} {__version__}")
    parser.add_argument(
        "--completion",
        choices=COMPLETION_SHELLS,
        action=_PrintCompletion,
        help="print the shell completion script and exit "
        '(bash: eval "$(%(prog)s --completion bash)")',
    )
    add_verbose(parser)
    parser.add_argument("--server", help="URL of the tron server (default: from config)")
    parser.add_argument("--token", help="bearer token for a server that requires one")
    parser.add_argument("--cluster_name", help="name of the cluster (for display)")
    parser.add_argument(
        "-s", "--save", action="store_true", help="save server and options to ~/.tron"
    )


def add_verbose(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="Verbose logging (repeat for more)"
    )


def setup_logging(verbosity: int) -> None:
    import logging

    levels = (logging.ERROR, logging.WARNING, logging.INFO)
    level = levels[verbosity] if verbosity < len(levels) else logging.NOTSET
    logging.basicConfig(level=level, stream=sys.stdout, format="%(name)s %(levelname)s %(message)s")


def quiet_pipe(body: Callable[[], int]) -> int:
    """Run `body`; when stdout's reader has gone (`tronview | head`), end without a traceback."""
    try:
        code = body()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would report the pipe again when flushing stdout at exit: point it at nothing.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    return code


class _PrintCompletion(argparse.Action):
    """`--completion SHELL`: print the script and exit, as `--version` does, before any
    required argument is missed."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        from tron.cli.completion import script

        print(script(parser.prog, str(values)), end="")
        parser.exit(0)


def completion_answer(
    build_parser: Callable[[], argparse.ArgumentParser],
    argv: Sequence[str] | None,
    transport: httpx.BaseTransport | None,
) -> int | None:
    """The exit status of answering a completion request (`--complete CWORD -- WORDS...`, what
    the scripts ask), or None when `argv` is an ordinary command line."""
    words = sys.argv[1:] if argv is None else list(argv)
    if words[:1] != [COMPLETION_REQUEST]:
        return None
    from tron.cli import completion

    return quiet_pipe(lambda: completion.answer(build_parser(), words, transport))
