"""Shell completion answers: flags, tronctl's commands, and names from the (fake) trond."""

from __future__ import annotations

import shlex
import shutil
import subprocess

import httpx
import pytest

from tron.cli import tronctl, tronfig, tronview
from tron.cli.completion import complete, script

from .fake_tron import FakeTron


def completions(tron: FakeTron, line: str) -> list[str]:
    """What completing the last word of `line` offers (a trailing space: a new, empty word)."""
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    parser = {"tronview": tronview, "tronctl": tronctl, "tronfig": tronfig}[words[0]]
    return complete(parser.build_parser(), words, len(words) - 1, tron.transport)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("tronview demo.d", ["demo.dag_job"]),
        ("tronview demo.dag_job.", ["demo.dag_job.1", "demo.dag_job.0"]),
        (
            "tronview demo.dag_job.1.",
            [f"demo.dag_job.1.{a}" for a in ("report", "load", "extract", "transform")],
        ),
        ("tronview demo.dag_job.1.l", ["demo.dag_job.1.load"]),
        ("tronview demo.uni", ["demo.uni_ünïcode_job"]),
        ("tronctl start MASTER.", ["MASTER.master_echo"]),
        ("tronctl --server http://x:1 retry demo.dag_job.0.e", ["demo.dag_job.0.extract"]),
        ("tronctl re", ["restart", "rerun", "recover", "retry"]),
        ("tronctl publish demo.", []),
        ("tronfig -p ", ["MASTER", "demo"]),
        ("tronfig -n d", ["demo"]),
        ("tronfig ", []),
        ("tronview --js", ["--json"]),
        ("tronctl start --ru", ["--run-date"]),
        ("tronview --server ", []),
    ],
)
def test_completion_offers_what_the_command_accepts(
    tron: FakeTron, line: str, expected: list[str]
) -> None:
    assert completions(tron, line) == expected


def test_completion_of_an_unreachable_server_offers_nothing() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    words = ["tronview", "demo."]
    parser = tronview.build_parser()
    assert complete(parser, words, 1, httpx.MockTransport(refuse)) == []


def test_hidden_flags_are_not_offered(tron: FakeTron) -> None:
    assert "--poll-interval" not in completions(tron, "tronview --")
    assert "--completion" in completions(tron, "tronview --")


def test_the_complete_request_prints_one_candidate_a_line(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    code = tronview.main(["--complete", "1", "--", "tronview", "demo.f"], transport=tron.transport)
    assert code == 0
    assert capsys.readouterr().out == "demo.failing_job\n"


@pytest.mark.parametrize("module", [tronview, tronctl, tronfig])
@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_prints_the_script_even_without_the_required_arguments(
    module: object, shell: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main = module.main  # type: ignore[attr-defined]
    prog = module.__name__.rsplit(".", 1)[-1]  # type: ignore[attr-defined]
    with pytest.raises(SystemExit) as info:
        main(["--completion", shell])
    assert info.value.code == 0
    assert capsys.readouterr().out == script(prog, shell)


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_the_scripts_are_valid_shell(shell: str) -> None:
    binary = shutil.which(shell)
    if binary is None:
        pytest.skip(f"no {shell} here")
    for prog in ("tronview", "tronctl", "tronfig"):
        checked = subprocess.run(
            [binary, "-n"], input=script(prog, shell), capture_output=True, text=True, timeout=30
        )
        assert checked.returncode == 0, checked.stderr
