"""YAML parsing: lines of keys, repeated keys, anchors and merges, and broken YAML."""

from __future__ import annotations

from datetime import date

from tron.config.parse import parse_yaml
from tron.config.ynode import YNode, to_python


def test_each_key_remembers_its_line() -> None:
    tree, problems = parse_yaml("a: 1\nb:\n  c: [x, y]\n", "f.yaml")
    assert problems == []
    assert tree is not None
    assert tree.value["a"] == YNode(1, 1)
    assert tree.value["b"].line == 2
    assert tree.value["b"].value["c"].line == 3


def test_list_items_have_their_own_line() -> None:
    tree, _ = parse_yaml("items:\n  - one\n  - two\n", "f.yaml")
    assert tree is not None
    assert [item.line for item in tree.value["items"].value] == [2, 3]


def test_repeated_key_is_a_problem_and_the_last_value_wins() -> None:
    tree, problems = parse_yaml("jobs:\n  a: 1\n  b: 2\n  a: 3\n", "f.yaml")
    assert tree is not None
    assert to_python(tree) == {"jobs": {"a": 3, "b": 2}}
    assert [(p.file, p.line, p.key_path) for p in problems] == [("f.yaml", 4, "jobs.a")]
    assert "Duplicate key a" in problems[0].message


def test_merge_keys_fill_in_without_being_repeats() -> None:
    text = "base: &b {node: n, run_limit: 3}\njob:\n  <<: *b\n  run_limit: 5\n"
    tree, problems = parse_yaml(text, "f.yaml")
    assert problems == []
    assert to_python(tree)["job"] == {"node": "n", "run_limit": 5}


def test_aliases_share_their_value() -> None:
    tree, problems = parse_yaml("a: &x [1, 2]\nb: *x\n", "f.yaml")
    assert problems == []
    assert tree is not None
    assert tree.value["b"].line == 2
    assert to_python(tree) == {"a": [1, 2], "b": [1, 2]}


def test_recursive_alias_is_a_problem() -> None:
    tree, problems = parse_yaml("a: &x [*x]\n", "f.yaml")
    assert tree is None
    assert "alias refers to the node that contains it" in problems[0].message


def test_syntax_error_gives_one_problem_at_its_line() -> None:
    tree, problems = parse_yaml("jobs:\n  x: [unclosed\n", "f.yaml")
    assert tree is None
    assert [(p.line, p.key_path) for p in problems] == [(3, "")]
    assert problems[0].message == (
        "Invalid config format: while parsing a flow sequence (line 2, column 6): "
        "did not find expected ',' or ']'"
    )


def test_errors_without_position_are_on_one_line() -> None:
    tree, problems = parse_yaml("a: 1\x00\n", "f.yaml")
    assert tree is None
    assert "\n" not in problems[0].message
    assert problems[0].message.startswith("Invalid config format:")


def test_unknown_tag_is_a_problem() -> None:
    _, problems = parse_yaml("a: !python/object x\n", "f.yaml")
    assert "could not determine a constructor" in problems[0].message


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    _, problems = parse_yaml("[" * 900 + "]" * 900, "f.yaml")
    assert problems[0].message == "YAML nesting is deeper than 100 levels"


def test_empty_text_is_no_tree_and_no_problem() -> None:
    assert parse_yaml("", "f.yaml") == (None, [])
    assert parse_yaml("# only a comment\n", "f.yaml") == (None, [])


def test_non_string_keys_are_problems() -> None:
    tree, problems = parse_yaml("1: a\nyes: b\n? [c]\n: d\nok: e\n", "f.yaml")
    assert tree is not None
    assert to_python(tree) == {"ok": "e"}
    assert [(p.line, p.key_path) for p in problems] == [(1, "1"), (2, "yes"), (3, "(complex key)")]


def test_unicode_keys_and_values_survive() -> None:
    tree, _ = parse_yaml("grüß: 'héllo ✓ 日本語 🚀'\n", "f.yaml")
    assert to_python(tree) == {"grüß": "héllo ✓ 日本語 🚀"}


def test_to_python_of_nothing_is_none() -> None:
    assert to_python(None) is None


def test_scalars_keep_their_yaml_types() -> None:
    text = "n: ~\nb: yes\ni: 0x10\nf: 1.5\nd: 2024-01-02\ns: !!str 1\nq: '3'\n"
    tree, problems = parse_yaml(text, "f.yaml")
    assert problems == []
    assert to_python(tree) == {
        "n": None,
        "b": True,
        "i": 16,
        "f": 1.5,
        "d": date(2024, 1, 2),
        "s": "1",
        "q": "3",
    }


def test_key_that_is_not_a_string_is_a_problem_and_left_out() -> None:
    tree, problems = parse_yaml("jobs:\n  1: x\n  ok: y\n", "f.yaml")
    assert to_python(tree) == {"jobs": {"ok": "y"}}
    assert [(p.line, p.key_path) for p in problems] == [(2, "jobs.1")]
    assert "is not a string" in problems[0].message


def test_complex_key_is_a_problem() -> None:
    _, problems = parse_yaml("? [a, b]\n: 1\n", "f.yaml")
    assert [p.key_path for p in problems] == ["(complex key)"]


def test_repeated_key_is_reported_before_the_problems_inside_the_values() -> None:
    tree, problems = parse_yaml("a:\n  1: x\na: 2\n", "f.yaml")
    assert to_python(tree) == {"a": 2}
    assert [(p.line, p.key_path) for p in problems] == [(3, "a"), (2, "a.1")]


def test_repeated_key_next_to_a_merge_is_reported_once() -> None:
    text = "base: &b {x: 1}\njob:\n  y: 1\n  <<: *b\n  y: 2\n"
    tree, problems = parse_yaml(text, "f.yaml")
    assert to_python(tree)["job"] == {"x": 1, "y": 2}
    assert [(p.line, p.key_path) for p in problems] == [(5, "job.y")]


def test_scalar_with_a_collection_tag_is_a_problem() -> None:
    tree, problems = parse_yaml("a: !!map x\n", "f.yaml")
    assert tree is None
    assert problems[0].line == 1
    assert problems[0].message.startswith("Invalid config format")


def test_aliased_scalar_takes_the_line_of_its_alias() -> None:
    tree, problems = parse_yaml("a: &x 5\nb: *x\n", "f.yaml")
    assert problems == []
    assert tree is not None
    assert tree.value["b"] == YNode(5, 2)
