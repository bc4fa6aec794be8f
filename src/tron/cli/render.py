"""Tron's table engine and detail lines, with widths counted in terminal display cells."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from wcwidth import wcwidth


class Color(StrEnum):
    """ANSI SGR codes Tron's CLIs use; `h*` are background highlights."""

    GRAY = "90"
    RED = "91"
    GREEN = "92"
    YELLOW = "93"
    BLUE = "94"
    PURPLE = "95"
    CYAN = "96"
    WHITE = "99"
    HGRAY = "100"
    HRED = "101"
    HGREEN = "102"
    HYELLOW = "103"
    HBLUE = "104"
    HCYAN = "106"


RESET = "\033[0m"
_RTL_CLASSES = frozenset({"R", "AL"})
# Unicode first-strong isolate / pop isolate: keeps a right-to-left name from
# reordering the columns around it on a bidi-aware terminal.
_FSI, _PDI = "\u2068", "\u2069"


@dataclass(frozen=True, slots=True, kw_only=True)
class Style:
    """How to decorate output: ANSI colours, and bidi isolation of RTL text."""

    color: bool = False
    isolate: bool = False

    def paint(self, text: str, color: Color | None) -> str:
        if not self.color or color is None:
            return text
        return f"\033[{color}m{text}{RESET}"


PLAIN = Style()


def char_width(char: str) -> int:
    """Display cells taken by one code point; control characters count as zero."""
    return max(wcwidth(char), 0)


def display_width(text: str) -> int:
    """Display cells taken by `text`: CJK and emoji count two, combining marks zero."""
    return sum(char_width(char) for char in text)


def truncate(text: str, width: int) -> str:
    """The longest prefix of `text` that fits in `width` cells."""
    used = 0
    for index, char in enumerate(text):
        used += char_width(char)
        if used > width:
            return text[:index]
    return text


def _visible(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(" " if unicodedata.category(char) == "Cc" else char for char in text)


def has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(char) in _RTL_CLASSES for char in text)


def fit(text: str, width: int, style: Style = PLAIN) -> str:
    """`text` left-justified to exactly `width` cells; too long ends in `...` (Tron's rule),
    and then a space, so that a cut cell never runs into the next column (Tron's cut it to the
    full width: `a_long_job_na...running`). Control characters show as spaces: a newline or
    an escape sequence in a value must not break the table."""
    text = _visible(text)
    if display_width(text) >= width:
        text = truncate(text, max(width - 4, 0)) + "..."
    padding = " " * max(width - display_width(text), 0)
    if style.isolate and has_rtl(text):
        text = f"{_FSI}{text}{_PDI}"
    return text + padding


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """One table column: its label, default width, and whether it widens to its content."""

    label: str
    width: int
    resizable: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One table row; `after` lines print below it (Tron's grey Start/End lines)."""

    cells: Sequence[object]
    after: Sequence[str] = ()


def column_widths(columns: Sequence[Column], rows: Sequence[Row]) -> list[int]:
    widths = []
    for index, column in enumerate(columns):
        width = column.width
        if column.resizable and rows:
            longest = max(display_width(str(row.cells[index])) for row in rows)
            width = max(width, longest + 1)
        widths.append(width)
    return widths


def banner(title: str) -> str:
    return f"\n{title[:1].upper()}{title[1:]}:"


def table(
    title: str | None, columns: Sequence[Column], rows: Sequence[Row], style: Style = PLAIN
) -> str:
    """Render a table as Tron does: optional banner, grey header, fixed-width cells."""
    lines = [banner(title)] if title else []
    if not rows:
        return "\n".join([*lines, f"No {title or 'rows'}\n"])
    widths = column_widths(columns, rows)
    header = "".join(fit(c.label, w) for c, w in zip(columns, widths, strict=True))
    lines.append(style.paint(header, Color.HGRAY))
    for row in rows:
        cells = zip(row.cells, widths, strict=True)
        lines.append("".join(fit(str(cell), width, style) for cell, width in cells))
        lines.extend(style.paint(line, Color.GRAY) for line in row.after)
    return "\n".join(lines)


STATE_COLORS: dict[str, Color] = {
    "failed": Color.RED,
    "running": Color.GREEN,
    "succeeded": Color.GREEN,
    "enabled": Color.GREEN,
    "disabled": Color.BLUE,
}


def state_color(state: str) -> Color | None:
    return STATE_COLORS.get(state.split(" ", 1)[0])


def detail(label: str, value: object, style: Style = PLAIN, color: Color | None = None) -> str:
    """One `Label               : value` line, as Tron aligns them (label padded to 20)."""
    return f"{label:<20}: {style.paint(str(value), color)}"


def details(pairs: Iterable[tuple[str, object, Color | None]], style: Style = PLAIN) -> list[str]:
    return [detail(label, value, style, color) for label, value, color in pairs]
