"""Dates typed by people (command options, page filters): strict ISO, in a sane range.

`date.fromisoformat` also takes `20260101` and `2026-W10`, and dates near year 9999 make the
month and period arithmetic overflow; Cascade takes only `YYYY-MM-DD` (or `YYYY-MM` for a
month) between 1900 and 2999.
"""

import re
from datetime import date

FIRST_YEAR, LAST_YEAR = 1900, 2999
# ASCII digits only: `\d` would also take "２０２６" or Arabic-Indic digits.
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


class DateInputError(ValueError):
    """A date that is not one; `text` is what was typed."""

    def __init__(self, message: str, text: str = "") -> None:
        super().__init__(message)
        self.text = text


def parse_day(text: str) -> date:
    """`"2026-03-15"` → `date(2026, 3, 15)`; anything else raises `DateInputError`."""
    match = _DAY.fullmatch(text.strip())
    if match is None:
        raise DateInputError(f"'{text}' is not a date (expected YYYY-MM-DD)", text)
    return _checked(*map(int, match.groups()), text=text)


def parse_month(text: str) -> date:
    """`"2026-03"` → `date(2026, 3, 1)`; anything else raises `DateInputError`."""
    match = _MONTH.fullmatch(text.strip())
    if match is None:
        raise DateInputError(f"'{text}' is not a month (expected YYYY-MM)", text)
    return _checked(*map(int, match.groups()), 1, text=text)


def _checked(year: int, month: int, day: int, *, text: str) -> date:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DateInputError(f"'{text}' is out of range (years {FIRST_YEAR} to {LAST_YEAR})", text)
    try:
        return date(year, month, day)
    except ValueError:
        raise DateInputError(f"'{text}' is not a date that exists", text) from None
