"""parse_schedule: accepted forms, what the API shows, and Tron's error wording."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tron.errors import ScheduleError
from tron.schedule import parse_schedule
from tron.schedule.timedelta import parse_timedelta


@pytest.mark.parametrize(
    ("written", "kind", "value"),
    [
        ("cron */10 * * * *", "cron", "*/10 * * * *"),
        ("  cron 0 4 * * *  ", "cron", "0 4 * * *"),
        ("cron @daily", "cron", "@daily"),
        ("daily 04:00:00 MWF", "daily", "04:00:00 MWF"),
        ("daily 03:00:00", "daily", "03:00:00 "),
        ("daily", "daily", "00:00:00 "),
        ("every monday at 09:00", "groc", "every monday at 09:00"),
        (" 1st,3rd fri of jan,jul at 12:00 ", "groc", "1st,3rd fri of jan,jul at 12:00"),
        ({"type": "cron", "value": "0 3 * * *"}, "cron", "0 3 * * *"),
        ({"type": "daily", "value": "04:00 MWF"}, "daily", "04:00 MWF"),
        ({"type": "groc daily", "value": "every day at 10:00"}, "groc", "every day at 10:00"),
        ({"start_time": "04:00:00", "days": "MWF"}, "daily", "04:00:00 MWF"),
        ({"start_time": "04:00:00"}, "daily", "04:00:00 "),
        ({"days": "U"}, "daily", "00:00:00 U"),
    ],
)
def test_schedule_shows_type_and_value_as_tron_api(written: Any, kind: str, value: str) -> None:
    schedule = parse_schedule(written)
    assert (schedule.type, schedule.value) == (kind, value)
    assert schedule.jitter == timedelta(0)
    assert schedule.description == f"{kind} {value}"


def test_mapping_jitter_is_parsed_and_described() -> None:
    schedule = parse_schedule({"type": "cron", "value": "0 3 * * *", "jitter": "5 min"})
    assert schedule.jitter == timedelta(minutes=5)
    assert schedule.jitter_text == " (+/- 0:05:00)"
    assert schedule.description == "cron 0 3 * * * (+/- 0:05:00)"


def test_mapping_jitter_accepts_a_timedelta() -> None:
    schedule = parse_schedule({"type": "daily", "value": "04:00", "jitter": timedelta(hours=1)})
    assert schedule.jitter == timedelta(hours=1)


def test_schedules_are_equal_when_their_config_is_equal() -> None:
    assert parse_schedule("cron 0 4 * * *", "UTC") == parse_schedule(" cron 0 4 * * *", "UTC")
    assert parse_schedule("cron 0 4 * * *") != parse_schedule("cron 0 4 * * *", "Europe/London")
    assert parse_schedule("cron 0 4 * * *") != parse_schedule("cron 0 5 * * *")
    assert hash(parse_schedule("daily 04:00")) == hash(parse_schedule("daily 04:00"))


def test_time_zone_is_kept_as_given() -> None:
    assert parse_schedule("daily", "America/Los_Angeles").time_zone == "America/Los_Angeles"
    assert parse_schedule("daily").time_zone is None


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("every blursday", "Schedule at job.schedule is not a valid expression: every blursday"),
        ("monday at 10:00", "Schedule at job.schedule is not a valid expression: monday at 10:00"),
        ("", "Schedule at job.schedule is not a valid expression: "),
        ("Daily 04:00", "not a valid expression: Daily 04:00"),
        ("every mon, wed", "not a valid expression"),
        ("every mon,", "not a valid expression"),
        ("every day,mon", "not a valid expression"),
        ("1st,", "not a valid expression"),
        ("every day of", "not a valid expression"),
        ("every day of month,jan", "not a valid expression"),
        ("every day at", "not a valid expression"),
        ("every day at 9:00", "not a valid expression"),
        ("every day at 24:00", "not a valid expression"),
        ("every day at noon", "not a valid expression"),
        ("every day at 10:00 sharp", "not a valid expression"),
        ("6th fri", "ordinals of a weekday must be 1st..5th"),
        ("0th of month", "days of the month must be 1st..31st"),
        ("32nd of month", "days of the month must be 1st..31st"),
        ("30th of feb", "no month in the schedule has those days"),
        ("31st of apr,jun,sep,nov", "no month in the schedule has those days"),
        ("daily 04:00 MWFX", "Unknown day X at job.schedule"),
        ("daily 04:00 mon", "Unknown day o at job.schedule"),
        ("daily 04:00 MWF extra", "unexpected text after days: extra"),
        ("daily 25:00", "Value at job.schedule is not a valid time"),
        ("daily 4pm", "Value at job.schedule is not a valid time"),
        ("daily 04:00:60", "Value at job.schedule is not a valid time"),
        ("cron 0 0 * * * foo", "Invalid cron scheduler job.schedule: expected 5 fields"),
        ("cron 0 0 * *", "expected 5 fields"),
        ("cron", "expected 5 fields"),
        ("cron @often", "Invalid cron scheduler job.schedule: Unknown predefine: @often"),
        ("cron 60 * * * *", "minutes value out of range: 60"),
        ("cron * 24 * * *", "hours value out of range: 24"),
        ("cron * * 0 * *", "monthdays value out of range: 0"),
        ("cron * * 32 * *", "monthdays value out of range: 32"),
        ("cron * * * 13 *", "months value out of range: 13"),
        ("cron * * * * 8", "weekdays value out of range: 8"),
        ("cron */0 * * * *", "minutes value out of range: 0"),
        ("cron */60 * * * *", "minutes value out of range: 60"),
        ("cron 5foo * * * *", "Unknown expression: 5foo"),
        ("cron 1-2-3 * * * *", "Unknown expression: 1-2-3"),
        ("cron *-5 * * * *", "Unknown expression: *-5"),
        ("cron 0 0 * foo *", "Unknown expression: foo"),
        ("cron 0 0 * * L", "Unknown expression: L"),
        ("cron 0 0 1, * *", "Unknown expression: "),
        ("cron 0 0 1 * 1", "cannot supply both monthdays and weekdays"),
        ("cron 0 0 L * ?", "cannot supply both monthdays and weekdays"),
        ("cron 0 0 31 4 *", "no month in the schedule has those days"),
        ("cron 0 0 30 2 *", "no month in the schedule has those days"),
        ("cron 0 0 30,31 2 *", "no month in the schedule has those days"),
    ],
)
def test_invalid_string_raises_schedule_error_in_tron_wording(written: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(written, path="job.schedule")
    assert message in str(caught.value)


def test_grammar_error_message_is_exactly_trons() -> None:
    path = "broken.NamedConfigFragment.jobs.Job.sched_job.schedule"
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("every blursday", path=path)
    assert str(caught.value) == f"Schedule at {path} is not a valid expression: every blursday"


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ({"type": "interval", "value": "5 min"}, "Value at s.type is not in {'cron', 'daily',"),
        ({"type": "cron"}, "Nameless GenericSchedule is missing options: value"),
        ({"type": "cron", "value": "0 * * * *", "x": 1}, "Unknown keys in GenericSchedule : x"),
        ({"type": "cron", "value": 5}, "Value at s.value is not a string: 5"),
        ({"type": "cron", "value": "* * *"}, "Invalid cron scheduler s: expected 5 fields"),
        ({"type": "daily", "value": "04:00", "jitter": "5 fortnights"}, "not a valid time delta"),
        ({"type": "daily", "value": "04:00", "jitter": 5}, "Value at s.jitter is not a valid"),
        ({"type": "groc daily", "value": "every blursday"}, "not a valid expression"),
        ({"start_time": 14400}, "Value at s.start_time is not a string: 14400"),
        ({"days": "MX"}, "Unknown day X at s"),
        ({"start_time": "04:00", "extra": 1}, "Unknown keys in schedule at s: extra"),
        ({"interval": "5 min"}, "Unknown scheduler at s: {'interval': '5 min'}"),
        ({}, "Unknown scheduler at s: {}"),
        (5, "Unknown scheduler at s: 5"),
        (None, "Unknown scheduler at s: None"),
    ],
)
def test_invalid_mapping_raises_schedule_error(written: Any, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(written, path="s")
    assert message in str(caught.value)


def test_unknown_time_zone_raises_schedule_error() -> None:
    with pytest.raises(ScheduleError, match="Unknown time zone at schedule: Mars/Olympus"):
        parse_schedule("daily", "Mars/Olympus")


def test_schedule_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a valid expression"):
        parse_schedule("whenever")


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("5 min", timedelta(minutes=5)),
        ("5min", timedelta(minutes=5)),
        ("  10 s  ", timedelta(seconds=10)),
        ("1 day", timedelta(days=1)),
        ("2 hrs", timedelta(hours=2)),
        ("30 seconds", timedelta(seconds=30)),
        ("0 m", timedelta(0)),
    ],
)
def test_parse_timedelta_reads_one_unit(text: str, delta: timedelta) -> None:
    assert parse_timedelta(text) == delta


@pytest.mark.parametrize("text", ["5", "min", "1h 30m", "5 Min", "-5 min", "5 weeks", "1.5 h", ""])
def test_parse_timedelta_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="not a valid time delta"):
        parse_timedelta(text)
