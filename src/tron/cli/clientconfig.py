"""Where the CLIs find trond and how they authenticate: flags, environment, ~/.tron (spec 7.1)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_SERVER = "http://localhost:8089"
DEFAULT_CLUSTER = "Unnamed Cluster"
SYSTEM_CONFIG = "/etc/tron/tron.yaml"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientConfig:
    """The resolved client settings; a flag wins over the environment, then the file."""

    server: str = DEFAULT_SERVER
    token: str | None = None
    display_color: bool = False
    cluster_name: str = DEFAULT_CLUSTER


def user_config_path(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME", str(Path.home()))) / ".tron"


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """The mapping in `path`; empty when it is missing, unreadable, empty or not a mapping."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def read_config_file(env: Mapping[str, str]) -> dict[str, Any]:
    """The first readable, non-empty YAML of `~/.tron`, then `$TRON_CONFIG`."""
    system = Path(env.get("TRON_CONFIG", SYSTEM_CONFIG))
    for path in (user_config_path(env), system):
        data = read_yaml_mapping(path)
        if data:
            return data
    return {}


def read_token_file(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Path(path).expanduser().read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def first(*values: Any) -> Any:
    return next((value for value in values if value not in (None, "")), None)


def load_client_config(
    *,
    server: str | None = None,
    token: str | None = None,
    color: bool | None = None,
    cluster_name: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Resolve settings: explicit argument, then environment, then config file, then default.

    The token may also come from a file named by `token_file` in the config file or by
    `$TRON_TOKEN_FILE`; it is sent as `Authorization: Bearer <token>`.
    """
    env = os.environ if env is None else env
    data = read_config_file(env)
    file_token = read_token_file(first(env.get("TRON_TOKEN_FILE"), data.get("token_file")))
    return ClientConfig(
        server=str(first(server, env.get("TRON_SERVER"), data.get("server"), DEFAULT_SERVER)),
        token=first(token, env.get("TRON_TOKEN"), data.get("token"), file_token),
        display_color=bool(first(color, data.get("display_color"), False)),
        cluster_name=str(first(cluster_name, data.get("cluster_name"), DEFAULT_CLUSTER)),
    )


def save_client_config(
    config: ClientConfig, *, include_color: bool, env: Mapping[str, str] | None = None
) -> Path:
    """Merge `server`, `cluster_name` (and `display_color`) into `~/.tron` (`-s/--save`)."""
    env = os.environ if env is None else env
    path = user_config_path(env)
    data = read_yaml_mapping(path)
    data.update(server=config.server, cluster_name=config.cluster_name)
    if include_color:
        data["display_color"] = config.display_color
    path.write_text(yaml.safe_dump(data, default_flow_style=False), encoding="utf-8")
    return path
