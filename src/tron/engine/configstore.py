"""The config directory on disk: loading it, and writing an accepted namespace back."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from tron.config import config_hash, load_config, load_namespaces
from tron.config.limits import load_bounded
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
        target = self._file_for(namespace)
        if text is None:
            target.unlink(missing_ok=True)
        else:
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            with tmp.open("rb") as handle:
                os.fsync(handle.fileno())
            tmp.replace(target)
        self._update_manifest(namespace, None if text is None else target)

    def _file_for(self, namespace: str) -> Path:
        if self.path.is_file():
            if namespace == MASTER:
                return self.path
            return self.path.parent / namespace_file_name(namespace)
        manifest = self._manifest()
        if namespace in manifest:
            return Path(manifest[namespace])
        return self.path / namespace_file_name(namespace)

    def _manifest(self) -> dict[str, str]:
        path = self.path / _MANIFEST
        if not path.is_file():
            return {}
        data = load_bounded(path.read_text(encoding="utf-8")) or {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _update_manifest(self, namespace: str, target: Path | None) -> None:
        path = self.path / _MANIFEST
        if not path.is_file():
            return
        manifest = self._manifest()
        if target is None:
            manifest.pop(namespace, None)
        else:
            manifest[namespace] = str(target)
        path.write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")


def namespace_view(config: Config, namespace: str) -> tuple[str, str]:
    """(text, hash) of a namespace as `GET /api/config?name=` shows it."""
    ns = config.namespaces.get(namespace)
    if ns is None:
        return _EMPTY_NAMESPACE, config_hash("")
    return ns.text, config_hash(ns.text)
