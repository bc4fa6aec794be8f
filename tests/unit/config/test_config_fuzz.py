"""Fuzz: any text gives a Config or a ConfigError, never another exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tron.config import Config, config_hash, load_namespaces
from tron.errors import ConfigError

from .helpers import GOOD_JOB, MASTER_TEXT

KEYS = [
    "jobs", "job", "node", "schedule", "actions", "command", "requires", "cleanup_action",
    "nodes", "node_pools", "name", "hostname", "port", "retries", "run_limit", "enabled",
    "time_zone", "max_runtime", "env", "catch_up", "executor", "trigger_downstreams", "<<",
]  # fmt: skip
ATOMS = [
    "", " ", "  ", "\n", ":", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "!!str ", "'", '"',
    "1", "-1", "true", "null", "10m", "daily", "cron 0 4 * * *", "{runid}", "{nope}", "pool",
    "ü", "é", "日本", "#", "?", "|", ">", "\t", "\\", "%", "@", "`",
]  # fmt: skip

yamlish = st.lists(st.sampled_from(KEYS + ATOMS), max_size=40).map("".join)


def _check(sources: dict[str, tuple[str, str]], partial: bool) -> None:
    result: Config | None = None
    problems: tuple[object, ...] = ()
    try:
        result = load_namespaces(sources, partial=partial)
    except ConfigError as exc:
        problems = exc.problems
    assert isinstance(result, Config) != bool(problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=yamlish, partial=st.booleans())
def test_random_namespace_text_never_crashes(text: str, partial: bool) -> None:
    _check({"MASTER": ("MASTER.yaml", MASTER_TEXT), "ns": ("ns.yaml", text)}, partial)
    config_hash(text)


@settings(max_examples=200, deadline=None)
@given(text=yamlish)
def test_random_master_text_never_crashes(text: str) -> None:
    _check({"MASTER": ("MASTER.yaml", text), "ns": ("ns.yaml", GOOD_JOB)}, partial=False)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_mutated_valid_config_never_crashes(data: st.DataObject) -> None:
    text = GOOD_JOB
    index = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 12))
    insert = data.draw(st.sampled_from(KEYS + ATOMS))
    _check(
        {
            "MASTER": ("MASTER.yaml", MASTER_TEXT),
            "ns": ("ns.yaml", text[:index] + insert + text[index + cut :]),
        },
        False,
    )


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=60))
def test_arbitrary_unicode_text_never_crashes(text: str) -> None:
    _check({"MASTER": ("MASTER.yaml", text)}, partial=False)
