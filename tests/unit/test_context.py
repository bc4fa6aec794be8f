"""Tests of command rendering: every built-in variable, date arithmetic, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tron import context
from tron.context import BUILTIN_VARIABLES, check_command, date_value, render
from tron.errors import ContextError

RUN_TIME = datetime(2024, 3, 5, 14, 7)
VARIABLES = {
    "runid": "svc.etl.42",
    "name": "svc.etl",
    "namespace": "svc",
    "actionname": "load",
    "node": "batch1",
    "manual": "false",
    "cleanup_job_status": "UNKNOWN",
    "last_success": None,
}


def _render(command: str, when: datetime = RUN_TIME, **extra: object) -> str:
    return render(command, run_time=when, variables={**VARIABLES, **extra})


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("{shortdate}", "2024-03-05"),
        ("{ymd}", "2024-03-05"),
        ("{ym}", "2024-03"),
        ("{ymdh}", "2024-03-05T14"),
        ("{ymdhm}", "2024-03-05T14:07"),
        ("{year}", "2024"),
        ("{month}", "03"),
        ("{day}", "05"),
        ("{hour}", "14"),
        ("{unixtime}", "1709647620"),
        ("{daynumber}", "738950"),
        ("{runid}", "svc.etl.42"),
        ("{name}", "svc.etl"),
        ("{namespace}", "svc"),
        ("{actionname}", "load"),
        ("{node}", "batch1"),
        ("{manual}", "false"),
        ("{cleanup_job_status}", "UNKNOWN"),
    ],
)
def test_render_gives_each_builtin_variable(command: str, expected: str) -> None:
    assert _render(command) == expected


@pytest.mark.parametrize(
    ("command", "when", "expected"),
    [
        ("{shortdate-1}", RUN_TIME, "2024-03-04"),
        ("{shortdate - 1}", RUN_TIME, "2024-03-04"),
        ("{shortdate+30}", RUN_TIME, "2024-04-04"),
        ("{ymd-5}", RUN_TIME, "2024-02-29"),
        ("{day-5}", RUN_TIME, "29"),
        ("{day+1}", datetime(2024, 12, 31), "01"),
        ("{shortdate+1}", datetime(2024, 12, 31), "2025-01-01"),
        ("{month-1}", datetime(2024, 3, 31), "02"),
        ("{ym-1}", datetime(2024, 3, 31), "2024-02"),
        ("{ym-3}", RUN_TIME, "2023-12"),
        ("{ym+10}", RUN_TIME, "2025-01"),
        ("{month+12}", RUN_TIME, "03"),
        ("{year-1}", RUN_TIME, "2023"),
        ("{year+1}", datetime(2024, 2, 29), "2025"),
        ("{hour+1}", datetime(2024, 12, 31, 23, 30), "00"),
        ("{ymdh+1}", datetime(2024, 12, 31, 23, 30), "2025-01-01T00"),
        ("{ymdh-15}", RUN_TIME, "2024-03-04T23"),
        ("{ymdhm+60}", RUN_TIME, "2024-03-05T15:07"),
        ("{ymdhm-8}", RUN_TIME, "2024-03-05T13:59"),
        ("{unixtime-60}", RUN_TIME, "1709647560"),
        ("{unixtime+1}", RUN_TIME, "1709647621"),
        ("{daynumber-1}", RUN_TIME, "738949"),
        ("{daynumber+366}", RUN_TIME, "739316"),
    ],
)
def test_render_applies_date_arithmetic(command: str, when: datetime, expected: str) -> None:
    assert _render(command, when) == expected


@pytest.mark.parametrize(
    ("when", "months", "expected"),
    [
        (datetime(2024, 3, 31), -1, "2024-02-29"),
        (datetime(2023, 3, 31), -1, "2023-02-28"),
        (datetime(2024, 1, 31), 1, "2024-02-29"),
        (datetime(2024, 5, 31), 1, "2024-06-30"),
        (datetime(2024, 1, 15), -13, "2022-12-15"),
    ],
)
def test_month_shifts_clamp_to_month_length(when: datetime, months: int, expected: str) -> None:
    # No month variable prints the day: clamping shows as no error and the right month.
    assert _render(f"{{ym{months:+d}}} {{month{months:+d}}}", when) == (
        f"{expected[:7]} {expected[5:7]}"
    )


def test_year_shift_of_february_29_clamps_to_28() -> None:
    assert _render("{year+1}-{month}", datetime(2024, 2, 29)) == "2025-02"
    assert date_value("year+1", datetime(2024, 2, 29)) == "2025"


def test_unixtime_of_aware_run_time_is_its_epoch_seconds() -> None:
    when = datetime(2024, 3, 5, 14, 7, tzinfo=ZoneInfo("America/New_York"))
    assert _render("{unixtime}", when) == str(int(when.timestamp()))
    assert _render("{hour}", when) == "14"


def test_unixtime_of_naive_run_time_counts_it_as_utc() -> None:
    aware = RUN_TIME.replace(tzinfo=UTC)
    assert _render("{unixtime}") == str(int(aware.timestamp()))


def test_hour_arithmetic_is_wall_clock_in_the_run_zone() -> None:
    when = datetime(2024, 3, 9, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    assert _render("{ymdh+3}", when) == "2024-03-10T02"


def test_runid_arithmetic_shifts_the_run_number() -> None:
    assert _render("{runid-1} {runid+2} {runid - 42}") == "svc.etl.41 svc.etl.44 svc.etl.0"


def test_runid_arithmetic_is_unknown_without_a_runid() -> None:
    with pytest.raises(ContextError) as info:
        render("{runid-1}", run_time=RUN_TIME, variables={})
    assert info.value.variable == "runid-1"


def test_last_success_uses_the_last_success_time() -> None:
    last = datetime(2024, 1, 1, 3)
    assert _render("{last_success#shortdate-1}", last_success=last) == "2023-12-31"
    assert _render("{last_success#ymdh}", last_success=last) == "2024-01-01T03"


def test_last_success_falls_back_to_run_time_when_none() -> None:
    assert _render("{last_success#shortdate}") == "2024-03-05"


@pytest.mark.parametrize(
    "command", ["{last_success}", "{last_success#runid}", "{other#shortdate}", "{nope}"]
)
def test_unknown_variables_raise_naming_the_variable(command: str) -> None:
    with pytest.raises(ContextError) as info:
        _render(command)
    assert info.value.variable == command[1:-1]
    assert "Unknown context variable" in str(info.value)


def test_user_variables_render() -> None:
    assert _render("echo {GREETING} {count:03d}", GREETING="hi", count=7) == "echo hi 007"


def test_builtins_shadow_user_variables() -> None:
    assert _render("{shortdate} {runid}", shortdate="mine") == "2024-03-05 svc.etl.42"


def test_action_variables_come_first() -> None:
    assert render("{node}", run_time=RUN_TIME, variables={"node": "n"}) == "n"


def test_doubled_braces_are_literal() -> None:
    assert _render("awk '{{print $1}}' {{shortdate}} {shortdate}") == (
        "awk '{print $1}' {shortdate} 2024-03-05"
    )


def test_unicode_commands_render() -> None:
    assert _render("echo héllo ✓ {name} 日本") == "echo héllo ✓ svc.etl 日本"


def test_format_specs_apply_as_str_format_does() -> None:
    assert _render("[{year:>6}] [{unixtime:x}] [{month!r}]") == "[  2024] [65e72704] ['03']"


def test_date_expression_matches_a_prefix_as_tron_does() -> None:
    assert _render("{day-x}") == "05"


@pytest.mark.parametrize("command", ["{unclosed", "oops}", "{year:d}", "{0}", "{}", "{day.nope}"])
def test_malformed_templates_raise_context_error(command: str) -> None:
    with pytest.raises(ContextError):
        _render(command)


def test_render_without_variables_gives_dates_only() -> None:
    assert render("{shortdate}", run_time=RUN_TIME) == "2024-03-05"
    with pytest.raises(ContextError):
        render("{runid}", run_time=RUN_TIME)


def test_shifts_out_of_range_raise_context_error() -> None:
    with pytest.raises(ContextError):
        render("{year+9000}", run_time=RUN_TIME)
    with pytest.raises(ContextError):
        render("{shortdate+99999999999}", run_time=RUN_TIME)


def test_check_command_accepts_builtins_and_user_names() -> None:
    check_command("{shortdate-1} {runid+1} {last_success#ym} {X} {X:>9} {X.a[0]} {X!r}", ["X"])


@pytest.mark.parametrize(("command", "variable"), [("{Y}", "Y"), ("{shortdatex}", "shortdatex")])
def test_check_command_rejects_unknown_names(command: str, variable: str) -> None:
    with pytest.raises(ContextError) as info:
        check_command(command, ["X"])
    assert info.value.variable == variable


def test_check_command_rejects_bad_format() -> None:
    with pytest.raises(ContextError, match="Wrong command format"):
        check_command("{year", [])


def test_builtin_variables_lists_base_names() -> None:
    assert {"shortdate", "runid", "last_success", "cleanup_job_status"} <= BUILTIN_VARIABLES
    assert "runid-1" not in BUILTIN_VARIABLES


def test_date_value_is_none_for_other_names() -> None:
    assert date_value("runid", RUN_TIME) is None
    assert date_value("", RUN_TIME) is None
    assert date_value("shortdate", RUN_TIME + timedelta(days=1)) == "2024-03-06"


def test_runid_arithmetic_needs_a_numeric_run_number() -> None:
    with pytest.raises(ContextError):
        _render("{runid-1}", runid="svc.etl.HEAD")


def test_check_command_accepts_conversions_of_user_variables() -> None:
    check_command("{X!s} {X!a}", ["X"])


class _Point:
    x = 3

    def __format__(self, spec: str) -> str:
        return f"point<{spec}>"


@pytest.mark.parametrize(
    "command",
    [
        "echo {shortdate} {runid} done",
        "{unixtime:>14} {daynumber:x} {runid!r} {name!s:^12} {node!a}",
        "{shortdate-1}{ shortdate + 2 }{runid+3}{last_success#ymd}",
        "{ymd:%Y} {point} {point:wide} {point!s}",
        "{point.x} {point.x!r:>4} {tags[0]} {tags[1]}",
        "{{literal}} {{{day}}} }}{{",
        "{} {0} {1} {point:{width}}",
        "{ünïcödé} ☃ {ünïcödé:>6}",
        "{nope} {day}",
        "{day!x}",
        "{day",
        "day}",
        "{day!}",
        "{day:{}",
        "{[0]}",
        "{.x}",
    ],
)
def test_plain_templates_render_as_the_general_formatter_does(command: str) -> None:
    """Templates whose fields are plain names render without string.Formatter's machinery; the
    result, or the error, must be the formatter's to the letter."""
    variables = {
        **VARIABLES,
        "point": _Point(),
        "tags": ("a", "b"),
        "width": 6,
        "ünïcödé": "ÿ",
    }

    def before() -> str:
        # render as it was: every template through string.Formatter, its errors wrapped.
        try:
            return context._ContextFormatter(RUN_TIME, variables).format(command)
        except ContextError as exc:
            return f"error: {exc}"
        except (ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
            return f"error: Wrong command format {command}: {exc}"

    def now() -> str:
        try:
            return render(command, run_time=RUN_TIME, variables=variables)
        except ContextError as exc:
            return f"error: {exc}"

    assert now() == before()
