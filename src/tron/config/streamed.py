"""The config tree built straight from the parser's events, in one pass over the text.

Most config documents hold only mappings with string keys, sequences, untagged scalars, and
perhaps anchors with aliases. Those are built here while the limits are checked on the same
events, without PyYAML composing its node graph first (which resolves every scalar in Python
and then is walked again): at 10,000 jobs the parse takes a third less time. Anything else (a
merge key, a tag, a key repeated or not a string, a second document) raises `Unusual`, and the
caller parses the document the general way; it does so after any error too, and words it.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import ScalarNode

from tron.config.limits import LimitWalker, YamlLimits, check_size
from tron.config.ynode import YNode

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = "tag:yaml.org,2002:str"
_SIMPLE_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float"))
_OPEN = object()  # an anchor whose collection is still being read
_MEMO_LIMIT = 4096  # plain scalars whose tag is remembered (keys and values that recur)


class Unusual(Exception):
    """The document needs the general parse."""


class _Collection:
    """A mapping or sequence being read, and where its next child goes."""

    __slots__ = ("anchor", "key", "key_line", "line", "value")

    def __init__(self, value: dict[str, YNode] | list[YNode], line: int, anchor: str | None):
        self.value = value
        self.line = line
        self.anchor = anchor
        self.key: str | None = None  # in a mapping: the key read, its value not yet
        self.key_line = 0


def build_streamed(text: str, limits: YamlLimits) -> YNode | None:
    """The tree of `text` (None when it holds no document); raises Unusual for a document
    this pass does not build, and YamlLimitError past one of `limits`."""
    check_size(text, limits)
    loader = _Loader(text)
    try:
        return _Stream(loader, LimitWalker(limits)).build()
    finally:
        loader.dispose()


class _Stream:
    """One document's events, taken in order: each value read goes into the collection open
    around it."""

    def __init__(self, loader: Any, walker: LimitWalker) -> None:
        self.loader = loader
        self.walker = walker
        self.open: list[_Collection] = []
        self.anchors: dict[str, Any] = {}  # anchor -> (value, line), or _OPEN
        self.root: YNode | None = None
        self.tags: dict[str, str] = {}  # plain scalar -> its resolved tag
        self.constructors = loader.yaml_constructors

    def build(self) -> YNode | None:
        loader, take, documents = self.loader, self.walker.take, 0
        while loader.check_event():
            event = loader.get_event()
            take(event)
            kind = type(event)
            if kind is ScalarEvent:
                self._scalar(event)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                self._start(event, {} if kind is MappingStartEvent else [])
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                done = self.open.pop()
                if done.anchor is not None:
                    self.anchors[done.anchor] = (done.value, done.line)
                self._place(done.value, done.line, is_str=False)
            elif kind is AliasEvent:
                self._alias(event)
            elif kind is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise Unusual("more than one document")
        return self.root

    def _start(self, event: Any, value: dict[str, YNode] | list[YNode]) -> None:
        if self._at_key():
            raise Unusual("a collection as a key")
        self._anchor(event.anchor)
        self.open.append(_Collection(value, event.start_mark.line + 1, event.anchor))

    def _scalar(self, event: Any) -> None:
        value: Any = event.value
        if event.tag is not None:
            raise Unusual("a tag")
        tag = self._tag(value) if event.implicit[0] else _STR_TAG
        if tag != _STR_TAG:
            if self._at_key():
                raise Unusual("a key that is not a string")
            node = ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
            if tag in _SIMPLE_TAGS:
                value = self.constructors[tag](self.loader, node)
            else:
                value = self.loader.construct_object(node, deep=True)
        line = event.start_mark.line + 1
        self._anchor(event.anchor)
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, line)
        self._place(value, line, is_str=tag == _STR_TAG)

    def _at_key(self) -> bool:
        """Whether the next value read is a mapping's key."""
        return bool(self.open) and self.open[-1].key is None and type(self.open[-1].value) is dict

    def _tag(self, plain: str) -> str:
        tag = self.tags.get(plain)
        if tag is None:
            tag = self.loader.resolve(ScalarNode, plain, (True, False))
            if len(self.tags) < _MEMO_LIMIT:
                self.tags[plain] = tag
        return tag

    def _anchor(self, anchor: str | None) -> None:
        if anchor is not None:
            if anchor in self.anchors:
                raise Unusual("an anchor defined twice")
            self.anchors[anchor] = _OPEN

    def _alias(self, event: Any) -> None:
        target = self.anchors.get(event.anchor)
        if target is None or target is _OPEN:
            raise Unusual("an alias to an unknown or enclosing anchor")
        value, line = target
        self._place(value, line, is_str=False)

    def _place(self, value: Any, line: int, *, is_str: bool) -> None:
        """Put a value just read into the collection around it (or make it the root)."""
        if not self.open:
            self.root = YNode(value, line)
            return
        parent = self.open[-1]
        if isinstance(parent.value, list):
            parent.value.append(YNode(value, line))
        elif parent.key is not None:
            parent.value[parent.key] = YNode(value, parent.key_line)
            parent.key = None
        elif not is_str or value in parent.value:
            raise Unusual("a key that is not a string, or is repeated")
        else:
            parent.key, parent.key_line = value, line
