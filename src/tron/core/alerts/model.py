"""The records of alerting: a signal (a condition that holds now), an alert (a condition's
life from open to resolved), a notice (one thing to tell), a notification (one delivery)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

_NONE: Mapping[str, str] = MappingProxyType({})


class AlertKind(StrEnum):
    FAILED = "failed"
    FAILURE_STREAK = "failure_streak"
    DID_NOT_START = "did_not_start"
    LATE = "late"
    TOO_LONG = "too_long"
    STUCK = "stuck"
    UNREACHABLE = "unreachable"
    NO_DAILY_SUCCESS = "no_daily_success"
    NOT_SCHEDULING = "not_scheduling"


class Severity(StrEnum):
    PAGE = "page"
    WARN = "warn"


class NoticeEvent(StrEnum):
    OPEN = "open"
    REPEAT = "repeat"
    RESOLVE = "resolve"


@dataclass(frozen=True, slots=True, order=True)
class AlertKey:
    """The stable identity of a condition: its job, its kind and what it is about (a run
    number, `run.action`, a slot time, or "" for the job as a whole)."""

    job: str
    kind: AlertKind
    subject: str = ""

    def __str__(self) -> str:
        return (
            f"{self.job}/{self.kind}/{self.subject}" if self.subject else f"{self.job}/{self.kind}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Signal:
    """A condition that holds now, with the evidence shown to people."""

    key: AlertKey
    since: datetime
    reason: str
    severity: Severity = Severity.WARN
    run_num: int | None = None
    action: str | None = None
    evidence: Mapping[str, str] = field(default_factory=lambda: _NONE)


class AlertState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """One life of a condition, from open to resolved; kept afterwards as history.

    `id` is stable and unique: the key and the moment it opened. `notified` counts the
    notices sent (open and repeats): a resolve is told only about an alert that was told.
    """

    id: str
    key: AlertKey
    state: AlertState = AlertState.OPEN
    severity: Severity = Severity.WARN
    reason: str
    since: datetime
    opened_at: datetime
    last_sent_at: datetime | None = None
    notified: int = 0
    resolved_at: datetime | None = None
    acked_at: datetime | None = None
    acked_by: str | None = None
    run_num: int | None = None
    action: str | None = None
    evidence: Mapping[str, str] = field(default_factory=lambda: _NONE)

    @property
    def is_open(self) -> bool:
        return self.state is AlertState.OPEN


def alert_id(key: AlertKey, opened_at: datetime) -> str:
    return f"{key}@{opened_at.isoformat()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """Something to tell about an alert (before it is routed to channels)."""

    alert: Alert
    event: NoticeEvent


def idempotency_key(alert: Alert, event: NoticeEvent, channel: str) -> str:
    """The same for every try of one notice to one channel, across restarts: receivers drop
    repeats by it. `notified` tells repeats apart (each repeat is a new notice)."""
    text = f"{alert.id}|{event}|{alert.notified}|{channel}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """One delivery of a notice to one channel, kept in the outbox until it is delivered.

    `seq` is given by the store when it is written (0 before): it orders deliveries.
    """

    key: str
    alert_id: str
    job: str
    channel: str
    event: NoticeEvent
    payload: Mapping[str, Any]
    created_at: datetime
    seq: int = 0
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One operator's command: who, what, when, and what came of it."""

    at: datetime
    who: str
    command: str
    target: str
    result: str
    ok: bool
    seq: int = 0
