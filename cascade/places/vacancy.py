"""Vacancy of a place's spaces: which spaces count, which are empty, what empty days cost.

Pure rules without Django: callers build the dataclasses below from the models. Every
period is half-open ``[start, end)``, including a space's validity (``valid_until`` is the
first day it no longer exists).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from fractions import Fraction

Interval = tuple[date, date]

CENT = Decimal("0.01")
RATE = Decimal("0.0001")


@dataclass(frozen=True)
class Space:
    """A space of a place as vacancy sees it; ``valid_until`` is exclusive, None = open."""

    id: int
    reference: str
    surface: Decimal | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    rentable: bool = True
    parent_id: int | None = None
    monthly_reference_price: Decimal = Decimal(0)

    @property
    def validity(self) -> Interval:
        return (self.valid_from or date.min, self.valid_until or date.max)


@dataclass(frozen=True)
class Occupancy:
    """A space held by an occupant over ``[start, end)``; covers the space's sub-units."""

    space_id: int
    start: date
    end: date
    label: str = ""


@dataclass(frozen=True)
class SpacePeriod:
    """A counted space over a window: its occupied and vacant stretches, inside its validity."""

    space: Space
    occupied: tuple[Interval, ...]
    vacant: tuple[Interval, ...]


@dataclass(frozen=True)
class Snapshot:
    """Vacancy of a place on one day; rates are fractions rounded half-up to 4 decimals."""

    resources: int
    occupied: int
    vacant_ids: frozenset[int]
    occupied_ids: frozenset[int]
    rate_count: Decimal
    rate_surface: Decimal | None
    surface_total: Decimal
    surface_vacant: Decimal


# Interval arithmetic -------------------------------------------------------------------


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and merge overlapping or touching intervals, dropping empty ones."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def intersect(a: Interval, b: Interval) -> Interval | None:
    """The common part of two intervals, or None when they do not overlap."""
    start, end = max(a[0], b[0]), min(a[1], b[1])
    return (start, end) if start < end else None


def clip_intervals(intervals: Iterable[Interval], window: Interval) -> list[Interval]:
    """The parts of the intervals inside the window."""
    return [part for i in intervals if (part := intersect(i, window))]


def subtract_intervals(base: Interval, removed: Sequence[Interval]) -> list[Interval]:
    """The parts of ``base`` not covered by ``removed`` (sorted and merged)."""
    gaps: list[Interval] = []
    cursor, stop = base
    for start, end in removed:
        if start >= stop:
            break
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < stop:
        gaps.append((cursor, stop))
    return gaps


def total_days(intervals: Iterable[Interval]) -> int:
    """Number of days covered by disjoint intervals."""
    return sum((end - start).days for start, end in intervals)


def month_bounds(day: date) -> Interval:
    """The calendar month containing ``day``, as ``(first, first of next month)``."""
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1)


def split_by_month(interval: Interval) -> Iterator[Interval]:
    """Cut an interval at each first of month."""
    start, end = interval
    while start < end:
        stop = min(month_bounds(start)[1], end)
        yield start, stop
        start = stop


# Money -------------------------------------------------------------------------------


def round_half_up(value: Fraction, quantum: Decimal = CENT) -> Decimal:
    """Round an exact value half away from zero to the exponent of ``quantum``."""
    exponent = int(quantum.as_tuple().exponent)
    scaled = value * Fraction(10) ** -exponent
    units, remainder = divmod(abs(scaled.numerator), scaled.denominator)
    if 2 * remainder >= scaled.denominator:
        units += 1
    return Decimal(-units if value < 0 else units).scaleb(exponent)


def _price_days_by_month(
    priced: Iterable[tuple[Decimal, Iterable[Interval]]],
) -> dict[date, Decimal]:
    """Sum of price × days in each month, keyed by the month's first day."""
    totals: dict[date, Decimal] = defaultdict(Decimal)
    with localcontext() as context:
        context.prec = 60  # prices times whole days: exact at this precision, no rounding
        for price, intervals in priced:
            for interval in intervals:
                for start, end in split_by_month(interval):
                    totals[start.replace(day=1)] += price * (end - start).days
    return totals


def _month_value(first: date, price_days: Decimal) -> Fraction:
    return Fraction(price_days) / calendar.monthrange(first.year, first.month)[1]


def _value(priced: Iterable[tuple[Decimal, Iterable[Interval]]]) -> Fraction:
    months = _price_days_by_month(priced)
    return sum((_month_value(first, v) for first, v in months.items()), Fraction(0))


def prorated_value(monthly_price: Decimal, intervals: Iterable[Interval]) -> Fraction:
    """Exact value of the days at a monthly price: each day is worth price / its month's days."""
    return _value([(monthly_price, intervals)])


# Who counts and what is occupied -------------------------------------------------------


def counted_spaces(spaces: Iterable[Space]) -> list[Space]:
    """Rentable leaves: an open space divided into desks counts through its desks only."""
    spaces = list(spaces)
    parents = {s.parent_id for s in spaces if s.parent_id is not None}
    return [s for s in spaces if s.rentable and s.id not in parents]


def _lineage(space_id: int, parent_of: dict[int, int | None]) -> list[int]:
    """The space and its ancestors; stops on a cycle rather than looping forever."""
    lineage: list[int] = []
    current: int | None = space_id
    while current is not None and current not in lineage:
        lineage.append(current)
        current = parent_of.get(current)
    return lineage


def space_periods(
    spaces: Iterable[Space], occupancies: Iterable[Occupancy], start: date, end: date
) -> list[SpacePeriod]:
    """Each counted space valid at some point of ``[start, end)``, split into occupied/vacant.

    An occupancy of a space covers all its descendants. Each space's intervals are merged
    once, so the cost is in the number of occupancies, not in days.
    """
    spaces = list(spaces)
    held: dict[int, list[Interval]] = defaultdict(list)
    for occupancy in occupancies:
        held[occupancy.space_id].append((occupancy.start, occupancy.end))
    parent_of = {s.id: s.parent_id for s in spaces}
    periods = []
    for space in counted_spaces(spaces):
        window = intersect(space.validity, (start, end))
        if window is None:
            continue
        occupied = clip_intervals(
            merge_intervals(i for owner in _lineage(space.id, parent_of) for i in held[owner]),
            window,
        )
        vacant = subtract_intervals(window, occupied)
        periods.append(SpacePeriod(space, tuple(occupied), tuple(vacant)))
    return periods


def occupied_days(
    spaces: Iterable[Space], occupancies: Iterable[Occupancy], start: date, end: date
) -> dict[int, int]:
    """Occupied days of each counted space over ``[start, end)``, inside its validity."""
    return {
        p.space.id: total_days(p.occupied) for p in space_periods(spaces, occupancies, start, end)
    }


def vacant_days(
    spaces: Iterable[Space], occupancies: Iterable[Occupancy], start: date, end: date
) -> dict[int, int]:
    """Vacant days of each counted space over ``[start, end)``, inside its validity."""
    return {
        p.space.id: total_days(p.vacant) for p in space_periods(spaces, occupancies, start, end)
    }


# Rates and costs ---------------------------------------------------------------------


def _rate(part: Decimal | int, whole: Decimal | int) -> Decimal:
    return round_half_up(Fraction(part) / Fraction(whole), RATE)


def snapshot(spaces: Iterable[Space], occupancies: Iterable[Occupancy], day: date) -> Snapshot:
    """Vacancy on ``day``; spaces without a surface count in the rate by count only."""
    periods = space_periods(spaces, occupancies, day, day + timedelta(days=1))
    occupied_ids = frozenset(p.space.id for p in periods if p.occupied)
    vacant_ids = frozenset(p.space.id for p in periods if not p.occupied)
    measured = [p.space for p in periods if p.space.surface is not None]
    surface_total = sum((s.surface for s in measured), Decimal(0))
    surface_vacant = sum((s.surface for s in measured if s.id in vacant_ids), Decimal(0))
    if not periods:
        rate_count, rate_surface = Decimal(0), Decimal(0)
    else:
        rate_count = _rate(len(vacant_ids), len(periods))
        rate_surface = _rate(surface_vacant, surface_total) if surface_total else None
    return Snapshot(
        resources=len(periods),
        occupied=len(occupied_ids),
        vacant_ids=vacant_ids,
        occupied_ids=occupied_ids,
        rate_count=rate_count,
        rate_surface=rate_surface,
        surface_total=surface_total,
        surface_vacant=surface_vacant,
    )


def vacancy_value(
    spaces: Iterable[Space], occupancies: Iterable[Occupancy], start: date, end: date
) -> Fraction:
    """Exact (unrounded) value of the vacant days of counted spaces over ``[start, end)``."""
    periods = space_periods(spaces, occupancies, start, end)
    return _value((p.space.monthly_reference_price, p.vacant) for p in periods)


def vacancy_cost(
    spaces: Iterable[Space], occupancies: Iterable[Occupancy], start: date, end: date
) -> Decimal:
    """Reference rent lost to vacancy over ``[start, end)``, rounded to the cent once."""
    return round_half_up(vacancy_value(spaces, occupancies, start, end))


def vacancy_cost_for_month(
    spaces: Iterable[Space], occupancies: Iterable[Occupancy], day: date
) -> Decimal:
    """Vacancy cost of the calendar month containing ``day``."""
    return vacancy_cost(spaces, occupancies, *month_bounds(day))


def cost_by_month(
    spaces: Iterable[Space], occupancies: Iterable[Occupancy], start: date, end: date
) -> dict[date, Decimal]:
    """Vacancy cost of each month of ``[start, end)`` (clipped to it), keyed by its first day.

    Each month is rounded on its own so that it equals ``vacancy_cost`` over that month
    whatever the window asked; the sum of months may differ from the window's total by a
    few cents.
    """
    months = (part[0].replace(day=1) for part in split_by_month((start, end)))
    values = dict.fromkeys(months, Decimal(0))
    periods = space_periods(spaces, occupancies, start, end)
    values.update(
        _price_days_by_month((p.space.monthly_reference_price, p.vacant) for p in periods)
    )
    return {first: round_half_up(_month_value(first, v)) for first, v in values.items()}
