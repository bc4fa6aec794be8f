"""Misspelt keys and node names come with `did you mean`."""

from __future__ import annotations

from tron.config.suggest import did_you_mean

from .helpers import GOOD_JOB, MASTER_TEXT, problems_of


def test_misspelt_action_key_suggests_the_key() -> None:
    text = GOOD_JOB.replace('command: "echo done"', 'command: "echo done"\n        retrys: 3')
    messages = [problem.message for problem in problems_of(text)]
    assert any(m.endswith("retrys; did you mean retries?") for m in messages), messages


def test_misspelt_node_suggests_the_node() -> None:
    master = MASTER_TEXT.replace(
        "  - {name: node2", "  - {name: slow, hostname: b3}\n  - {name: node2"
    )
    (problem,) = problems_of(GOOD_JOB.replace("node: pool", "node: slwo"), master)
    assert problem.message == "Unknown node name slwo at jobs.job.node; did you mean slow?"


def test_nothing_close_suggests_nothing() -> None:
    assert did_you_mean("zzz", ["retries", "node"]) == ""
    assert did_you_mean("nod", ["node", "nodes"]) == "; did you mean node or nodes?"
