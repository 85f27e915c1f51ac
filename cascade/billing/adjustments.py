"""Due minus billed inside one billing period, stretch by stretch (DESIGN.md §4).

What is due for a period is a list of stretches: consecutive days priced by the version in force
on them. What was billed is a list of issued lines, each spread evenly over the days it covers.
Their difference, day by day, grouped into runs where the same version replaces the same billed
one, is what an adjustment says: "Avenant n° 2 : redevance 340,00 → 374,00 € du 15/03 au 31/03".

Pure: dates, Decimals and Fractions in, values out. Exact arithmetic throughout (Fraction);
amounts are rounded to the cent once per line, and the lines of a period add up exactly to what
is due (rounded once, as a first invoice would have it) minus what was billed.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

from .prorata import allocate, prorate_stretches, round_fraction


@dataclass(frozen=True)
class Stretch:
    """Days `[start, end)` of a period priced at `price` (the price of the whole period) by `version`."""

    start: date
    end: date
    price: Decimal
    version: int | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days


CENT = Fraction(1, 100)
# The version number of what was billed outside Cascade, before it (versions count from 1).
OUTSIDE = 0


@dataclass(frozen=True)
class Billed:
    """An issued line: `amount` for the days `[start, end)`, computed from `version` (OUTSIDE: billed
    by hand before Cascade)."""

    start: date
    end: date
    amount: Decimal
    version: int | None = None


@dataclass(frozen=True)
class Part:
    """A line to issue: `amount` for days `[start, end)`. `version` is what is due there (None: nothing is
    due, the days are no longer occupied); `replaces` is the version last billed for them (None: they were
    never billed)."""

    start: date
    end: date
    amount: Decimal
    version: int | None
    replaces: int | None

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def due_parts(stretches: Sequence[Stretch], period_days: int) -> list[Decimal]:
    """The amount of each stretch, adding up exactly to the period's amount rounded once.

    The total is `prorate_stretches` (the exact sum rounded half-up); it is shared among the stretches in
    proportion to their exact amounts, largest remainder first, so that two versions at one price
    still cost exactly the price of the days they cover."""
    if len(stretches) == 1:
        return [prorate_stretches([(stretches[0].price, stretches[0].days)], period_days)]
    total = prorate_stretches([(s.price, s.days) for s in stretches], period_days)
    weights = [Fraction(s.price) * s.days for s in stretches]
    if not any(weights):
        return [Decimal("0.00")] * len(stretches)
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("prices of a period are never negative")
    return allocate(total, weights)


def _per_day(stretches: Sequence[Stretch], billed: Sequence[Billed], period_days: int, day: date):
    due = sum((Fraction(s.price) / period_days for s in stretches if s.start <= day < s.end), Fraction(0))
    version = next((s.version for s in stretches if s.start <= day < s.end), None)
    paid = sum((Fraction(b.amount) / (b.end - b.start).days for b in billed if b.start <= day < b.end
                and b.end > b.start), Fraction(0))
    # The version billed last for the day: the latest line covering it (an adjustment supersedes).
    replaces = next((b.version for b in reversed(billed) if b.start <= day < b.end), None)
    return due, paid, version, replaces


def adjustments(stretches: Sequence[Stretch], billed: Sequence[Billed], period_start: date,
                period_end: date) -> list[Part]:
    """The lines that bring what was billed for the period to what is due, in day order.

    Runs of days are grouped by (version due, version billed); each run's exact difference is
    rounded half-up, and the cent left by rounding goes to the largest run, so that the parts add
    up to due (rounded once) minus billed."""
    period_days = (period_end - period_start).days
    target = (sum(due_parts(stretches, period_days), Decimal("0.00"))
              - sum((b.amount for b in billed), Decimal("0.00")))
    boundaries = sorted({period_start, period_end, *(s.start for s in stretches), *(s.end for s in stretches),
                         *(b.start for b in billed), *(b.end for b in billed)})
    boundaries = [d for d in boundaries if period_start <= d <= period_end]
    runs: list[list] = []  # [start, end, exact difference, version, replaces]
    for start, end in pairwise(boundaries):
        if start >= end:
            continue
        due, paid, version, replaces = _per_day(stretches, billed, period_days, start)
        difference = (due - paid) * (end - start).days
        if runs and runs[-1][1] == start and runs[-1][3:] == [version, replaces]:
            runs[-1][1], runs[-1][2] = end, runs[-1][2] + difference
        else:
            runs.append([start, end, difference, version, replaces])
    if target == 0:
        return []  # what remains day by day is the rounding of lines already issued
    # Less than a cent of exact difference is rounding, not a change: it goes to the largest run.
    runs = [run for run in runs if abs(run[2]) >= CENT] or [max(runs, key=lambda run: abs(run[2]))]
    amounts = [round_fraction(run[2]) for run in runs]
    # Whatever rounding left goes to the run with the largest difference.
    largest = max(range(len(runs)), key=lambda i: (abs(runs[i][2]), -i))
    amounts[largest] += target - sum(amounts, Decimal("0.00"))
    return [Part(run[0], run[1], amount, run[3], run[4]) for run, amount in zip(runs, amounts, strict=True)
            if amount != 0]
