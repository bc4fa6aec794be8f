"""Asking the operator yes or no, on the terminal only: a script is never asked (it must say
`--yes`), and a config piped on stdin does not answer its own question."""

from __future__ import annotations

import sys
from typing import IO

TTY = "/dev/tty"


def open_tty() -> IO[str] | None:
    """The controlling terminal, when there is one (none under cron, CI or ssh -T)."""
    try:
        return open(TTY, "r+", encoding="utf-8")
    except OSError:
        return None


def ask(question: str, *, stdin_is_data: bool = False) -> bool | None:
    """True for `y`/`yes`, False for anything else, None when there is no terminal to ask.

    The answer comes from stdin when it is a terminal; otherwise (stdin carries the config,
    or is a pipe) from /dev/tty, provided stderr shows that a person is watching.
    """
    if not stdin_is_data and sys.stdin.isatty():
        sys.stderr.write(f"{question} [y/N] ")
        sys.stderr.flush()
        return is_yes(sys.stdin.readline())
    if not sys.stderr.isatty():
        return None
    tty = open_tty()
    if tty is None:
        return None
    with tty:
        tty.write(f"{question} [y/N] ")
        tty.flush()
        return is_yes(tty.readline())


def is_yes(answer: str) -> bool:
    return answer.strip().lower() in ("y", "yes")
