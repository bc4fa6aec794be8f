"""tronfig's building blocks: namespace texts, local validation, and server problem lines."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tron.cli.client import ApiClient, RequestError
from tron.config import Config, ConfigDiff, format_problems, load_namespaces
from tron.config.model import MASTER
from tron.errors import ConfigError, Problem

UPLOADED = "Configuration uploaded successfully"


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """A namespace's YAML text and the file name its problems are reported against."""

    namespace: str
    file: str
    text: str


def read_source(source: str, namespace: str | None) -> Source:
    """The text of `source` (a path, or `-` for stdin) and its namespace (spec 7.4)."""
    if source == "-":
        return Source(namespace=namespace or MASTER, file="<stdin>", text=sys.stdin.read())
    path = Path(source)
    text = path.read_bytes().decode("utf-8")
    return Source(namespace=namespace or path.stem, file=source, text=text)


def validate(source: Source) -> tuple[Config | None, tuple[Problem, ...]]:
    """Check one namespace alone; without MASTER it is a fragment (no node checks)."""
    sources = {source.namespace: (source.file, source.text)}
    try:
        config = load_namespaces(sources, partial=source.namespace != MASTER)
    except ConfigError as exc:
        return None, exc.problems
    return config, ()


def server_problems(error: RequestError) -> str:
    """The rejection as `file:line: key.path: message` lines, else the server's error text."""
    problems = error.body.get("problems")
    if isinstance(problems, list) and problems:
        return format_problems(problem_of(item) for item in problems if isinstance(item, dict))
    return error.message


def problem_of(item: Mapping[str, Any]) -> Problem:
    return Problem(
        file=str(item.get("file") or ""),
        line=int(item.get("line") or 0),
        key_path=str(item.get("key_path") or ""),
        message=str(item.get("message") or ""),
    )


def upload(client: ApiClient, source: Source, *, check: bool = False) -> str | None:
    """Send `source` with the hash read just before; None on success, else the problems."""
    current = client.config(source.namespace)
    try:
        client.upload_config(
            source.namespace, source.text, str(current.get("hash", "")), check=check
        )
    except RequestError as exc:
        return server_problems(exc)
    return None


def count_summary(config: Config) -> str:
    namespaces = len(config.namespaces)
    jobs = sum(len(ns.jobs) for ns in config.namespaces.values())
    return f"OK: {plural(namespaces, 'namespace')}, {plural(jobs, 'job')}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def diff_lines(changes: ConfigDiff) -> list[str]:
    """Jobs added, removed and changed (with the changed fields), one line each."""
    lines = [f"+ {name}" for name in changes.added]
    lines += [f"- {name}" for name in changes.removed]
    lines += [f"~ {name} ({', '.join(fields)})" for name, fields in changes.changed.items()]
    lines += [f"~ MASTER setting {name}" for name in changes.settings]
    return lines or ["(no job changes)"]


def print_problems(problems: Iterable[Problem] | str) -> None:
    text = problems if isinstance(problems, str) else format_problems(problems)
    print(text, file=sys.stderr)
