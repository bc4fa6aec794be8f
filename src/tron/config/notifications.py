"""MASTER `notifications`: where alerts are delivered (channels) and which go where (routes).

Ours, not Tron's. A name that refers to a channel that does not exist is a config problem with
its file and line, like an unknown node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any, Literal

from tron.config import values as v
from tron.config.suggest import did_you_mean
from tron.config.values import BadValueError, Report
from tron.config.ynode import YNode, join_path

ChannelType = Literal["webhook", "slack", "email"]
_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelConfig:
    """One destination. `webhook` and `slack` use `url`; `email` uses the SMTP fields."""

    name: str
    type: ChannelType
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    # A webhook's body as a `string.Template` ($job, $kind, $event, $reason...); None: JSON.
    body: str | None = None
    host: str = "localhost"
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password_env: str | None = None  # the name of the environment variable, never the secret
    sender: str = "trond@localhost"
    to: tuple[str, ...] = ()
    timeout: float = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteConfig:
    """Alerts matching every given condition also go to `channels`."""

    channels: tuple[str, ...]
    team: str | None = None
    severity: str | None = None
    tags: tuple[str, ...] = ()
    namespace: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationsConfig:
    channels: Mapping[str, ChannelConfig] = field(default_factory=lambda: MappingProxyType({}))
    default_channels: tuple[str, ...] = ()
    routes: tuple[RouteConfig, ...] = ()
    # Defaults per namespace: these channels instead of default_channels.
    namespaces: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    # The web UI's address, for links in notifications (e.g. http://tron.example:8089).
    web_url: str | None = None
    check_every: timedelta = timedelta(seconds=30)
    retry_initial: timedelta = timedelta(seconds=1)
    retry_max: timedelta = timedelta(minutes=5)
    output_lines: int = 20
    # How long the scheduler may go without a heartbeat before /api/health answers 503.
    heartbeat_timeout: timedelta = timedelta(minutes=5)
    # Resolved alerts and delivered notifications older than this are deleted (None: kept).
    keep_history: timedelta | None = timedelta(days=30)


_CHANNEL_FIELDS: Mapping[str, v.Reader] = {
    "type": v.choice("webhook", "slack", "email"),
    "url": v.string,
    "headers": v.string_mapping,
    "body": v.optional_string,
    "host": v.string,
    "port": v.integer(1),
    "starttls": v.boolean,
    "username": v.optional_string,
    "password_env": v.optional_string,
    "from": v.string,
    "to": v.string_list,
    "timeout": v.number(0.1),
}
_ROUTE_FIELDS: Mapping[str, v.Reader] = {
    "channels": v.string_list,
    "team": v.optional_string,
    "severity": v.choice("page", "warn"),
    "tags": v.string_list,
    "namespace": v.optional_string,
}


def _channels(report: Report, node: YNode, path: str) -> Mapping[str, ChannelConfig]:
    if not node.is_mapping:
        raise BadValueError(f"Value at {path} is not a dictionary")
    found: dict[str, ChannelConfig] = {}
    for name, child in node.value.items():
        child_path = join_path(path, name)
        title = f"Channel {name}"
        fields = v.read_fields(
            report, child, child_path, _CHANNEL_FIELDS, title=title, required=("type",)
        )
        if "type" not in fields:
            continue
        if "from" in fields:
            fields["sender"] = fields.pop("from")
        if fields["type"] in ("webhook", "slack") and "url" not in fields:
            report.add(child.line, child_path, f"{title} is missing options: url")
            continue
        found[name] = ChannelConfig(name=name, **fields)
    return MappingProxyType(found)


def _routes(report: Report, node: YNode, path: str) -> tuple[RouteConfig, ...]:
    if not node.is_sequence:
        raise BadValueError(f"Value at {path} is not a list")
    routes = []
    for index, child in enumerate(node.value):
        child_path = f"{path}[{index}]"
        fields = v.read_fields(
            report, child, child_path, _ROUTE_FIELDS, title="Route", required=("channels",)
        )
        if "channels" in fields:
            routes.append(RouteConfig(**fields))
    return tuple(routes)


def _namespaces(report: Report, node: YNode, path: str) -> Mapping[str, tuple[str, ...]]:
    if not node.is_mapping:
        raise BadValueError(f"Value at {path} is not a dictionary")
    return MappingProxyType(
        {
            name: v.string_list(report, child, join_path(path, name))
            for name, child in node.value.items()
        }
    )


_FIELDS: Mapping[str, v.Reader] = {
    "channels": _channels,
    "default_channels": v.string_list,
    "routes": _routes,
    "namespaces": _namespaces,
    "web_url": v.optional_string,
    "check_every": v.time_delta,
    "retry_initial": v.time_delta,
    "retry_max": v.time_delta,
    "output_lines": v.integer(0),
    "heartbeat_timeout": v.time_delta,
    "keep_history": v.optional_time_delta,
}


def read_notifications(report: Report, node: YNode, path: str) -> NotificationsConfig:
    if node.value is None:
        return NotificationsConfig()
    fields: dict[str, Any] = v.read_fields(report, node, path, _FIELDS, title="Notifications")
    config = NotificationsConfig(**fields)
    _check_names(report, node, path, config)
    return config


def declared_channels(node: YNode | None) -> frozenset[str] | None:
    """The channel names `notifications` (its node) declares, whether or not each channel's
    own entry is right; None when the channels cannot be told (not a mapping)."""
    if node is None or node.value is None:
        return frozenset()
    channels = node.value.get("channels") if node.is_mapping else None
    if channels is None or channels.value is None:
        return frozenset() if node.is_mapping else None
    if not channels.is_mapping:
        return None
    return frozenset(str(name) for name in channels.value)


def _check_names(report: Report, node: YNode, path: str, config: NotificationsConfig) -> None:
    """Every channel named anywhere in `notifications` is declared (a channel whose entry is
    wrong is reported there, not again where it is named)."""
    declared = declared_channels(node)
    if declared is None:
        return
    named: list[tuple[str, str]] = [("default_channels", n) for n in config.default_channels]
    named += [(f"routes[{i}].channels", n) for i, r in enumerate(config.routes) for n in r.channels]
    named += [(f"namespaces.{ns}", n) for ns, names in config.namespaces.items() for n in names]
    for where, name in named:
        if name not in declared:
            key = where.split(".")[0].split("[")[0]
            line = node.value[key].line if key in node.value else node.line
            full = join_path(path, where)
            hint = did_you_mean(name, declared)
            report.add(line, full, f"Unknown notification channel {name} at {full}{hint}")
