"""MASTER settings: every key of spec section 2.1 read, and each broken one located."""

from __future__ import annotations

import pytest

from tron.config import (
    ActionRunnerConfig,
    NodeConfig,
    NodePoolConfig,
    SshOptions,
    StatePersistence,
    load_namespaces,
)
from tron.errors import ConfigError

from .helpers import GOOD_JOB, MASTER_TEXT, load, problems_of


def master_problems(master_text: str) -> tuple[tuple[int, str, str], ...]:
    with pytest.raises(ConfigError) as info:
        load_namespaces({"MASTER": ("MASTER.yaml", master_text)})
    return tuple((p.line, p.key_path, p.message) for p in info.value.problems)


# fmt: off
CASES = [
    ("node_port_text", "nodes:\n  - {name: a, hostname: h, port: abc}\n", 2, "nodes.a.port",
     "is not an int: abc"),
    ("node_port_zero", "nodes:\n  - hostname: h\n    port: 0\n", 3, "nodes.0.port",
     "must be >= 1."),
    ("node_without_hostname", "nodes:\n  a: {port: 22}\n", 2, "nodes.a",
     "Node a is missing options: hostname"),
    ("nameless_node_without_hostname", "nodes:\n  - {port: 22}\n", 2, "nodes.0",
     "Nameless Node is missing options: hostname"),
    ("node_bad_name", "nodes:\n  - {name: 'a b', hostname: h}\n", 2, "nodes.a b.name",
     "is not a valid identifier: a b"),
    ("node_bad_key_name", "nodes:\n  'a b': {hostname: h}\n", 2, "nodes.a b",
     "is not a valid identifier: a b"),
    ("node_unknown_key", "nodes:\n  - {name: a, hostname: h, colour: red}\n", 2,
     "nodes.a.colour", "Unknown keys in Node a: colour"),
    ("nodes_scalar", "nodes: 5\n", 1, "nodes", "is not a list or dictionary"),
    ("repeated_node", "nodes:\n  - {name: a, hostname: h}\n  - {name: a, hostname: i}\n", 3,
     "nodes.a", "Duplicate name a at nodes.a"),
    ("pool_of_pools", "nodes: [a]\nnode_pools:\n  p: [a]\n  q: [p]\n", 4, "node_pools.q",
     "NodePool q contains other NodePools: p"),
    ("pool_unknown_member", "nodes: [a]\nnode_pools:\n  p: [a, b]\n", 3, "node_pools.p",
     "Unknown node name b"),
    ("pool_named_like_node", "nodes: [a]\nnode_pools:\n  - {name: a, nodes: [a]}\n", 3,
     "node_pools.a", "Node and NodePool names must be unique a"),
    ("empty_pool", "nodes: [a]\nnode_pools:\n  p: {nodes: []}\n", 3, "node_pools.p.nodes",
     "Required non-empty list"),
    ("pool_without_nodes", "nodes: [a]\nnode_pools:\n  p: {name: p}\n", 3, "node_pools.p",
     "NodePool p is missing options: nodes"),
    ("pool_bad_name", "nodes: [a]\nnode_pools:\n  'p q': [a]\n", 3, "node_pools.p q",
     "is not a valid identifier"),
    ("ssh_negative_timeout", "ssh_options:\n  connect_timeout: -5\n", 2,
     "ssh_options.connect_timeout", "ssh_options.connect_timeout must be a positive int."),
    ("ssh_agent_text", "ssh_options: {agent: 'no'}\n", 1, "ssh_options.agent",
     "is not a boolean: no"),
    ("ssh_identities_string", "ssh_options: {identities: key}\n", 1, "ssh_options.identities",
     "is not a list: key"),
    ("time_zone", "time_zone: Nowhere/Land\n", 1, "time_zone",
     "Nowhere/Land is not a valid time zone"),
    ("time_zone_not_string", "time_zone: 5\n", 1, "time_zone", "is not a string"),
    ("dynamodb", "state_persistence: {name: s, store_type: dynamodb}\n", 1,
     "state_persistence.store_type", "dynamodb is not supported by this scheduler"),
    ("unknown_store", "state_persistence: {name: s, store_type: redis}\n", 1,
     "state_persistence.store_type", "is not in shelve, yaml, sqlite, postgres: redis"),
    ("buffer_size", "state_persistence: {name: s, store_type: shelve, buffer_size: 0}\n", 1,
     "state_persistence.buffer_size", "state_persistence.buffer_size must be >= 1."),
    ("store_missing_type", "state_persistence: {name: s}\n", 1, "state_persistence",
     "StatePersistence is missing options: store_type"),
    ("mesos_enabled", "mesos_options: {enabled: true}\n", 1, "mesos_options",
     "mesos_options with enabled: true is not supported by this scheduler"),
    ("k8s_enabled", "k8s_options:\n  enabled: true\n", 1, "k8s_options",
     "(Kubernetes/Mesos only)"),
    ("command_context_list", "command_context: [a]\n", 1, "command_context",
     "is not a dictionary"),
    ("runner_type", "action_runner: {runner_type: magic}\n", 1, "action_runner.runner_type",
     "is not in none, subprocess: magic"),
    ("unknown_top_key", "colour: red\n", 1, "colour", "Unknown keys in MASTER: colour"),
    ("eventbus_text", "eventbus_enabled: 'no'\n", 1, "eventbus_enabled", "is not a boolean"),
    ("output_stream_dir_missing", "output_stream_dir: /nonexistent/tron/out\n", 1,
     "output_stream_dir", "output_stream_dir '/nonexistent/tron/out' is not a directory"),
    ("master_not_mapping", "just text\n", 1, "", "Value at top level is not a dictionary"),
]
# fmt: on


@pytest.mark.parametrize(
    ("text", "line", "key_path", "fragment"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_broken_master_gives_one_located_problem(
    text: str, line: int, key_path: str, fragment: str
) -> None:
    problems = master_problems(text)
    assert len(problems) == 1, problems
    assert problems[0][:2] == (line, key_path)
    assert fragment in problems[0][2]


def test_master_settings_are_read_into_the_model() -> None:
    text = """\
ssh_options: {agent: true, identities: [k1], connect_timeout: 5, jitter_max_delay: 0,
  unreachable_timeout: 90}
state_persistence: {name: db, store_type: postgres, connection_details: "dbname=tron"}
action_runner: {runner_type: subprocess, remote_status_path: /s, remote_exec_path: /e}
time_zone: Europe/Paris
command_context: {A: 1, B: [x]}
eventbus_enabled: true
nodes:
  n1: {hostname: h1, username: u, port: 2200}
  n2: h2
node_pools:
  p: {nodes: [n1, n2, n1]}
mesos_options: {enabled: false, master_address: m}
k8s_options: {default_volumes: []}
read_json: false
"""
    config = load_namespaces({"MASTER": ("MASTER.yaml", text)})
    assert config.ssh_options == SshOptions(
        agent=True,
        identities=("k1",),
        connect_timeout=5,
        jitter_max_delay=0,
        unreachable_timeout=90,
    )
    assert config.state_persistence == StatePersistence(
        name="db", store_type="postgres", connection_details="dbname=tron"
    )
    assert config.action_runner == ActionRunnerConfig(
        runner_type="subprocess", remote_status_path="/s", remote_exec_path="/e"
    )
    assert config.time_zone == "Europe/Paris"
    assert dict(config.command_context) == {"A": 1, "B": ["x"]}
    assert config.eventbus_enabled is True
    assert dict(config.nodes) == {
        "n1": NodeConfig(name="n1", hostname="h1", username="u", port=2200),
        "n2": NodeConfig(name="n2", hostname="h2"),
    }
    assert dict(config.node_pools) == {"p": NodePoolConfig(name="p", nodes=("n1", "n2", "n1"))}
    assert config.node_names("p") == ("n1", "n2", "n1")


def test_master_defaults_when_keys_are_absent() -> None:
    config = load_namespaces({"MASTER": ("MASTER.yaml", "")})
    assert dict(config.nodes) == {"localhost": NodeConfig(name="localhost", hostname="localhost")}
    assert config.state_persistence == StatePersistence()
    assert config.ssh_options == SshOptions()
    assert config.eventbus_enabled is False
    assert list(config.namespaces) == ["MASTER"]


def test_null_sections_take_their_defaults() -> None:
    text = "ssh_options:\nstate_persistence:\naction_runner:\ncommand_context:\njobs:\n"
    config = load_namespaces({"MASTER": ("MASTER.yaml", text)})
    assert config.ssh_options == SshOptions()
    assert config.state_persistence == StatePersistence()
    assert config.action_runner == ActionRunnerConfig()
    assert dict(config.command_context) == {}


def test_node_list_forms_name_nodes_after_their_host() -> None:
    text = "nodes:\n  - plain.example.com\n  - {hostname: h.example.com}\nnode_pools:\n"
    text += "  - [plain.example.com, h.example.com]\n"
    config = load_namespaces({"MASTER": ("MASTER.yaml", text)})
    assert set(config.nodes) == {"plain.example.com", "h.example.com"}
    assert set(config.node_pools) == {"plain.example.com_h.example.com"}


def test_output_stream_dir_is_accepted_when_it_is_a_writable_directory(tmp_path: object) -> None:
    config = load_namespaces({"MASTER": ("MASTER.yaml", f"output_stream_dir: {tmp_path}\n")})
    assert config.output_stream_dir == str(tmp_path)


def test_missing_output_stream_dir_is_not_checked_when_partial() -> None:
    text = "output_stream_dir: /nonexistent/tron/out\n"
    config = load_namespaces({"MASTER": ("MASTER.yaml", text)}, partial=True)
    assert config.output_stream_dir == "/nonexistent/tron/out"


def test_master_time_zone_applies_to_jobs_without_one() -> None:
    config = load(GOOD_JOB, MASTER_TEXT + "time_zone: Asia/Tokyo\n")
    job = config.jobs["ns.job"]
    assert job.time_zone == "Asia/Tokyo"
    assert job.schedule.time_zone == "Asia/Tokyo"


def test_jobs_in_master_are_named_master_dot_job() -> None:
    text = MASTER_TEXT + GOOD_JOB
    config = load_namespaces({"MASTER": ("MASTER.yaml", text)})
    assert list(config.jobs) == ["MASTER.job"]


def test_unknown_node_in_a_namespace_is_not_reported_when_master_is_broken() -> None:
    problems = problems_of(GOOD_JOB.replace("node: pool", "node: ghost"), "nodes: [\n")
    assert [p.file for p in problems] == ["MASTER.yaml"]
