"""Rendered JSON of each job for `GET /api/jobs` and `GET /api/recent`, kept until the job (or
the config) changes.

At 10,000 jobs, rendering every job on every request costs seconds; a job only changes when
one of its runs, its switch or its config does, and the engine counts those in
`JobRuntime.version`. Runs are not cached: their durations move with the clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from tron.api.shapes import JobIncludes

# Exactly what Starlette's JSONResponse writes, so cached and fresh bodies are identical.
_DUMPS: dict[str, Any] = {
    "ensure_ascii": False,
    "allow_nan": False,
    "indent": None,
    "separators": (",", ":"),
}

K = TypeVar("K")


def dumps(body: Any) -> bytes:
    return json.dumps(body, **_DUMPS).encode("utf-8")


class _VersionedBytes(Generic[K]):
    """Bytes by key, each tagged with the job version it was made from; a new config may change
    what any job shows (nodes, zones), so one drops them all."""

    def __init__(self) -> None:
        self._entries: dict[K, tuple[int, bytes]] = {}
        self._config: object = None

    def _follow(self, config: object) -> bool:
        """Start afresh if `config` is new; whether it was."""
        if config is self._config:
            return False
        self._config = config
        self._entries.clear()
        return True

    def _fresh(self, key: K, stamp: int) -> bytes | None:
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] == stamp else None


class JobJsonCache(_VersionedBytes[tuple[str, JobIncludes]]):
    """Serialized job objects by (job, includes), each tagged with what it was made from."""

    def follow_config(self, config: object, names: set[str]) -> None:
        if not self._follow(config) and len(self._entries) > 4 * len(names):
            self._entries = {k: v for k, v in self._entries.items() if k[0] in names}

    def get(self, name: str, include: JobIncludes, stamp: int, render: Callable[[], Any]) -> bytes:
        """The job's JSON bytes: cached while `stamp` (the job's version) is unchanged."""
        if include.runs is not None:
            return dumps(render())
        key = (name, include)
        cached = self._fresh(key, stamp)
        if cached is not None:
            return cached
        body = dumps(render())
        self._entries[key] = (stamp, body)
        return body


class RecentCache(_VersionedBytes[tuple[str, int]]):
    """`/api/recent`'s `"name":{...}` entry of each job, kept while the job's version is
    unchanged and none of the runs shown is running (a running run's duration moves)."""

    def follow_config(self, config: object) -> None:
        self._follow(config)

    def get(
        self, name: str, count: int, stamp: int, render: Callable[[], tuple[Any, bool]]
    ) -> bytes:
        key = (name, count)
        cached = self._fresh(key, stamp)
        if cached is not None:
            return cached
        body, lasting = render()
        part = dumps(name) + b":" + dumps(body)
        if lasting:
            self._entries[key] = (stamp, part)
        else:
            self._entries.pop(key, None)
        return part
