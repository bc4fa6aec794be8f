"""Broken namespaces: each gives exactly one problem, at the right file, line and key path."""

from __future__ import annotations

from textwrap import dedent

import pytest

from .helpers import load, problems_of


def job(body: str) -> str:
    """A namespace with one job `j` whose keys are `body` (indented under it, from line 3)."""
    lines = dedent(body).strip("\n").splitlines()
    return "jobs:\n  j:\n" + "".join(f"    {line}\n" for line in lines)


BASE = """\
node: pool
schedule: "daily"
"""
LISTED_JOB = """\
  - name: j
    node: pool
    schedule: daily
    actions: {a: {command: x}}
"""
ACTION = """\
actions:
  a:
    command: "true"
"""

# fmt: off
CASES = [
    # (id, namespace text, line, key path, message fragment)
    ("unknown_job_key", job(BASE + ACTION + "colour: red\n"), 8, "jobs.j.colour",
     "Unknown keys in Job j: colour"),
    ("string_bool", job(BASE + ACTION + 'enabled: "true"\n'), 8, "jobs.j.enabled",
     "is not a boolean: true"),
    ("int_as_bool", job(BASE + ACTION + "queueing: 1\n"), 8, "jobs.j.queueing",
     "is not a boolean"),
    ("text_run_limit", job(BASE + ACTION + "run_limit: lots\n"), 8, "jobs.j.run_limit",
     "Value at jobs.j.run_limit is not an int: lots"),
    ("float_run_limit", job(BASE + ACTION + "run_limit: 1.5\n"), 8, "jobs.j.run_limit",
     "is not an int"),
    ("negative_run_limit", job(BASE + ACTION + "run_limit: -1\n"), 8, "jobs.j.run_limit",
     "jobs.j.run_limit must be a positive int."),
    ("two_unit_delta", job(BASE + ACTION + "max_runtime: 1h30m\n"), 8, "jobs.j.max_runtime",
     "Value at jobs.j.max_runtime is not a valid time delta: 1h30m"),
    ("int_delta", job(BASE + ACTION + "expected_runtime: 60\n"), 8, "jobs.j.expected_runtime",
     "is not a valid time delta"),
    ("unknown_unit_delta", job(BASE + ACTION + "max_runtime: 3 weeks\n"), 8,
     "jobs.j.max_runtime", "is not a valid time delta"),
    ("bad_time_zone", job(BASE + ACTION + "time_zone: Mars/Olympus\n"), 8, "jobs.j.time_zone",
     "Mars/Olympus is not a valid time zone"),
    ("unknown_job_node", job('node: nowhere\nschedule: "daily"\n' + ACTION), 3, "jobs.j.node",
     "Unknown node name nowhere at jobs.j.node"),
    ("unknown_action_node", job(BASE + ACTION + "    node: elsewhere\n"), 8,
     "jobs.j.actions.a.node", "Unknown node name elsewhere"),
    ("missing_dependency", job(BASE + ACTION + "    requires: [ghost]\n"), 8,
     "jobs.j.actions.a.requires",
     'Action jobs.j.a has a dependency "ghost" that is not in the same job!'),
    ("self_dependency", job(BASE + ACTION + "    requires: [a]\n"), 8,
     "jobs.j.actions.a.requires", "Circular dependency in job.ns.j: a -> a"),
    ("requires_as_string", job(BASE + ACTION + "    requires: a\n"), 8,
     "jobs.j.actions.a.requires", "is not a list: a"),
    ("requires_item_not_string", job(BASE + ACTION + "    requires: [[a]]\n"), 8,
     "jobs.j.actions.a.requires.0", "is not a string"),
    ("repeated_action_key", job(BASE + ACTION + "  a:\n    command: again\n"), 8,
     "jobs.j.actions.a", "Duplicate key a"),
    ("job_as_string", "jobs:\n  j: echo hi\n", 2, "jobs.j", "is not a dictionary"),
    ("empty_actions", job(BASE + "actions: {}\n"), 5, "jobs.j.actions",
     "Required non-empty list at jobs.j.actions"),
    ("null_actions", job(BASE + "actions:\n"), 5, "jobs.j.actions", "Required non-empty list"),
    ("missing_options", job("node: pool\n" + ACTION), 2, "jobs.j",
     "Job j is missing options: schedule"),
    ("missing_command", job(BASE + "actions:\n  a:\n    retries: 1\n"), 6, "jobs.j.actions.a",
     "Action a is missing options: command"),
    ("action_named_cleanup", job(BASE + "actions:\n  cleanup:\n    command: x\n"), 6,
     "jobs.j.actions.cleanup", "Invalid action name cleanup"),
    ("cleanup_with_requires", job(BASE + ACTION + "cleanup_action:\n  command: x\n"
                                  "  requires: [a]\n"), 10, "jobs.j.cleanup_action.requires",
     "Cleanup actions cannot have requires"),
    ("cleanup_custom_name", job(BASE + ACTION + "cleanup_action:\n  name: tidy\n"
                                "  command: x\n"), 9, "jobs.j.cleanup_action.name",
     "Cleanup actions cannot have custom names jobs.j.cleanup_action.name.tidy"),
    ("unicode_first_char", job(BASE + ACTION).replace("j:", "ünïcode_first:"), 2,
     "jobs.ünïcode_first", "is not a valid identifier: ünïcode_first"),
    ("dotted_job_name", job(BASE + ACTION).replace("j:", "a.b:"), 2, "jobs.a.b",
     "is not a valid identifier: a.b"),
    ("digit_first_action", job(BASE + "actions:\n  1st:\n    command: x\n"), 6,
     "jobs.j.actions.1st", "is not a valid identifier"),
    ("bad_schedule", job('node: pool\nschedule: "every blursday"\n' + ACTION), 4,
     "jobs.j.schedule", "Schedule at jobs.j.schedule is not a valid expression: every blursday"),
    ("schedule_not_string", job("node: pool\nschedule: 5\n" + ACTION), 4, "jobs.j.schedule",
     "Unknown scheduler"),
    ("mesos_executor", job(BASE + ACTION + "    executor: mesos\n"), 8,
     "jobs.j.actions.a.executor", "executor mesos is not supported by this scheduler"),
    ("unknown_executor", job(BASE + ACTION + "    executor: carrier_pigeon\n"), 8,
     "jobs.j.actions.a.executor", "is not in ssh, mesos, kubernetes, spark"),
    ("k8s_action_key", job(BASE + ACTION + "    cpus: 2\n"), 8, "jobs.j.actions.a.cpus",
     "cpus is not supported by this scheduler (Kubernetes/Mesos only)"),
    ("use_k8s", job(BASE + ACTION + "use_k8s: true\n"), 8, "jobs.j.use_k8s",
     "not supported by this scheduler (Kubernetes/Mesos only)"),
    ("unknown_variable", job(BASE + "actions:\n  a:\n    command: echo {nope}\n"), 7,
     "jobs.j.actions.a.command",
     "Unknown context variable 'nope' at jobs.j.actions.a.command: echo {nope}"),
    ("malformed_template", job(BASE + "actions:\n  a:\n    command: echo {\n"), 7,
     "jobs.j.actions.a.command", "Wrong command format echo {"),
    ("text_retries", job(BASE + ACTION + "    retries: many\n"), 8, "jobs.j.actions.a.retries",
     "is not an int: many"),
    ("negative_retries", job(BASE + ACTION + "    retries: -2\n"), 8,
     "jobs.j.actions.a.retries", "must be a positive int."),
    ("env_not_string", job(BASE + ACTION + "    env: {N: 3}\n"), 8, "jobs.j.actions.a.env.N",
     "Value at jobs.j.actions.a.env.N is not a string: 3"),
    ("env_not_mapping", job(BASE + ACTION + "    env: [a]\n"), 8, "jobs.j.actions.a.env",
     "is not a dictionary"),
    ("catch_up_policy", job(BASE + ACTION + "catch_up: {policy: most}\n"), 8,
     "jobs.j.catch_up.policy", "is not in tron, none, latest, all: most"),
    ("catch_up_max_runs", job(BASE + ACTION + "catch_up: {max_runs: 0}\n"), 8,
     "jobs.j.catch_up.max_runs", "must be >= 1."),
    ("backoff_factor", job(BASE + ACTION + "    retries_backoff: {factor: 0.5}\n"), 8,
     "jobs.j.actions.a.retries_backoff.factor", "must be >= 1.0."),
    ("backoff_factor_text", job(BASE + ACTION + "    retries_backoff: {factor: x}\n"), 8,
     "jobs.j.actions.a.retries_backoff.factor", "is not a number: x"),
    ("trigger_downstreams_list", job(BASE + ACTION + "    trigger_downstreams: [a]\n"), 8,
     "jobs.j.actions.a.trigger_downstreams", "must be None, bool or dict"),
    ("on_upstream_rerun", job(BASE + ACTION + "    on_upstream_rerun: always\n"), 8,
     "jobs.j.actions.a.on_upstream_rerun", "is not in rerun: always"),
    ("monitoring_list", job(BASE + ACTION + "monitoring: [team]\n"), 8, "jobs.j.monitoring",
     "is not a dictionary"),
    ("name_mismatch", job(BASE + ACTION + "name: other\n"), 2, "jobs.j.name",
     "Name other does not match its key j"),
    ("master_key_in_fragment", "nodes: []\njobs:\n", 1, "nodes",
     "nodes is only allowed in the MASTER namespace"),
    ("unknown_fragment_key", "services: {}\n", 1, "services",
     "Unknown keys in NamedConfigFragment ns: services"),
    ("fragment_not_mapping", "- a\n- b\n", 1, "", "is not a dictionary"),
    ("non_string_key", "jobs:\n  123:\n    node: pool\n", 2, "jobs.123", "is not a string"),
    ("yaml_syntax", "jobs:\n  x: [unclosed\n", 3, "", "Invalid config format: while parsing"),
    ("bad_timestamp", "jobs:\n  j: 2001-13-45\n", 1, "", "Invalid config format"),
    ("repeated_name_in_list", "jobs:\n" + LISTED_JOB + LISTED_JOB, 6, "jobs.j",
     "Duplicate name j at jobs.j"),
]
# fmt: on


@pytest.mark.parametrize(
    ("text", "line", "key_path", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_broken_namespace_gives_one_located_problem(
    text: str, line: int, key_path: str, fragment: str
) -> None:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.file, problem.line, problem.key_path) == ("ns.yaml", line, key_path)
    assert fragment in problem.message


def test_optional_values_may_be_null_or_explicit_defaults() -> None:
    text = job(
        BASE
        + "use_k8s: false\nmax_runtime:\ntime_zone:\nmonitoring:\n"
        + ACTION
        + "    executor: ssh\n    retries:\n    requires:\n    on_upstream_rerun:\n"
        + "    trigger_downstreams: {shortdate: '{shortdate}'}\n    cpus:\n"
    )
    action = load(text).jobs["ns.j"].actions["a"]
    assert (action.executor, action.retries, action.requires) == ("ssh", 0, ())
    assert dict(action.trigger_downstreams) == {"shortdate": "{shortdate}"}  # type: ignore[arg-type]
