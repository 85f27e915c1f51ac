"""Late penalties and the recovery fee (penalties.py), and which step of a plan is due (dunning.py): pure rules."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from cascade.payments.dunning import fill, step_due, unknown_placeholders
from cascade.payments.penalties import RECOVERY_FEE, claim, is_professional, late_penalty

D = Decimal
amounts = st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2)
rates = st.decimals(min_value=D("0"), max_value=D("30"), places=2)
days = st.integers(min_value=0, max_value=3650)


def test_penalties_to_the_cent():
    # 1 000 × 12.15 % × 45 / 365 = 14.9794… → 14.98; 310 × 12.15 % × 1 / 365 = 0.10319… → 0.10
    assert late_penalty(D("1000.00"), D("12.15"), 45) == D("14.98")
    assert late_penalty(D("310.00"), D("12.15"), 1) == D("0.10")
    # Half-up: 73 × 10 % × 1 / 365 = 0.02 exactly; 109.50 × 10 % × 1 / 365 = 0.03 exactly; 91.25 → 0.025 → 0.03
    assert late_penalty(D("73.00"), D("10"), 1) == D("0.02")
    assert late_penalty(D("91.25"), D("10"), 1) == D("0.03")
    assert late_penalty(D("1000.00"), D("12.15"), 0) == D("0.00")
    assert late_penalty(D("1000.00"), D("12.15"), -3) == D("0.00")


def test_the_fee_is_for_professionals_only():
    assert is_professional({"siret": "35600000000048"}) and is_professional({"siren": "356000000"})
    assert not is_professional({"siret": ""}) and not is_professional({"name": "Jeanne Martin"})
    assert claim(D("500.00"), 30, D("12.15"), professional=True).recovery_fee == RECOVERY_FEE == D("40.00")
    consumer = claim(D("500.00"), 30, D("12.15"), professional=False)
    assert (consumer.penalties, consumer.recovery_fee, consumer.total) == (D("0.00"), D("0.00"), D("500.00"))


@given(amounts, rates, days)
def test_penalties_are_whole_cents_never_negative_and_a_year_is_the_rate(outstanding, rate, late):
    penalty = late_penalty(outstanding, rate, late)
    assert penalty >= 0 and penalty == penalty.quantize(D("0.01"))
    assert abs(late_penalty(outstanding, rate, 365) - outstanding * rate / 100) <= D("0.005")


@given(amounts, rates, days, days)
def test_penalties_grow_with_the_days(outstanding, rate, a, b):
    assert late_penalty(outstanding, rate, min(a, b)) <= late_penalty(outstanding, rate, max(a, b))


@given(amounts, amounts, rates, days)
def test_penalties_of_two_sums_differ_by_a_cent_at_most(a, b, rate, late):
    assert abs(late_penalty(a + b, rate, late) - late_penalty(a, rate, late) - late_penalty(b, rate, late)) <= D(
        "0.01")


PLAN = [7, 21, 45]


def test_each_step_on_its_day_and_only_the_latest_when_found_late():
    assert step_due(PLAN, 6, []) is None
    assert step_due(PLAN, 7, []) == 7 and step_due(PLAN, 8, [7]) is None
    assert step_due(PLAN, 21, [7]) == 21
    assert step_due(PLAN, 300, []) == 45
    assert step_due(PLAN, 30, [45]) is None  # never a step earlier than one already sent


@given(st.lists(st.integers(0, 400), min_size=1, max_size=6, unique=True), st.integers(0, 800))
def test_walking_day_by_day_sends_each_step_at_most_once_in_order(steps, until):
    sent: list[int] = []
    for day in range(until + 1):
        due = step_due(steps, day, sent)
        if due is not None:
            sent.append(due)
    assert sent == sorted(set(sent))
    assert sent == [d for d in sorted(steps) if d <= until]


def test_placeholders():
    assert fill("{number} : {outstanding} {autre}", {"number": "F1", "outstanding": "10,00 €"}) == \
        "F1 : 10,00 € {autre}"
    assert fill("Bonjour\nIBAN : {iban}\n{seller}", {"iban": "", "seller": "Essai"}) == "Bonjour\nEssai"
    assert unknown_placeholders("{number} {numero} {numero} {iban}") == ["numero"]
