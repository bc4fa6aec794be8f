"""Bounds on a YAML document (size, nodes, depth, alias expansion), checked before it is built.

A few hundred bytes of nested aliases ("billion laughs") stand for billions of nodes, and the
composed node graph of a large document costs far more memory than its text. So the text is
first streamed through the parser's events, which holds one event at a time: the count of
nodes, the nesting depth and what every alias would add if it were copied out are known before
anything is built, and a document past a limit is refused with the limit named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
)

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True, kw_only=True)
class YamlLimits:
    """What one config document may hold. The defaults leave room for 100,000 jobs."""

    max_bytes: int = 32 * 1024 * 1024  # the UTF-8 text
    max_nodes: int = 4_000_000  # scalars, sequences and mappings written in the text
    max_alias_nodes: int = 1_000_000  # nodes aliases add, each alias counted as a copy
    max_depth: int = 100  # nested sequences and mappings, aliases copied out


YAML_LIMITS = YamlLimits()


class YamlLimitError(ValueError):
    """A document goes past one of its limits; `line` (1-based) and `path` say where."""

    def __init__(self, message: str, *, line: int = 1, path: str = "") -> None:
        self.line = line
        self.path = path
        super().__init__(message)


def check_size(text: str, limits: YamlLimits = YAML_LIMITS) -> None:
    """Raise YamlLimitError when `text` is longer than `max_bytes` in UTF-8."""
    # Encoding is only needed when the characters alone cannot settle it.
    if len(text) * 4 <= limits.max_bytes:
        return
    if len(text) > limits.max_bytes or _utf8_size(text) > limits.max_bytes:
        raise YamlLimitError(size_message(limits))


def size_message(limits: YamlLimits) -> str:
    return f"YAML document is larger than {limits.max_bytes} bytes"


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def check_yaml_limits(text: str, limits: YamlLimits = YAML_LIMITS) -> None:
    """Raise YamlLimitError when `text` goes past a limit; PyYAML's errors pass through.

    Reads the document once as a stream of events, in memory that does not grow with the
    document (beyond one entry per anchor).
    """
    check_size(text, limits)
    walker = LimitWalker(limits)
    loader = _Loader(text)
    try:
        while loader.check_event():
            walker.take(loader.get_event())
    finally:
        loader.dispose()


def load_bounded(text: str, limits: YamlLimits = YAML_LIMITS) -> Any:
    """`yaml.safe_load(text)` once the text is within `limits` (raises YamlLimitError)."""
    check_yaml_limits(text, limits)
    return yaml.load(text, Loader=_Loader)


class _Frame:
    """An open sequence or mapping: where the walk is inside it."""

    __slots__ = ("anchor", "height", "index", "is_mapping", "key", "on_key", "size_before")

    def __init__(self, event: CollectionStartEvent, size_before: int) -> None:
        self.anchor = event.anchor
        self.is_mapping = isinstance(event, MappingStartEvent)
        self.size_before = size_before
        self.height = 0  # of the tallest child collection so far
        self.key = ""  # in a mapping: the current key
        self.index = 0  # in a sequence: the current item
        self.on_key = True  # in a mapping: the next child is a key


class LimitWalker:
    """Counts the events of one document and raises at the first limit passed: `take` each
    event in the order the parser gives them."""

    def __init__(self, limits: YamlLimits) -> None:
        self.limits = limits
        self.nodes = 0
        self.alias_nodes = 0
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[int, int]] = {}  # anchor -> (expanded size, height)

    def take(self, event: Any) -> None:
        kind = type(event)
        if kind is ScalarEvent:
            self._count(event)
            if event.anchor is not None:
                self.anchors[event.anchor] = (1, 0)
            self._next_child(event.value)
        elif kind is AliasEvent:
            self._alias(event)
        elif isinstance(event, CollectionStartEvent):
            self._count(event)
            if len(self.stack) >= self.limits.max_depth:
                self._fail(event, f"YAML nesting is deeper than {self.limits.max_depth} levels")
            self.stack.append(_Frame(event, self.nodes + self.alias_nodes - 1))
        elif kind is SequenceEndEvent or kind is MappingEndEvent:
            self._end()

    def _count(self, event: Any) -> None:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            self._fail(event, f"YAML document has more than {self.limits.max_nodes} nodes")

    def _alias(self, event: AliasEvent) -> None:
        # An unknown anchor is left for the composer to report.
        size, height = self.anchors.get(event.anchor or "", (1, 0))
        self.alias_nodes += size
        if self.alias_nodes > self.limits.max_alias_nodes:
            self._fail(event, f"YAML aliases expand past {self.limits.max_alias_nodes} nodes")
        if len(self.stack) + height > self.limits.max_depth:
            self._fail(event, f"YAML nesting is deeper than {self.limits.max_depth} levels")
        self._child_height(height)
        self._next_child(None)

    def _end(self) -> None:
        frame = self.stack.pop()
        height = frame.height + 1
        if frame.anchor is not None:
            size = self.nodes + self.alias_nodes - frame.size_before
            self.anchors[frame.anchor] = (size, height)
        self._child_height(height)
        self._next_child(None)

    def _child_height(self, height: int) -> None:
        if self.stack and height > self.stack[-1].height:
            self.stack[-1].height = height

    def _next_child(self, scalar: str | None) -> None:
        """Move the enclosing collection past the child just read."""
        if not self.stack:
            return
        frame = self.stack[-1]
        if not frame.is_mapping:
            frame.index += 1
        elif frame.on_key:
            frame.key = scalar if scalar is not None else "(complex key)"
            frame.on_key = False
        else:
            frame.on_key = True

    def _fail(self, event: Any, message: str) -> None:
        raise YamlLimitError(message, line=event.start_mark.line + 1, path=self._path())

    def _path(self) -> str:
        parts = []
        for frame in self.stack:
            if frame.is_mapping and frame.on_key:
                break  # the limit was hit inside a key: its path ends at the mapping
            parts.append(frame.key if frame.is_mapping else str(frame.index))
        return bounded_path(parts)


def bounded_path(parts: list[str], *, key_chars: int = 40, total_chars: int = 160) -> str:
    """A dotted key path short enough for a message: long keys cut, a deep path's tail kept."""
    keys = [key if len(key) <= key_chars else key[: key_chars - 1] + "…" for key in parts]
    path = ".".join(keys)
    return path if len(path) <= total_chars else "…" + path[-(total_chars - 1) :]
