"""Every problem in one pass: fixing what was reported never reveals more, nor was any reported
because of another."""

from __future__ import annotations

from textwrap import dedent

import pytest

from tron.config import load_namespaces
from tron.config.schedules import time_of_day_problem
from tron.errors import ConfigError, Problem

MASTER = dedent(
    """\
    nodes:
      - {name: node1, hostname: batch1}
      - {name: slow, hostnme: batch2}
    node_pools:
      - {name: pool, nodes: [node1, slow, nodee]}
    command_context:
      ENV: prod
    """
)

# Line numbers matter: each expected problem below names its line.
OPS = dedent(
    """\
    jobs:
      "bad job":
        node: slwo
        schedule: "daily 25:59:00"
        actions:
          a:
            command: "echo {EVN} {shortdat-1}"
            retrys: 3
      good:
        node: slow
        schedule: daily
        actions:
          b:
            command: "echo {ENV}"
            triggered_by: ["ops.godo.b.shortdate.{shortdate}", "ext.feed.ready.x"]
          c:
            command: "true"
            triggered_by: ["ops.good.bb.shortdate.{shortdate}"]
    """
)


def problems(master: str, namespaces: dict[str, str]) -> list[Problem]:
    sources = {"MASTER": ("MASTER.yaml", master)}
    sources |= {name: (f"{name}.yaml", text) for name, text in namespaces.items()}
    with pytest.raises(ConfigError) as info:
        load_namespaces(sources)
    return list(info.value.problems)


def test_every_problem_of_a_config_is_reported_at_once() -> None:
    found = {(p.file, p.line, p.key_path): p.message for p in problems(MASTER, {"ops": OPS})}
    expected = {
        ("MASTER.yaml", 3, "nodes.slow"): "Node slow is missing options: hostname",
        ("MASTER.yaml", 3, "nodes.slow.hostnme"): "did you mean hostname?",
        ("MASTER.yaml", 5, "node_pools.pool"): "Unknown node name nodee at node_pools.pool.nodes"
        "; did you mean node1?",
        ("ops.yaml", 2, "jobs.bad job"): "letters, digits, _ or -; no spaces or dots",
        ("ops.yaml", 3, "jobs.bad job.node"): "Unknown node name slwo at jobs.bad job.node"
        "; did you mean slow?",
        ("ops.yaml", 4, "jobs.bad job.schedule"): "25:59:00 is not a time: the hour is 25, past 23",
        ("ops.yaml", 7, "jobs.bad job.actions.a.command"): "did you mean shortdate?",
        ("ops.yaml", 8, "jobs.bad job.actions.a.retrys"): "did you mean retries?",
        ("ops.yaml", 15, "jobs.good.actions.b.triggered_by.0"): "waits on job ops.godo, which "
        "namespace ops does not have; did you mean good?",
        ("ops.yaml", 18, "jobs.good.actions.c.triggered_by.0"): "waits on action ops.good.bb, "
        "which job ops.good does not have; did you mean b?",
    }
    for where, fragment in expected.items():
        assert fragment in found.get(where, ""), (where, found)
    # The job's node `slow` is declared (its entry is wrong, reported there): not unknown here.
    assert ("ops.yaml", 10, "jobs.good.node") not in found


def test_each_unknown_variable_of_a_command_is_reported() -> None:
    messages = [p.message for p in problems(MASTER, {"ops": OPS}) if p.line == 7]
    assert any("'EVN'" in m and m.endswith("did you mean ENV?") for m in messages)
    assert any("'shortdat-1'" in m for m in messages)


@pytest.mark.parametrize(
    ("master", "unexpected"),
    [
        ("nodes: 5\ncommand_context: {ENV: prod}\n", "Unknown node name"),
        ("nodes: [node1]\ncommand_context: [ENV]\n", "Unknown context variable"),
    ],
    ids=["nodes_not_a_list", "context_not_a_mapping"],
)
def test_a_broken_master_section_is_one_problem_not_one_per_job(
    master: str, unexpected: str
) -> None:
    namespace = "jobs:\n  j:\n    node: node1\n    schedule: daily\n    actions:\n"
    namespace += '      a: {command: "echo {ENV}"}\n'
    found = problems(master, {"ns": namespace})
    assert [p.file for p in found] == ["MASTER.yaml"], found
    assert not any(unexpected in p.message for p in found)


def test_a_trigger_of_a_namespace_not_in_the_config_is_not_checked() -> None:
    namespace = "jobs:\n  j:\n    node: localhost\n    schedule: daily\n    actions:\n"
    namespace += '      a: {command: "true", triggered_by: ["feed.daily.done.x.y"]}\n'
    config = load_namespaces({"MASTER": ("M", ""), "ns": ("ns.yaml", namespace)})
    assert config.namespaces["ns"].jobs["j"].actions["a"].triggered_by == ("feed.daily.done.x.y",)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("25:59:00", "the hour is 25, past 23"),
        ("04:60", "the minute is 60, past 59"),
        ("04:00:75", "the second is 75, past 59"),
        ("4pm", "a time of day is HH:MM or HH:MM:SS, from 00:00:00 to 23:59:59"),
    ],
)
def test_a_refused_time_of_day_says_why(text: str, reason: str) -> None:
    assert time_of_day_problem(text) == f"{text} is not a time: {reason}"


def test_a_daily_schedule_in_mapping_form_says_why_its_time_is_refused() -> None:
    namespace = "jobs:\n  j:\n    node: localhost\n    schedule: {type: daily, value: '24:00'}\n"
    namespace += "    actions: {a: {command: 'true'}}\n"
    (problem,) = problems("", {"ns": namespace})
    assert problem.message.endswith("; 24:00 is not a time: the hour is 24, past 23")


def test_monitoring_of_a_job_with_other_problems_is_checked_too() -> None:
    namespace = "jobs:\n  j:\n    node: localhost\n    monitoring: {alert_after: soon}\n"
    found = {(p.line, p.key_path): p.message for p in problems("", {"ns": namespace})}
    assert "is missing options: schedule, actions" in found[(2, "jobs.j")]
    assert "is not a valid time delta: soon" in found[(4, "jobs.j.monitoring.alert_after")]


def test_a_channel_with_a_wrong_entry_is_reported_once_not_where_it_is_named() -> None:
    master = dedent(
        """\
        notifications:
          channels:
            ops: {type: webhook}
            team: {type: webhook, url: "http://x"}
          default_channels: [ops]
        """
    )
    namespace = "jobs:\n  j:\n    node: localhost\n    schedule: daily\n"
    namespace += "    actions: {a: {command: 'true'}}\n"
    namespace += "    monitoring: {channels: [ops, taem]}\n"
    found = problems(master, {"ns": namespace})
    assert [(p.file, p.line, p.message) for p in found] == [
        ("MASTER.yaml", 3, "Channel ops is missing options: url"),
        (
            "ns.yaml",
            6,
            "Unknown notification channel taem at jobs.j.monitoring.channels; did you mean team?",
        ),
    ]
