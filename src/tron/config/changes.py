"""What an upload of one namespace will do, for people: jobs added, removed and changed (down to
the action keys), MASTER settings added, removed and changed, and notes on pending runs.

Pure: built from two `Config`s with `diff`, carried as JSON between trond and tronfig, and
rendered as text by both (trond's log, tronfig's preview).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from tron.config.diff import ConfigDiff, changed_fields, diff
from tron.config.model import MASTER, ActionConfig, Config, JobConfig
from tron.config.namespaces import check_namespaces

SettingKind = Literal["added", "removed", "changed"]
# Job keys whose change moves the schedule; Tron keeps the pending run where it was (5.11).
_SCHEDULE_KEYS = frozenset({"schedule", "time_zone"})


@dataclass(frozen=True, slots=True, kw_only=True)
class JobChange:
    """A changed job (full name) and the key paths that differ (`actions.load.command`)."""

    name: str
    keys: tuple[str, ...]

    @property
    def moves_schedule(self) -> bool:
        return bool(_SCHEDULE_KEYS.intersection(self.keys))


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingChange:
    """A MASTER-level key: set where it was not (`added`), unset (`removed`) or `changed`.

    `lost` names the entries a changed mapping setting no longer has (`nodes.batch2`).
    """

    key: str
    kind: SettingKind
    lost: tuple[str, ...] = ()

    @property
    def removals(self) -> tuple[str, ...]:
        return (self.key,) if self.kind == "removed" else self.lost


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigChanges:
    """The effect of uploading `namespace`; `version` is set once it is applied."""

    namespace: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[JobChange, ...] = ()
    settings: tuple[SettingChange, ...] = ()
    notes: tuple[str, ...] = ()
    version: int | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.settings)

    @property
    def removed_settings(self) -> tuple[str, ...]:
        return tuple(name for setting in self.settings for name in setting.removals)

    @property
    def is_destructive(self) -> bool:
        """Removes jobs or MASTER-level keys: worth a confirmation before it happens."""
        return bool(self.removed or self.removed_settings)

    def counts(self) -> str:
        text = (
            f"{len(self.added)} added, {len(self.removed)} removed, "
            f"{len(self.changed)} changed jobs"
        )
        if self.settings:
            text += f", {len(self.settings)} MASTER settings changed"
        return text

    def lines(self) -> list[str]:
        """The summary as text, one line per job or setting, notes last."""
        lines = [f"Namespace {self.namespace}: {self.counts()}"]
        lines += [f"  + job {name}" for name in self.added]
        lines += [f"  - job {name}" for name in self.removed]
        lines += [f"  ~ job {job.name}: {', '.join(job.keys)}" for job in self.changed]
        lines += [f"  {_SIGNS[s.kind]} MASTER {s.key}{_lost(s)}" for s in self.settings]
        lines += [f"  note: {note}" for note in self.notes]
        return lines

    def with_pending_runs(self, pending: Mapping[str, datetime]) -> ConfigChanges:
        """Add a note per job whose schedule changes but whose pending run will not move."""
        notes = [
            pending_note(job.name, pending[job.name])
            for job in self.changed
            if job.moves_schedule and job.name in pending
        ]
        return dataclasses.replace(self, notes=(*self.notes, *notes))

    def after_moves(self, live: Collection[str]) -> ConfigChanges:
        """Seen from the jobs trond runs (`live`) after `tronctl move`: a job moved away is
        not removed again, and the job moved to a name the upload adds is updated, not new."""
        gone = [name for name in self.removed if name not in live]
        taken = [name for name in self.added if name in live]
        if not gone and not taken:
            return self
        notes = [f"{name} was moved away by tronctl move: nothing to remove" for name in gone]
        notes += [f"{name} is the job tronctl move renamed: updated in place" for name in taken]
        return dataclasses.replace(
            self,
            removed=tuple(name for name in self.removed if name in live),
            added=tuple(name for name in self.added if name not in live),
            notes=(*self.notes, *notes),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": {job.name: list(job.keys) for job in self.changed},
            "settings": {s.key: {"change": s.kind, "lost": list(s.lost)} for s in self.settings},
            "removed_settings": list(self.removed_settings),
            "notes": list(self.notes),
            "version": self.version,
        }


_SIGNS: dict[SettingKind, str] = {"added": "+", "removed": "-", "changed": "~"}


def _lost(setting: SettingChange) -> str:
    return f" (removes {', '.join(setting.lost)})" if setting.lost else ""


def pending_note(job: str, when: datetime) -> str:
    at = when.strftime("%Y-%m-%d %H:%M:%S")
    return (
        f"{job}: the schedule changes but the pending run stays at {at} (Tron's rule); "
        f"to move it now: tronctl disable {job} && tronctl enable {job}"
    )


def changes_of(old: Config, new: Config, namespace: str) -> ConfigChanges:
    """What replacing `old` by `new` (an upload of `namespace`) changes."""
    return summarize(diff(old, new), old, new, namespace)


def summarize(found: ConfigDiff, old: Config, new: Config, namespace: str) -> ConfigChanges:
    """`found`, the diff of `old` and `new`, told with the keys each changed job changed."""
    old_jobs, new_jobs = old.jobs, new.jobs
    changed = tuple(
        JobChange(name=name, keys=job_keys(old_jobs[name], new_jobs[name], fields))
        for name, fields in found.changed.items()
    )
    settings = tuple(setting_change(key, old, new) for key in found.settings)
    return ConfigChanges(
        namespace=namespace,
        added=found.added,
        removed=found.removed,
        changed=changed,
        settings=settings,
    )


def job_keys(old: JobConfig, new: JobConfig, fields: Collection[str]) -> tuple[str, ...]:
    """The changed keys of a job (`fields`: its changed fields, as `diff` found them);
    actions and the cleanup action down to their own keys."""
    keys: list[str] = []
    for name in fields:
        before, after = getattr(old, name), getattr(new, name)
        if name == "actions":
            keys += action_keys(before, after)
        elif name == "cleanup_action" and before is not None and after is not None:
            keys += [f"cleanup_action.{key}" for key in changed_fields(before, after)]
        else:
            keys.append(name)
    return tuple(keys)


def action_keys(old: Mapping[str, ActionConfig], new: Mapping[str, ActionConfig]) -> list[str]:
    keys = [f"actions.{name} (added)" for name in new if name not in old]
    keys += [f"actions.{name} (removed)" for name in old if name not in new]
    for name in (name for name in new if name in old):
        keys += [f"actions.{name}.{key}" for key in changed_fields(old[name], new[name])]
    if not keys:
        keys.append("actions (order)")
    return keys


@functools.cache
def _defaults() -> Config:
    """What an empty MASTER gives (the implicit `localhost` node included): not written by
    anyone, so replacing it removes nothing."""
    config, _ = check_namespaces({MASTER: (f"{MASTER}.yaml", "")})
    return config or Config(namespaces={})


def setting_change(key: str, old: Config, new: Config) -> SettingChange:
    before, after = getattr(old, key), getattr(new, key)
    default = getattr(_defaults(), key)
    if after == default:
        return SettingChange(key=key, kind="removed")
    if before == default:
        return SettingChange(key=key, kind="added")
    lost: tuple[str, ...] = ()
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        lost = tuple(f"{key}.{name}" for name in before if name not in after)
    return SettingChange(key=key, kind="changed", lost=lost)


def changes_from_json(data: Mapping[str, Any]) -> ConfigChanges:
    """The inverse of `to_json`, tolerant of missing keys (an older or foreign server)."""
    settings = data.get("settings") or {}
    return ConfigChanges(
        namespace=str(data.get("namespace") or MASTER),
        added=tuple(str(name) for name in data.get("added") or ()),
        removed=tuple(str(name) for name in data.get("removed") or ()),
        changed=tuple(
            JobChange(name=str(name), keys=tuple(str(key) for key in keys))
            for name, keys in (data.get("changed") or {}).items()
        ),
        settings=tuple(
            SettingChange(
                key=str(key),
                kind=_kind(value.get("change")),
                lost=tuple(str(name) for name in value.get("lost") or ()),
            )
            for key, value in settings.items()
            if isinstance(value, Mapping)
        ),
        notes=tuple(str(note) for note in data.get("notes") or ()),
        version=_int_or_none(data.get("version")),
    )


def _kind(value: object) -> SettingKind:
    if value == "added":
        return "added"
    if value == "removed":
        return "removed"
    return "changed"


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
