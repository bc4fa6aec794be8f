"""Lists or mappings of named things (nodes, pools, jobs, actions), in either YAML form."""

from __future__ import annotations

from dataclasses import dataclass

from tron.config.excerpt import excerpt
from tron.config.values import BadValueError, Report, check_identifier
from tron.config.ynode import YNode, join_path


@dataclass(frozen=True, slots=True, kw_only=True)
class Named:
    """One item of a named collection: its name (None if it has none), node and key path."""

    name: str | None
    node: YNode
    path: str


def named_items(report: Report, node: YNode, path: str) -> list[Named]:
    """The items of `name: {...}` mappings or of `[{name: ...}]` lists, in file order.

    The name is the mapping key, else the item's own `name` (a string), else None. A `name`
    that differs from its key and a name given twice are reported.
    """
    if node.value is None:
        return []
    if node.is_mapping:
        items = [_keyed(report, key, child, path) for key, child in node.value.items()]
    elif node.is_sequence:
        items = [_listed(child, path, index) for index, child in enumerate(node.value)]
    else:
        report.add(node.line, path, f"Value at {path} is not a list or dictionary: {excerpt(node)}")
        return []
    _report_repeated_names(report, items)
    return items


def _own_name(node: YNode) -> str | None:
    name = node.value.get("name") if node.is_mapping else None
    return name.value if name is not None and isinstance(name.value, str) else None


def _keyed(report: Report, key: str, node: YNode, parent: str) -> Named:
    path = join_path(parent, key)
    own = _own_name(node)
    if own is not None and own != key:
        report.add(node.line, join_path(path, "name"), f"Name {own} does not match its key {key}")
    return Named(name=key, node=node, path=path)


def _listed(node: YNode, path: str, index: int) -> Named:
    name = _own_name(node)
    return Named(name=name, node=node, path=join_path(path, name or index))


def _report_repeated_names(report: Report, items: list[Named]) -> None:
    seen: set[str] = set()
    for item in items:
        if item.name is None:
            continue
        if item.name in seen:
            report.add(item.node.line, item.path, f"Duplicate name {item.name} at {item.path}")
        seen.add(item.name)


def valid_name(report: Report, item: Named) -> bool:
    """True when the item's name follows Tron's identifier rule.

    A name given as a mapping key is reported here; a `name:` key is reported by its reader.
    """
    if item.name is None:
        return False
    try:
        check_identifier(item.name, item.path)
    except BadValueError as exc:
        if not (item.node.is_mapping and "name" in item.node.value):
            report.add(item.node.line, item.path, str(exc))
        return False
    return True
