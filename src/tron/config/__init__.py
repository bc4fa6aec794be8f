"""The config layer: YAML files to one validated, immutable `Config`, its diff and its hash."""

from __future__ import annotations

from tron.config.diff import ConfigDiff, diff
from tron.config.hashing import config_hash
from tron.config.load import (
    format_problems,
    load_config,
    load_namespaces,
    validate_paths,
    validate_texts,
)
from tron.config.model import (
    CLEANUP_ACTION_NAME,
    MASTER,
    ActionConfig,
    ActionRunnerConfig,
    CatchUpConfig,
    Config,
    JobConfig,
    NamespaceConfig,
    NodeConfig,
    NodePoolConfig,
    RetryBackoff,
    SshOptions,
    StatePersistence,
)

__all__ = [
    "CLEANUP_ACTION_NAME",
    "MASTER",
    "ActionConfig",
    "ActionRunnerConfig",
    "CatchUpConfig",
    "Config",
    "ConfigDiff",
    "JobConfig",
    "NamespaceConfig",
    "NodeConfig",
    "NodePoolConfig",
    "RetryBackoff",
    "SshOptions",
    "StatePersistence",
    "config_hash",
    "diff",
    "format_problems",
    "load_config",
    "load_namespaces",
    "validate_paths",
    "validate_texts",
]
