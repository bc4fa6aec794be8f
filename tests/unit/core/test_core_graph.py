"""Tests of the action graph and cycle detection."""

from __future__ import annotations

import pytest
from tests.unit.core.core_builders import dag_job, make_job

from tron.config.model import ActionConfig
from tron.core.graph import ActionGraph, find_cycle
from tron.core.states import ActionRunState

S = ActionRunState


def test_order_is_topological_with_cleanup_last() -> None:
    job = make_job(
        [
            ActionConfig(name="d", command="x", requires=("b", "c")),
            ActionConfig(name="b", command="x", requires=("a",)),
            ActionConfig(name="a", command="x"),
            ActionConfig(name="c", command="x", requires=("a",)),
        ]
    )
    assert ActionGraph.from_job(job).order == ("a", "b", "c", "d", "cleanup")


def test_order_without_cleanup() -> None:
    assert ActionGraph.from_job(dag_job(cleanup=None)).order == ("a", "b", "c", "d")


def test_order_puts_cycle_members_last() -> None:
    graph = ActionGraph.from_requires({"x": ("y",), "y": ("x",), "z": ()})
    assert graph.order == ("z", "x", "y")


def test_requires_and_dependants() -> None:
    graph = ActionGraph.from_job(dag_job())
    assert graph.requires("d") == ("b", "c")
    assert graph.requires("cleanup") == ()
    assert graph.dependants("a") == ("b", "c")
    assert graph.dependants("d") == ()
    assert graph.names == ("a", "b", "c", "d")
    assert graph.cleanup == "cleanup"


@pytest.mark.parametrize(
    ("states", "ready"),
    [
        ({"a": S.WAITING, "b": S.WAITING, "c": S.WAITING, "d": S.WAITING}, ("a",)),
        ({"a": S.SUCCEEDED, "b": S.SCHEDULED, "c": S.QUEUED, "d": S.WAITING}, ("b", "c")),
        ({"a": S.SKIPPED, "b": S.RUNNING, "c": S.SUCCEEDED, "d": S.WAITING}, ()),
        ({"a": S.SUCCEEDED, "b": S.SKIPPED, "c": S.SUCCEEDED, "d": S.WAITING}, ("d",)),
        ({"a": S.FAILED, "b": S.WAITING, "c": S.WAITING, "d": S.WAITING}, ()),
        ({"a": S.SUCCEEDED, "b": S.CANCELLED, "c": S.SUCCEEDED, "d": S.WAITING}, ()),
    ],
)
def test_ready_needs_complete_requirements(
    states: dict[str, ActionRunState], ready: tuple[str, ...]
) -> None:
    graph = ActionGraph.from_job(dag_job())
    assert graph.ready({**states, "cleanup": S.WAITING}) == ready


@pytest.mark.parametrize(
    ("requires", "cycle"),
    [
        ({"a": ["b"], "b": ["a"]}, ["a", "b", "a"]),
        ({"a": [], "b": ["c"], "c": ["d"], "d": ["b"]}, ["b", "c", "d", "b"]),
        ({"a": ["a"]}, ["a", "a"]),
        ({"a": [], "b": ["a"], "c": ["a", "b"]}, None),
        ({"a": ["missing"]}, None),
        ({}, None),
    ],
)
def test_find_cycle(requires: dict[str, list[str]], cycle: list[str] | None) -> None:
    assert find_cycle(requires) == cycle
