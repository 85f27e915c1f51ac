from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cascade.billing.prorata import allocate, prorate, prorate_stretches, round_cents, split_by_days

cents = st.integers(min_value=-(10**9), max_value=10**9)
prices = cents.map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def periods_and_parts(draw):
    period_days = draw(st.integers(min_value=1, max_value=366))
    parts = draw(st.lists(st.integers(min_value=0, max_value=period_days), max_size=6))
    parts = [d for i, d in enumerate(parts) if sum(parts[: i + 1]) <= period_days]
    return period_days, parts


def test_round_cents_rounds_halves_away_from_zero():
    assert round_cents(Decimal("0.005")) == Decimal("0.01")
    assert round_cents(Decimal("-0.005")) == Decimal("-0.01")
    assert round_cents(Decimal("2.675")) == Decimal("2.68")
    assert round_cents(Decimal("-2.674999")) == Decimal("-2.67")
    assert str(round_cents(Decimal(3))) == "3.00"


def test_prorate_multiplies_before_dividing():
    assert prorate(Decimal("900.00"), 3, 28) == Decimal("96.43")
    assert prorate(Decimal("900.00"), 3, 29) == Decimal("93.10")
    assert prorate(Decimal("9000.00"), 42, 91) == Decimal("4153.85")
    assert prorate(Decimal("1000.00"), 7, 31) == Decimal("225.81")
    # 0.35 × 1/2 = 0.175 exactly: a float would give 0.17499… and round down.
    assert prorate(Decimal("0.35"), 1, 2) == Decimal("0.18")


def test_prorate_refuses_days_outside_the_period():
    with pytest.raises(ValueError):
        prorate(Decimal("10.00"), 32, 31)
    with pytest.raises(ValueError):
        prorate(Decimal("10.00"), -1, 31)
    with pytest.raises(ValueError):
        prorate(Decimal("10.00"), 0, 0)


@given(prices, st.integers(min_value=1, max_value=366), st.data())
def test_a_single_partial_line_is_price_times_days_over_period_rounded_half_up(price, big_d, data):
    d = data.draw(st.integers(min_value=0, max_value=big_d))
    # Oracle in integer cents: round(n / D) half away from zero is floor((2|n| + D) / 2D).
    n = int(price * 100) * d
    expected = (2 * abs(n) + big_d) // (2 * big_d) * (1 if n >= 0 else -1)
    assert prorate(price, d, big_d) == Decimal(expected).scaleb(-2)
    assert split_by_days(price, big_d, [d]) == [prorate(price, d, big_d)]


def test_allocate_gives_leftover_cents_to_the_largest_remainders_then_the_earliest():
    assert allocate(Decimal("100.00"), [1, 1, 1]) == [
        Decimal(x) for x in ("33.34", "33.33", "33.33")
    ]
    assert allocate(Decimal("0.05"), [1, 2, 2]) == [Decimal(x) for x in ("0.01", "0.02", "0.02")]
    assert allocate(Decimal("0.02"), [1, 2, 2]) == [Decimal(x) for x in ("0.00", "0.01", "0.01")]
    assert allocate(Decimal("-100.00"), [1, 1, 1]) == [
        Decimal(x) for x in ("-33.34", "-33.33", "-33.33")
    ]
    assert allocate(Decimal("0.00"), [0, 0]) == [Decimal("0.00"), Decimal("0.00")]


def test_allocate_refuses_what_it_cannot_split():
    with pytest.raises(ValueError):
        allocate(Decimal("1.00"), [0, 0])
    with pytest.raises(ValueError):
        allocate(Decimal("1.00"), [2, -1])
    with pytest.raises(ValueError):
        allocate(Decimal("1.001"), [1, 1])


@given(cents, st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=8))
def test_allocate_parts_add_up_and_stay_within_a_cent_of_their_share(total_cents, weights):
    if sum(weights) == 0:
        weights[0] = 1
    total = Decimal(total_cents).scaleb(-2)
    parts = allocate(total, weights)
    assert sum(parts) == total
    for part, w in zip(parts, weights, strict=True):
        share = Fraction(total) * w / sum(weights)
        assert abs(Fraction(part) - share) < Fraction(1, 100)


@given(prices, periods_and_parts())
def test_split_by_days_adds_up_to_the_days_covered(price, period_and_parts):
    period_days, parts = period_and_parts
    amounts = split_by_days(price, period_days, parts)
    assert len(amounts) == len(parts)
    assert sum(amounts, Decimal(0)) == prorate(price, sum(parts), period_days)


@given(prices, st.integers(min_value=1, max_value=366), st.data())
def test_a_fully_covered_period_split_anyhow_sums_to_the_price(price, period_days, data):
    cuts = sorted(data.draw(st.lists(st.integers(min_value=0, max_value=period_days))))
    bounds = [0, *cuts, period_days]
    parts = [b - a for a, b in pairwise(bounds)]
    assert sum(split_by_days(price, period_days, parts)) == price


@given(price=st.decimals(min_value=0, max_value=100_000, places=2),
       period_days=st.integers(min_value=28, max_value=92), data=st.data())
def test_a_period_in_stretches_at_one_price_costs_its_prorata(price, period_days, data):
    days = data.draw(st.lists(st.integers(min_value=0, max_value=period_days), min_size=1, max_size=5).filter(
        lambda parts: sum(parts) <= period_days))
    assert prorate_stretches([(price, d) for d in days], period_days) == prorate(price, sum(days), period_days)


def test_stretches_at_two_prices_are_rounded_once():
    # 14 days at 420.00 and 17 days at 441.00 of a 31-day month: 189.677… + 241.838… = 431.516… → 431.52.
    assert prorate_stretches([(Decimal("420.00"), 14), (Decimal("441.00"), 17)], 31) == Decimal("431.52")
    # Two identical versions splitting June: exactly the monthly price, not 900.02.
    assert prorate_stretches([(Decimal("900.01"), 15), (Decimal("900.01"), 15)], 30) == Decimal("900.01")
