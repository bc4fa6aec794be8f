"""Namespace names that would collide with trond's files or break run ids are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tron.config import format_problems, load_config, load_namespaces
from tron.config.naming import namespace_name_problem
from tron.errors import ConfigError

from .helpers import GOOD_JOB, MASTER_TEXT


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "Namespace name must not be empty"),
        ("_manifest", "Namespace name '_manifest' is reserved for trond's own files"),
        ("_MANIFEST", "Namespace name '_MANIFEST' is reserved for trond's own files"),
        (".", "Namespace name '.' must not contain '.' (run ids are split on dots)"),
        ("..", "Namespace name '..' must not contain '.' (run ids are split on dots)"),
        (".hidden", "Namespace name '.hidden' must not contain '.' (run ids are split on dots)"),
        ("a/b", "Namespace name 'a/b' must not contain '/' or '\\\\'"),
        ("a\\b", "Namespace name 'a\\\\b' must not contain '/' or '\\\\'"),
        ("a\x00b", "Namespace name 'a\\x00b' must not contain unprintable characters"),
        ("a\nb", "Namespace name 'a\\nb' must not contain unprintable characters"),
        ("é" * 126, f"Namespace name {'é' * 79 + '…'!r} is longer than 250 bytes"),
    ],
)
def test_reserved_and_unsafe_names_are_refused(name: str, problem: str) -> None:
    assert namespace_name_problem(name) == problem
    with pytest.raises(ConfigError) as caught:
        load_namespaces({"MASTER": ("MASTER.yaml", MASTER_TEXT), name: ("x.yaml", GOOD_JOB)})
    assert [p.message for p in caught.value.problems] == [problem]


@pytest.mark.parametrize("name", ["billing", "_private", "team-a", "日本", "with space", "é" * 125])
def test_ordinary_names_are_accepted(name: str) -> None:
    assert namespace_name_problem(name) is None


def test_a_manifest_entry_named_manifest_is_refused_at_load(tmp_path: Path) -> None:
    (tmp_path / "MASTER.yaml").write_text(MASTER_TEXT, encoding="utf-8")
    (tmp_path / "other.yaml").write_text(GOOD_JOB, encoding="utf-8")
    manifest = f"MASTER: {tmp_path / 'MASTER.yaml'}\n_manifest: {tmp_path / 'other.yaml'}\n"
    (tmp_path / "_manifest.yaml").write_text(manifest, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert format_problems(caught.value.problems) == (
        f"{tmp_path / 'other.yaml'}:1: Namespace name '_manifest' is reserved for trond's own files"
    )
