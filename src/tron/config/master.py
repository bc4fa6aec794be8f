"""MASTER-only settings: nodes, node pools, ssh_options, state_persistence, action_runner."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Any

from tron.config import values as v
from tron.config.model import (
    ActionRunnerConfig,
    NodeConfig,
    NodePoolConfig,
    SshOptions,
    StatePersistence,
)
from tron.config.named import Named, named_items, valid_name
from tron.config.suggest import did_you_mean
from tron.config.values import BadValueError, Report
from tron.config.ynode import YNode, join_path

DEFAULT_NODE = NodeConfig(name="localhost", hostname="localhost")

_NODE_FIELDS: Mapping[str, v.Reader] = {
    "name": v.identifier,
    "hostname": v.string,
    "username": v.optional_string,
    "port": v.integer(1),
}
_POOL_FIELDS: Mapping[str, v.Reader] = {"name": v.identifier, "nodes": v.string_list}
_SSH_FIELDS: Mapping[str, v.Reader] = {
    "agent": v.boolean,
    "identities": v.string_list,
    "known_hosts_file": v.optional_string,
    "connect_timeout": v.integer(),
    "idle_connection_timeout": v.integer(),
    "jitter_min_load": v.integer(),
    "jitter_max_delay": v.integer(),
    "jitter_load_factor": v.integer(),
    "unreachable_timeout": v.integer(),
}
_STORE_TYPES = ("shelve", "yaml", "sqlite", "postgres")
_STATE_FIELDS: Mapping[str, v.Reader] = {
    "name": v.string,
    "store_type": v.string,
    "buffer_size": v.integer(1),
    "connection": v.optional_string,
    "connection_details": v.optional_string,
    "lease_seconds": v.number(1.0),
    "renew_seconds": v.number(0.1),
    # Yelp's DynamoDB store settings: accepted so their files load, never used.
    "dynamodb_region": v.anything,
    "table_name": v.anything,
    "max_transact_write_items": v.anything,
}
_RUNNER_FIELDS: Mapping[str, v.Reader] = {
    "runner_type": v.choice("none", "subprocess"),
    "remote_status_path": v.string,
    "remote_exec_path": v.string,
}


def read_nodes(report: Report, node: YNode, path: str) -> Mapping[str, NodeConfig]:
    """`nodes`: a list or mapping of nodes; a plain string is a host named after itself."""
    nodes = (_read_node(report, item) for item in named_items(report, node, path))
    return MappingProxyType({found.name: found for found in nodes if found is not None})


def _read_node(report: Report, item: Named) -> NodeConfig | None:
    if isinstance(item.node.value, str):
        hostname = item.node.value
        return NodeConfig(name=item.name or hostname, hostname=hostname)
    title = f"Node {item.name}" if item.name else "Nameless Node"
    fields = v.read_fields(
        report, item.node, item.path, _NODE_FIELDS, title=title, required=("hostname",)
    )
    valid_name(report, item)
    if "hostname" not in fields:
        return None
    fields.setdefault("name", item.name or fields["hostname"])
    return NodeConfig(**fields)


def read_node_pools(
    report: Report, node: YNode, path: str, nodes: Collection[str]
) -> Mapping[str, NodePoolConfig]:
    """`node_pools`: a list or mapping of pools; a bare list is a pool named after its nodes.

    Pools hold nodes only, and nodes and pools never share a name. `nodes` are the node names
    declared, including those whose entries are wrong (reported there, not again here).
    """
    read = [(item, _read_pool(report, item)) for item in named_items(report, node, path)]
    pools = {pool.name: pool for _, pool in read if pool is not None}
    for item, pool in read:
        if pool is not None:
            _check_members(report, item, pool, nodes, pools)
    return MappingProxyType(pools)


def _read_pool(report: Report, item: Named) -> NodePoolConfig | None:
    if item.node.is_sequence:
        members = v.string_list(report, item.node, item.path)
        fields: dict[str, Any] = {"nodes": members}
    else:
        title = f"NodePool {item.name}" if item.name else "Nameless NodePool"
        fields = v.read_fields(
            report, item.node, item.path, _POOL_FIELDS, title=title, required=("nodes",)
        )
    if not fields.get("nodes"):
        if "nodes" in fields:
            report.add(item.node.line, join_path(item.path, "nodes"), "Required non-empty list")
        return None
    valid_name(report, item)
    fields.setdefault("name", item.name or "_".join(fields["nodes"]))
    return NodePoolConfig(**fields)


def _check_members(
    report: Report,
    item: Named,
    pool: NodePoolConfig,
    nodes: Collection[str],
    pools: Mapping[str, NodePoolConfig],
) -> None:
    line, path = item.node.line, item.path
    nested = [name for name in pool.nodes if name in pools and name not in nodes]
    if nested:
        listed = ", ".join(nested)
        report.add(line, path, f"NodePool {pool.name} contains other NodePools: {listed}")
    for name in pool.nodes:
        if name not in nodes and name not in pools:
            hint = did_you_mean(name, nodes)
            report.add(line, path, f"Unknown node name {name} at {path}.nodes{hint}")
    if pool.name in nodes:
        report.add(line, path, f"Node and NodePool names must be unique {pool.name}")


def read_ssh_options(report: Report, node: YNode, path: str) -> SshOptions:
    return SshOptions(**v.read_fields(report, node, path, _SSH_FIELDS, title="SshOptions"))


def read_state_persistence(report: Report, node: YNode, path: str) -> StatePersistence:
    if node.value is None:
        return StatePersistence()
    title = "StatePersistence"
    fields = v.read_fields(report, node, path, _STATE_FIELDS, title=title, required=("store_type",))
    store_type = fields.get("store_type")
    # A database server needs no file name; every other store does.
    if store_type != "postgres" and "name" not in fields and isinstance(node.value, dict):
        report.add(node.line, path, f"{title} is missing options: name")
    _check_lease(report, node, path, fields)
    if store_type == "dynamodb":
        report.add(node.line, join_path(path, "store_type"), f"dynamodb {v.K8S_ONLY}")
        fields.pop("store_type")
    elif store_type is not None and store_type not in _STORE_TYPES:
        choices = ", ".join(_STORE_TYPES)
        message = f"Value at {path}.store_type is not in {choices}: {store_type}"
        report.add(node.line, join_path(path, "store_type"), message)
        fields.pop("store_type")
    known = StatePersistence.__dataclass_fields__
    return StatePersistence(**{key: val for key, val in fields.items() if key in known})


def _check_lease(report: Report, node: YNode, path: str, fields: dict[str, Any]) -> None:
    """The leader renews well before its lease could lapse, or a standby would take over."""
    defaults = StatePersistence()
    lease = fields.get("lease_seconds", defaults.lease_seconds)
    renew = fields.get("renew_seconds", defaults.renew_seconds)
    if renew * 2 > lease:
        message = f"{path}.renew_seconds ({renew:g}) must be at most half of lease_seconds"
        message += f" ({lease:g})"
        report.add(node.line, join_path(path, "renew_seconds"), message)


def read_action_runner(report: Report, node: YNode, path: str) -> ActionRunnerConfig:
    if node.value is None:
        return ActionRunnerConfig()
    fields = v.read_fields(report, node, path, _RUNNER_FIELDS, title="ActionRunner")
    return ActionRunnerConfig(**fields)


def output_stream_dir(check_disk: bool) -> v.Reader:
    """`output_stream_dir`: a string; on a full check, an existing writable directory."""

    def read(report: Report, node: YNode, path: str) -> str | None:
        value = v.optional_string(report, node, path)
        if value is not None and check_disk:
            _check_directory(value)
        return value

    return read


def _check_directory(path: str) -> None:
    if not os.path.isdir(path):
        raise BadValueError(f"output_stream_dir '{path}' is not a directory")
    if not os.access(path, os.W_OK):
        raise BadValueError(f"output_stream_dir '{path}' is not writable")
