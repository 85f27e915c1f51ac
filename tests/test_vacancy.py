"""Vacancy rules: who counts, rates on a day, cost of vacant days."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from cascade.places.vacancy import (
    Occupancy,
    Space,
    cost_by_month,
    counted_spaces,
    merge_intervals,
    month_bounds,
    occupied_days,
    prorated_value,
    round_half_up,
    snapshot,
    space_periods,
    subtract_intervals,
    vacancy_cost,
    vacancy_cost_for_month,
    vacancy_value,
    vacant_days,
)

DAY = date(2025, 3, 12)


def _space(id: int, **kwargs) -> Space:
    return Space(id=id, reference=f"R{id}", **kwargs)


# Snapshot ---------------------------------------------------------------------------


def test_four_leaves_one_occupied():
    spaces = [
        _space(1, surface=Decimal(10)),
        _space(2, surface=Decimal(30)),
        _space(3, surface=None),
        _space(4, surface=Decimal(60)),
    ]
    occupancies = [Occupancy(2, date(2025, 1, 1), date(2025, 7, 1), "Atelier Lune")]

    result = snapshot(spaces, occupancies, DAY)

    assert result.resources == 4
    assert result.occupied == 1
    assert result.occupied_ids == frozenset({2})
    assert result.vacant_ids == frozenset({1, 3, 4})
    assert result.rate_count == Decimal("0.7500")
    # Space 3 has no surface: it counts by count only. Vacant 10 + 60 out of 100 m².
    assert result.surface_total == Decimal(100)
    assert result.surface_vacant == Decimal(70)
    assert result.rate_surface == Decimal("0.7000")


def test_rates_round_half_up_to_four_decimals():
    spaces = [_space(1, surface=Decimal(1)), _space(2, surface=Decimal(19999)), _space(3)]
    occupancies = [Occupancy(2, DAY, DAY + timedelta(days=1)), Occupancy(3, DAY, DAY)]

    result = snapshot(spaces, occupancies, DAY)

    assert result.rate_count == Decimal("0.6667")  # 2/3
    # 1/20000 = 0.00005 exactly: half-up gives 0.0001 where banker's rounding gives 0.0000.
    assert result.rate_surface == Decimal("0.0001")


def test_parent_occupancy_covers_its_desks_and_the_open_space_does_not_count():
    spaces = [
        _space(1, surface=Decimal(80)),  # open space
        _space(2, parent_id=1, surface=Decimal(8)),
        _space(3, parent_id=1, surface=Decimal(8)),
        _space(4, surface=Decimal(20)),
    ]
    occupancies = [Occupancy(1, date(2025, 3, 1), date(2025, 4, 1), "Collectif Grue")]

    result = snapshot(spaces, occupancies, DAY)

    assert result.resources == 3
    assert result.occupied_ids == frozenset({2, 3})
    assert result.vacant_ids == frozenset({4})
    assert result.rate_count == Decimal("0.3333")
    assert result.rate_surface == Decimal("0.5556")  # 20 / 36


def test_grandparent_occupancy_reaches_the_leaves():
    spaces = [_space(1), _space(2, parent_id=1), _space(3, parent_id=2), _space(4, parent_id=2)]
    occupancies = [Occupancy(1, date(2025, 1, 1), date(2026, 1, 1))]

    result = snapshot(spaces, occupancies, DAY)

    assert result.resources == 2
    assert result.occupied_ids == frozenset({3, 4})


def test_validity_is_half_open_and_non_rentable_spaces_do_not_count():
    spaces = [
        _space(1, valid_from=DAY + timedelta(days=1)),  # not yet valid
        _space(2, valid_from=DAY),  # valid from today
        _space(3, valid_until=DAY),  # gone today: valid_until is exclusive
        _space(4, valid_until=DAY + timedelta(days=1)),  # last day today
        _space(5, rentable=False),
    ]

    result = snapshot(spaces, [], DAY)

    assert result.resources == 2
    assert result.vacant_ids == frozenset({2, 4})


def test_occupancy_end_is_exclusive():
    spaces = [_space(1)]
    occupancies = [Occupancy(1, date(2025, 3, 1), DAY)]

    assert snapshot(spaces, occupancies, DAY).vacant_ids == frozenset({1})
    assert snapshot(spaces, occupancies, DAY - timedelta(days=1)).occupied_ids == frozenset({1})


def test_no_resource_gives_zero_rates():
    result = snapshot([_space(1, rentable=False)], [], DAY)

    assert result.resources == 0
    assert result.rate_count == Decimal(0)
    assert result.rate_surface == Decimal(0)


def test_no_surface_gives_no_surface_rate():
    result = snapshot([_space(1), _space(2)], [Occupancy(1, DAY, DAY + timedelta(days=3))], DAY)

    assert result.rate_count == Decimal("0.5000")
    assert result.rate_surface is None


def test_counted_spaces_are_rentable_leaves():
    spaces = [_space(1), _space(2, parent_id=1), _space(3, parent_id=1, rentable=False)]

    assert [s.id for s in counted_spaces(spaces)] == [2]


# Costs ------------------------------------------------------------------------------


def test_month_bounds():
    assert month_bounds(date(2024, 2, 10)) == (date(2024, 2, 1), date(2024, 3, 1))
    assert month_bounds(date(2025, 12, 31)) == (date(2025, 12, 1), date(2026, 1, 1))
    assert month_bounds(date(2025, 1, 1)) == (date(2025, 1, 1), date(2025, 2, 1))


def test_ten_vacant_days_of_a_thirty_day_month():
    spaces = [_space(1, monthly_reference_price=Decimal(900))]
    occupancies = [Occupancy(1, date(2025, 4, 11), date(2025, 6, 1))]

    assert vacancy_cost_for_month(spaces, occupancies, date(2025, 4, 20)) == Decimal("300.00")


def test_three_vacant_days_of_february():
    spaces = [_space(1, monthly_reference_price=Decimal(1000))]
    occupancies = [Occupancy(1, date(2025, 2, 1), date(2025, 2, 26))]

    # 1000 × 3 / 28 = 107.142857…
    assert vacancy_cost_for_month(spaces, occupancies, date(2025, 2, 1)) == Decimal("107.14")


def test_a_whole_vacant_month_costs_exactly_its_price():
    spaces = [_space(1, monthly_reference_price=Decimal("1234.57"))]

    for month in (date(2025, 1, 1), date(2025, 2, 1), date(2024, 2, 1), date(2025, 4, 1)):
        assert vacancy_cost_for_month(spaces, [], month) == Decimal("1234.57")


def test_cost_is_rounded_once_per_call_not_per_space():
    spaces = [_space(i, monthly_reference_price=Decimal(100)) for i in (1, 2, 3)]

    # Each space alone: 100 / 31 = 3.2258 -> 3.23, three of them 9.69; exactly 300 / 31 = 9.677.
    cost = vacancy_cost(spaces, [], date(2025, 1, 31), date(2025, 2, 1))

    assert cost == Decimal("9.68")


def test_each_day_is_valued_by_its_own_month():
    spaces = [_space(1, monthly_reference_price=Decimal(310))]

    # 31 Jan at 310 / 31 = 10, 1 Feb at 310 / 28 = 11.0714…
    assert vacancy_cost(spaces, [], date(2025, 1, 31), date(2025, 2, 2)) == Decimal("21.07")


def test_only_the_valid_part_of_the_month_costs():
    spaces = [
        _space(1, monthly_reference_price=Decimal(900), valid_from=date(2025, 4, 21)),
        _space(2, monthly_reference_price=Decimal(600), rentable=False),
        _space(3, monthly_reference_price=Decimal(300), valid_until=date(2025, 4, 1)),
    ]

    assert vacancy_cost_for_month(spaces, [], date(2025, 4, 1)) == Decimal("300.00")


def test_parent_occupancy_spares_the_desks_from_cost():
    spaces = [
        _space(1, monthly_reference_price=Decimal(2000)),
        _space(2, parent_id=1, monthly_reference_price=Decimal(300)),
        _space(3, parent_id=1, monthly_reference_price=Decimal(300)),
    ]
    occupancies = [Occupancy(1, date(2025, 6, 1), date(2025, 6, 16))]

    # Both desks vacant 15 of 30 days: 2 × 150.
    assert vacancy_cost_for_month(spaces, occupancies, date(2025, 6, 1)) == Decimal("300.00")


def test_cost_by_month_clips_the_window_and_keys_by_first_day():
    spaces = [_space(1, monthly_reference_price=Decimal(620))]
    occupancies = [Occupancy(1, date(2025, 2, 1), date(2025, 3, 1))]

    result = cost_by_month(spaces, occupancies, date(2025, 1, 17), date(2025, 3, 11))

    assert result == {
        date(2025, 1, 1): Decimal("300.00"),  # 15 days × 620 / 31
        date(2025, 2, 1): Decimal("0.00"),
        date(2025, 3, 1): Decimal("200.00"),  # 10 days × 620 / 31
    }


def test_overlapping_occupancies_are_merged():
    spaces = [_space(1)]
    occupancies = [
        Occupancy(1, date(2025, 3, 1), date(2025, 3, 10)),
        Occupancy(1, date(2025, 3, 5), date(2025, 3, 15)),
        Occupancy(1, date(2025, 3, 15), date(2025, 3, 20)),
    ]

    start, end = month_bounds(DAY)
    assert occupied_days(spaces, occupancies, start, end) == {1: 19}
    assert vacant_days(spaces, occupancies, start, end) == {1: 12}


def test_round_half_up_and_interval_helpers():
    assert round_half_up(Fraction(5, 1000)) == Decimal("0.01")
    assert round_half_up(Fraction(-5, 1000)) == Decimal("-0.01")
    assert round_half_up(Fraction(1, 3), Decimal("0.0001")) == Decimal("0.3333")
    d = date(2025, 1, 1)
    day = timedelta(days=1)
    assert merge_intervals([(d + 5 * day, d + 9 * day), (d, d + 5 * day), (d, d)]) == [
        (d, d + 9 * day)
    ]
    assert subtract_intervals((d, d + 10 * day), [(d + 2 * day, d + 4 * day)]) == [
        (d, d + 2 * day),
        (d + 4 * day, d + 10 * day),
    ]


# Properties -------------------------------------------------------------------------

WINDOW_START = date(2024, 12, 1)
DAYS = 120
days = st.integers(0, DAYS).map(lambda n: WINDOW_START + timedelta(days=n))
prices = st.decimals(min_value=0, max_value=5000, places=2, allow_nan=False)
surfaces = st.none() | st.decimals(min_value=1, max_value=500, places=1, allow_nan=False)


@st.composite
def places(draw: st.DrawFn) -> tuple[list[Space], list[Occupancy]]:
    """A tree of spaces (parents drawn among earlier ones) and occupancies on any of them."""
    count = draw(st.integers(1, 8))
    spaces = []
    for id in range(1, count + 1):
        valid_from = draw(st.none() | days)
        valid_until = draw(st.none() | days)
        spaces.append(
            Space(
                id=id,
                reference=f"R{id}",
                surface=draw(surfaces),
                valid_from=valid_from,
                valid_until=valid_until,
                rentable=draw(st.booleans()),
                parent_id=draw(st.none() | st.integers(1, id - 1)) if id > 1 else None,
                monthly_reference_price=draw(prices),
            )
        )
    occupancies = [
        Occupancy(draw(st.integers(1, count)), start, start + timedelta(days=length))
        for start, length in draw(st.lists(st.tuples(days, st.integers(0, 60)), max_size=10))
    ]
    return spaces, occupancies


def _naive_vacant_days(spaces, occupancies, start, end) -> dict[int, int]:
    """Day by day reference: slow and obvious."""
    parent_of = {s.id: s.parent_id for s in spaces}
    result = {}
    for space in counted_spaces(spaces):
        lineage, current = set(), space.id
        while current is not None:
            lineage.add(current)
            current = parent_of.get(current)
        vacant = valid = 0
        day = start
        while day < end:
            if (space.valid_from is None or space.valid_from <= day) and (
                space.valid_until is None or day < space.valid_until
            ):
                valid += 1
                if not any(o.space_id in lineage and o.start <= day < o.end for o in occupancies):
                    vacant += 1
            day += timedelta(days=1)
        if valid:
            result[space.id] = vacant
    return result


@given(places(), days, st.integers(1, 60))
def test_interval_arithmetic_matches_day_by_day_counting(place, start, length):
    spaces, occupancies = place
    end = start + timedelta(days=length)

    assert vacant_days(spaces, occupancies, start, end) == _naive_vacant_days(
        spaces, occupancies, start, end
    )


@given(places(), days)
def test_snapshot_is_consistent_and_rates_are_fractions(place, day):
    spaces, occupancies = place

    result = snapshot(spaces, occupancies, day)

    assert result.occupied_ids.isdisjoint(result.vacant_ids)
    assert result.occupied + len(result.vacant_ids) == result.resources
    assert Decimal(0) <= result.rate_count <= Decimal(1)
    assert result.rate_surface is None or Decimal(0) <= result.rate_surface <= Decimal(1)
    assert result.vacant_ids == {
        id for id, n in vacant_days(spaces, occupancies, day, day + timedelta(days=1)).items() if n
    }


@given(places(), days)
def test_vacant_and_occupied_value_make_up_the_month(place, day):
    spaces, occupancies = place
    start, end = month_bounds(day)
    month_days = (end - start).days
    periods = space_periods(spaces, occupancies, start, end)

    vacant = vacancy_value(spaces, occupancies, start, end)
    occupied = sum(
        (prorated_value(p.space.monthly_reference_price, p.occupied) for p in periods),
        Fraction(0),
    )

    # Exact before rounding: each counted space is worth its price × its valid share of the
    # month, split without loss between vacant and occupied days.
    valid_share = {p.space.id: sum((e - s).days for s, e in p.vacant + p.occupied) for p in periods}
    assert vacant + occupied == sum(
        Fraction(p.space.monthly_reference_price) * valid_share[p.space.id] / month_days
        for p in periods
    )
    cost = vacancy_cost(spaces, occupancies, start, end)
    assert cost == round_half_up(vacant)
    assert Decimal(0) <= cost <= sum((p.space.monthly_reference_price for p in periods), Decimal(0))


@given(places())
def test_spaces_valid_all_month_are_worth_their_price(place):
    spaces, occupancies = place
    spaces = [replace(s, valid_from=None, valid_until=None) for s in spaces]
    start, end = date(2025, 2, 1), date(2025, 3, 1)
    periods = space_periods(spaces, occupancies, start, end)

    occupied = sum(
        (prorated_value(p.space.monthly_reference_price, p.occupied) for p in periods),
        Fraction(0),
    )

    assert vacancy_value(spaces, occupancies, start, end) + occupied == sum(
        s.monthly_reference_price for s in counted_spaces(spaces)
    )


@given(places(), days, st.integers(1, 90))
def test_cost_by_month_equals_each_months_cost(place, start, length):
    spaces, occupancies = place
    end = start + timedelta(days=length)

    result = cost_by_month(spaces, occupancies, start, end)

    assert list(result) == sorted(result)
    for first, cost in result.items():
        month_start, month_end = month_bounds(first)
        window = (max(month_start, start), min(month_end, end))
        assert cost == vacancy_cost(spaces, occupancies, *window)
