"""Due minus billed inside a period, stretch by stretch: the issue's cases, and invariants."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from cascade.billing.adjustments import Billed, Part, Stretch, adjustments, due_parts

Q2 = (date(2024, 4, 1), date(2024, 7, 1))  # 91 days


def _day(n: int, start: date = Q2[0]) -> date:
    """Day n of the period, counting from 1."""
    return start + timedelta(days=n - 1)


def test_a_quarter_repriced_twice_is_adjusted_by_6100_then_3100():
    """9 100.00 billed in advance; 18 200.00 from day 31, then 27 300.00 from day 61."""
    start, end = Q2
    billed = [Billed(start, end, Decimal("9100.00"), 1)]
    v2 = [Stretch(start, _day(31), Decimal("9100.00"), 1), Stretch(_day(31), end, Decimal("18200.00"), 2)]
    first = adjustments(v2, billed, start, end)
    assert first == [Part(_day(31), end, Decimal("6100.00"), 2, 1)]

    billed.append(Billed(first[0].start, first[0].end, first[0].amount, 2))
    v3 = [v2[0], Stretch(_day(31), _day(61), Decimal("18200.00"), 2), Stretch(_day(61), end, Decimal("27300.00"), 3)]
    assert adjustments(v3, billed, start, end) == [Part(_day(61), end, Decimal("3100.00"), 3, 2)]


def test_an_exit_on_10_march_credits_21_days_of_march():
    march = (date(2026, 3, 1), date(2026, 4, 1))
    billed = [Billed(*march, Decimal("310.00"), 1)]
    due = [Stretch(march[0], date(2026, 3, 11), Decimal("310.00"), 2)]
    assert adjustments(due, billed, *march) == [Part(date(2026, 3, 11), march[1], Decimal("-210.00"), None, 1)]


def test_nothing_to_adjust_when_what_is_due_was_billed():
    march = (date(2026, 3, 1), date(2026, 4, 1))
    # A new version that changes the spaces, not the price: nothing is owed either way.
    due = [Stretch(march[0], date(2026, 3, 15), Decimal("310.00"), 1),
           Stretch(date(2026, 3, 15), march[1], Decimal("310.00"), 2)]
    assert adjustments(due, [Billed(*march, Decimal("310.00"), 1)], *march) == []


def test_an_entry_moved_earlier_bills_the_days_added():
    march = (date(2026, 3, 1), date(2026, 4, 1))
    billed = [Billed(date(2026, 3, 16), march[1], Decimal("160.00"), 1)]
    due = [Stretch(date(2026, 3, 10), march[1], Decimal("310.00"), 2)]
    assert adjustments(due, billed, *march) == [Part(date(2026, 3, 10), date(2026, 3, 16), Decimal("60.00"), 2, None)]


def test_two_versions_at_one_price_cost_exactly_the_price():
    # 900.01 split 15/15 days of June: 450.005 + 450.005 would round to 900.02.
    june = (date(2026, 6, 1), date(2026, 7, 1))
    parts = due_parts([Stretch(june[0], date(2026, 6, 16), Decimal("900.01"), 1),
                       Stretch(date(2026, 6, 16), june[1], Decimal("900.01"), 2)], 30)
    assert sum(parts) == Decimal("900.01") and sorted(parts) == [Decimal("450.00"), Decimal("450.01")]


@st.composite
def _period_history(draw):
    """A month, stretches of one or two versions, and lines billed for it earlier."""
    days = draw(st.sampled_from([28, 29, 30, 31]))
    start = date(2026, 1, 1)
    end = start + timedelta(days=days)
    cuts = sorted(draw(st.lists(st.integers(1, days - 1), max_size=3, unique=True)))
    bounds = [0, *cuts, days]
    prices = st.decimals(min_value=0, max_value=10_000, places=2)
    stretches = [Stretch(start + timedelta(days=a), start + timedelta(days=b), draw(prices), i + 1)
                 for i, (a, b) in enumerate(pairwise(bounds))]
    first, last = sorted(draw(st.lists(st.integers(0, days), min_size=2, max_size=2)))
    billed = []
    if first < last:
        billed.append(Billed(start + timedelta(days=first), start + timedelta(days=last),
                             draw(st.decimals(min_value=-5_000, max_value=20_000, places=2)), 1))
    return start, end, stretches, billed


@given(_period_history())
def test_adjusting_brings_what_was_billed_to_what_is_due(history):
    start, end, stretches, billed = history
    parts = adjustments(stretches, billed, start, end)
    due = sum(due_parts(stretches, (end - start).days), Decimal("0"))
    assert sum((p.amount for p in parts), Decimal("0")) + sum((b.amount for b in billed), Decimal("0")) == due
    # The parts follow each other without overlapping, inside the period, each to the cent.
    for before, after in pairwise(parts):
        assert before.end <= after.start
    assert all(start <= p.start < p.end <= end and p.amount == p.amount.quantize(Decimal("0.01")) for p in parts)
    # Billing the parts leaves nothing more to adjust.
    assert adjustments(stretches, billed + [Billed(p.start, p.end, p.amount, p.version) for p in parts],
                       start, end) == []
