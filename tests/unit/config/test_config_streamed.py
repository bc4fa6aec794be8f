"""The one-pass parse gives what the general parse gives, for every document it builds, and
leaves every other document to it."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tron.config.limits import YAML_LIMITS, YamlLimitError, YamlLimits
from tron.config.parse import parse_composed, parse_yaml
from tron.config.streamed import Unusual, build_streamed

from .test_config_fuzz import ATOMS, KEYS, yamlish

BUILT = [
    "",
    "# only a comment\n",
    "---\n",
    "a: 1\nb:\n  c: [x, y]\n",
    "items:\n  - one\n  - two\n  -\n  - {k: v}\n",
    "a: &x [1, 2]\nb: *x\nc: [*x, *x]\n",
    "a: &x 5\nb: *x\nc:\n  - *x\n",
    "base: &b {node: n}\nlist:\n  - &item {name: i}\n  - *item\n",
    "s: 'quoted: 1'\nt: \"true\"\nu: true\nn: null\ne:\nf: 1.5\ni: -7\no: 0o17\nh: 0x1F\n",
    "d: 2024-01-01\nts: 2024-01-01 10:00:00\ninf: .inf\nneg: -.inf\n",  # no NaN: never equal
    '\'quoted key\': 1\n"123": 2\nnöde: 日本\nemoji: "\\U0001F600"\n',
    "block: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
    "- top\n- level\n- [list, {a: b}]\n",
    "just a scalar\n",
    'jobs:\n  x:\n    node: n\n    schedule: "cron */5 * * * *"\n'
    '    actions:\n      a: {command: "echo {shortdate} && true"}\n',
]

UNUSUAL = [
    "base: &b {node: n}\njob:\n  <<: *b\n",  # a merge key
    "a: !!str 5\n",  # a tag
    "a: !custom x\n",  # an unknown tag
    "a: 1\na: 2\n",  # a repeated key
    "1: x\n",  # a key that is not a string
    "null: x\n",
    "? [a, b]\n: c\n",  # a complex key
    "*x : 1\n",  # an alias as a key (to an unknown anchor)
    "a: &x 1\nb: &x 2\n",  # an anchor defined twice
    "a: &x [*x]\n",  # an alias inside its own anchor
    "a: *nowhere\n",
    "--- a\n--- b\n",  # two documents
]

BROKEN = [
    "jobs:\n  x: [unclosed\n",
    "a: b: c\n",
    "\tkey: tab\n",
    "a: !!map x\n",
    "d: 2024-02-30\n",
    "a: =\n",
    "[" * 200 + "]" * 200,
    "a: &a [x, x]\nb: &b [" + ", ".join(["*a"] * 10) + "]\nc: [" + ", ".join(["*b"] * 10) + "]\n",
]

SMALL = YamlLimits(max_nodes=50, max_alias_nodes=20, max_depth=5)


def _same_as_general(text: str, limits: YamlLimits = YAML_LIMITS) -> None:
    assert parse_yaml(text, "f.yaml", limits=limits) == parse_composed(text, "f.yaml", limits)


@pytest.mark.parametrize("text", BUILT)
def test_common_documents_are_built_in_one_pass_as_the_general_parse_builds_them(
    text: str,
) -> None:
    tree, problems = parse_composed(text, "f.yaml", YAML_LIMITS)
    assert problems == []
    assert build_streamed(text, YAML_LIMITS) == tree


@pytest.mark.parametrize("text", UNUSUAL)
def test_other_documents_are_left_to_the_general_parse(text: str) -> None:
    with pytest.raises(Unusual):
        build_streamed(text, YAML_LIMITS)
    _same_as_general(text)


@pytest.mark.parametrize("text", BROKEN)
def test_broken_documents_get_the_general_parse_s_problem(text: str) -> None:
    with pytest.raises((Unusual, yaml.YAMLError, ValueError)):
        build_streamed(text, SMALL)
    tree, problems = parse_yaml(text, "f.yaml", limits=SMALL)
    assert tree is None
    assert len(problems) == 1
    _same_as_general(text, SMALL)


def test_limits_are_checked_on_the_same_pass() -> None:
    with pytest.raises(YamlLimitError, match="more than 50 nodes"):
        build_streamed("items: [" + ", ".join(["x"] * 60) + "]\n", SMALL)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.dates(),
    st.datetimes(min_value=datetime(1900, 1, 1)),
    st.sampled_from([*KEYS, *ATOMS, "yes", "no", "on", "~", "1e3", "0x1F", "<<", "="]),
)
_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.one_of(st.text(max_size=8), st.sampled_from(KEYS)), children, max_size=4
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=_values, flow=st.sampled_from([None, True, False]), width=st.sampled_from([20, 80]))
def test_any_dumped_value_parses_as_the_general_parse_does(
    value: object, flow: bool | None, width: int
) -> None:
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True, width=width)
    _same_as_general(text)


@settings(max_examples=300, deadline=None)
@given(text=yamlish)
def test_any_text_parses_as_the_general_parse_does(text: str) -> None:
    _same_as_general(text)
    _same_as_general(text, SMALL)


def test_dates_and_nan_survive() -> None:
    tree, _ = parse_yaml("d: 2024-01-01\nn: .nan\n", "f.yaml")
    assert tree is not None
    assert tree.value["d"].value == date(2024, 1, 1)
    assert math.isnan(tree.value["n"].value)
