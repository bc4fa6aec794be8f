"""The runner's environment: trond's own, as it is at each launch, plus the attempt's."""

from __future__ import annotations

import os

import pytest

from tron.executors.local_process import ChildEnvironment


def _variables(entries: list[bytes]) -> dict[str, str]:
    pairs = [os.fsdecode(entry).split("=", 1) for entry in entries]
    assert len({key for key, _ in pairs}) == len(pairs), "a variable is given twice"
    return dict(pairs)


def test_the_attempts_variables_are_added_to_trond_s_own_and_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRON_TEST_SHARED", "trond")
    monkeypatch.setenv("TRON_TEST_ÉTÉ", "soleil ☀")
    entries = ChildEnvironment().entries({"TRON_TEST_SHARED": "attempt", "TRON_ACTION": "a"})
    variables = _variables(entries)
    assert variables == {**os.environ, "TRON_TEST_SHARED": "attempt", "TRON_ACTION": "a"}
    assert variables["TRON_TEST_ÉTÉ"] == "soleil ☀"


def test_a_change_to_trond_s_environment_reaches_the_next_launch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment = ChildEnvironment()
    monkeypatch.delenv("TRON_TEST_LATER", raising=False)
    assert "TRON_TEST_LATER" not in _variables(environment.entries({}))
    monkeypatch.setenv("TRON_TEST_LATER", "1")
    assert _variables(environment.entries({}))["TRON_TEST_LATER"] == "1"
    monkeypatch.setenv("TRON_TEST_LATER", "2")
    assert _variables(environment.entries({}))["TRON_TEST_LATER"] == "2"
    monkeypatch.delenv("TRON_TEST_LATER")
    assert "TRON_TEST_LATER" not in _variables(environment.entries({}))
