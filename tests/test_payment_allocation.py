"""A payment settles the documents it names, then the oldest; the rest is a credit (payments/allocation.py)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cascade.payments.allocation import OpenItem, allocate

D = Decimal


def test_a_transfer_quoting_nothing_settles_the_older_invoice_first():
    older = OpenItem("F2026-000001", date(2026, 10, 1), "F2026-000001", D("310.00"))
    younger = OpenItem("F2026-000002", date(2026, 11, 1), "F2026-000002", D("250.00"))
    assert allocate(D("500.00"), [younger, older]) == ([("F2026-000001", D("310.00")),
                                                         ("F2026-000002", D("190.00"))], D("0.00"))


def test_a_named_document_comes_first_and_an_overpayment_is_a_credit():
    older = OpenItem(1, date(2026, 10, 1), "F2026-000001", D("310.00"))
    younger = OpenItem(2, date(2026, 11, 1), "F2026-000002", D("250.00"))
    assert allocate(D("300.00"), [older, younger], chosen=[2]) == ([(2, D("250.00")), (1, D("50.00"))], D("0.00"))
    assert allocate(D("600.00"), [older, younger]) == ([(1, D("310.00")), (2, D("250.00"))], D("40.00"))
    assert allocate(D("12.34"), []) == ([], D("12.34"))


@pytest.mark.parametrize("amount", [D("0"), D("-5.00"), D("10.001")])
def test_a_payment_is_a_positive_whole_number_of_cents(amount):
    with pytest.raises(ValueError):
        allocate(amount, [])


def test_a_named_document_must_be_open():
    with pytest.raises(ValueError, match="nothing is owed"):
        allocate(D("10.00"), [], chosen=[7])


cents = st.integers(min_value=1, max_value=10_000_000).map(lambda c: D(c) / 100)


@given(cents, st.lists(cents, max_size=8), st.data())
def test_parts_and_credit_add_up_and_older_documents_are_settled_first(amount, owed, data):
    items = [OpenItem(i, date(2026, 1, 1) + timedelta(days=7 * i), f"F{i:06d}", o) for i, o in enumerate(owed)]
    chosen = data.draw(st.lists(st.sampled_from(range(len(items))), unique=True) if items else st.just([]))
    parts, credit = allocate(amount, items, chosen)
    assert sum((p for _k, p in parts), D("0")) + credit == amount
    assert all(D("0") < p <= owed[k] for k, p in parts) and credit >= 0
    assert len({k for k, _p in parts}) == len(parts)
    if credit > 0:  # money is left only when everything is settled
        assert {k: p for k, p in parts} == dict(enumerate(owed))
    rest = [k for k, _p in parts if k not in chosen]
    settled = dict(parts)
    # Among the documents not named, one gets something only when every older one is settled.
    for k in rest:
        assert all(settled.get(j) == owed[j] for j in range(k) if j not in chosen)
