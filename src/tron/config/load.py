"""Entry points: load a config directory or file, or namespace texts, into a `Config`."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from tron.config.limits import YAML_LIMITS, YamlLimitError, load_bounded, size_message
from tron.config.model import MASTER, Config
from tron.config.namespaces import check_namespaces
from tron.errors import ConfigError, Problem

MANIFEST = "_manifest.yaml"

Sources = dict[str, tuple[str, str]]


def load_config(path: str | os.PathLike[str], *, default_time_zone: str | None = None) -> Config:
    """Load a config directory (MASTER.yaml plus `<namespace>.yaml`, or `_manifest.yaml`) or a
    single file (taken as MASTER). Raises ConfigError listing every problem found.

    `default_time_zone` is the time zone of schedules when neither the job nor MASTER sets one
    (None = UTC).
    """
    sources, problems = read_sources(path)
    config, found = check_namespaces(sources, default_time_zone=default_time_zone)
    return _config_or_raise(config, [*problems, *found])


def load_namespaces(
    sources: Mapping[str, tuple[str, str]],
    *,
    default_time_zone: str | None = None,
    partial: bool = False,
) -> Config:
    """Validate namespaces given as name -> (file name for messages, YAML text), all together.

    With `partial`, fragments are checked without MASTER (as `tronfig -V` without `-m`): node
    names, command variables and the disk are not checked. Raises ConfigError.
    """
    config, problems = check_namespaces(
        sources, default_time_zone=default_time_zone, partial=partial
    )
    return _config_or_raise(config, problems)


def _config_or_raise(config: Config | None, problems: list[Problem]) -> Config:
    if problems or config is None:
        raise ConfigError(problems)
    return config


def validate_paths(
    path: str | os.PathLike[str],
    *,
    master: str | os.PathLike[str] | None = None,
    namespace: str | None = None,
    default_time_zone: str | None = None,
) -> tuple[Config | None, list[Problem]]:
    """Offline validation for `tronfig -V FILE [-m MASTER] [-n NS]` and `tronfig -D DIR`.

    A directory is loaded as by `load_config`. A file is the namespace `namespace` (default: the
    file name without extension); it is checked fully when it is MASTER or when `master` is
    given, else as a fragment (partial). Returns the Config (None on problems) and the problems;
    never raises ConfigError.
    """
    if Path(path).is_dir():
        sources, problems = read_sources(path)
        partial = False
    else:
        name = namespace or Path(path).stem
        sources, problems = _read_files({name: Path(path)})
        if master is not None and name != MASTER:
            more, more_problems = _read_files({MASTER: Path(master)})
            sources, problems = {**more, **sources}, [*more_problems, *problems]
        partial = MASTER not in sources and not problems
    if problems:
        return None, problems
    return check_namespaces(sources, default_time_zone=default_time_zone, partial=partial)


def validate_texts(
    texts: Sources,
    *,
    master: str | os.PathLike[str] | None = None,
    default_time_zone: str | None = None,
) -> tuple[Config | None, list[Problem]]:
    """As `validate_paths`, for namespaces already read (name -> (file name, text)), such as
    `tronfig -V -` reads from stdin; `master` is a MASTER file read when MASTER is not given."""
    sources: Sources = dict(texts)
    problems: list[Problem] = []
    if master is not None and MASTER not in sources:
        more, problems = _read_files({MASTER: Path(master)})
        sources = {**more, **sources}
    if problems:
        return None, problems
    partial = MASTER not in sources
    return check_namespaces(sources, default_time_zone=default_time_zone, partial=partial)


def read_sources(path: str | os.PathLike[str]) -> tuple[Sources, list[Problem]]:
    """The namespace texts of a config directory or file, and the problems reading them."""
    root = Path(path)
    if not root.is_dir():
        return _read_files({MASTER: root})
    manifest = root / MANIFEST
    if manifest.exists():
        files, problems = _read_manifest(manifest)
        sources, more = _read_files(files)
        return sources, [*problems, *more]
    return _read_files(_directory_files(root))


def _directory_files(root: Path) -> dict[str, Path]:
    files = {file.stem: file for file in sorted(root.glob("*.yaml")) if file.name != MANIFEST}
    files.setdefault(MASTER, root / f"{MASTER}.yaml")
    return files


def _read_manifest(manifest: Path) -> tuple[dict[str, Path], list[Problem]]:
    text, problem = _read_text(manifest)
    if problem is not None:
        return {}, [problem]
    try:
        mapping = load_bounded(text)
    except YamlLimitError as exc:
        return {}, [Problem(str(manifest), exc.line, exc.path, str(exc))]
    except yaml.YAMLError as exc:
        message = " ".join(f"Invalid manifest format: {exc}".split())
        return {}, [Problem(str(manifest), 1, "", message)]
    if not isinstance(mapping, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in mapping.items()
    ):
        message = "The manifest must map namespace names to file paths"
        return {}, [Problem(str(manifest), 1, "", message)]
    return {name: manifest_path(manifest.parent, file) for name, file in mapping.items()}, []


def manifest_path(root: Path, file: str) -> Path:
    """A manifest entry; a config directory that moved still finds its files by name."""
    path = root / file
    moved = root / Path(file).name
    return moved if not path.exists() and moved.exists() else path


def _read_files(files: Mapping[str, Path]) -> tuple[Sources, list[Problem]]:
    sources: Sources = {}
    problems = []
    for name, file in files.items():
        text, problem = _read_text(file)
        if problem is None:
            sources[name] = (str(file), text)
        else:
            problems.append(problem)
    return sources, problems


def _read_text(file: Path) -> tuple[str, Problem | None]:
    limit = YAML_LIMITS.max_bytes
    try:
        with file.open("rb") as handle:
            # One byte more than allowed tells a file past the limit without reading all of it.
            data = handle.read(limit + 1)
        if len(data) > limit:
            return "", Problem(str(file), 1, "", size_message(YAML_LIMITS))
        return data.decode("utf-8"), None
    except OSError as exc:
        return "", Problem(str(file), 0, "", f"Cannot read the file: {exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        return "", Problem(str(file), 1, "", f"The file is not valid UTF-8: {exc.reason}")


def format_problems(problems: Iterable[Problem]) -> str:
    """One `file:line: key.path: message` line per problem (empty parts left out)."""
    return "\n".join(_format(problem) for problem in problems)


def _format(problem: Problem) -> str:
    where = f"{problem.file}:{problem.line}" if problem.file else ""
    parts = [part for part in (where, problem.key_path, problem.message) if part]
    return ": ".join(parts)
