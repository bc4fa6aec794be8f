"""Property tests: the transition table, and a state machine driving random job runs."""

from __future__ import annotations

from datetime import timedelta

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from tests.unit.core.core_builders import T0, make_job, new_run

from tron.config.model import ActionConfig
from tron.core.action_run import apply_event
from tron.core.effects import Effect, JobRunDone, ScheduleRetry, StartAction
from tron.core.job_run import (
    action_exited,
    action_started,
    action_starting,
    apply_action_command,
    apply_job_run_command,
    is_finished,
    retry_due,
    start_job_run,
    trigger_published,
    trigger_timed_out,
)
from tron.core.records import ActionRun, JobRun
from tron.core.states import (
    COMPLETE_STATES,
    TRANSITIONS,
    ActionRunEvent,
    ActionRunState,
    can_transition,
)
from tron.errors import ConflictError, InvalidTransitionError

S = ActionRunState


@given(st.lists(st.sampled_from(ActionRunEvent), max_size=30))
def test_random_events_only_follow_the_table(events: list[ActionRunEvent]) -> None:
    action_run = new_run(make_job([ActionConfig(name="a", command="x")])).action_runs[0]
    for event in events:
        before = action_run.state
        try:
            action_run = apply_event(action_run, event, now=T0)
        except InvalidTransitionError:
            assert not can_transition(before, event)
            continue
        assert TRANSITIONS[(before, event)] is action_run.state
        assert (action_run.end_time is not None) == action_run.state.is_done


JOB = make_job(
    [
        ActionConfig(name="a", command="echo a"),
        ActionConfig(
            name="b", command="echo b", requires=("a",), retries=1, retries_delay=timedelta(10)
        ),
        ActionConfig(name="c", command="echo c", requires=("a",), triggered_by=("ev",), retries=1),
        ActionConfig(name="d", command="echo d", requires=("b", "c")),
    ]
)
NAMES = ("a", "b", "c", "d", "cleanup")
COMMANDS = ("success", "fail", "skip", "cancel", "retry", "start", "stop", "kill")


def _reachable(old: ActionRunState, new: ActionRunState) -> bool:
    targets = {to for (frm, _), to in TRANSITIONS.items() if frm is old}
    return new is old or new in targets or new is S.SCHEDULED


class JobRunMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.run: JobRun = new_run(JOB)
        self.to_start: set[str] = set()
        self.retries: set[str] = set()
        self.cleanup_starts = 0
        self.cancelled = False
        self.cleanup_touched = False
        self.cleanup_retries = 0

    def _apply(self, result: tuple[JobRun, list[Effect]], *, manual: bool = False) -> None:
        before = {a.action_name: a.state for a in self.run.action_runs}
        self.run, effects = result
        for a in self.run.action_runs:
            assert _reachable(before[a.action_name], a.state), (before[a.action_name], a.state)
        for effect in effects:
            self._record(effect, manual=manual)

    def _record(self, effect: Effect, *, manual: bool) -> None:
        if isinstance(effect, StartAction):
            action_run = self._action(effect.action_name)
            assert action_run.state in (S.SCHEDULED, S.QUEUED, S.WAITING)
            if not manual and not action_run.attempts:
                # A first start decided by core: every requirement is complete.
                states = {a.action_name: a.state for a in self.run.action_runs}
                assert all(states[r] in COMPLETE_STATES for r in action_run.requires)
            self.to_start.add(effect.action_name)
        elif isinstance(effect, ScheduleRetry):
            self.retries.add(effect.action_name)
        elif isinstance(effect, JobRunDone):
            assert is_finished(self.run)

    def _action(self, name: str) -> ActionRun:
        found = self.run.find_action_run(name)
        assert found is not None
        return found

    @precondition(lambda self: self.run.start_time is None)
    @rule(published=st.booleans())
    def start(self, published: bool) -> None:
        try:
            result = start_job_run(self.run, now=T0, published={"ev"} if published else ())
        except ConflictError:
            return
        self._apply(result)

    @precondition(lambda self: bool(self.to_start))
    @rule(data=st.data())
    def perform_start(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.to_start)))
        self.to_start.discard(name)
        action_run = self._action(name)
        if not can_transition(action_run.state, ActionRunEvent.START):
            return
        self.run = action_starting(self.run, name, now=T0, node=None)
        if name == "cleanup":
            self.cleanup_starts += 1
        if data.draw(st.booleans()):
            self.run = action_started(self.run, name, now=T0)

    @rule(name=st.sampled_from(NAMES), status=st.sampled_from((0, 0, 1, None)))
    def exit(self, name: str, status: int | None) -> None:
        self._apply(action_exited(self.run, name, exit_status=status, now=T0))

    @precondition(lambda self: bool(self.retries))
    @rule(data=st.data())
    def retry_fires(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.retries)))
        self.retries.discard(name)
        self._apply(retry_due(self.run, name, now=T0))

    @rule()
    def publish(self) -> None:
        self._apply(trigger_published(self.run, "ev", now=T0))

    @rule()
    def trigger_timeout(self) -> None:
        self._apply(trigger_timed_out(self.run, "c", now=T0))

    @rule(name=st.sampled_from(NAMES), command=st.sampled_from(COMMANDS))
    def command(self, name: str, command: str) -> None:
        try:
            result = apply_action_command(self.run, name, command, now=T0)
        except ConflictError:
            return
        self.cleanup_touched |= name == "cleanup" and command != "retry"
        self.cleanup_retries += name == "cleanup" and command == "retry"
        self._apply(result, manual=True)

    @rule()
    def cancel_run(self) -> None:
        try:
            result = apply_job_run_command(self.run, "cancel", now=T0)
        except ConflictError:
            return
        self.cancelled = True
        self._apply(result)

    @invariant()
    def cleanup_starts_at_most_once(self) -> None:
        # Only an explicit retry of the cleanup (allowed until it is done) starts it again.
        assert self.cleanup_starts <= 1 + self.cleanup_retries

    @invariant()
    def finished_run_ran_its_cleanup_once_unless_cancelled(self) -> None:
        cleanup = self._action("cleanup")
        if is_finished(self.run) and not (self.cancelled or self.cleanup_touched):
            starts = len(cleanup.attempts)
            assert cleanup.state is S.CANCELLED or 1 <= starts <= 1 + self.cleanup_retries

    @invariant()
    def finished_iff_everything_ended(self) -> None:
        runs = self.run.action_runs
        active = any(a.state.is_active for a in runs)
        leftovers_blocked = all(a.state.is_done or self._is_blocked(a) for a in runs)
        assert is_finished(self.run) == (not active and leftovers_blocked)
        if all(a.state.is_done for a in runs):
            assert is_finished(self.run)
        assert (self.run.end_time is not None) <= is_finished(self.run)

    def _is_blocked(self, action_run: ActionRun) -> bool:
        if action_run.is_cleanup or action_run.state.is_active:
            return False
        reqs = [self._action(r) for r in action_run.requires]
        return any(
            r.state not in COMPLETE_STATES and (r.state.is_done or self._is_blocked(r))
            for r in reqs
        )


JobRunMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestJobRunMachine = JobRunMachine.TestCase
