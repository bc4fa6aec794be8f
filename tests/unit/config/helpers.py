"""Shared texts and helpers for the config tests."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from tron.config import Config, load_namespaces
from tron.errors import ConfigError, Problem

DATA = Path(__file__).parents[2] / "data" / "configs"
SAMPLES = DATA / "samples"

MASTER_TEXT = dedent(
    """\
    nodes:
      - name: node1
        hostname: batch1
      - {name: node2, hostname: batch2}
    node_pools:
      - {name: pool, nodes: [node1, node2]}
    command_context:
      ENV: prod
    """
)

# A valid namespace: line 3 is the job key, line 7 the first action's command.
GOOD_JOB = dedent(
    """\
    jobs:
      job:
        node: pool
        schedule: "cron 0 4 * * *"
        actions:
          first:
            command: "echo {ENV} {shortdate-1}"
          second:
            command: "echo done"
            requires: [first]
    """
)


def sources(namespace_text: str, master_text: str = MASTER_TEXT) -> dict[str, tuple[str, str]]:
    return {"MASTER": ("MASTER.yaml", master_text), "ns": ("ns.yaml", namespace_text)}


def load(namespace_text: str, master_text: str = MASTER_TEXT) -> Config:
    return load_namespaces(sources(namespace_text, master_text))


def problems_of(namespace_text: str, master_text: str = MASTER_TEXT) -> tuple[Problem, ...]:
    with pytest.raises(ConfigError) as info:
        load(namespace_text, master_text)
    return info.value.problems


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")
