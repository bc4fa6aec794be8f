"""A bad value as problem messages show it: its text, cut short, never expanded in full."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tron.config.ynode import YNode

EXCERPT_CHARS = 80


def excerpt(node: YNode, limit: int = EXCERPT_CHARS) -> str:
    """`str(to_python(node))`, cut to `limit` characters ending in `…` when longer.

    Only what is shown is rendered: the tree of a value with aliases shares its branches, and
    writing it out in full can take more memory than the machine has.
    """
    pieces: list[str] = []
    length = 0
    for piece in _pieces(node, top=True, limit=limit):
        pieces.append(piece)
        length += len(piece)
        if length > limit:
            break
    return cut("".join(pieces), limit)


def cut(text: str, limit: int = EXCERPT_CHARS) -> str:
    """`text`, or its first `limit - 1` characters and `…`."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pieces(node: YNode, *, top: bool, limit: int) -> Iterator[str]:
    value = node.value
    if node.is_mapping:
        yield "{"
        for index, (key, child) in enumerate(value.items()):
            yield f"{', ' if index else ''}{_scalar(key, top=False, limit=limit)}: "
            yield from _pieces(child, top=False, limit=limit)
        yield "}"
    elif node.is_sequence:
        yield "["
        for index, child in enumerate(value):
            yield ", " if index else ""
            yield from _pieces(child, top=False, limit=limit)
        yield "]"
    else:
        yield _scalar(value, top=top, limit=limit)


def _scalar(value: Any, *, top: bool, limit: int) -> str:
    # Only the start of a long string can be shown: render no more of it than that.
    if isinstance(value, str) and len(value) > limit:
        value = value[: limit + 1]
        return value if top else repr(value)[:-1]
    return str(value) if top else repr(value)
