"""Weekday and month names as Tron spells them, mapped to numbers (Sunday = 0, January = 1)."""

from __future__ import annotations

_WEEKDAY_SPELLINGS = (
    ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"),
    ("sun", "mon", "tue", "wed", "thu", "fri", "sat"),
    ("u", "m", "t", "w", "r", "f", "s"),
    ("su", "mo", "tu", "we", "th", "fr", "sa"),
)
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)

# Lower-case names; callers lower-case their input first.
WEEKDAYS: dict[str, int] = {
    name: number for names in _WEEKDAY_SPELLINGS for number, name in enumerate(names)
}
WEEKDAY_ABBREVIATIONS: dict[str, int] = {
    name: number for number, name in enumerate(_WEEKDAY_SPELLINGS[1])
}
MONTHS: dict[str, int] = {
    **{name: number for number, name in enumerate(_MONTHS, start=1)},
    **{name[:3]: number for number, name in enumerate(_MONTHS, start=1)},
}
MONTH_ABBREVIATIONS: dict[str, int] = {
    name[:3]: number for number, name in enumerate(_MONTHS, start=1)
}
# The `daily` form reads its days one letter at a time, in either case.
DAY_LETTERS: dict[str, int] = {
    **{letter: number for number, letter in enumerate(_WEEKDAY_SPELLINGS[2])},
    **{letter.upper(): number for number, letter in enumerate(_WEEKDAY_SPELLINGS[2])},
}
