"""`trond --help` says every flag's default, and the README's trond flags table lists the same
flags as `--help` does."""

from __future__ import annotations

import re
from pathlib import Path

from tron.__main__ import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"
LONG_FLAG = re.compile(r"--[a-z][a-z-]*")


def help_flags() -> set[str]:
    return set(LONG_FLAG.findall(build_parser().format_help()))


def readme_table() -> list[str]:
    """The first cells of the table in README's `## Running trond` section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Running trond\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [row.split("|")[1] for row in rows]


def test_every_flag_in_help_is_in_the_readme_table_and_back() -> None:
    in_readme = {flag for cell in readme_table() for flag in LONG_FLAG.findall(cell)}
    assert help_flags() == in_readme


def test_every_flag_in_help_says_its_default() -> None:
    for action in build_parser()._actions:
        if action.dest in ("help", "version"):
            continue
        assert action.help is not None, action.option_strings
        assert "(default: " in action.help, action.option_strings


def test_the_readme_synopsis_names_only_real_flags() -> None:
    text = README.read_text(encoding="utf-8")
    synopsis = text.split("\n## Running trond\n", 1)[1].split("```", 2)[1]
    assert set(LONG_FLAG.findall(synopsis)) <= help_flags()
