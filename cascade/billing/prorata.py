"""Proration and exact splitting of amounts, in cents.

Rules (DESIGN.md §3): the amount for `d` days out of a period of `D` days is
price × d / D, rounded half-up (away from zero) to the cent once, at the invoice line.
When a whole is split, the parts add up exactly to the whole (largest remainder).

Arithmetic goes through `Fraction`, so nothing is rounded before the final cent: a Decimal
quotient rounded to a finite precision and then rounded again to the cent could turn
x.xx4999… into x.xx5 and round the wrong way.
"""

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

CENT = Decimal("0.01")


def _half_up(q: Fraction) -> int:
    """The integer nearest to `q`, halves away from zero."""
    magnitude = (abs(q.numerator) * 2 + q.denominator) // (2 * q.denominator)
    return -magnitude if q < 0 else magnitude


def _from_cents(cents: int) -> Decimal:
    # Built from a string so that the result always carries two decimals ("1.00", "0.00").
    return Decimal(f"{cents}e-2")


def _to_cents(amount: Decimal, what: str) -> int:
    cents = Fraction(amount) * 100
    if cents.denominator != 1:
        raise ValueError(f"{what} must be a whole number of cents, got {amount}")
    return cents.numerator


def round_fraction(q: Fraction) -> Decimal:
    """An exact amount rounded to the cent, halves away from zero."""
    return _from_cents(_half_up(q * 100))


def round_cents(x: Decimal) -> Decimal:
    """`x` rounded to the cent, halves away from zero (-0.005 → -0.01)."""
    return _from_cents(_half_up(Fraction(x) * 100))


def prorate(price: Decimal, days: int, period_days: int) -> Decimal:
    """`price` × `days` / `period_days`, computed exactly, rounded half-up to the cent."""
    if period_days <= 0:
        raise ValueError(f"a period has at least one day, got {period_days}")
    if not 0 <= days <= period_days:
        raise ValueError(f"{days} days do not fit in a period of {period_days} days")
    return _from_cents(_half_up(Fraction(price) * 100 * days / period_days))


def prorate_stretches(stretches: Sequence[tuple[Decimal, int]], period_days: int) -> Decimal:
    """The amount of a period priced in stretches, (price, days) each: the exact sum of every
    price × days / `period_days`, rounded half-up once. A period covered at one price by several
    stretches (versions that change something else) thus costs exactly its price."""
    if period_days <= 0:
        raise ValueError(f"a period has at least one day, got {period_days}")
    if sum(days for _price, days in stretches) > period_days or any(days < 0 for _price, days in stretches):
        raise ValueError(f"{[d for _p, d in stretches]} days do not fit in a period of {period_days} days")
    if len(stretches) == 1 and stretches[0][1] == period_days and stretches[0][0].as_tuple().exponent >= -2:
        return stretches[0][0].quantize(CENT)  # the whole period at a price in cents: the price itself
    exact = sum((Fraction(price) * days for price, days in stretches), Fraction(0))
    return _from_cents(_half_up(exact * 100 / period_days))


def allocate(total: Decimal, weights: Sequence[Decimal | int]) -> list[Decimal]:
    """Split `total` (whole cents) in proportion to `weights`; the parts add up to `total`.

    Each part is its exact share rounded down (towards zero) to the cent; the cents left over
    go one each to the parts with the largest remainders, ties to the earliest part.
    """
    total_cents = _to_cents(total, "the total to allocate")
    shares = [Fraction(w) for w in weights]
    if any(s < 0 for s in shares):
        raise ValueError(f"weights cannot be negative: {list(weights)}")
    weight_sum = sum(shares, Fraction(0))
    if total_cents == 0:
        return [_from_cents(0) for _ in shares]
    if weight_sum == 0:
        raise ValueError(f"cannot allocate {total} over weights that sum to zero")
    # Allocate the magnitude and put the sign back, so a credit note splits like an invoice.
    sign = -1 if total_cents < 0 else 1
    quotas = [abs(total_cents) * s / weight_sum for s in shares]
    cents = [q.numerator // q.denominator for q in quotas]
    left = abs(total_cents) - sum(cents)
    by_remainder = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - cents[i]), i))
    for i in by_remainder[:left]:
        cents[i] += 1
    return [_from_cents(sign * c) for c in cents]


def split_by_days(price: Decimal, period_days: int, parts: Sequence[int]) -> list[Decimal]:
    """Amounts for consecutive day counts within one period, adding up to their prorata.

    The parts together get exactly `prorate(price, sum(parts), period_days)`: a period cut in
    several lines still adds up to the price of the days covered, and a fully covered period
    to the price itself.
    """
    if any(d < 0 for d in parts):
        raise ValueError(f"day counts cannot be negative: {list(parts)}")
    return allocate(prorate(price, sum(parts), period_days), parts)
