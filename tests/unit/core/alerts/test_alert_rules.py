"""When alerts open, repeat and resolve (pure, on explicit times)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from tests.unit.core.alerts.alert_builders import T0

from tron.core.alerts.model import (
    Alert,
    AlertKey,
    AlertKind,
    AlertState,
    NoticeEvent,
    Signal,
    idempotency_key,
)
from tron.core.alerts.rules import (
    MAX_BACKOFF,
    Repeat,
    acknowledged,
    reconcile,
    repeat_policy,
    retry_delay,
)

KEY = AlertKey("svc.etl", AlertKind.FAILED)
SIGNAL = Signal(key=KEY, since=T0, reason="run svc.etl.1 failed")
MIN = timedelta(minutes=1)
HOURLY = Repeat(every=timedelta(hours=1))


def step(alerts: list[Alert], signals: list[Signal], minutes: float, **kw: object) -> tuple:
    decision = reconcile(
        alerts, signals, now=T0 + minutes * MIN, repeat=kw.pop("repeat", HOURLY), **kw
    )
    merged = {a.id: a for a in alerts} | {a.id: a for a in decision.changed}
    events = [n.event for n in decision.notices]
    return [a for a in merged.values() if a.is_open], events, decision


def test_opens_once_then_repeats_every_realert_then_resolves() -> None:
    alerts, events, _ = step([], [SIGNAL], 0)
    assert events == [NoticeEvent.OPEN]
    assert alerts[0].notified == 1
    assert alerts[0].id.startswith("svc.etl/failed@")
    alerts, events, decision = step(alerts, [SIGNAL], 59)
    assert events == []
    assert decision.changed == []
    alerts, events, _ = step(alerts, [SIGNAL], 60)
    assert events == [NoticeEvent.REPEAT]
    assert alerts[0].notified == 2
    alerts, events, decision = step(alerts, [], 61)
    assert events == [NoticeEvent.RESOLVE]
    assert alerts == []
    assert decision.changed[0].state is AlertState.RESOLVED
    assert decision.changed[0].resolved_at == T0 + 61 * MIN


def test_a_decision_run_twice_is_the_same_decision() -> None:
    """What makes restarts safe: the open alert read back finds the same signal open."""
    alerts, _, _ = step([], [SIGNAL], 0)
    again, events, decision = step(alerts, [SIGNAL], 0)
    assert events == []
    assert decision.changed == []
    assert again == alerts


def test_never_repeats_without_realert() -> None:
    alerts, _, _ = step([], [SIGNAL], 0, repeat=Repeat(every=None))
    _, events, _ = step(alerts, [SIGNAL], 10_000, repeat=Repeat(every=None))
    assert events == []


def test_exponential_repeats_double() -> None:
    policy = Repeat(every=MIN, exponential=True)
    alerts, _, _ = step([], [SIGNAL], 0, repeat=policy)
    told = []
    for minute in range(1, 40):
        alerts, events, _ = step(alerts, [SIGNAL], minute, repeat=policy)
        if events:
            told.append(minute)
    assert told == [1, 3, 7, 15, 31]


def test_exponential_backoff_is_capped() -> None:
    alert = replace(step([], [SIGNAL], 0)[0][0], notified=500)
    policy = Repeat(every=MIN, exponential=True)
    assert policy.due_at(alert) == T0 + MAX_BACKOFF


def test_acknowledged_stops_repeats_but_resolve_is_told() -> None:
    alerts, _, _ = step([], [SIGNAL], 0)
    alerts = [acknowledged(alerts[0], who="alice", now=T0 + MIN)]
    assert alerts[0].acked_by == "alice"
    alerts, events, _ = step(alerts, [SIGNAL], 600)
    assert events == []
    _, events, _ = step(alerts, [], 601)
    assert events == [NoticeEvent.RESOLVE]


def test_silenced_opens_quietly_and_tells_when_silence_ends() -> None:
    alerts, events, _ = step([], [SIGNAL], 0, silenced=True)
    assert events == []
    assert alerts[0].notified == 0
    alerts, events, _ = step(alerts, [SIGNAL], 120, silenced=True)
    assert events == []
    alerts, events, _ = step(alerts, [SIGNAL], 121)
    assert events == [NoticeEvent.OPEN]


def test_silenced_alert_never_told_resolves_quietly() -> None:
    alerts, _, _ = step([], [SIGNAL], 0, silenced=True)
    _, events, decision = step(alerts, [], 1)
    assert events == []
    assert decision.changed[0].state is AlertState.RESOLVED
    alerts, _, _ = step([], [SIGNAL], 0)
    _, events, _ = step(alerts, [], 1, silenced=True)
    assert events == []


def test_reason_change_updates_without_telling() -> None:
    alerts, _, _ = step([], [SIGNAL], 0)
    newer = replace(SIGNAL, reason="run svc.etl.2 failed", run_num=2)
    alerts, events, decision = step(alerts, [newer], 5)
    assert events == []
    assert alerts[0].reason == "run svc.etl.2 failed"
    assert alerts[0].run_num == 2
    assert len(decision.changed) == 1


def test_duplicate_signals_count_once() -> None:
    _, events, decision = step([], [SIGNAL, SIGNAL], 0)
    assert events == [NoticeEvent.OPEN]
    assert len(decision.changed) == 1


def test_resolved_then_back_is_a_new_alert() -> None:
    alerts, _, first = step([], [SIGNAL], 0)
    alerts, _, _ = step(alerts, [], 1)
    alerts, events, second = step(alerts, [SIGNAL], 2)
    assert events == [NoticeEvent.OPEN]
    assert first.changed[0].id != second.changed[0].id


def test_idempotency_key_is_stable_and_tells_notices_apart() -> None:
    alert = step([], [SIGNAL], 0)[0][0]
    key = idempotency_key(alert, NoticeEvent.OPEN, "ops")
    assert key == idempotency_key(alert, NoticeEvent.OPEN, "ops")
    assert key != idempotency_key(alert, NoticeEvent.OPEN, "mail")
    assert key != idempotency_key(replace(alert, notified=2), NoticeEvent.OPEN, "ops")
    assert key != idempotency_key(alert, NoticeEvent.RESOLVE, "ops")


@pytest.mark.parametrize(
    ("value", "every", "exponential"),
    [
        (None, timedelta(hours=1), False),
        (timedelta(minutes=20), timedelta(minutes=20), False),
        (5, 5 * MIN, False),
        (-1, MIN, True),
    ],
)
def test_realert_every_means(
    value: timedelta | int | None, every: timedelta, exponential: bool
) -> None:
    assert repeat_policy(value, MIN, timedelta(hours=1)) == Repeat(
        every=every, exponential=exponential
    )


def test_retry_delay_doubles_and_caps() -> None:
    one, cap = timedelta(seconds=1), timedelta(minutes=5)
    delays = [retry_delay(n, one, cap).total_seconds() for n in range(0, 12)]
    assert delays == [1, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert retry_delay(10**6, one, cap) == cap
