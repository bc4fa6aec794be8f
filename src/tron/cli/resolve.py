"""Identifier resolution of spec 7.1: a short or full name to a job, job run or action run."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tron.errors import NotFoundError


class IdKind(StrEnum):
    JOB = "job"
    JOB_RUN = "job run"
    ACTION_RUN = "action run"


_KIND_BY_EXTRA_PARTS = (IdKind.JOB, IdKind.JOB_RUN, IdKind.ACTION_RUN)
# Stricter than difflib's 0.6 so that `demo.x_job` does not suggest every `demo.*_job`.
CUTOFF = 0.75


@dataclass(frozen=True, slots=True, kw_only=True)
class TronId:
    """A resolved identifier: the full job name plus the run and action parts, if any."""

    kind: IdKind
    job: str
    run: str | None = None
    action: str | None = None

    @property
    def parts(self) -> tuple[str, ...]:
        """The path elements after `/api/jobs/`."""
        return tuple(part for part in (self.job, self.run, self.action) if part is not None)

    def __str__(self) -> str:
        return ".".join(self.parts)


class UnknownIdentifierError(NotFoundError):
    """No job matches; the message carries Tron's `Did you mean` hint."""

    def __init__(self, name: str, suggestions: Sequence[str]) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        super().__init__(f"Unknown job identifier: {name}{did_you_mean(suggestions)}")


def did_you_mean(suggestions: Sequence[str]) -> str:
    if not suggestions:
        return ""
    if len(suggestions) == 1:
        return f"\nDid you mean: {suggestions[0]}?"
    return f"\nDid you mean one of: {', '.join(suggestions)}?"


def candidates(name: str, namespaces: Iterable[str]) -> list[str]:
    """The names to try, in order: as given, under MASTER, then under every namespace."""
    tried = [name, f"MASTER.{name}", *(f"{ns}.{name}" for ns in namespaces)]
    return list(dict.fromkeys(tried))


def match(candidate: str, jobs: Collection[str]) -> TronId | None:
    parts = candidate.split(".")
    job = ".".join(parts[:2])
    extra = parts[2:]
    if len(parts) < 2 or job not in jobs or len(extra) >= len(_KIND_BY_EXTRA_PARTS):
        return None
    if any(not part for part in extra):
        return None
    run = extra[0] if extra else None
    action = extra[1] if len(extra) > 1 else None
    return TronId(kind=_KIND_BY_EXTRA_PARTS[len(extra)], job=job, run=run, action=action)


def suggest(name: str, jobs: Iterable[str], namespaces: Iterable[str]) -> list[str]:
    """Up to six close job names, matching full names and names without their namespace."""
    job_part = ".".join(name.split(".")[:2])
    names = sorted(jobs)
    by_short: dict[str, list[str]] = {}
    for job in names:
        by_short.setdefault(job.split(".", 1)[-1], []).append(job)
    close = difflib.get_close_matches(job_part, names, n=6, cutoff=CUTOFF)
    for short in difflib.get_close_matches(job_part, list(by_short), n=6, cutoff=CUTOFF):
        close += by_short[short]
    return list(dict.fromkeys(close))[:6]


def resolve(name: str, jobs: Collection[str], namespaces: Iterable[str]) -> TronId:
    """Resolve `name` against the known jobs; raises UnknownIdentifierError with suggestions."""
    namespaces = list(namespaces)
    for candidate in candidates(name, namespaces):
        found = match(candidate, jobs)
        if found is not None:
            return found
    raise UnknownIdentifierError(name, suggest(name, jobs, namespaces))


def resolve_from_index(name: str, index: dict[str, Any]) -> TronId:
    """Resolve against the body of `GET /api` (`jobs` and `namespaces`)."""
    jobs = index.get("jobs") or {}
    return resolve(name, set(jobs), index.get("namespaces") or [])
