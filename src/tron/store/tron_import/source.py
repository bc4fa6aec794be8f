"""Where Tron keeps its state in a working dir, read into plain values (nothing converted).

- `shelve` (Tron's default): a Berkeley DB hash file of pickles, read via `bdb_dump`.
- `yaml` (legacy): one YAML file, `{jobs: {<job>: <state>}}`; old Tron put a job's runs
  inside its state (`runs: [...]`), which is read as well. Safe-loaded: plain values only.
- `_events/`: the event bus log, `<secs>.pickle` holding `{event_id: {}}`, with `current`
  naming the live one (a symlink, or a file holding the path once copied around).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tron.errors import StoreError
from tron.store.tron_import import bdb_dump, unpickle

_JOB_STATE = "job_state___"
_RUN_STATE = "job_run_state___"
_EVENT_FILE = re.compile(r"^\d+\.pickle$")


@dataclass(slots=True)
class TronFiles:
    """Tron's state as read: job states and run states by key, and published event ids."""

    jobs: dict[str, Any] = field(default_factory=dict)
    runs: list[Any] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


def state_path(working_dir: Path, name: str) -> Path:
    path = Path(name)
    return path if path.is_absolute() else working_dir / path


def read_state(path: Path, store_type: str) -> TronFiles:
    if store_type == "yaml":
        return _read_yaml(path)
    found = TronFiles()
    for key, value in sorted(bdb_dump.read_pairs(path).items()):
        name = key.decode("utf-8", "replace")
        if name.startswith(_JOB_STATE):
            found.jobs[name.removeprefix(_JOB_STATE)] = unpickle.loads(value)
        elif name.startswith(_RUN_STATE):
            found.runs.append(unpickle.loads(value))
        # Other keys (mesos_state___..., MCP state) carry nothing tron uses.
    return found


def _read_yaml(path: Path) -> TronFiles:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise StoreError(f"cannot read Tron's yaml state {path}: {exc}") from exc
    found = TronFiles()
    jobs = data.get("jobs") if isinstance(data, dict) else None
    for name, state in (jobs or {}).items():
        if not isinstance(state, dict):
            continue
        runs = state.get("runs") or []
        found.runs += [{"job_name": str(name), **run} for run in runs if isinstance(run, dict)]
        found.jobs[str(name)] = {"enabled": state.get("enabled", True)}
    return found


def read_events(working_dir: Path) -> list[str]:
    """The published event ids of `<working_dir>/_events`, [] when there is none."""
    directory = working_dir / "_events"
    path = _current_event_file(directory)
    if path is None:
        return []
    try:
        data = unpickle.loads(path.read_bytes())
    except OSError as exc:
        raise StoreError(f"cannot read Tron's event log {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise StoreError(f"Tron's event log {path} is not a mapping")
    return sorted(str(key) for key in data)


def _current_event_file(directory: Path) -> Path | None:
    if not directory.is_dir():
        return None
    link = directory / "current"
    named: Path | None = None
    if link.is_symlink():
        named = Path(os.readlink(link))
    elif link.is_file():
        named = Path(link.read_text(encoding="utf-8", errors="replace").strip())
    if named is not None:
        # The link is absolute and goes stale when the dir moves: its file name still tells.
        for candidate in (
            named if named.is_absolute() else directory / named,
            directory / named.name,
        ):
            if candidate.is_file() and candidate.parent.resolve() == directory.resolve():
                return candidate
    logs = sorted((p for p in directory.iterdir() if _EVENT_FILE.match(p.name)),
                  key=lambda p: int(p.name.split(".")[0]))  # fmt: skip
    return logs[-1] if logs else None
