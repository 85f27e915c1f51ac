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


def months_in(frequency: Frequency | str) -> int:
    return {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3}[Frequency(frequency)]


def _first_of_month(year: int, month: int) -> date:
    """The 1st of `month`, which may run past 12 (month 13 is January of the next year)."""
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def period_containing(frequency: Frequency | str, day: date) -> Period:
    """The calendar month, or quarter (Jan–Mar, Apr–Jun, Jul–Sep, Oct–Dec), holding `day`."""
    months = months_in(frequency)
    first_month = (day.month - 1) // months * months + 1
    return Period(
        _first_of_month(day.year, first_month), _first_of_month(day.year, first_month + months)
    )


def periods_between(frequency: Frequency | str, start: date, end: date) -> Iterator[Period]:
    """The calendar periods overlapping `[start, end)`, in order (none when it is empty)."""
    if end < start:
        raise ValueError(f"the range ends before it starts: [{start}, {end})")
    if start == end:
        return iter(())
    return _periods_from(period_containing(frequency, start), frequency, end)


def _periods_from(period: Period, frequency: Frequency | str, end: date) -> Iterator[Period]:
    # Apart from periods_between so that a bad range fails at the call, not at the first next().
    while period.start < end:
        yield period
        period = period_containing(frequency, period.end)


def invoice_date(period: Period, term: Term | str, entry: date) -> date:
    """When the invoice for `period` is dated, for a subscription that starts on `entry`.

    In advance: the start of the period, or the entry day if it falls inside. In arrears: the
    day after the period ends, also when the occupant left during it.
    """
    if entry >= period.end:
        raise ValueError(f"the subscription starts on {entry}, after the period {period}")
    if Term(term) is Term.ADVANCE:
        return max(period.start, entry)
    return period.end


def period_amount(
    monthly: Decimal, frequency: Frequency | str, covered_days: int, period: Period
) -> Decimal:
    """The amount of a monthly price for `covered_days` of a month or quarter, by actual days."""
    return prorate(monthly * months_in(frequency), covered_days, period.days)
