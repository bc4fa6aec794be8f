"""Shell completion for tronview, tronctl and tronfig: the bash and zsh scripts, and the
answers the scripts ask for (`PROG --complete CWORD -- WORDS...`), names coming from trond.

The scripts call the command itself for each completion, so what is offered is always what this
version of the command accepts: its flags, tronctl's commands, and the job, job run and action
run names (tronfig: namespaces) of the server the command line names. A completion never fails
loudly: a server that cannot be reached completes nothing. The flags are read from the argparse
parsers themselves (their `_actions`, as argcomplete does), so they cannot drift from `--help`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tron.cli.options import COMPLETION_REQUEST

if TYPE_CHECKING:
    import httpx

    from tron.cli.client import ApiClient

# tronctl commands whose operands are not job names.
_NO_NAMES = frozenset({"publish", "discard", "version", "ack"})
# tronfig modes whose operand is a namespace (the others take a file, which the shell completes).
_NAMESPACE_MODES = frozenset({"-p", "--print", "-d", "--delete", "--edit"})
_NAMESPACE_OPTIONS = frozenset({"-n", "--namespace"})
# Enough recent runs to complete from without asking for a job's whole history.
_RUNS = 50
# A completion that waits longer than this is worse than none.
_TIMEOUT = 3.0

_BASH = """\
# bash completion for {prog}; in ~/.bashrc: eval "$({prog} --completion bash)"
_{function}_complete() {{
    local IFS=$'\\n'
    COMPREPLY=($("${{COMP_WORDS[0]}}" {request} "$COMP_CWORD" -- "${{COMP_WORDS[@]}}" 2>/dev/null))
}}
complete {bash_fallback}-o nosort -F _{function}_complete {prog}
"""

_ZSH = """\
#compdef {prog}
# zsh completion for {prog}; in ~/.zshrc, after compinit: eval "$({prog} --completion zsh)"
_{function}_complete() {{
    local -a items
    items=("${{(@f)$("${{words[1]}}" {request} $((CURRENT - 1)) -- "${{words[@]}}" 2>/dev/null)}}")
    items=("${{(@)items:#}}")
    if (( ${{#items}} )); then
        compadd -Q -- "${{items[@]}}"
    else
        {zsh_fallback}
    fi
}}
compdef _{function}_complete {prog}
"""


def script(prog: str, shell: str) -> str:
    """The completion script of `prog` for `shell` (bash or zsh)."""
    template = _BASH if shell == "bash" else _ZSH
    # Only tronfig takes files; the others complete nothing rather than offer file names.
    takes_files = prog == "tronfig"
    return template.format(
        prog=prog,
        function=prog.replace("-", "_"),
        request=COMPLETION_REQUEST,
        bash_fallback="-o default " if takes_files else "",
        zsh_fallback="_files" if takes_files else "return 1",
    )


def answer(
    parser: argparse.ArgumentParser,
    argv: Sequence[str],
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Print the completions `argv` (`--complete CWORD -- WORDS...`) asks for, one a line."""
    try:
        cword = int(argv[1])
    except ValueError:
        return 2
    words = list(argv[3:] if argv[2:3] == ["--"] else argv[2:])
    for candidate in complete(parser, words, cword, transport):
        print(candidate)
    return 0


def complete(
    parser: argparse.ArgumentParser,
    words: Sequence[str],
    cword: int,
    transport: httpx.BaseTransport | None = None,
) -> list[str]:
    """The completions of word `cword` of the command line `words` (words[0] is the command)."""
    current = words[cword] if 0 <= cword < len(words) else ""
    before = list(words[1:cword])
    command, active = _active_parser(parser, before)
    if current.startswith("-"):
        return _matching(_option_strings(active), current)
    previous = before[-1] if before else ""
    if _takes_value(active, previous) or _takes_value(parser, previous):
        if parser.prog == "tronfig" and previous in _NAMESPACE_OPTIONS:
            return _names(before, current, transport, namespaces=True)
        return []
    if _has_commands(parser) and command is None:
        return _matching(_commands(parser), current)
    if parser.prog == "tronfig":
        if _NAMESPACE_MODES.isdisjoint(before):
            return []
        return _names(before, current, transport, namespaces=True)
    if command in _NO_NAMES:
        return []
    return _names(before, current, transport, namespaces=False)


def _matching(candidates: Sequence[str], prefix: str) -> list[str]:
    return [candidate for candidate in candidates if candidate.startswith(prefix)]


def _subparsers(
    parser: argparse.ArgumentParser,
) -> argparse._SubParsersAction[argparse.ArgumentParser] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def _has_commands(parser: argparse.ArgumentParser) -> bool:
    return _subparsers(parser) is not None


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    subs = _subparsers(parser)
    return list(subs.choices) if subs is not None else []


def _active_parser(
    parser: argparse.ArgumentParser, before: Sequence[str]
) -> tuple[str | None, argparse.ArgumentParser]:
    """The command given among `before` (tronctl's), and the parser its arguments belong to."""
    subs = _subparsers(parser)
    if subs is None:
        return None, parser
    for word in _positionals(parser, before):
        if word in subs.choices:
            return word, subs.choices[word]
        break
    return None, parser


def _positionals(parser: argparse.ArgumentParser, words: Sequence[str]) -> list[str]:
    found: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = "=" not in word and _takes_value(parser, word)
        else:
            found.append(word)
    return found


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    options = [
        option
        for action in parser._actions
        if action.help != argparse.SUPPRESS
        for option in action.option_strings
    ]
    return sorted(options, key=lambda option: (not option.startswith("--"), option))


def _takes_value(parser: argparse.ArgumentParser, word: str) -> bool:
    action = parser._option_string_actions.get(word)
    return action is not None and action.nargs != 0


def _option_value(words: Sequence[str], name: str) -> str | None:
    for index, word in enumerate(words):
        if word == name and index + 1 < len(words):
            return words[index + 1]
        if word.startswith(f"{name}="):
            return word.split("=", 1)[1]
    return None


def _names(
    before: Sequence[str],
    current: str,
    transport: httpx.BaseTransport | None,
    *,
    namespaces: bool,
) -> list[str]:
    from tron.cli.client import RequestError, ServerUnreachableError

    try:
        with _client(before, transport) as client:
            if namespaces:
                return _matching(sorted(client.index().get("namespaces") or []), current)
            return _run_names(client, current)
    except (ServerUnreachableError, RequestError, OSError, ValueError):
        return []


def _client(before: Sequence[str], transport: httpx.BaseTransport | None) -> ApiClient:
    from tron.cli.client import ApiClient
    from tron.cli.clientconfig import load_client_config

    server = _option_value(before, "--server")
    config = load_client_config(server=server, token=_option_value(before, "--token"))
    return ApiClient(config.server, token=config.token, timeout=_TIMEOUT, transport=transport)


def _run_names(client: ApiClient, current: str) -> list[str]:
    """Job names, then (once the job is typed) its runs, then (after the run) its actions."""
    parts = current.split(".")
    jobs = sorted(client.index().get("jobs") or {})
    job = ".".join(parts[:2])
    if len(parts) <= 2 or job not in jobs:
        return _matching(jobs, current)
    body = client.job(job, num_runs=_RUNS)
    runs = [str(run.get("run_num")) for run in body.get("runs") or [] if isinstance(run, dict)]
    if len(parts) == 3:
        return _matching([f"{job}.{run}" for run in runs], current)
    actions = [str(name) for name in body.get("action_names") or []]
    run_name = f"{job}.{parts[2]}"
    return _matching([f"{run_name}.{action}" for action in actions], current)
