"""next_run, table-driven per form: month ends, leap days, and DST gaps and overlaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tron.schedule import Schedule, parse_schedule
from tron.schedule.calendar import Calendar, DayRule

LA = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")


def at(text: str, zone: Any = UTC, *, fold: int = 0) -> datetime:
    """A wall time in `zone`; fold=1 picks the second pass through a repeated hour."""
    return datetime.fromisoformat(text).replace(tzinfo=zone, fold=fold)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


CASES_UTC = [
    ("cron */10 * * * *", "2024-01-01 00:00", "2024-01-01 00:10"),
    ("cron */10 * * * *", "2024-01-01 00:09:59.999999", "2024-01-01 00:10"),
    ("cron */10 * * * *", "2024-01-01 00:10:00.000001", "2024-01-01 00:20"),
    ("cron */10 * * * *", "2024-12-31 23:55", "2025-01-01 00:00"),
    ("cron 0 4 * * *", "2024-01-01 04:00", "2024-01-02 04:00"),
    ("cron 0 4 * * *", "2024-01-01 03:59", "2024-01-01 04:00"),
    ("cron 0 0 1 1 *", "2024-06-01 00:00", "2025-01-01 00:00"),
    ("cron 0 22-2/2 * * *", "2024-01-01 03:00", "2024-01-01 22:00"),
    ("cron 0 22-2/2 * * *", "2024-01-01 22:00", "2024-01-02 00:00"),
    ("cron 0 0 * nov-feb *", "2024-03-01 00:00", "2024-11-01 00:00"),
    ("cron 0 0 * 11-2 *", "2024-12-31 00:00", "2025-01-01 00:00"),
    ("cron 5/15 * * * *", "2024-01-01 00:06", "2024-01-01 01:05"),
    ("cron 0 9 * * mon-fri", "2024-01-05 09:00", "2024-01-08 09:00"),
    ("cron 0 9 * * 7", "2024-01-01 00:00", "2024-01-07 09:00"),
    ("cron 0 9 * * 5-7", "2024-01-06 09:00", "2024-01-07 09:00"),
    ("cron 0 9 * * ?", "2024-01-06 09:00", "2024-01-07 09:00"),
    ("cron 0 9 * * SAT,sun", "2024-01-01 00:00", "2024-01-06 09:00"),
    ("cron @hourly", "2024-01-01 00:30", "2024-01-01 01:00"),
    ("cron @weekly", "2024-01-01 00:00", "2024-01-07 00:00"),
    ("cron @monthly", "2024-01-01 00:00", "2024-02-01 00:00"),
    ("cron @yearly", "2024-01-01 00:00", "2025-01-01 00:00"),
    ("cron @annually", "2024-01-01 00:00", "2025-01-01 00:00"),
    ("cron @daily", "2024-01-01 00:00", "2024-01-02 00:00"),
    ("cron @midnight", "2024-01-01 00:00", "2024-01-02 00:00"),
    ("cron 0 0 29 2 *", "2024-02-29 00:00", "2028-02-29 00:00"),
    ("cron 0 0 29 2 *", "2096-03-01 00:00", "2104-02-29 00:00"),
    ("cron 0 0 L * *", "2023-02-01 00:00", "2023-02-28 00:00"),
    ("cron 0 0 L * *", "2024-02-28 00:00", "2024-02-29 00:00"),
    ("cron 0 0 L * *", "2024-04-01 00:00", "2024-04-30 00:00"),
    ("cron 0 0 1,L * *", "2024-04-30 00:00", "2024-05-01 00:00"),
    ("cron 0 0 30,L * *", "2024-04-01 00:00", "2024-04-30 00:00"),
    ("cron 0 0 31 * *", "2024-04-01 00:00", "2024-05-31 00:00"),
    ("cron 0 0 31 2,3 *", "2024-01-01 00:00", "2024-03-31 00:00"),
    ("daily 04:00:00 MWF", "2024-01-01 04:00", "2024-01-03 04:00"),
    ("daily 04:00:00 MWF", "2024-01-05 04:00", "2024-01-08 04:00"),
    ("daily 04:00:30", "2024-01-01 04:00:30", "2024-01-02 04:00:30"),
    ("daily 04:00:30", "2024-01-01 04:00:29.5", "2024-01-01 04:00:30"),
    ("daily 4:05", "2024-01-01 00:00", "2024-01-01 04:05"),
    ("daily", "2024-01-01 00:00", "2024-01-02 00:00"),
    ("daily 10:00 su", "2024-01-01 00:00", "2024-01-06 10:00"),
    ("daily 10:00 UR", "2024-01-01 00:00", "2024-01-04 10:00"),
    ("every monday at 09:00", "2024-01-01 09:00", "2024-01-08 09:00"),
    ("every day", "2024-01-01 00:00", "2024-01-02 00:00"),
    ("every", "2024-01-01 00:00", "2024-01-02 00:00"),
    ("every day at 10:00", "2024-01-01 00:00", "2024-01-01 10:00"),
    ("every mon,wed at 10:00", "2024-01-01 10:00", "2024-01-03 10:00"),
    ("every sat,su 23:59", "2024-01-01 00:00", "2024-01-06 23:59"),
    ("EVERY Tuesday AT 08:00", "2024-01-01 00:00", "2024-01-02 08:00"),
    ("every day of jan,march at 08:00", "2024-01-31 08:00", "2024-03-01 08:00"),
    ("every day in month at 08:00", "2024-01-31 08:00", "2024-02-01 08:00"),
    ("1st,3rd fri of jan,jul at 12:00", "2024-01-01 00:00", "2024-01-05 12:00"),
    ("1st,3rd fri of jan,jul at 12:00", "2024-01-19 12:00", "2024-07-05 12:00"),
    ("2nd mon of month at 09:00", "2024-01-01 00:00", "2024-01-08 09:00"),
    ("5th mon", "2024-01-30 00:00", "2024-04-29 00:00"),
    ("5th fri of feb", "2024-01-01 00:00", "2036-02-29 00:00"),
    ("3nd thu", "2024-01-01 00:00", "2024-01-18 00:00"),
    ("1st,15th of month at 10:00", "2024-01-15 10:00", "2024-02-01 10:00"),
    ("1st day of month", "2024-01-01 00:00", "2024-02-01 00:00"),
    ("31st", "2024-04-01 00:00", "2024-05-31 00:00"),
    ("29th of feb", "2025-01-01 00:00", "2028-02-29 00:00"),
    ("1st of jan", "2024-01-01 00:00", "2025-01-01 00:00"),
]


@pytest.mark.parametrize(("written", "after", "expected"), CASES_UTC)
def test_next_run_in_utc(written: str, after: str, expected: str) -> None:
    assert parse_schedule(written).next_run(utc(after)) == utc(expected)


@pytest.mark.parametrize(
    ("written", "zone", "after", "expected"),
    [
        # Spring forward: 02:00 -> 03:00. A skipped wall time runs an hour later.
        ("daily 02:30", LA, at("2024-03-09 03:00", LA), at("2024-03-10 03:30", LA)),
        ("daily 02:30", LA, at("2024-03-10 03:10", LA), at("2024-03-10 03:30", LA)),
        ("daily 02:30", LA, at("2024-03-10 03:30", LA), at("2024-03-11 02:30", LA)),
        ("cron 30 2 * * *", LA, at("2024-03-10 00:00", LA), at("2024-03-10 03:30", LA)),
        ("cron 0 * * * *", LA, at("2024-03-10 01:00", LA), at("2024-03-10 03:00", LA)),
        ("cron 0 * * * *", LA, at("2024-03-10 03:00", LA), at("2024-03-10 04:00", LA)),
        ("cron 15,45 * * * *", LA, at("2024-03-10 01:50", LA), at("2024-03-10 03:15", LA)),
        ("cron 15,45 * * * *", LA, at("2024-03-10 03:15", LA), at("2024-03-10 03:45", LA)),
        ("cron 30 2 * * *", LA, at("2024-03-10 03:29", LA), at("2024-03-10 03:30", LA)),
        # Fall back: 01:00-02:00 happens twice; it runs once, the first time.
        ("daily 01:30", LA, at("2024-11-02 12:00", LA), at("2024-11-03 01:30", LA)),
        ("daily 01:30", LA, at("2024-11-03 01:30", LA), at("2024-11-04 01:30", LA)),
        ("cron */30 * * * *", LA, at("2024-11-03 01:30", LA), at("2024-11-03 02:00", LA)),
        ("cron */30 * * * *", LA, at("2024-11-03 01:15", LA, fold=1), at("2024-11-03 02:00", LA)),
        ("cron 59 1 * * *", LA, at("2024-11-03 01:00", LA, fold=1), at("2024-11-04 01:59", LA)),
        ("daily 01:30", LONDON, at("2024-03-30 12:00", LONDON), utc("2024-03-31 01:30")),
        ("daily 01:30", LONDON, at("2024-10-26 12:00", LONDON), utc("2024-10-27 00:30")),
        ("cron 0 1 * * *", LONDON, utc("2024-10-27 00:30"), at("2024-10-28 01:00", LONDON)),
        ("cron 0 1 * * *", LONDON, utc("2024-10-27 00:59"), utc("2024-10-28 01:00")),
        # Lord Howe shifts by 30 minutes: gap 02:00-02:30 in October, 01:30-02:00 twice in April.
        ("daily 02:15", LORD_HOWE, at("2024-10-05 12:00", LORD_HOWE), utc("2024-10-05 15:45")),
        ("daily 01:45", LORD_HOWE, at("2024-04-06 12:00", LORD_HOWE), utc("2024-04-06 14:45")),
        ("cron */15 * * * *", LORD_HOWE, utc("2024-04-06 14:50"), utc("2024-04-06 15:30")),
        ("cron */15 * * * *", LORD_HOWE, utc("2024-04-06 15:10"), utc("2024-04-06 15:30")),
        ("cron */15 * * * *", LORD_HOWE, utc("2024-10-05 15:20"), utc("2024-10-05 15:30")),
        ("cron */15 * * * *", LORD_HOWE, utc("2024-10-05 15:30"), utc("2024-10-05 15:45")),
        # 02:15 is skipped and reads as 02:45, so 02:30 (real) comes first, then 02:45.
        ("cron 15,30 2 * * *", LORD_HOWE, utc("2024-10-05 15:00"), utc("2024-10-05 15:30")),
        ("cron 15,30 2 * * *", LORD_HOWE, utc("2024-10-05 15:30"), utc("2024-10-05 15:45")),
        ("cron 15,30 2 * * *", LORD_HOWE, utc("2024-10-05 15:45"), utc("2024-10-06 15:15")),
    ],
)
def test_next_run_follows_tron_dst_rules(
    written: str, zone: ZoneInfo, after: datetime, expected: datetime
) -> None:
    result = parse_schedule(written, zone.key).next_run(after)
    # Compare instants: Python never calls an ambiguous wall time equal across zones.
    assert result.astimezone(UTC) == expected.astimezone(UTC)
    assert result > after


def test_next_run_returns_a_time_in_the_schedule_zone() -> None:
    schedule = parse_schedule("daily 04:00", "America/Los_Angeles")
    result = schedule.next_run(utc("2024-01-01 00:00"))
    assert result.tzinfo == LA
    assert result.replace(tzinfo=None) == datetime(2024, 1, 1, 4, 0)
    assert result.utcoffset() == timedelta(hours=-8)


def test_next_run_reads_after_in_any_zone() -> None:
    schedule = parse_schedule("cron 0 12 * * *")
    plus_five = timezone(timedelta(hours=5))
    assert schedule.next_run(datetime(2024, 1, 1, 18, 0, tzinfo=plus_five)) == utc(
        "2024-01-02 12:00"
    )


def test_next_run_normalises_a_skipped_wall_time() -> None:
    result = parse_schedule("daily 02:30", "America/Los_Angeles").next_run(
        at("2024-03-09 12:00", LA)
    )
    assert (result.hour, result.minute, result.utcoffset()) == (3, 30, timedelta(hours=-7))


def test_next_run_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_schedule("daily").next_run(datetime(2024, 1, 1))


def test_next_run_chain_runs_the_repeated_hour_once() -> None:
    schedule = parse_schedule("cron */20 * * * *", "America/Los_Angeles")
    fired = [at("2024-11-03 00:40", LA)]
    while len(fired) < 8:
        fired.append(schedule.next_run(fired[-1]))
    walls = [f"{t:%H:%M%z}" for t in fired[1:]]
    assert walls == [
        "01:00-0700",
        "01:20-0700",
        "01:40-0700",
        "02:00-0800",
        "02:20-0800",
        "02:40-0800",
        "03:00-0800",
    ]


def test_calendar_that_never_matches_stops_instead_of_looping() -> None:
    # parse_schedule refuses such calendars; the bound is a safety net for direct users.
    never = Calendar(times=(0,), months=(2,), days=DayRule(monthdays=(30,)))
    assert not never.can_fire()
    with pytest.raises(ValueError, match="no day in 400 years"):
        never.first_after(datetime(2024, 1, 1))


def test_parse_schedule_result_fulfils_the_schedule_protocol() -> None:
    schedule: Schedule = parse_schedule("cron 0 4 * * *", "Europe/London")
    assert (schedule.type, schedule.value, schedule.time_zone) == (
        "cron",
        "0 4 * * *",
        "Europe/London",
    )
