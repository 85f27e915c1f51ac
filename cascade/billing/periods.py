"""Billing periods: calendar months and quarters, as half-open date ranges.

Periods are dates, never datetimes (DESIGN.md §3): `[start, end)` in code, shown inclusive
("du 01/02 au 28/02") with `Period.last_day`. Nothing here reads the clock or a time zone.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from .prorata import prorate


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class Term(StrEnum):
    ADVANCE = "advance"  # à échoir: billed at the start of the period
    ARREARS = "arrears"  # à terme échu: billed once the period is over


@dataclass(frozen=True)
class Period:
    """The days from `start` included to `end` excluded."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"a period ends after it starts: [{self.start}, {self.end})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def intersect(self, other: "Period") -> "Period | None":
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Period(start, end) if start < end else None


_MONTHS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3}


def months_in(frequency: Frequency | str) -> int:
    try:
        return _MONTHS[frequency]
    except KeyError:
        raise ValueError(f"{frequency!r} is not a frequency ({', '.join(_MONTHS)})") from None


def _first_of_month(year: int, month: int) -> date:
    """The 1st of `month`, which may run past 12 (month 13 is January of the next year)."""
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def add_months(anchor: date, months: int) -> date:
    """The day `months` months after `anchor`, on the anchor's day or the month's last when shorter:
    31 January + 1 month = 28 (or 29) February, + 2 months = 31 March."""
    first = _first_of_month(anchor.year, anchor.month + months)
    last = (_first_of_month(first.year, first.month + 1) - timedelta(days=1)).day
    return first.replace(day=min(anchor.day, last))


def anniversary_period(frequency: Frequency | str, anchor: date, day: date) -> Period:
    """The period holding `day` when periods run from `anchor`: each starts `k` months (or quarters)
    after the anchor itself, never after the previous start, so a month anchored on the 31st runs
    31 Jan, 28 Feb, 31 Mar, 30 Apr…"""
    months = months_in(frequency)
    k = ((day.year - anchor.year) * 12 + day.month - anchor.month) // months + 1
    while add_months(anchor, k * months) > day:
        k -= 1
    return Period(add_months(anchor, k * months), add_months(anchor, (k + 1) * months))


def period_containing(frequency: Frequency | str, day: date, anchor: date | None = None) -> Period:
    """The calendar month, or quarter (Jan–Mar, Apr–Jun, Jul–Sep, Oct–Dec), holding `day`; with an
    `anchor`, the anniversary period holding it."""
    if anchor is not None:
        return anniversary_period(frequency, anchor, day)
    months = months_in(frequency)
    first_month = (day.month - 1) // months * months + 1
    return Period(
        _first_of_month(day.year, first_month), _first_of_month(day.year, first_month + months)
    )


def periods_between(frequency: Frequency | str, start: date, end: date,
                    anchor: date | None = None) -> Iterator[Period]:
    """The periods (calendar, or anniversary from `anchor`) overlapping `[start, end)`, in order."""
    if end < start:
        raise ValueError(f"the range ends before it starts: [{start}, {end})")
    if start == end:
        return iter(())
    return _periods_from(period_containing(frequency, start, anchor), frequency, end, anchor)


def _periods_from(period: Period, frequency: Frequency | str, end: date, anchor: date | None) -> Iterator[Period]:
    # Apart from periods_between so that a bad range fails at the call, not at the first next().
    while period.start < end:
        yield period
        period = period_containing(frequency, period.end, anchor)


# Invoices are dated at most this many days before their period starts (an operator's invoice day).
MAX_DAYS_BEFORE = 90


def invoice_date(period: Period, term: Term | str, entry: date, days_before: int = 0) -> date:
    """When the invoice for `period` is dated, for a subscription that starts on `entry`.

    In advance: the start of the period (or `days_before` days earlier, an operator's invoice day),
    never before the entry day. In arrears: the day after the period ends, also when the occupant
    left during it.
    """
    if entry >= period.end:
        raise ValueError(f"the subscription starts on {entry}, after the period {period}")
    if Term(term) is Term.ADVANCE:
        return max(period.start - timedelta(days=min(days_before, MAX_DAYS_BEFORE)), entry)
    return period.end


def due_date(issued: date, days: int, end_of_month: bool = False) -> date:
    """The due date of a document issued on `issued`: `days` later, or with `end_of_month` the last
    day of the month that falls in ("30 jours fin de mois")."""
    due = issued + timedelta(days=days)
    if end_of_month:
        due = _first_of_month(due.year, due.month + 1) - timedelta(days=1)
    return due


def period_amount(
    monthly: Decimal, frequency: Frequency | str, covered_days: int, period: Period
) -> Decimal:
    """The amount of a monthly price for `covered_days` of a month or quarter, by actual days."""
    return prorate(monthly * months_in(frequency), covered_days, period.days)
