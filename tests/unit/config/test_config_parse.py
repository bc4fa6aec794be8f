"""YAML parsing: lines of keys, repeated keys, anchors and merges, and broken YAML."""

from __future__ import annotations

from tron.config.parse import YNode, parse_yaml, to_python


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
    assert problems[0].message.startswith("Invalid config format")


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
