"""Bank statements: a line paying more than its payer owes is not recorded automatically (no credit
without the operator); the operator who confirms it keeps the rest as a credit."""

from datetime import date
from decimal import Decimal

from test_statements import FIXTURES, essai  # noqa: F401 (a fixture)

from cascade.payments.actions import credit_of, record_payment, settlements
from cascade.payments.models import StatementLine
from cascade.payments.statements import confirm_line, import_statement

D = Decimal


def test_a_statement_line_paying_more_than_owed_waits_for_the_operator_who_may_keep_a_credit(essai):  # noqa: F811
    aubepine = essai.by_number["F2026-000001"]
    record_payment(essai.operator, aubepine.customer, amount=D("100.00"), received_on=date(2026, 11, 2),
                   means="cheque", invoices=[aubepine])
    import_statement((FIXTURES / "camt053-001-02.xml").read_bytes(), essai.operator, file_name="releve.xml")
    # 310.00 quoting F2026-000001, which asks 210.00 more: not recorded, left to the operator.
    line = StatementLine.objects.get(organisation=essai.operator, key="T1103-0001")
    assert (line.status, line.payment) == ("proposed", None)
    assert credit_of(essai.operator, aubepine.customer) == D("0.00")
    payment = confirm_line(line, payer=aubepine.customer)
    assert payment.amount == D("310.00")
    assert settlements([aubepine], date(2026, 11, 30))[aubepine.pk].state == "paid"
    assert credit_of(essai.operator, aubepine.customer) == D("100.00")
