import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cascade.billing.periods import (
    Frequency,
    Period,
    Term,
    add_months,
    anniversary_period,
    due_date,
    invoice_date,
    months_in,
    period_amount,
    period_containing,
    periods_between,
)

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
frequencies = st.sampled_from(list(Frequency))


def _covered(frequency: Frequency, entry: date, exit_: date | None = None) -> tuple[Period, int]:
    """The period holding `entry` and how many of its days the occupant is there."""
    period = period_containing(frequency, entry)
    stay = Period(entry, exit_ or date(9999, 1, 1))
    return period, period.intersect(stay).days


def test_period_is_half_open():
    feb = Period(date(2025, 2, 1), date(2025, 3, 1))
    assert feb.days == 28
    assert feb.last_day == date(2025, 2, 28)
    assert feb.contains(date(2025, 2, 28)) and not feb.contains(date(2025, 3, 1))
    assert feb.intersect(Period(date(2025, 2, 26), date(2025, 4, 1))) == Period(
        date(2025, 2, 26), date(2025, 3, 1)
    )
    assert feb.intersect(Period(date(2025, 3, 1), date(2025, 4, 1))) is None
    with pytest.raises(ValueError):
        Period(date(2025, 3, 1), date(2025, 3, 1))


def test_calendar_periods():
    assert months_in("monthly") == 1 and months_in(Frequency.QUARTERLY) == 3
    assert period_containing("monthly", date(2024, 2, 15)) == Period(
        date(2024, 2, 1), date(2024, 3, 1)
    )
    assert period_containing("monthly", date(2024, 12, 31)) == Period(
        date(2024, 12, 1), date(2025, 1, 1)
    )
    q2 = period_containing(Frequency.QUARTERLY, date(2024, 5, 20))
    assert q2 == Period(date(2024, 4, 1), date(2024, 7, 1)) and q2.days == 91
    q4 = period_containing(Frequency.QUARTERLY, date(2024, 10, 1))
    assert q4 == Period(date(2024, 10, 1), date(2025, 1, 1))
    assert list(periods_between("quarterly", date(2024, 2, 10), date(2024, 4, 2))) == [
        Period(date(2024, 1, 1), date(2024, 4, 1)),
        Period(date(2024, 4, 1), date(2024, 7, 1)),
    ]
    assert list(periods_between("monthly", date(2024, 2, 10), date(2024, 2, 10))) == []
    with pytest.raises(ValueError):
        periods_between("monthly", date(2024, 2, 10), date(2024, 2, 9))


def test_monthly_900_occupied_26_to_28_february_2025():
    feb, covered = _covered(Frequency.MONTHLY, date(2025, 2, 26))
    assert (covered, feb.days) == (3, 28)
    assert period_amount(Decimal("900.00"), Frequency.MONTHLY, covered, feb) == Decimal("96.43")


def test_monthly_900_occupied_27_to_29_february_2028():
    feb, covered = _covered(Frequency.MONTHLY, date(2028, 2, 27))
    assert (covered, feb.days) == (3, 29)
    assert period_amount(Decimal("900.00"), Frequency.MONTHLY, covered, feb) == Decimal("93.10")


def test_quarterly_3000_a_month_entry_20_may_2024():
    q2, covered = _covered(Frequency.QUARTERLY, date(2024, 5, 20))
    assert (covered, q2.days) == (42, 91)
    assert period_amount(Decimal("3000.00"), "quarterly", covered, q2) == Decimal("4153.85")
    assert period_amount(Decimal("3000.00"), "quarterly", q2.days, q2) == Decimal("9000.00")


MARCH_2019 = """
import time
from datetime import date
from decimal import Decimal
from cascade.billing.periods import Frequency, Period, Term, invoice_date, period_amount
from cascade.billing.periods import period_containing
entry = date(2019, 3, 25)
march = period_containing(Frequency.MONTHLY, entry)
covered = march.intersect(Period(entry, date(2019, 12, 31))).days
amount = period_amount(Decimal("1000.00"), Frequency.MONTHLY, covered, march)
zone = time.strftime("%Z", time.localtime(1553500800))  # 2019-03-25 08:00 UTC
print(zone, amount, invoice_date(march, Term.ADVANCE, entry))
"""


@pytest.mark.parametrize(
    ("tz", "zone_name"), [("UTC", "UTC"), ("America/New_York", "EDT"), ("Europe/Paris", "CET")]
)
def test_monthly_1000_entry_25_march_2019_whatever_the_time_zone(tz, zone_name):
    # A fresh interpreter per zone: the zone is read at start-up, and a wrong day count
    # from a datetime would show up as 6 or 8 days instead of 7.
    env = {**os.environ, "TZ": tz}
    run = subprocess.run(
        [sys.executable, "-c", MARCH_2019],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.split() == [zone_name, "225.81", "2019-03-25"]


@given(frequencies, days, st.integers(min_value=0, max_value=1200))
def test_periods_between_tile_the_range(frequency, start, length):
    end = start + timedelta(days=length)
    periods = list(periods_between(frequency, start, end))
    if length == 0:
        assert periods == []
        return
    assert periods[0].contains(start) and periods[-1].contains(end - timedelta(days=1))
    for before, after in pairwise(periods):
        assert before.end == after.start
    for p in periods:
        assert period_containing(frequency, p.start) == p
        assert p.start.day == 1 and (p.start.month - 1) % months_in(frequency) == 0
        assert p.days in ((28, 29, 30, 31) if frequency == Frequency.MONTHLY else (90, 91, 92))


@given(frequencies, days, days)
def test_invoice_date_rules(frequency, day, entry):
    period = period_containing(frequency, day)
    if entry >= period.end:
        with pytest.raises(ValueError):
            invoice_date(period, Term.ADVANCE, entry)
        return
    advance = invoice_date(period, Term.ADVANCE, entry)
    assert period.contains(advance)
    assert advance == (entry if period.contains(entry) else period.start)
    # In arrears, the day after the period, however early the entry or the exit.
    assert invoice_date(period, "arrears", entry) == period.end


# Anniversary periods, invoice day and due terms ----------------------------------------------

def test_a_month_anchored_on_31_january_runs_from_the_anchor():
    starts = [p.start for p in periods_between(Frequency.MONTHLY, date(2027, 1, 31), date(2027, 6, 1),
                                               anchor=date(2027, 1, 31))]
    assert starts == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30), date(2027, 5, 31)]
    # In a leap year February has its 29th.
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)


@given(anchor=days, frequency=frequencies, offset=st.integers(min_value=0, max_value=2000))
def test_anniversary_periods_follow_each_other_and_hold_their_day(anchor, frequency, offset):
    day = anchor + timedelta(days=offset)
    period = anniversary_period(frequency, anchor, day)
    assert period.start <= day < period.end
    after = anniversary_period(frequency, anchor, period.end)
    assert after.start == period.end  # no gap, no overlap
    # Every start is the anchor plus a whole number of months: never drifted from a previous start.
    months = (period.start.year - anchor.year) * 12 + period.start.month - anchor.month
    assert period.start == add_months(anchor, months) and months % months_in(frequency) == 0


def test_invoice_day_and_due_terms():
    march = Period(date(2026, 3, 1), date(2026, 4, 1))
    assert invoice_date(march, Term.ADVANCE, date(2025, 1, 1), days_before=5) == date(2026, 2, 24)
    assert invoice_date(march, Term.ADVANCE, date(2026, 2, 27), days_before=5) == date(2026, 2, 27)
    assert due_date(date(2026, 3, 10), 30) == date(2026, 4, 9)
    assert due_date(date(2026, 3, 10), 30, end_of_month=True) == date(2026, 4, 30)
    assert due_date(date(2026, 1, 31), 0, end_of_month=True) == date(2026, 1, 31)
