"""YAML limits: bombs, deep nesting, huge documents and duplicate anchors are refused quickly,
in little memory, as one problem naming the limit (issue 11)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tron.config import config_hash, load_config, load_namespaces, validate_paths
from tron.config.excerpt import excerpt
from tron.config.limits import (
    YAML_LIMITS,
    YamlLimitError,
    YamlLimits,
    bounded_path,
    check_yaml_limits,
    load_bounded,
)
from tron.config.parse import parse_yaml
from tron.config.ynode import YNode
from tron.errors import ConfigError, Problem

from .helpers import MASTER_TEXT

ALIAS_LIMIT = f"YAML aliases expand past {YAML_LIMITS.max_alias_nodes} nodes"
DEPTH_LIMIT = f"YAML nesting is deeper than {YAML_LIMITS.max_depth} levels"
SIZE_LIMIT = f"YAML document is larger than {YAML_LIMITS.max_bytes} bytes"
# Generous: a refusal takes milliseconds; only a document expanded in full takes longer.
DEADLINE = 10.0
MEMORY_BUDGET_KB = 50 * 1024


def bomb(levels: int, width: int = 9) -> str:
    """The "billion laughs": each level is a list of `width` aliases of the level below."""
    lines = ['a0: &a0 ["lol"]']
    for level in range(1, levels + 1):
        aliases = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def alias_nodes(levels: int, width: int) -> int:
    """What the aliases of `bomb(levels, width)` add when copied out."""
    size, added = 2, 0  # a0 is a sequence holding one scalar
    for _ in range(levels):
        added += width * size
        size = 1 + width * size
    return added


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def _problems(text: str, limits: YamlLimits = YAML_LIMITS) -> list[Problem]:
    deadline = time.monotonic() + DEADLINE  # generous: a bomb must not take unbounded time
    _, problems = parse_yaml(text, "f.yaml", limits=limits)
    assert time.monotonic() < deadline
    return problems


@settings(max_examples=60, deadline=None)
@given(levels=st.integers(1, 12), width=st.integers(2, 12))
def test_alias_bombs_are_refused_past_the_budget_and_cheap_below(levels: int, width: int) -> None:
    problems = _problems(bomb(levels, width))
    if alias_nodes(levels, width) > YAML_LIMITS.max_alias_nodes:
        assert [p.message for p in problems] == [ALIAS_LIMIT]
    else:
        assert problems == []


def test_billion_laughs_is_refused_in_little_memory() -> None:
    text = bomb(9)
    assert len(text.encode()) < 700
    before = rss_kb()
    with pytest.raises(ConfigError) as caught:
        load_namespaces({"MASTER": ("MASTER.yaml", f"command_context:\n  x: 1\n{text}")})
    assert rss_kb() - before < MEMORY_BUDGET_KB
    assert str(caught.value) == f"MASTER.yaml:9: a6.6: {ALIAS_LIMIT}"


def test_tronfig_validate_refuses_a_bomb_in_little_memory(tmp_path: Path) -> None:
    """`python -m tron.config` (what `tronfig -V` runs) on a bomb: its peak memory stays near
    that of validating a good file."""
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("jobs: {}\n", encoding="utf-8")
    bad.write_text(bomb(9), encoding="utf-8")
    peaks = {}
    for path in (good, bad):
        code = (
            "import sys; from tron.config.__main__ import main; status = main([sys.argv[1]]);"
            "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0];"
            "print(peak.split()[1]); sys.exit(status)"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60
        )
        *out, peak = done.stdout.splitlines()
        peaks[path] = int(peak)
        if path is bad:
            assert done.returncode == 1
            assert out == [f"{bad}:7: a6.6: {ALIAS_LIMIT}"]
    assert peaks[bad] - peaks[good] < MEMORY_BUDGET_KB


def test_merge_key_bombs_are_counted_as_aliases() -> None:
    lines = ["m0: &m0 {a: 1, b: 2}"]
    lines += [
        f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}, *m{i - 1}], k{i}: 1}}" for i in range(1, 30)
    ]
    problems = _problems("\n".join(lines) + "\n")
    assert [(p.line, p.key_path, p.message) for p in problems] == [(12, "m11.<<.0", ALIAS_LIMIT)]


def test_deep_flow_nesting_is_refused() -> None:
    (problem,) = _problems("[" * 10_000 + "]" * 10_000)
    assert "nesting" in problem.message


def test_deep_block_nesting_is_refused_with_a_short_path() -> None:
    text = "".join(f"{'  ' * depth}k{depth}:\n" for depth in range(150)) + "  " * 150 + "x\n"
    (problem,) = _problems(text)
    assert problem.message == DEPTH_LIMIT
    assert problem.line == 101
    assert problem.key_path.startswith("…")
    assert problem.key_path.endswith("k98.k99")
    assert len(problem.key_path) <= 160


def test_an_alias_counts_the_depth_of_what_it_copies() -> None:
    deep = "[" * 60 + "1" + "]" * 60
    text = f"a: &a {deep}\nb: {'[' * 50}*a{']' * 50}\n"
    (problem,) = _problems(text)
    assert (problem.line, problem.message) == (2, DEPTH_LIMIT)


def test_a_50_mb_document_is_refused_before_parsing() -> None:
    text = "a: " + "x" * (50 * 1024 * 1024) + "\n"
    assert [p.message for p in _problems(text)] == [SIZE_LIMIT]


def test_size_counts_utf8_bytes() -> None:
    limits = YamlLimits(max_bytes=12)
    assert _problems("a: ééé", limits) == []
    assert [p.message for p in _problems("a: éééééé", limits)] == [
        "YAML document is larger than 12 bytes"
    ]


def test_a_config_file_past_the_size_limit_is_not_read_whole(tmp_path: Path) -> None:
    big = tmp_path / "MASTER.yaml"
    with big.open("wb") as handle:
        handle.truncate(YAML_LIMITS.max_bytes + 10)
    with pytest.raises(ConfigError) as caught:
        load_config(big)
    assert caught.value.problems[0] == Problem(str(big), 1, "", SIZE_LIMIT)


def test_node_count_is_limited() -> None:
    (problem,) = _problems("a: [1, 2, 3]\nb: [4, 5]\n", YamlLimits(max_nodes=7))
    assert (problem.line, problem.key_path) == (2, "b")
    assert problem.message == "YAML document has more than 7 nodes"


def test_limit_in_a_key_points_at_its_mapping() -> None:
    (problem,) = _problems("top:\n  ? [[[1]]]\n  : v\n", YamlLimits(max_depth=3))
    assert (problem.key_path, problem.message) == ("top", "YAML nesting is deeper than 3 levels")


def test_duplicate_anchors_are_a_problem_not_a_crash() -> None:
    text = "a: &x [1]\nb: &x [*x, *x]\nc: &x [*x, *x]\nd: *x\n"
    (problem,) = _problems(text)
    assert "duplicate anchor" in problem.message


def test_unknown_and_scalar_aliases_pass_the_walk() -> None:
    check_yaml_limits("a: &s text\nb: *s\nc: [*s]\n")
    (problem,) = _problems("a: *nowhere\n")
    assert "undefined alias" in problem.message


def test_config_hash_of_a_bomb_is_the_hash_of_its_text() -> None:
    text = bomb(12)
    assert config_hash(text) == hashlib.sha1(text.encode()).hexdigest()


def test_load_bounded_loads_within_limits_and_raises_past_them() -> None:
    assert load_bounded("a: [1, 2]\n") == {"a": [1, 2]}
    with pytest.raises(YamlLimitError):
        load_bounded(bomb(12))


def test_a_manifest_bomb_is_one_problem(tmp_path: Path) -> None:
    (tmp_path / "MASTER.yaml").write_text(MASTER_TEXT, encoding="utf-8")
    manifest = tmp_path / "_manifest.yaml"
    manifest.write_text(bomb(12), encoding="utf-8")
    config, problems = validate_paths(tmp_path)
    assert config is None
    assert problems == [Problem(str(manifest), 7, "a6.6", ALIAS_LIMIT)]


def test_bad_values_are_shown_as_short_excerpts() -> None:
    # Under the alias budget, but 125,000 items once written out.
    text = bomb(5, width=9).replace("\n", "\n  ")
    master = f"anchors:\n  {text}\neventbus_enabled: *a5\n"
    with pytest.raises(ConfigError) as caught:
        load_namespaces({"MASTER": ("MASTER.yaml", master)})
    (message,) = [p.message for p in caught.value.problems if p.key_path == "eventbus_enabled"]
    assert message.startswith("Value at eventbus_enabled is not a boolean: [[[[[['lol'], ['lol']")
    assert message.endswith("…")
    assert len(message) < 140


def test_a_long_string_excerpt_is_cut() -> None:
    assert excerpt(YNode("x" * 500, 1)) == "x" * 79 + "…"
    assert excerpt(YNode([YNode("y" * 500, 1)], 1)) == "['" + "y" * 77 + "…"
    assert excerpt(YNode({"k": YNode(1, 1)}, 1)) == "{'k': 1}"


def test_huge_keys_do_not_make_huge_problems() -> None:
    key = "k" * 100_000
    with pytest.raises(ConfigError) as caught:
        load_namespaces({"MASTER": ("MASTER.yaml", f"? {key}\n: 1\n")})
    (problem,) = caught.value.problems
    assert problem.message.startswith("Unknown keys in MASTER: kkk")
    assert len(problem.message) <= 1000
    assert len(problem.key_path) <= 200


def test_bounded_path_keeps_short_paths() -> None:
    assert bounded_path(["jobs", "0", "name"]) == "jobs.0.name"
    assert bounded_path(["x" * 50]) == "x" * 39 + "…"
