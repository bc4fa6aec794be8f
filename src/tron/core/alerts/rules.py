"""When an alert opens, repeats and resolves: one pure decision per job and evaluation.

The signals of a job are computed whole at every evaluation, so a condition that is not in
them has cleared: its open alert resolves. Running the decision again on the same inputs
changes nothing, which is why a restart never re-fires an alert already sent: the open
alerts are read back from the store and the same signals find them open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tron.core.alerts.model import (
    Alert,
    AlertKey,
    AlertState,
    Notice,
    NoticeEvent,
    Signal,
    alert_id,
)

# Exponential repeats double from one check interval, and stop growing at a day.
MAX_BACKOFF = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Repeat:
    """How often an open alert is told again: every `every`, or doubling from it; never
    when `every` is None."""

    every: timedelta | None
    exponential: bool = False

    def due_at(self, alert: Alert) -> datetime | None:
        if self.every is None or alert.last_sent_at is None:
            return None
        wait = self.every
        if self.exponential:
            wait = min(self.every * 2 ** min(max(alert.notified - 1, 0), 20), MAX_BACKOFF)
        return alert.last_sent_at + wait


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    changed: list[Alert]
    notices: list[Notice]


def reconcile(
    open_alerts: Sequence[Alert],
    signals: Sequence[Signal],
    *,
    now: datetime,
    repeat: Repeat,
    silenced: bool = False,
) -> Decision:
    """Open an alert per new signal, repeat those due, resolve those whose signal is gone.

    A silenced job's alerts still open and resolve (the history stays whole) but nothing is
    told; an acknowledged alert is not repeated, and its resolve is still told.
    """
    by_key = {alert.key: alert for alert in open_alerts if alert.is_open}
    changed: list[Alert] = []
    notices: list[Notice] = []
    seen: set[AlertKey] = set()
    for signal in signals:
        if signal.key in seen:
            continue
        seen.add(signal.key)
        current = by_key.get(signal.key)
        if current is None:
            opened = _open(signal, now)
            if not silenced:
                opened = _sent(opened, now)
                notices.append(Notice(alert=opened, event=NoticeEvent.OPEN))
            changed.append(opened)
            continue
        updated, notice = _kept_open(current, signal, now=now, repeat=repeat, silenced=silenced)
        if notice is not None:
            notices.append(notice)
        if updated != current:
            changed.append(updated)
    for key, alert in by_key.items():
        if key not in seen:
            resolved = replace(alert, state=AlertState.RESOLVED, resolved_at=now)
            changed.append(resolved)
            if alert.notified and not silenced:
                notices.append(Notice(alert=resolved, event=NoticeEvent.RESOLVE))
    return Decision(changed=changed, notices=notices)


def _kept_open(
    current: Alert, signal: Signal, *, now: datetime, repeat: Repeat, silenced: bool
) -> tuple[Alert, Notice | None]:
    """An open alert whose condition still holds: told if it never was, or again when due."""
    updated = _refreshed(current, signal)
    if silenced:
        return updated, None
    if current.notified == 0:
        # Opened while silenced: told once the silence ends.
        sent = _sent(updated, now)
        return sent, Notice(alert=sent, event=NoticeEvent.OPEN)
    due = repeat.due_at(updated)
    if updated.acked_at is None and due is not None and now >= due:
        sent = _sent(updated, now)
        return sent, Notice(alert=sent, event=NoticeEvent.REPEAT)
    return updated, None


def _open(signal: Signal, now: datetime) -> Alert:
    return Alert(
        id=alert_id(signal.key, now),
        key=signal.key,
        severity=signal.severity,
        reason=signal.reason,
        since=signal.since,
        opened_at=now,
        run_num=signal.run_num,
        action=signal.action,
        evidence=signal.evidence,
    )


def _sent(alert: Alert, now: datetime) -> Alert:
    return replace(alert, last_sent_at=now, notified=alert.notified + 1)


def _refreshed(alert: Alert, signal: Signal) -> Alert:
    """The alert with the signal's newest words (a failure streak grows, a reason changes)."""
    if (alert.reason, alert.severity, alert.evidence) == (
        signal.reason,
        signal.severity,
        signal.evidence,
    ):
        return alert
    return replace(
        alert,
        reason=signal.reason,
        severity=signal.severity,
        evidence=signal.evidence,
        run_num=signal.run_num,
        action=signal.action,
    )


def acknowledged(alert: Alert, *, who: str, now: datetime) -> Alert:
    """Stop an alert's repeats; it still resolves (and says so)."""
    return replace(alert, acked_at=now, acked_by=who)


def repeat_policy(
    realert_every: timedelta | int | None, check_every: timedelta, default: timedelta
) -> Repeat:
    """Tron's `realert_every`: a duration; a number of checks; -1 for exponential backoff
    from one check interval; unset: `default`."""
    if realert_every is None:
        return Repeat(every=default)
    if isinstance(realert_every, timedelta):
        return Repeat(every=realert_every)
    if realert_every < 0:
        return Repeat(every=check_every, exponential=True)
    return Repeat(every=check_every * realert_every)


def retry_delay(attempts: int, initial: timedelta, maximum: timedelta) -> timedelta:
    """The wait before delivery try `attempts + 1`: doubling from `initial`, capped."""
    # The exponent is capped so a receiver down for weeks cannot overflow the arithmetic.
    delay: timedelta = min(initial * 2 ** min(max(attempts - 1, 0), 30), maximum)
    return delay
