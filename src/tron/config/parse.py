"""YAML text to `YNode` trees that remember the line of every key, and flag repeated keys.

Most documents are built in one pass over the parser's events (`streamed`); the rest, and
every broken one, through PyYAML's node graph here."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from tron.config.limits import YAML_LIMITS, YamlLimitError, YamlLimits, check_yaml_limits
from tron.config.streamed import Unusual, build_streamed
from tron.config.ynode import YNode, join_path
from tron.errors import Problem

_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_SCALAR_TAGS = tuple(f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float"))
# libyaml is faster, caps nesting depth, and words its errors as Tron (which uses it) does.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _InvalidYamlError(Exception):
    """A structure PyYAML accepts but a config cannot hold (a recursive alias)."""

    def __init__(self, message: str, line: int) -> None:
        self.line = line
        super().__init__(message)


def parse_yaml(
    text: str, file: str, *, limits: YamlLimits = YAML_LIMITS
) -> tuple[YNode | None, list[Problem]]:
    """Parse `text`; return its tree (None when empty) and the problems found.

    A syntax error, or a document past one of `limits`, gives a single problem and no tree. A
    key repeated in one mapping gives a problem per repetition and the last value wins, as in
    PyYAML. Never raises.
    """
    try:
        return build_streamed(text, limits), []
    except (Unusual, yaml.YAMLError, ValueError, OverflowError):
        # Limits passed and errors are met again, in the same order, and worded below.
        return parse_composed(text, file, limits)


def parse_composed(text: str, file: str, limits: YamlLimits) -> tuple[YNode | None, list[Problem]]:
    """The general parse, for any document: the limits checked on the events, then PyYAML's node
    graph built and walked (`parse_yaml` without its one-pass route)."""
    loader = _Loader(text)
    try:
        check_yaml_limits(text, limits)
        root = loader.get_single_node()
        if root is None:
            return None, []
        builder = _Builder(loader, file)
        tree = builder.build(root, root.start_mark.line + 1, "")
        return tree, builder.problems
    except YamlLimitError as exc:
        return None, [Problem(file, exc.line, exc.path, str(exc))]
    except _InvalidYamlError as exc:
        return None, [Problem(file, exc.line, "", f"Invalid config format: {exc}")]
    except yaml.MarkedYAMLError as exc:
        return None, [Problem(file, _error_line(exc), "", _error_message(exc))]
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError) as exc:
        message = " ".join(str(exc).split())
        return None, [Problem(file, 1, "", f"Invalid config format: {message}")]
    finally:
        loader.dispose()


def _error_line(exc: yaml.MarkedYAMLError) -> int:
    mark = exc.problem_mark or exc.context_mark
    return mark.line + 1 if mark is not None else 1


def _error_message(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's message on one line: the context with its position, then the problem."""
    parts = []
    if exc.context:
        mark = exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        parts.append(f"{exc.context}{where}")
    parts.append(exc.problem or "syntax error")
    return "Invalid config format: " + ": ".join(parts)


class _Builder:
    """Walks PyYAML's node graph once, sharing the result of anchored nodes.

    Plain string scalars and string keys (nearly every node of a config) are taken as they are,
    without PyYAML's generic constructor: at 10,000 jobs that halves the parse.
    """

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.problems: list[Problem] = []
        self._done: dict[int, YNode] = {}
        self._building: set[int] = set()
        constructors = loader.yaml_constructors
        self._scalars = {tag: constructors[tag] for tag in _PLAIN_SCALAR_TAGS}

    def build(self, node: Node, line: int, path: str) -> YNode:
        if type(node) is ScalarNode:
            return YNode(self._scalar(node), line)
        done = self._done.get(id(node))
        if done is not None:
            return YNode(done.value, line)
        if id(node) in self._building:
            raise _InvalidYamlError("an alias refers to the node that contains it", line)
        self._building.add(id(node))
        built = YNode(self._collection(node, path), line)
        self._building.discard(id(node))
        self._done[id(node)] = built
        return built

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag == _STR_TAG:
            return node.value
        construct = self._scalars.get(node.tag)
        if construct is not None:
            return construct(self.loader, node)
        return self.loader.construct_object(node, deep=True)

    def _collection(self, node: Node, path: str) -> Any:
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        # PyYAML's only other node kind is the scalar, handled by `build`.
        return [
            self.build(item, item.start_mark.line + 1, join_path(path, index))
            for index, item in enumerate(node.value)
        ]

    def _mapping(self, node: MappingNode, path: str) -> dict[str, YNode]:
        start = len(self.problems)
        result: dict[str, YNode] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _STR_TAG and type(key_node) is ScalarNode:
                key = key_node.value
            elif key_node.tag == _MERGE_TAG:
                del self.problems[start:]
                return self._merged_mapping(node, path)
            else:
                key = self._key(key_node, path)
                if key is None:
                    continue
            line = key_node.start_mark.line + 1
            result[key] = self.build(value_node, line, join_path(path, key))
        if len(result) != len(node.value):
            # Reported where the slow path reports them: before the problems of the values.
            self.problems[start:start] = self._repeated_keys(node, path)
        return result

    def _merged_mapping(self, node: MappingNode, path: str) -> dict[str, YNode]:
        self.problems.extend(self._repeated_keys(node, path))
        self.loader.flatten_mapping(node)
        result: dict[str, YNode] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            if key is not None:
                line = key_node.start_mark.line + 1
                result[key] = self.build(value_node, line, join_path(path, key))
        return result

    def _key(self, key_node: Node, path: str) -> str | None:
        line = key_node.start_mark.line + 1
        key = self.loader.construct_object(key_node) if isinstance(key_node, ScalarNode) else None
        if isinstance(key, str):
            return key
        shown = key_node.value if isinstance(key_node, ScalarNode) else "(complex key)"
        message = f"Key {shown} is not a string (quote it to use it as a name)"
        self.problems.append(Problem(self.file, line, join_path(path, str(shown)), message))
        return None

    def _repeated_keys(self, node: MappingNode, path: str) -> list[Problem]:
        problems = []
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                continue
            key = key_node.value
            if key in seen:
                line = key_node.start_mark.line + 1
                message = f"Duplicate key {key}: it is already set in this mapping"
                problems.append(Problem(self.file, line, join_path(path, key), message))
            seen.add(key)
        return problems
