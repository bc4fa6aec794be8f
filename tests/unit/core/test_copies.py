"""The core's `replace`: the same copies as `dataclasses.replace`, only cheaper."""

from __future__ import annotations

import dataclasses

import pytest

from tron.core.copies import replace
from tron.core.records import ActionRun
from tron.core.states import ActionRunState


@dataclasses.dataclass(frozen=True)
class Checked:
    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("negative")


def action_run() -> ActionRun:
    return ActionRun(
        job_name="ns.job", run_num=1, action_name="a", raw_command="true", original_command="true"
    )


def test_replace_copies_a_record_with_the_changes() -> None:
    original = action_run()
    copy = replace(original, state=ActionRunState.RUNNING, exit_status=3)
    assert copy == dataclasses.replace(original, state=ActionRunState.RUNNING, exit_status=3)
    assert copy is not original
    assert original.state is ActionRunState.SCHEDULED


def test_replace_refuses_unknown_fields() -> None:
    with pytest.raises(TypeError, match="nope"):
        replace(action_run(), nope=1)


def test_replace_keeps_the_checks_of_classes_with_post_init() -> None:
    with pytest.raises(ValueError, match="negative"):
        replace(Checked(1), value=-1)
