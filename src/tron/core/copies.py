"""`replace` for the core's records, several times cheaper than `dataclasses.replace`.

Every change to a run copies a few frozen records (about fifteen copies per launched action),
and `dataclasses.replace` walks the fields, builds a keyword dict and calls `__init__` each
time: it was the largest single cost of the engine's own work per launch. Here each class gets
a copier compiled once that sets its slots directly. Classes with `__post_init__`, fields
outside `__init__` or without slots keep `dataclasses.replace`, whose checks they may need.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_copiers: dict[type[Any], Callable[..., Any]] = {}
_MISSING = object()


def replace(record: T, /, **changes: Any) -> T:
    """A copy of the dataclass instance `record` with `changes`, like `dataclasses.replace`."""
    cls = type(record)
    copier = _copiers.get(cls)
    if copier is None:
        copier = _copiers[cls] = _compile(cls)
    result: T = copier(record, **changes)
    return result


def _compile(cls: type[Any]) -> Callable[..., Any]:
    fields = dataclasses.fields(cls)
    if (
        hasattr(cls, "__post_init__")
        or not hasattr(cls, "__slots__")
        or any(not f.init for f in fields)
    ):
        return dataclasses.replace
    names = [f.name for f in fields]
    # Unknown keywords fail as a call with a wrong keyword does, like dataclasses.replace.
    # Its own names are prefixed so that no field name can shadow them.
    keywords = ", ".join(f"{n}=tron_missing_" for n in names)
    lines = [f"def copy(tron_record_, /, *, {keywords}):", "    tron_new_ = tron_make_(tron_cls_)"]
    for n in names:
        value = f"tron_record_.{n} if {n} is tron_missing_ else {n}"
        lines.append(f"    tron_set_(tron_new_, {n!r}, {value})")
    lines.append("    return tron_new_")
    scope: dict[str, Any] = {
        "tron_missing_": _MISSING,
        "tron_make_": object.__new__,
        "tron_cls_": cls,
        "tron_set_": object.__setattr__,
    }
    exec("\n".join(lines), scope)
    copier: Callable[..., Any] = scope["copy"]
    return copier
