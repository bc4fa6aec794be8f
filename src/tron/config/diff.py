"""What changed between two configs: jobs added, removed and changed, and MASTER settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from tron.config.model import ActionConfig, Config, JobConfig

# What `changed_fields` compares: two jobs, or two actions.
_Item = TypeVar("_Item", JobConfig, ActionConfig)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigDiff:
    """Jobs by full name: `added` and `removed` (sorted), `changed` -> the changed field names.

    `settings` lists the changed MASTER-level fields of `Config` (nodes, ssh_options...).
    """

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: Mapping[str, tuple[str, ...]] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )
    settings: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.settings)


def diff(old: Config, new: Config) -> ConfigDiff:
    """Compare two configs job by job; unchanged jobs appear nowhere."""
    old_jobs, new_jobs = old.jobs, new.jobs
    changed = {
        name: fields
        for name in sorted(old_jobs.keys() & new_jobs.keys())
        if (fields := changed_fields(old_jobs[name], new_jobs[name]))
    }
    return ConfigDiff(
        added=tuple(sorted(new_jobs.keys() - old_jobs.keys())),
        removed=tuple(sorted(old_jobs.keys() - new_jobs.keys())),
        changed=MappingProxyType(changed),
        settings=_changed_settings(old, new),
    )


def changed_fields(old: _Item, new: _Item) -> tuple[str, ...]:
    """The names of the fields that differ, in declaration order."""
    return tuple(
        field.name
        for field in dataclasses.fields(old)
        if field.compare and getattr(old, field.name) != getattr(new, field.name)
    )


def _changed_settings(old: Config, new: Config) -> tuple[str, ...]:
    return tuple(
        field.name
        for field in dataclasses.fields(Config)
        # Fields outside equality (a cache) are not settings.
        if field.compare
        and field.name != "namespaces"
        and getattr(old, field.name) != getattr(new, field.name)
    )
