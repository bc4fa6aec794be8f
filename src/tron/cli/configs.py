"""tronfig's building blocks: namespace texts, local validation, and server problem lines."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tron.cli.client import ApiClient, RequestError
from tron.config import Config, format_problems, load_namespaces
from tron.config.changes import ConfigChanges, changes_from_json, changes_of
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent:
    """The server's answer to an upload: what it changes, or why it was refused."""

    changes: ConfigChanges | None = None
    rejection: str | None = None


def send(client: ApiClient, source: Source, config_hash: str, *, check: bool) -> Sent:
    try:
        body = client.upload_config(source.namespace, source.text, config_hash, check=check)
    except RequestError as exc:
        return Sent(rejection=server_problems(exc))
    changes = body.get("changes")
    return Sent(changes=changes_from_json(changes) if isinstance(changes, dict) else None)


def upload(client: ApiClient, source: Source, *, check: bool = False) -> str | None:
    """Send `source` with the hash read just before; None on success, else the problems."""
    current = client.config(source.namespace)
    return send(client, source, str(current.get("hash", "")), check=check).rejection


def local_changes(old: Source, new: Source) -> ConfigChanges | None:
    """The changes computed here, for a server that does not say (Yelp's Tron)."""
    old_config, _ = validate(old) if old.text.strip() else (Config(namespaces={}), ())
    new_config, _ = validate(new) if new.text.strip() else (Config(namespaces={}), ())
    if old_config is None or new_config is None:
        return None
    return changes_of(old_config, new_config, new.namespace)


def count_summary(config: Config) -> str:
    namespaces = len(config.namespaces)
    jobs = sum(len(ns.jobs) for ns in config.namespaces.values())
    return f"OK: {plural(namespaces, 'namespace')}, {plural(jobs, 'job')}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def print_problems(problems: Iterable[Problem] | str) -> None:
    text = problems if isinstance(problems, str) else format_problems(problems)
    print(text, file=sys.stderr)
