"""Executors by name, imported lazily so a backend's dependencies load only when chosen."""

from __future__ import annotations

import importlib
from typing import Any

BACKENDS: dict[str, str] = {
    "local": "tron.executors.local:LocalExecutor",
    "ssh": "tron.executors.ssh:SshExecutor",
}


def load_executor_class(name: str) -> Any:
    """The executor class registered as `name`; KeyError for an unknown name."""
    module_name, _, attribute = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module_name), attribute)
