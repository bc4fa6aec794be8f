"""The config directory on disk: loading it, and writing an accepted namespace back."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from tron.config import config_hash, load_config, load_namespaces
from tron.config.limits import load_bounded
from tron.config.load import manifest_path
from tron.config.model import MASTER, Config

_MANIFEST = "_manifest.yaml"
_EMPTY_NAMESPACE = "\njobs:\n"


def namespace_file_name(namespace: str) -> str:
    """Tron's rule: dots and slashes of a namespace name become underscores."""
    return namespace.replace(".", "_").replace("/", "_") + ".yaml"


def machine_time_zone() -> str | None:
    """The IANA name of this machine's zone, if it can be told."""
    if os.environ.get("TZ"):
        return os.environ["TZ"].lstrip(":") or None
    try:
        return Path("/etc/timezone").read_text().strip() or None
    except OSError:
        pass
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        return None
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else None


class ConfigDir:
    """Reads and writes the namespaces of one config directory (or a single MASTER file)."""

    def __init__(self, path: Path, *, default_time_zone: str | None = None) -> None:
        self.path = path
        self.default_time_zone = default_time_zone

    def load(self) -> Config:
        """The config on disk; an absent directory is an empty MASTER (as Tron starts)."""
        if not self.path.exists():
            self.path.mkdir(parents=True)
        if self.path.is_dir() and not any(self.path.glob("*.yaml")):
            return self.validate({MASTER: ("MASTER.yaml", "")})
        return load_config(self.path, default_time_zone=self.default_time_zone)

    def validate(self, sources: dict[str, tuple[str, str]]) -> Config:
        return load_namespaces(sources, default_time_zone=self.default_time_zone)

    def sources(self, config: Config) -> dict[str, tuple[str, str]]:
        return {name: (ns.file, ns.text) for name, ns in config.namespaces.items()}

    def write(self, namespace: str, text: str | None) -> None:
        """Write (or with None, delete) one namespace's file, atomically."""
        self.stage(namespace, text).commit()

    def stage(self, namespace: str, text: str | None) -> StagedWrite:
        """Write the new file beside the old one (the slow part, where a full disk shows);
        `commit` swaps it in, `discard` leaves the old config untouched on disk."""
        target = self._file_for(namespace)
        staged = StagedWrite(self, namespace, target, None)
        if text is not None:
            staged.tmp = _write_synced(target.with_name(f".{target.name}.tmp"), text)
        return staged

    def _file_for(self, namespace: str) -> Path:
        if self.path.is_file():
            if namespace == MASTER:
                return self.path
            return self.path.parent / namespace_file_name(namespace)
        manifest = self._manifest()
        if namespace in manifest:
            # Relative entries resolve as the loader resolves them.
            return manifest_path(self.path, manifest[namespace])
        return self.path / namespace_file_name(namespace)

    def _manifest(self) -> dict[str, str]:
        path = self.path / _MANIFEST
        if not path.is_file():
            return {}
        data = load_bounded(path.read_text(encoding="utf-8")) or {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _update_manifest(self, namespace: str, target: Path | None) -> None:
        """Keep `_manifest.yaml` listing every namespace, as Tron does: Tron refuses to start
        on a config dir without one, so a dir trond wrote can go back to Tron. Entries already
        there keep their text; new ones are absolute paths, as Tron writes them."""
        if not self.path.is_dir():
            return
        path = self.path / _MANIFEST
        if path.is_file():
            manifest = self._manifest()
        else:
            # Without a manifest every *.yaml file is a namespace named by its stem.
            manifest = {
                f.stem: str(f.resolve()) for f in sorted(self.path.glob("*.yaml")) if f != path
            }
        if target is not None:
            # The namespace's own file, listed under its stem above, is listed by its name.
            manifest = {
                k: v for k, v in manifest.items() if k == namespace or Path(v) != target.resolve()
            }
        if target is None:
            manifest.pop(namespace, None)
        elif namespace not in manifest or manifest_path(self.path, manifest[namespace]) != target:
            manifest[namespace] = str(target.resolve())
        text = yaml.safe_dump(manifest, allow_unicode=True)
        _write_synced(path.with_name(f".{path.name}.tmp"), text).replace(path)


class StagedWrite:
    """A namespace file written to a temporary name, not yet in effect."""

    def __init__(self, owner: ConfigDir, namespace: str, target: Path, tmp: Path | None) -> None:
        self.owner = owner
        self.namespace = namespace
        self.target = target
        self.tmp = tmp

    def commit(self) -> None:
        """Put the new file in place (a rename), or delete the namespace's file."""
        if self.tmp is None:
            self.target.unlink(missing_ok=True)
        else:
            self.tmp.replace(self.target)
        self.owner._update_manifest(self.namespace, None if self.tmp is None else self.target)

    def discard(self) -> None:
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


def _write_synced(path: Path, text: str) -> Path:
    """Write and fsync `path`; on failure (a full disk) remove what was partly written."""
    try:
        with path.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def namespace_view(config: Config, namespace: str) -> tuple[str, str]:
    """(text, hash) of a namespace as `GET /api/config?name=` shows it."""
    ns = config.namespaces.get(namespace)
    if ns is None:
        return _EMPTY_NAMESPACE, config_hash("")
    return ns.text, config_hash(ns.text)
