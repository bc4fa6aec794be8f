"""diff: jobs added, removed and changed (with the changed fields), and MASTER settings."""

from __future__ import annotations

from tron.config import ConfigDiff, diff

from .helpers import GOOD_JOB, MASTER_TEXT, load

OTHER_JOB = """\
  other:
    node: node1
    schedule: daily
    actions:
      only: {command: "true"}
"""


def test_identical_configs_have_an_empty_diff() -> None:
    result = diff(load(GOOD_JOB), load(GOOD_JOB))
    assert result == ConfigDiff()
    assert result.is_empty


def test_added_and_removed_jobs_are_listed_by_full_name() -> None:
    old = load(GOOD_JOB)
    new = load("jobs:\n" + OTHER_JOB)
    result = diff(old, new)
    assert result.added == ("ns.other",)
    assert result.removed == ("ns.job",)
    assert dict(result.changed) == {}
    assert not result.is_empty


def test_changed_jobs_list_their_changed_fields() -> None:
    old = load(GOOD_JOB + OTHER_JOB)
    changed_text = GOOD_JOB.replace("cron 0 4", "cron 0 5").replace("echo done", "echo fin")
    new = load(changed_text + OTHER_JOB)
    assert dict(diff(old, new).changed) == {"ns.job": ("schedule", "actions")}


def test_master_setting_changes_are_listed() -> None:
    old = load(GOOD_JOB)
    new = load(GOOD_JOB, MASTER_TEXT + "eventbus_enabled: true\n")
    result = diff(old, new)
    assert result.settings == ("eventbus_enabled",)
    assert dict(result.changed) == {}
