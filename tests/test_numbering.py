from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cascade.billing.numbering import (
    CREDIT_NOTE_SERIES,
    INVOICE_SERIES,
    chronological_date,
    format_number,
    next_number,
    parse_number,
)


def test_format_and_parse():
    assert format_number(INVOICE_SERIES, 2026, 123) == "F2026-000123"
    assert format_number(CREDIT_NOTE_SERIES, 2026, 4) == "A2026-000004"
    assert format_number("F", 2026, 1234567) == "F2026-1234567"
    assert parse_number("F2026-000123") == ("F", 2026, 123)


@pytest.mark.parametrize("bad", ["", "F2026-123", "f2026-000123", "F26-000123", "F2026-000000"])
def test_parse_refuses_what_is_not_a_number(bad):
    with pytest.raises(ValueError):
        parse_number(bad)


@pytest.mark.parametrize(
    ("series", "year", "n"), [("", 2026, 1), ("F1", 2026, 1), ("F", 26, 1), ("F", 2026, 0)]
)
def test_format_refuses_bad_parts(series, year, n):
    with pytest.raises(ValueError):
        format_number(series, year, n)


def test_next_number_starts_at_one_and_has_no_gap():
    assert next_number(None) == 1
    assert next_number(41) == 42
    with pytest.raises(ValueError):
        next_number(0)


@given(st.sampled_from(["F", "A"]), st.integers(1000, 9999), st.integers(1, 10**8))
def test_parse_reads_back_what_format_wrote(series, year, n):
    assert parse_number(format_number(series, year, n)) == (series, year, n)


def test_a_document_is_never_dated_before_the_last_of_its_series():
    assert chronological_date(date(2025, 1, 6), None) == date(2025, 1, 6)
    assert chronological_date(date(2025, 1, 6), date(2025, 12, 30)) == date(2025, 12, 30)
    assert chronological_date(date(2026, 2, 1), date(2025, 12, 30)) == date(2026, 2, 1)


@given(st.lists(st.dates(), min_size=1, max_size=30))
def test_dates_given_one_after_another_never_go_back(scheduled):
    last = None
    for day in scheduled:
        issued = chronological_date(day, last)
        assert issued >= day and (last is None or issued >= last)
        last = issued
