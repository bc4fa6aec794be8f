"""next_run against a brute-force minute-by-minute scan, over random schedules, times and zones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tron.errors import ScheduleError
from tron.schedule import parse_schedule

ZONES = ("UTC", "America/Los_Angeles", "Europe/London", "Australia/Lord_Howe")
# Instants of DST transitions in those zones, to aim `after` at.
TRANSITIONS = tuple(
    datetime.fromisoformat(text).replace(tzinfo=UTC)
    for text in (
        "2024-03-10 10:00",
        "2024-11-03 09:00",
        "2024-03-31 01:00",
        "2024-10-27 01:00",
        "2024-04-06 15:00",
        "2024-10-05 15:30",
        "2023-04-01 15:00",
        "2023-09-30 15:30",
    )
)
LOOKBACK = timedelta(hours=3)
SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)


@dataclass(frozen=True)
class Spec:
    """A schedule as plain sets, the reference reads these and nothing of tron's."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    matches_day: Callable[[date], bool]


def _field(values: frozenset[int], everything: range) -> str:
    return "*" if values == frozenset(everything) else ",".join(map(str, sorted(values)))


def _last_day(day: date) -> bool:
    return (day + timedelta(days=1)).month != day.month


def _sunday_zero(day: date) -> int:
    return day.isoweekday() % 7


small_sets = st.frozensets
hours_st = st.one_of(
    st.just(frozenset(range(24))),
    small_sets(st.sampled_from([0, 1, 2, 3, 4, 23]), min_size=1, max_size=3),
    small_sets(st.integers(0, 23), min_size=1, max_size=3),
)
minutes_st = st.one_of(
    st.just(frozenset(range(60))),
    small_sets(st.sampled_from([0, 15, 30, 45, 59]), min_size=1, max_size=3),
    small_sets(st.integers(0, 59), min_size=1, max_size=4),
)
months_st = st.one_of(
    st.just(frozenset(range(1, 13))), small_sets(st.integers(1, 12), min_size=1, max_size=4)
)


@st.composite
def cron_specs(draw: st.DrawFn) -> Spec:
    minutes, hours, months = draw(minutes_st), draw(hours_st), draw(months_st)
    mode = draw(st.sampled_from(["every", "monthdays", "weekdays"]))
    dom, dow = "*", "*"
    matches: Callable[[date], bool] = lambda day: True  # noqa: E731
    if mode == "monthdays":
        days = draw(small_sets(st.integers(1, 31), min_size=0, max_size=3))
        last = draw(st.booleans()) or not days
        dom = ",".join([*map(str, sorted(days)), *(["L"] if last else [])])
        matches = lambda day: day.day in days or (last and _last_day(day))  # noqa: E731
    elif mode == "weekdays":
        weekdays = draw(small_sets(st.integers(0, 6), min_size=1, max_size=3))
        dow = ",".join(map(str, sorted(weekdays)))
        matches = lambda day: _sunday_zero(day) in weekdays  # noqa: E731
    fields = (_field(minutes, range(60)), _field(hours, range(24)), dom)
    text = f"cron {' '.join(fields)} {_field(months, range(1, 13))} {dow}"
    return Spec(text, minutes, hours, months, lambda day: day.month in months and matches(day))


@st.composite
def groc_specs(draw: st.DrawFn) -> Spec:
    hour, minute = draw(st.sampled_from([1, 2, 3, 12])), draw(st.sampled_from([0, 15, 30, 45]))
    weekdays = draw(small_sets(st.integers(0, 6), min_size=1, max_size=2))
    ordinals = draw(small_sets(st.integers(1, 5), min_size=1, max_size=2))
    names = ",".join(["sun", "mon", "tue", "wed", "thu", "fri", "sat"][d] for d in weekdays)
    ords = ",".join(f"{n}th" for n in sorted(ordinals))
    text = f"{ords} {names} at {hour:02d}:{minute:02d}"

    def matches(day: date) -> bool:
        return _sunday_zero(day) in weekdays and (day.day - 1) // 7 + 1 in ordinals

    return Spec(text, frozenset({minute}), frozenset({hour}), frozenset(range(1, 13)), matches)


@st.composite
def daily_specs(draw: st.DrawFn) -> Spec:
    hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    letters = draw(small_sets(st.sampled_from("MTWRFSU"), max_size=3))
    weekdays = {"UMTWRFS".index(letter) for letter in letters}
    text = f"daily {hour:02d}:{minute:02d} {''.join(sorted(letters))}"

    def matches(day: date) -> bool:
        return not weekdays or _sunday_zero(day) in weekdays

    return Spec(text, frozenset({minute}), frozenset({hour}), frozenset(range(1, 13)), matches)


afters = st.one_of(
    st.datetimes(datetime(2000, 1, 1), datetime(2040, 1, 1), timezones=st.just(UTC)),
    st.builds(
        lambda base, minutes, seconds: base + timedelta(minutes=minutes, seconds=seconds),
        st.sampled_from(TRANSITIONS),
        st.integers(-300, 300),
        st.sampled_from([0, 0, 1, 59.5]),
    ),
)


def reference_next_run(spec: Spec, zone: ZoneInfo, after: datetime) -> datetime:
    """Scan every minute of every matching day; read walls with fold=0; keep the earliest."""
    start = after.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0) - LOOKBACK
    day, best = start.date(), None
    for _ in range(366 * 40):
        midnight = datetime(day.year, day.month, day.day)
        if best is not None and midnight > best.astimezone(zone).replace(tzinfo=None) + LOOKBACK:
            break
        if spec.matches_day(day):
            best = _earliest_on(spec, midnight, start, zone, after, best)
        day += timedelta(days=1)
    assert best is not None, "brute force found nothing in 40 years"
    return best


def _earliest_on(
    spec: Spec,
    midnight: datetime,
    start: datetime,
    zone: ZoneInfo,
    after: datetime,
    best: datetime | None,
) -> datetime | None:
    for minute in range(24 * 60):
        if minute // 60 not in spec.hours or minute % 60 not in spec.minutes:
            continue
        wall = midnight + timedelta(minutes=minute)
        if wall < start:
            continue
        instant = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: Tron's DST rule
        if instant > after and (best is None or instant < best):
            best = instant
    return best


def _check(spec: Spec, zone_name: str, after: datetime) -> None:
    try:
        schedule = parse_schedule(spec.text, zone_name)
    except ScheduleError:
        assume(False)
    result = schedule.next_run(after)
    assert result.astimezone(UTC) == reference_next_run(spec, ZoneInfo(zone_name), after)
    assert result.tzinfo == ZoneInfo(zone_name)


@SETTINGS
@given(spec=cron_specs(), zone=st.sampled_from(ZONES), after=afters)
def test_cron_next_run_matches_brute_force(spec: Spec, zone: str, after: datetime) -> None:
    _check(spec, zone, after)


@SETTINGS
@given(spec=groc_specs(), zone=st.sampled_from(ZONES), after=afters)
def test_groc_next_run_matches_brute_force(spec: Spec, zone: str, after: datetime) -> None:
    _check(spec, zone, after)


@SETTINGS
@given(spec=daily_specs(), zone=st.sampled_from(ZONES), after=afters)
def test_daily_next_run_matches_brute_force(spec: Spec, zone: str, after: datetime) -> None:
    _check(spec, zone, after)


@settings(max_examples=150, deadline=None)
@given(spec=cron_specs())
def test_cron_is_refused_exactly_when_no_day_can_ever_match(spec: Spec) -> None:
    # 2000-2003 holds a leap year, so it has every month length a Gregorian month can have.
    days = (date(2000, 1, 1) + timedelta(days=n) for n in range(366 + 3 * 365))
    can_fire = any(day.month in spec.months and spec.matches_day(day) for day in days)
    if can_fire:
        assert parse_schedule(spec.text).next_run(datetime(2000, 1, 1, tzinfo=UTC))
    else:
        with pytest.raises(ScheduleError, match="no month in the schedule has those days"):
            parse_schedule(spec.text)


@settings(max_examples=60, deadline=None)
@given(spec=cron_specs(), zone=st.sampled_from(ZONES), after=afters)
def test_consecutive_runs_increase_and_never_repeat(spec: Spec, zone: str, after: datetime) -> None:
    try:
        schedule = parse_schedule(spec.text, zone)
    except ScheduleError:
        assume(False)
    previous = after
    for _ in range(5):
        current = schedule.next_run(previous)
        assert current > previous
        previous = current
