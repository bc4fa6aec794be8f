"""The parsed config tree: `YNode` values that remember the line of every key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class YNode:
    """One parsed YAML value: a scalar, a `dict[str, YNode]` or a `list[YNode]`.

    `line` (1-based) is the line of the key that holds the value, or of the value itself for
    list items and the document root, so problems point where a reader looks first.
    """

    value: Any
    line: int

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_sequence(self) -> bool:
        return isinstance(self.value, list)


def join_path(path: str, key: str | int) -> str:
    """The dotted key path of `key` under `path` (`jobs` + `x` -> `jobs.x`)."""
    return f"{path}.{key}" if path else str(key)


def to_python(node: YNode | None) -> Any:
    """The plain Python value of a tree (dicts, lists and scalars)."""
    if node is None:
        return None
    if node.is_mapping:
        return {key: to_python(child) for key, child in node.value.items()}
    if node.is_sequence:
        return [to_python(child) for child in node.value]
    return node.value
