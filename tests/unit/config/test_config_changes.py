"""changes_of: what an upload does, named down to action keys and MASTER settings, as text/JSON."""

from __future__ import annotations

from datetime import datetime

import pytest

from tron.config.changes import (
    ConfigChanges,
    JobChange,
    SettingChange,
    changes_from_json,
    changes_of,
)

from .helpers import GOOD_JOB, MASTER_TEXT, load

OTHER_JOB = """\
  other:
    node: node1
    schedule: daily
    actions:
      only: {command: "true"}
    cleanup_action: {command: "echo clean"}
"""


def test_no_change_is_empty_and_not_destructive() -> None:
    changes = changes_of(load(GOOD_JOB), load(GOOD_JOB), "ns")
    assert changes.is_empty
    assert not changes.is_destructive
    assert changes.lines() == ["Namespace ns: 0 added, 0 removed, 0 changed jobs"]


def test_removed_job_is_destructive_and_named() -> None:
    changes = changes_of(load(GOOD_JOB + OTHER_JOB), load(GOOD_JOB), "ns")
    assert changes.removed == ("ns.other",)
    assert changes.is_destructive
    assert "  - job ns.other" in changes.lines()


def test_changed_job_names_action_keys() -> None:
    old = load(GOOD_JOB + OTHER_JOB)
    text = GOOD_JOB.replace("cron 0 4", "cron 0 5").replace(
        "echo done", "echo fin"
    ) + OTHER_JOB.replace("echo clean", "echo tidy").replace("only:", "solo:")
    changes = changes_of(old, load(text), "ns")
    assert changes.changed == (
        JobChange(name="ns.job", keys=("schedule", "actions.second.command")),
        JobChange(
            name="ns.other",
            keys=("actions.solo (added)", "actions.only (removed)", "cleanup_action.command"),
        ),
    )
    assert not changes.is_destructive
    assert changes.changed[0].moves_schedule
    assert "  ~ job ns.job: schedule, actions.second.command" in changes.lines()


def test_reordered_actions_are_named_as_such() -> None:
    swapped = (
        GOOD_JOB.replace("first:", "zz:").replace("second:", "first:").replace("zz:", "second:")
    )
    swapped = swapped.replace("requires: [first]", "requires: [second]")
    changes = changes_of(load(GOOD_JOB), load(swapped), "ns")
    assert changes.changed[0].keys[0].startswith("actions.")


def test_cleanup_action_added_is_the_key() -> None:
    without = GOOD_JOB + OTHER_JOB.replace('    cleanup_action: {command: "echo clean"}\n', "")
    changes = changes_of(load(without), load(GOOD_JOB + OTHER_JOB), "ns")
    assert changes.changed == (JobChange(name="ns.other", keys=("cleanup_action",)),)


def test_master_settings_removed_added_and_lost_entries() -> None:
    old = load(GOOD_JOB, MASTER_TEXT + "time_zone: UTC\n")
    master = MASTER_TEXT.replace("command_context:\n  ENV: prod\n", "eventbus_enabled: true\n")
    new = load(GOOD_JOB.replace("{ENV} ", ""), master)
    changes = changes_of(old, new, "MASTER")
    kinds = {s.key: s for s in changes.settings}
    assert kinds["time_zone"] == SettingChange(key="time_zone", kind="removed")
    assert kinds["command_context"].kind == "removed"
    assert kinds["eventbus_enabled"].kind == "added"
    assert changes.removed_settings == ("time_zone", "command_context")
    assert changes.is_destructive
    assert "  - MASTER time_zone" in changes.lines()


def test_a_mapping_setting_that_loses_an_entry() -> None:
    old = load(GOOD_JOB)
    master = MASTER_TEXT.replace("  - {name: node2, hostname: batch2}\n", "").replace(
        "[node1, node2]", "[node1]"
    )
    changes = changes_of(old, load(GOOD_JOB, master), "MASTER")
    nodes = next(s for s in changes.settings if s.key == "nodes")
    assert nodes == SettingChange(key="nodes", kind="changed", lost=("nodes.node2",))
    assert "nodes.node2" in changes.removed_settings
    assert "  ~ MASTER nodes (removes nodes.node2)" in changes.lines()


def test_setting_set_where_default_was_is_added() -> None:
    changes = changes_of(load(GOOD_JOB), load(GOOD_JOB, MASTER_TEXT + "time_zone: UTC\n"), "M")
    assert changes.settings == (SettingChange(key="time_zone", kind="added"),)
    assert not changes.is_destructive
    assert changes.counts().endswith("1 MASTER settings changed")


def test_schedule_change_notes_the_pending_run_that_does_not_move() -> None:
    old = load(GOOD_JOB)
    new = load(GOOD_JOB.replace("cron 0 4", "cron 0 5"))
    changes = changes_of(old, new, "ns").with_pending_runs(
        {"ns.job": datetime(2024, 3, 6, 4, 0), "ns.gone": datetime(2024, 3, 6)}
    )
    (note,) = changes.notes
    assert "ns.job: the schedule changes but the pending run stays at 2024-03-06 04:00:00" in note
    assert "tronctl disable ns.job && tronctl enable ns.job" in note
    assert changes.lines()[-1] == f"  note: {note}"


def test_json_round_trip() -> None:
    old = load(GOOD_JOB + OTHER_JOB, MASTER_TEXT + "time_zone: UTC\n")
    new = load(GOOD_JOB.replace("cron 0 4", "cron 0 5"))
    changes = changes_of(old, new, "MASTER").with_pending_runs({"ns.job": datetime(2024, 1, 1)})
    changes = ConfigChanges(**{**_fields(changes), "version": 7})
    data = changes.to_json()
    assert data["removed_settings"] == ["time_zone"]
    assert changes_from_json(data) == changes


@pytest.mark.parametrize(
    "data",
    [{}, {"settings": {"x": "bad", "y": {"change": "weird"}}, "version": True}],
)
def test_json_from_a_foreign_server_is_tolerated(data: dict[str, object]) -> None:
    changes = changes_from_json(data)
    assert changes.namespace == "MASTER"
    assert changes.version is None
    assert all(s.kind == "changed" for s in changes.settings)


def _fields(changes: ConfigChanges) -> dict[str, object]:
    return {name: getattr(changes, name) for name in ConfigChanges.__dataclass_fields__}
