"""The table engine: Tron's widths and truncation, counted in display cells for any script."""

from __future__ import annotations

import pytest

from tron.cli.render import (
    Column,
    Row,
    Style,
    detail,
    display_width,
    fit,
    state_color,
    table,
    truncate,
)


@pytest.mark.parametrize(
    ("text", "width"),
    [("abc", 3), ("日本語", 6), ("🚀", 2), ("ünïcode", 7), ("e\u0301", 1), ("שלום", 4), ("", 0)],
)
def test_display_width_counts_cells(text: str, width: int) -> None:
    assert display_width(text) == width


@pytest.mark.parametrize("text", ["abc", "日本語ジョブ", "🚀 rocket", "שלום עולם", "mañana"])
def test_fit_fills_exactly_the_width(text: str) -> None:
    assert display_width(fit(text, 12)) == 12


def test_fit_truncates_long_text_with_dots_and_a_space() -> None:
    assert fit("abcdefghij", 6) == "ab... "
    assert fit("abcdef", 6) == "ab... "
    assert fit("abcde", 6) == "abcde "


def test_a_cut_cell_never_runs_into_the_next_column() -> None:
    columns = (Column(label="Name", width=8), Column(label="State", width=8))
    rows = [Row(cells=("a_long_job_name", "running")), Row(cells=("日本語日本語", "failed"))]
    lines = table(None, columns, rows).split("\n")
    assert lines[1:] == ["a_lo... running ", "日本... failed  "]


def test_control_characters_in_a_cell_do_not_break_the_table() -> None:
    line = table(None, (Column(label="Node", width=12),), [Row(cells=("a\nb\x1b[31m",))])
    assert line.split("\n")[1] == "a b [31m    "


def test_fit_never_splits_a_wide_character() -> None:
    cut = fit("日本語日本語", 6)
    assert cut == "日... "
    assert display_width(cut) == 6


def test_truncate_keeps_what_fits() -> None:
    assert truncate("日本語", 5) == "日本"
    assert truncate("abc", 5) == "abc"


def test_fit_isolates_rtl_text_when_asked() -> None:
    isolated = fit("שלום", 8, Style(isolate=True))
    assert isolated == "\u2068שלום\u2069    "
    assert fit("abc", 5, Style(isolate=True)) == "abc  "


COLUMNS = (Column(label="Name", width=8, resizable=True), Column(label="State", width=6))


def test_table_columns_line_up_with_cjk_and_emoji() -> None:
    rows = [Row(cells=("日本語🚀", "ok")), Row(cells=("plain", "ok")), Row(cells=("שלום", "ok"))]
    lines = table("Jobs", COLUMNS, rows).split("\n")
    assert lines[:2] == ["", "Jobs:"]
    # every "ok" starts at the same display column
    starts = {display_width(line[: line.index("ok")]) for line in lines[3:]}
    assert starts == {9}


def test_resizable_column_widens_to_longest_plus_one() -> None:
    lines = table(None, COLUMNS, [Row(cells=("a_very_long_name", "ok"))]).split("\n")
    assert lines[0] == "Name             State "
    assert lines[1] == "a_very_long_name ok    "


def test_fixed_column_truncates() -> None:
    columns = (Column(label="Name", width=6),)
    assert table(None, columns, [Row(cells=("abcdefghi",))]).split("\n")[1] == "ab... "


def test_empty_table_says_so() -> None:
    assert table("job runs", COLUMNS, []) == "\nJob runs:\nNo job runs\n"


def test_color_paints_header_and_after_lines_only() -> None:
    rows = [Row(cells=("a", "b"), after=("   detail",))]
    lines = table("t", COLUMNS, rows, Style(color=True)).split("\n")
    assert lines[2] == "\x1b[100mName    State \x1b[0m"
    assert lines[3] == "a       b     "
    assert lines[4] == "\x1b[90m   detail\x1b[0m"


def test_detail_pads_label_to_20() -> None:
    assert detail("State", "failed") == "State               : failed"
    assert detail("State", "failed", Style(color=True), state_color("failed")) == (
        "State               : \x1b[91mfailed\x1b[0m"
    )


@pytest.mark.parametrize(
    ("state", "painted"),
    [
        ("failed", True),
        ("succeeded", True),
        ("running (retry delayed for 3s)", True),
        ("disabled", True),
        ("scheduled", False),
    ],
)
def test_state_colors(state: str, painted: bool) -> None:
    assert (state_color(state) is not None) is painted
