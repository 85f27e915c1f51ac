"""Done-when of issue 5, part 2: the demo site's November statement imports and matches.

cascade/demo/releve-2026-11.camt053.xml is written by scripts/make_demo_statement.py from the demo's
invoices issued in November 2026: 97 credits (94 quoting their invoice number, one paid from the
occupant's IBAN without it, one by name from another account, one whose amount matches nothing), three
invoices unpaid, the October direct debit of one occupant returned unpaid, and the bank's fee.
"""

import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.core.management import call_command

from cascade.billing.models import Invoice
from cascade.payments.actions import settlements
from cascade.payments.models import LineStatus, Payment, StatementLine

DEMO = Path(__file__).resolve().parents[1] / "cascade" / "demo"


def _import(path: Path, slug: str) -> dict:
    out = io.StringIO()
    call_command("import_statement", str(path), "--organisation", slug, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_november_statement_imports_and_matches(operator):
    debit = Payment.objects.get(organisation=operator, source="sepa")
    october = debit.allocations.get().invoice
    assert (debit.reference, debit.payer.name, debit.amount, debit.means, debit.source) == (
        "F2026-000939", "Alix Haddad", Decimal("1015.20"), "direct_debit", "sepa")
    assert settlements([october], date(2026, 11, 3))[october.pk].state == "paid"

    summary = _import(DEMO / "releve-2026-11.camt053.xml", operator.slug)

    assert summary == {
        "statement": "TREMPLIN-RELEVE-2026-11", "account": "FR7630003315211692071991947", "format": "camt.053",
        "already_imported": False, "lines": 99, "skipped": 0, "matched": 96, "proposed": 1, "unmatched": 0,
        "ignored": 1, "returned": 1, "credits": 97, "credited": summary["credited"],
        "matched_automatically": 96, "match_rate": "99.0", "unmatched_returns": 0, "dry_run": False}
    lines = StatementLine.objects.filter(organisation=operator)
    assert sorted(set(lines.filter(status=LineStatus.MATCHED).values_list("rule", flat=True))) == [
        "iban", "name", "number"]
    assert [lines.filter(rule=rule).count() for rule in ("number", "iban", "name")] == [94, 1, 1]
    # The October direct debit came back: the invoice is open again, overdue since 1 November.
    debit.refresh_from_db()
    assert (debit.returned_on, debit.return_reason) == (date(2026, 11, 4), "AM04")
    assert settlements([october], date(2026, 11, 30))[october.pk].state == "overdue"
    # Three November invoices are still unpaid, plus the one paid with an amount the operator must confirm.
    november = list(Invoice.objects.filter(organisation=operator, kind="invoice", issue_date__month=11,
                                           issue_date__year=2026))
    states = settlements(november, date(2026, 11, 30))
    assert sum(1 for s in states.values() if s.state == "paid") == 96
    assert sum(1 for s in states.values() if s.outstanding > 0) == 4

    # Imported again: nothing changes.
    payments = Payment.objects.filter(organisation=operator).count()
    assert _import(DEMO / "releve-2026-11.camt053.xml", operator.slug)["already_imported"] is True
    assert Payment.objects.filter(organisation=operator).count() == payments
    assert lines.count() == 99


def test_the_ofx_twin_matches_the_same_way_without_payer_ibans(operator):
    debit = Payment.objects.get(organisation=operator, source="sepa")

    summary = _import(DEMO / "releve-2026-11.ofx", operator.slug)

    assert (summary["format"], summary["lines"], summary["credits"], summary["matched_automatically"],
            summary["proposed"], summary["returned"], summary["ignored"], summary["match_rate"]) == (
        "ofx", 99, 97, 96, 1, 1, 1, "99.0")
    # OFX has no payer IBAN: the transfer without a number is found by the payer's name.
    assert StatementLine.objects.filter(organisation=operator, rule="name").count() == 2
    debit.refresh_from_db()
    assert debit.returned_on == date(2026, 11, 4)
    assert Decimal(summary["credited"]) > 0


def test_the_ofx_twin_after_the_camt_statement_imports_nothing_again(operator):
    from cascade.payments.bankfile import read_statement

    # Every movement of November's statement is booked in November, the statement's period.
    for name in ("releve-2026-11.camt053.xml", "releve-2026-11.ofx"):
        statement = read_statement((DEMO / name).read_bytes())
        assert {t.booked_on.month for t in statement.transactions} == {11}
        assert (statement.from_date, statement.to_date) == (date(2026, 11, 1), date(2026, 11, 30))
    _import(DEMO / "releve-2026-11.camt053.xml", operator.slug)
    payments = list(Payment.objects.filter(organisation=operator).values_list("pk", "returned_on"))

    twin = _import(DEMO / "releve-2026-11.ofx", operator.slug)

    assert (twin["format"], twin["already_imported"], twin["lines"], twin["skipped"], twin["proposed"],
            twin["credits"], twin["returned"]) == ("ofx", False, 0, 99, 0, 0, 0)
    assert list(Payment.objects.filter(organisation=operator).values_list("pk", "returned_on")) == payments
    assert StatementLine.objects.filter(organisation=operator).count() == 99
