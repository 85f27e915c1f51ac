from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cascade.billing.vat import EXEMPTION_MENTION, VatGroup, totals, vat_breakdown

D = Decimal
nets = st.integers(min_value=-(10**7), max_value=10**7).map(lambda c: D(c).scaleb(-2))
rates = st.sampled_from([D("20"), D("10"), D("5.5"), D("2.1"), D("0"), None])


def test_vat_is_computed_once_on_the_sum_of_the_lines_of_a_rate():
    groups = vat_breakdown([(D("10.03"), D("20"))] * 3)
    assert groups == [VatGroup(rate=D("20"), base=D("30.09"), vat=D("6.02"))]
    assert totals(groups) == (D("30.09"), D("6.02"), D("36.11"))


def test_one_group_per_rate_highest_first_exempt_last():
    groups = vat_breakdown(
        [
            (D("100.00"), None),
            (D("50.00"), D("5.5")),
            (D("10.00"), D("20.00")),
            (D("1.00"), D("20")),
        ]
    )
    assert groups == [
        VatGroup(D("20.00"), D("11.00"), D("2.20")),
        VatGroup(D("5.5"), D("50.00"), D("2.75")),
        VatGroup(None, D("100.00"), D("0.00")),
    ]
    assert totals(groups) == (D("161.00"), D("4.95"), D("165.95"))


def test_credit_note_vat_rounds_away_from_zero():
    assert vat_breakdown([(D("-0.05"), D("10"))]) == [VatGroup(D("10"), D("-0.05"), D("-0.01"))]


def test_lines_must_be_rounded_to_the_cent_first():
    with pytest.raises(ValueError):
        vat_breakdown([(D("10.005"), D("20"))])
    with pytest.raises(ValueError):
        vat_breakdown([(D("10.00"), D("-20"))])


def test_exemption_mention():
    assert EXEMPTION_MENTION == "Exonération de TVA, article 261 D 2° du CGI"
    assert totals(vat_breakdown([])) == (D("0.00"), D("0.00"), D("0.00"))


@given(st.lists(st.tuples(nets, rates), max_size=12))
def test_breakdown_adds_up(lines):
    groups = vat_breakdown(lines)
    excl, vat, incl = totals(groups)
    assert excl == sum((net for net, _ in lines), D(0))
    assert incl == excl + vat
    assert len({g.rate for g in groups}) == len(groups)
    for g in groups:
        exact = D(0) if g.rate is None else g.base * g.rate / 100
        assert abs(g.vat - exact) <= D("0.005")
